"""The SQL of a search on the SQLite store: filters, order, keyset, and reading the hits."""

from __future__ import annotations

import sqlite3
from typing import Any

import orjson

from qconnect_local.search.plan import SearchPlan, SortKey
from qconnect_local.storage.sql.quick_responses import SELECT_RECORD
from qconnect_local.storage.sql.search_browse import filtered_browse
from qconnect_local.storage.sql.search_filters import filter_sql
from qconnect_local.storage.sql.search_order import ordered_browse
from qconnect_local.storage.sql.search_tables import QUICK_RESPONSES, SearchTable
from qconnect_local.storage.sqlite.dialect import SQLITE
from qconnect_local.storage.sqlite.rows import record_from_row

Hit = tuple[SortKey, int]  # (sort key, seq)


def _filters_sql(plan: SearchPlan, table: SearchTable = QUICK_RESPONSES) -> tuple[str, list[Any]]:
    parts, params = [f"q.{table.kb} = ?"], []
    for flt in plan.filters:
        sql, p = filter_sql(flt, SQLITE)
        parts.append(sql)
        params.extend(p)
    return " AND ".join(parts), params


def _order_sql(plan: SearchPlan, table: SearchTable = QUICK_RESPONSES) -> str:
    if plan.order is None:
        return "q.name"
    col = "q." + plan.order.column
    direction = " DESC" if plan.order.descending else ""
    # A column that is never NULL needs no "missing last" term, so an index can serve the order.
    if plan.order.column in table.not_null:
        return f"{col}{direction}, q.name"
    return f"{col} IS NULL, {col}{direction}, q.name"


def _keyset_sql(plan: SearchPlan, exact: bool) -> tuple[str, list[Any]]:
    """Rows after plan.after in SQL. `exact` (all scores 0): the exact keyset; otherwise a lower
    bound on the order value only (rows equal to it are then compared in Python)."""
    after = plan.after
    if after is None:
        return "", []
    if plan.order is None:
        return (" AND q.name > ?", [after.name]) if exact else ("", [])
    col = "q." + plan.order.column
    if after.value is None:
        return (f" AND {col} IS NULL AND q.name > ?", [after.name]) if exact else (f" AND {col} IS NULL", [])
    op = "<" if plan.order.descending else ">"
    if exact:
        return f" AND ({col} IS NULL OR {col} {op} ? OR ({col} = ? AND q.name > ?))", [
            after.value,
            after.value,
            after.name,
        ]
    return f" AND ({col} IS NULL OR {col} {op}= ?)", [after.value]


def _order_value(plan: SearchPlan, value: Any) -> Any:
    return value if plan.order is not None else None


def sort_hits(plan: SearchPlan, hits: list[Hit]) -> None:
    """Sorts (key, seq) pairs in the plan's order (`plan.compare`), with native keys: stable
    passes from the last criterion to the first."""
    hits.sort(key=lambda h: (-h[0].score, h[0].name))
    if plan.order is not None:
        present = [h for h in hits if h[0].value is not None]
        missing = [h for h in hits if h[0].value is None]
        present.sort(key=lambda h: h[0].value, reverse=plan.order.descending)
        hits[:] = present + missing


def _records(conn: sqlite3.Connection, hits: list[Hit]) -> list[tuple[SortKey, dict[str, Any]]]:
    if not hits:
        return []
    rows = {
        row[0]: record_from_row(*row[1:])
        for row in conn.execute(
            f"SELECT q.seq, {SELECT_RECORD} FROM quick_responses q JOIN knowledge_bases k ON k.seq = q.kb"
            " WHERE q.seq IN (SELECT value FROM json_each(?))",
            (orjson.dumps([seq for _, seq in hits]),),
        )
    }
    return [(key, rows[seq]) for key, seq in hits]


def _browse(conn: sqlite3.Connection, kb: int, plan: SearchPlan, table: SearchTable = QUICK_RESPONSES) -> list[Hit]:
    """No queries: every filtered row, score 0, read from an index in the plan's order."""
    where, params = _filters_sql(plan, table)
    fetch = lambda sql, args: conn.execute(sql, args).fetchall()  # noqa: E731
    if plan.order is not None:
        return ordered_browse(fetch, kb, where, [kb, *params], plan, "?", table)
    return filtered_browse(fetch, table, where, [kb, *params], plan, SQLITE)


def _fts_rowids(
    conn: sqlite3.Connection, expression: str, limit: int | None = None, table: SearchTable = QUICK_RESPONSES
) -> list[int]:
    sql = f"SELECT rowid FROM {table.fts} WHERE {table.fts} MATCH ?"
    if limit is None:
        return [r for (r,) in conn.execute(sql, (expression,))]
    return [r for (r,) in conn.execute(sql + " LIMIT ?", (expression, limit))]
