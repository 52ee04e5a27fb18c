"""orderOnField without queries, for both stores' search executors: each orderable column has an
index on (kb, column, name), and a page is read from it, never by sorting the knowledge base.

Ascending: one index range (non-missing values, then the missing ones by name). Descending: the
index gives (value DESC, name DESC) but the order wants names ascending within a value, so the
values are visited one by one, highest first, each one's rows read by name from the index (at
most MAX_GROUPS values; past them, filters thin the groups out and one sorted statement takes the
rest). docs/performance.md has the measurements.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from qconnect_local.search.plan import SearchPlan, SortKey
from qconnect_local.storage.sql.search_tables import QUICK_RESPONSES, SearchTable

# Orderable columns besides name (the (kb, name) unique index serves that one).
ORDER_INDEX_COLUMNS = QUICK_RESPONSES.index_columns
MAX_GROUPS = 64

Fetch = Callable[[str, Sequence[Any]], list[tuple[Any, ...]]]


def index_name(table: SearchTable, column: str) -> str:
    """The index on (kb, column, name) of a searchable table (the unique (kb, name) one for name)."""
    return f"{table.table}_name" if column == "name" else f"{table.table}_order_{column}"


def order_indexes(table: SearchTable = QUICK_RESPONSES) -> dict[str, str]:
    """Index name -> its CREATE statement, one per orderable column."""
    return {
        index_name(table, c): f"CREATE INDEX {index_name(table, c)} ON {table.table} ({table.kb}, {c}, name)"
        for c in table.index_columns
    }


def order_index_step(drop_modified: bool, table: SearchTable = QUICK_RESPONSES) -> str:
    """The migration that adds them (SQLite's (kb, modified_time) index becomes redundant)."""
    drop = f"DROP INDEX {table.table}_modified;\n" if drop_modified else ""
    return drop + "".join(f"{create};\n" for create in order_indexes(table).values())


def ordered_browse(
    fetch: Fetch,
    kb: int,
    where: str,
    params: list[Any],
    plan: SearchPlan,
    p: str,
    table: SearchTable = QUICK_RESPONSES,
) -> list[Any]:
    """(SortKey, seq) of up to plan.limit + 1 rows after plan.after, for a plan with an order and
    no queries. `where` (with `params`) is the kb test and the filters on `q`; `p` the placeholder."""
    assert plan.order is not None
    col, after, need = "q." + plan.order.column, plan.after, plan.limit + 1
    select = f"SELECT q.seq, q.name, {col} FROM {table.table} q WHERE {where}"
    rows: list[tuple[Any, ...]] = []
    if after is None or after.value is not None:
        if plan.order.descending:
            rows = _descending(fetch, kb, select, params, col, p, plan, table)
        else:
            keyset, kp = (
                ("", []) if after is None else (f" AND ({col}, q.name) > ({p}, {p})", [after.value, after.name])
            )
            sql = f"{select} AND {col} IS NOT NULL{keyset} ORDER BY {col}, q.name LIMIT {p}"
            rows = fetch(sql, [*params, *kp, need])
    if len(rows) < need and plan.order.column not in table.not_null:
        keyset, kp = (f" AND q.name > {p}", [after.name]) if after is not None and after.value is None else ("", [])
        rows += fetch(f"{select} AND {col} IS NULL{keyset} ORDER BY q.name LIMIT {p}", [*params, *kp, need - len(rows)])
    return [(SortKey(value, 0, name), seq) for seq, name, value in rows]


def _descending(
    fetch: Fetch, kb: int, select: str, params: list[Any], col: str, p: str, plan: SearchPlan, table: SearchTable
) -> list[tuple[Any, ...]]:
    """The rows with a value, highest value first, names ascending within a value."""
    after, need = plan.after, plan.limit + 1
    rows: list[tuple[Any, ...]] = []
    bound = None
    if after is not None:
        group = f"{select} AND {col} = {p} AND q.name > {p} ORDER BY q.name LIMIT {p}"
        rows = fetch(group, [*params, after.value, after.name, need])
        bound = after.value
    below, below_params = ("", []) if bound is None else (f" AND {col} < {p}", [bound])
    for _ in range(MAX_GROUPS):
        if len(rows) >= need:
            return rows
        next_value = f"SELECT {col} FROM {table.table} q WHERE q.{table.kb} = {p} AND {col} IS NOT NULL{below}"
        found = fetch(f"{next_value} ORDER BY {col} DESC LIMIT 1", [kb, *below_params])
        if not found:
            return rows
        value = found[0][0]
        rows += fetch(f"{select} AND {col} = {p} ORDER BY q.name LIMIT {p}", [*params, value, need - len(rows)])
        below, below_params = f" AND {col} < {p}", [value]
    if len(rows) < need:  # many values, thinned out by the filters: one sorted statement
        sql = f"{select} AND {col} IS NOT NULL{below} ORDER BY {col} DESC, q.name LIMIT {p}"
        rows += fetch(sql, [*params, *below_params, need - len(rows)])
    return rows
