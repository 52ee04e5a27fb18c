"""Filters without queries or orderOnField, for both stores' search executors: the page (names
ascending, every score 0) is read from one filter's index instead of walking the knowledge base
in name order and testing every row (a walk that reads most of it when the filters are selective).

A filter can drive the read when the rows it lets through lie in a few ranges of an index on
(kb, column, name): one per value of EQUALS on a text or boolean column (names ascending within
each: the ranges' pages are merged), of PREFIX or a timestamp (a range of the column, read whole
and sorted), and the NULL range with includeNoExistence. Of several, the one whose ranges hold the
fewest rows drives, counted in the index up to COUNT_CAP; a range out of name order drives only
under the cap. The other filters are tested on the rows read. A list (channels, qualifiers,
routing profiles) keeps its elements in one column: it drives only when the column holds at most
MAX_LIST_VALUES distinct lists (found by seeking the index value by value), as the equality
ranges of those that hold a wanted element; otherwise its rows are tested on the name walk's.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from qconnect_local.search.plan import LIST_SEPARATOR, FilterPlan, SearchPlan, SortKey
from qconnect_local.storage.dialect import Dialect
from qconnect_local.storage.sql.search_order import Fetch, index_name
from qconnect_local.storage.sql.search_tables import SearchTable

COUNT_CAP = 1000  # index entries counted per range at most (a few hundred microseconds)
MAX_LIST_VALUES = 16  # distinct lists of a column beyond which a list filter does not drive
_TIME_SLACK = 0.001  # a timestamp's range: wider than the filter's 0.5 ms, which stays the test


@dataclass(frozen=True)
class _Range:
    sql: str  # a condition on `q` that the column's index answers
    params: tuple[Any, ...]
    by_name: bool  # the index gives the range's rows in name order


def filtered_browse(
    fetch: Fetch, table: SearchTable, where: str, params: list[Any], plan: SearchPlan, dialect: Dialect
) -> list[tuple[SortKey, int]]:
    """(SortKey, seq) of up to plan.limit + 1 rows after plan.after, for a plan with neither
    queries nor order. `where` (with `params`, the kb's seq first) is the kb test and the filters."""
    p, need = dialect.placeholder, plan.limit + 1
    keyset, keyset_params = (f" AND q.name > {p}", [plan.after.name]) if plan.after is not None else ("", [])
    driver = _driver(fetch, table, plan, params[0], dialect)
    if driver is None:
        sql = f"SELECT q.seq, q.name FROM {table.table} q WHERE {where}{keyset} ORDER BY q.name LIMIT {p}"
        return [(SortKey(None, 0, name), seq) for seq, name in fetch(sql, [*params, *keyset_params, need])]
    column, ranges = driver
    source = f"{table.table} q{dialect.index_hint(index_name(table, column))}"
    found: dict[int, str] = {}
    for r in ranges:
        sql = f"SELECT q.seq, q.name FROM {source} WHERE {where} AND {r.sql}{keyset} ORDER BY q.name LIMIT {p}"
        found.update(fetch(sql, [*params, *r.params, *keyset_params, need]))
    page = sorted(found.items(), key=lambda item: item[1])[:need]
    return [(SortKey(None, 0, name), seq) for seq, name in page]


def _driver(
    fetch: Fetch, table: SearchTable, plan: SearchPlan, kb: int, dialect: Dialect
) -> tuple[str, list[_Range]] | None:
    """(column, ranges) of the filter that drives the read, or None (the name walk)."""
    candidates = [(flt.column, r) for flt in plan.filters if (r := _ranges(fetch, flt, table, kb, dialect)) is not None]
    if not candidates:
        return None
    if len(candidates) == 1 and all(r.by_name for r in candidates[0][1]):
        return candidates[0]  # no choice, never worse than the name walk (no ranges: no rows)
    best: tuple[int, bool, str, list[_Range]] | None = None
    for column, ranges in candidates:
        by_name = all(r.by_name for r in ranges)
        rows = _count(fetch, table, column, ranges, kb, dialect)
        if not by_name and rows >= COUNT_CAP:
            continue
        if best is None or (rows, not by_name) < (best[0], not best[1]):
            best = (rows, by_name, column, ranges)
    return None if best is None else (best[2], best[3])


def _count(fetch: Fetch, table: SearchTable, column: str, ranges: list[_Range], kb: int, dialect: Dialect) -> int:
    """The rows in the ranges, each counted in the column's index up to COUNT_CAP."""
    p, total = dialect.placeholder, 0
    source = f"{table.table} q{dialect.index_hint(index_name(table, column))}"
    for r in ranges:
        sql = f"SELECT count(*) FROM (SELECT 1 FROM {source} WHERE q.{table.kb} = {p} AND {r.sql} LIMIT {p}) c"
        total += fetch(sql, [kb, *r.params, COUNT_CAP])[0][0]
    return total


def _ranges(fetch: Fetch, flt: FilterPlan, table: SearchTable, kb: int, dialect: Dialect) -> list[_Range] | None:
    """The index ranges that hold every row the filter lets through; None when it cannot drive
    (a column without an index, an existence test that most rows pass, a list of many values)."""
    column, p = flt.column, dialect.placeholder
    if column != "name" and column not in table.index_columns:
        return None
    if flt.values is None and not flt.include_missing:
        return None
    col, by_name = "q." + column, column == "name"
    ranges: list[_Range] = []
    if flt.kind == "list" and flt.values:
        lists = _distinct(fetch, table, column, kb, dialect)
        if lists is None:
            return None
        closing = LIST_SEPARATOR if flt.operator == "EQUALS" else ""
        needles = [LIST_SEPARATOR + value + closing for value in flt.values]
        ranges = [_Range(f"{col} = {p}", (v,), True) for v in lists if any(n in v for n in needles)]
    for value in dict.fromkeys(flt.values if flt.values and flt.kind != "list" else ()):
        if flt.kind == "time":
            ranges.append(_Range(f"{col} > {p} AND {col} < {p}", (value - _TIME_SLACK, value + _TIME_SLACK), by_name))
        elif flt.operator == "PREFIX":
            upper = _prefix_end(value)
            if upper is None:
                return None  # every value has the empty prefix
            ranges.append(_Range(f"{col} >= {p} AND {col} < {p}", (value, upper), by_name))
        else:
            ranges.append(_Range(f"{col} = {p}", (int(value) if flt.kind == "bool" else value,), True))
    if flt.include_missing:
        ranges.append(_Range(f"{col} IS NULL", (), True))
    return ranges


def _distinct(fetch: Fetch, table: SearchTable, column: str, kb: int, dialect: Dialect) -> list[str] | None:
    """The column's distinct non-NULL values in the knowledge base (one index seek each), or None
    when there are more than MAX_LIST_VALUES."""
    p, found = dialect.placeholder, list[str]()
    source = f"{table.table} q{dialect.index_hint(index_name(table, column))}"
    sql = f"SELECT q.{column} FROM {source} WHERE q.{table.kb} = {p} AND q.{column} IS NOT NULL"
    for _ in range(MAX_LIST_VALUES + 1):
        above, params = (f" AND q.{column} > {p}", [found[-1]]) if found else ("", [])
        row = fetch(f"{sql}{above} ORDER BY q.{column} LIMIT 1", [kb, *params])
        if not row:
            return found
        found.append(row[0][0])
    return None


def _prefix_end(prefix: str) -> str | None:
    """The least string above every string that starts with `prefix`, in code-point order (both
    stores compare these columns byte-wise in UTF-8); None when there is none."""
    while prefix:
        last = ord(prefix[-1]) + 1
        if last == 0xD800:
            last = 0xE000  # past the surrogates, which no stored text holds
        if last <= 0x10FFFF:
            return prefix[:-1] + chr(last)
        prefix = prefix[:-1]
    return None
