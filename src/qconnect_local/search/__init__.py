"""Quick-response search: the expression compiled to a store-neutral plan (`plan`), its reference
semantics in plain Python (`reference`) and attribute interpolation (`interpolation`); nothing
here knows a store. Stores run a plan with
`session.search_quick_responses(account, region, kb_id, plan) -> list[(SortKey, record)]`:
up to plan.limit + 1 results after plan.after, in the plan's order."""

from qconnect_local.search.plan import SearchPlan, SortKey, compile_search

__all__ = ["SearchPlan", "SortKey", "compile_search"]
