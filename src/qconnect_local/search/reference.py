"""The search semantics in plain Python over records: the specification the stores are tested
against (see plan.py for the rules). Not used to serve requests: it reads every record."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from qconnect_local.search.plan import (
    FilterPlan,
    QueryPlan,
    SearchPlan,
    SortKey,
    compare,
    fuzzy_distance,
    list_sort_value,
    tokenize,
)

Record = dict[str, Any]


def field_value(record: Record, field: str) -> Any:
    """A record's value of a filter/order/query field (None when missing; lists as lists)."""
    if field == "content":
        return record["contents"]["plainText"]["content"]
    if field.startswith("groupingConfiguration."):
        return (record.get("groupingConfiguration") or {}).get(field.split(".", 1)[1])
    return record.get(field)


def order_value(record: Record, field: str, kind: str) -> Any:
    value = field_value(record, field)
    if kind == "list":
        return list_sort_value(value)
    if kind == "bool":
        return None if value is None else int(value)
    return value


def levenshtein(a: str, b: str, limit: int) -> int:
    """Edit distance, or limit + 1 when it is larger than limit."""
    if abs(len(a) - len(b)) > limit:
        return limit + 1
    previous = list(range(len(b) + 1))
    for i, ca in enumerate(a, 1):
        current = [i]
        for j, cb in enumerate(b, 1):
            current.append(min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (ca != cb)))
        if min(current) > limit:
            return limit + 1
        previous = current
    return previous[-1]


def word_matches(field_word: str, word: str, prefix: bool, fuzzy: bool) -> bool:
    if field_word == word or (prefix and field_word.startswith(word)):
        return True
    if fuzzy:
        limit = fuzzy_distance(word)
        return limit > 0 and levenshtein(field_word, word, limit) <= limit
    return False


def query_strength(query: QueryPlan, text: str | None) -> int:
    """0 (no match), 1 (match) or 2 (exact whole-field match) of one query on a field's text."""
    if text is None:
        return 0
    words = tokenize(text)
    best = 0
    for value in query.values:
        if list(value) == words:
            return 2
        last = len(value) - 1
        if all(
            any(word_matches(fw, w, query.prefix and i == last, query.fuzzy) for fw in words)
            for i, w in enumerate(value)
        ):
            best = 1
    return best


def filter_matches(flt: FilterPlan, record: Record) -> bool:
    value = field_value(record, flt.field)
    present = value is not None and value != []
    if not present:
        return flt.include_missing
    if flt.values is None:
        # No values: an existence test (with includeNoExistence: a non-existence test).
        return not flt.include_missing
    elements = value if flt.kind == "list" else [value]
    for element in elements:
        for wanted in flt.values:
            if flt.kind == "time":
                if abs(element - wanted) < 0.0005:
                    return True
            elif flt.operator == "PREFIX":
                if element.startswith(wanted):
                    return True
            elif element == wanted:
                return True
    return False


def score(plan: SearchPlan, record: Record) -> int | None:
    """The record's score, or None when it does not match the queries."""
    if not plan.queries:
        return 0
    total = 0
    matched = False
    for query in plan.queries:
        strength = query_strength(query, field_value(record, query.field))
        if strength:
            matched = True
            total += query.weight * strength
    return total if matched else None


def sort_key(plan: SearchPlan, record: Record, record_score: int) -> SortKey:
    value = order_value(record, plan.order.field, plan.order.kind) if plan.order else None
    return SortKey(value, record_score, record["name"])


def evaluate(plan: SearchPlan, records: Iterable[Record]) -> list[tuple[SortKey, Record]]:
    """Up to plan.limit + 1 (key, record) results after plan.after, in order."""
    import functools

    hits: list[tuple[SortKey, Record]] = []
    for record in records:
        if not all(filter_matches(f, record) for f in plan.filters):
            continue
        s = score(plan, record)
        if s is None:
            continue
        key = sort_key(plan, record, s)
        if plan.after is not None and compare(plan, key, plan.after) <= 0:
            continue
        hits.append((key, record))

    def by_plan(a: tuple[SortKey, Record], b: tuple[SortKey, Record]) -> int:
        return compare(plan, a[0], b[0])

    hits.sort(key=functools.cmp_to_key(by_plan))
    return hits[: plan.limit + 1]
