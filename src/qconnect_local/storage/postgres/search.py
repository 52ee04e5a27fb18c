"""Runs a SearchPlan on the PostgreSQL store: one SQL statement per page, with PostgreSQL's own
text search doing the matching and scoring, and the plan's order and keyset done in SQL.

The index
---------
Each quick response has a `search_words` tsvector that this module builds in Python from the
plan's own `tokenize` (so word boundaries are exactly the reference's, not the 'simple' parser's
ideas about e-mail addresses, hyphenated words or numbers), with a GIN index:

- `<f>:<word>` for every word of a searchable field, f being n (name), s (shortcutKey),
  d (description) or c (content): a CONTAINS query on a field is an AND of its lexemes, and
  CONTAINS_AND_PREFIX's last word is a tsquery prefix (`'c:wor':*`);
- `x<f>:<hash>` for each field's whole word sequence: the exact whole-field match that doubles a
  query's weight is one more lexeme lookup (a 64-bit BLAKE2b of the words joined by spaces).
  These live in a second tsvector, `exact_words`, outside the GIN index (they are only tested on
  rows the index found: an exact match is also a match); rows written before it existed have
  them in `search_words` and NULL there, hence `coalesce(exact_words, search_words)`.

allowFuzziness looks up, once per query word, the words within the allowed Levenshtein distance
in `quick_response_words` (message templates: `message_template_words`; every word ever indexed; fuzzystrmatch's `levenshtein_less_equal`
over the words of a near length), and searches them as an OR of exact lexemes. A superset of the
live words is harmless: a word that no longer occurs matches nothing.

Score: per query, CASE exact-tsquery THEN 2w WHEN match-tsquery THEN w; rows that match no query
are dropped; order and keyset are the plan's (`compare`), written as SQL.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from qconnect_local.search.plan import QueryPlan, SearchPlan, SortKey, fuzzy_distance
from qconnect_local.storage.postgres.dialect import POSTGRES
from qconnect_local.storage.postgres.rows import (
    FIELD_PREFIXES,
    MAX_FUZZY_WORD,
    MAX_WORD_BYTES,
    exact_lexeme,
    word_lexeme,
)
from qconnect_local.storage.quick_response_records import record_from_columns
from qconnect_local.storage.sql.quick_responses import RECORD_NAMES, SELECT_RECORD
from qconnect_local.storage.sql.search_browse import filtered_browse
from qconnect_local.storage.sql.search_filters import filter_sql
from qconnect_local.storage.sql.search_order import ordered_browse
from qconnect_local.storage.sql.search_tables import MESSAGE_TEMPLATES, QUICK_RESPONSES, SearchTable

# -- queries as tsqueries ----------------------------------------------------------------------


def _quote(lexeme: str) -> str:
    return "'" + lexeme + "'"


def _fuzzy_alternatives(conn: Any, word: str, table: SearchTable) -> list[str]:
    limit = fuzzy_distance(word)
    if limit == 0 or len(word) > MAX_FUZZY_WORD:
        return [word]
    rows = conn.execute(
        f"SELECT word FROM {table.words} WHERE length(word) BETWEEN %s AND %s"
        " AND levenshtein_less_equal(word, %s, %s) <= %s",
        (max(len(word) - limit, 1), len(word) + limit, word, limit, limit),
    ).fetchall()
    return sorted({word, *(w for (w,) in rows)})


class QuerySql:
    """One query of the plan as two tsqueries: `match` (strength >= 1) and `exact` (2)."""

    def __init__(self, conn: Any, query: QueryPlan, table: SearchTable = QUICK_RESPONSES) -> None:
        self.query = query
        prefix = FIELD_PREFIXES[query.column]
        values = []
        for value in query.values:
            terms = []
            for i, word in enumerate(value):
                alternatives = _fuzzy_alternatives(conn, word, table) if query.fuzzy else [word]
                parts = [_quote(word_lexeme(prefix, w)) for w in alternatives]
                if query.prefix and i == len(value) - 1 and len(word.encode("utf-8")) <= MAX_WORD_BYTES:
                    parts.append(_quote(word_lexeme(prefix, word)) + ":*")
                terms.append(parts[0] if len(parts) == 1 else "(" + " | ".join(parts) + ")")
            values.append("(" + " & ".join(terms) + ")")
        self.match = " | ".join(values)
        self.exact = " | ".join(_quote(exact_lexeme(prefix, value)) for value in query.values)


# -- filters, order, keyset ----------------------------------------------------------------------


def _order_sql(plan: SearchPlan) -> str:
    if plan.order is None:
        return "score DESC, name"
    direction = " DESC" if plan.order.descending else ""
    return f"v IS NULL, v{direction}, score DESC, name"


def _keyset_sql(plan: SearchPlan) -> tuple[str, list[Any]]:
    """Rows strictly after plan.after in the plan's order (search/plan.py `compare`)."""
    after = plan.after
    if after is None:
        return "true", []
    tail = "(score < %s OR (score = %s AND name > %s))"
    tail_params = [after.score, after.score, after.name]
    if plan.order is None:
        return tail, tail_params
    if after.value is None:
        return f"(v IS NULL AND {tail})", tail_params
    op = "<" if plan.order.descending else ">"
    return (
        f"(v IS NULL OR v {op} %s OR (v = %s AND {tail}))",
        [after.value, after.value, *tail_params],
    )


# -- the executor ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Records:
    """How a search of one table reads its results' records along with the hits."""

    table: SearchTable
    source: str  # the FROM clause (the table as `q`)
    select: str  # the record's columns in the inner query
    names: str  # the same columns in the outer query
    read: Callable[[tuple[Any, ...]], tuple[str, dict[str, Any]]]  # (name, record) of those columns


_QUICK_RESPONSES = _Records(
    QUICK_RESPONSES,
    "quick_responses q JOIN knowledge_bases k ON k.seq = q.kb",
    SELECT_RECORD,
    RECORD_NAMES,
    # r_name is the record's fifth column; `data` decoded: JSONB
    lambda columns: (columns[4], record_from_columns(*columns)),
)
_MESSAGE_TEMPLATES = _Records(
    MESSAGE_TEMPLATES,
    "message_templates q",
    "q.data AS r_data",
    "r_data",
    lambda columns: (columns[0]["name"], columns[0]),
)


def search(conn: Any, kb: int, plan: SearchPlan) -> list[tuple[SortKey, dict[str, Any]]]:
    """Up to plan.limit + 1 (key, quick response) results after plan.after, in the plan's order."""
    return _search(conn, kb, plan, _QUICK_RESPONSES)


def search_message_templates(conn: Any, kb: int, plan: SearchPlan) -> list[tuple[SortKey, dict[str, Any]]]:
    """Up to plan.limit + 1 (key, `$LATEST` template record) results after plan.after."""
    return _search(conn, kb, plan, _MESSAGE_TEMPLATES)


def _search(conn: Any, kb: int, plan: SearchPlan, records: _Records) -> list[tuple[SortKey, dict[str, Any]]]:
    queries = [QuerySql(conn, q, records.table) for q in plan.queries if q.values]
    if plan.queries and not queries:
        return []  # every query was word-less: nothing matches
    where: list[str] = [f"q.{records.table.kb} = %s"]
    params: list[Any] = [kb]
    for flt in plan.filters:
        sql, p = filter_sql(flt, POSTGRES)
        where.append(sql)
        params.extend(p)
    if not queries:
        return _browse(conn, kb, " AND ".join(where), params, plan, records)
    score_params: list[Any] = []
    if queries:
        score_terms = []
        for qs in queries:
            weight = qs.query.weight
            score_terms.append(
                f"CASE WHEN coalesce(q.exact_words, q.search_words) @@ %s::tsquery THEN {2 * weight}"
                f" WHEN q.search_words @@ %s::tsquery THEN {weight} ELSE 0 END"
            )
            score_params.extend((qs.exact, qs.match))
        score = " + ".join(score_terms)
        # The candidates: rows matching some query (the GIN index answers this).
        where.append("q.search_words @@ %s::tsquery")
        params.append(" | ".join(f"({qs.match})" for qs in queries))
    else:
        score = "0"
    order_col = f"q.{plan.order.column}" if plan.order else "NULL"
    keyset, keyset_params = _keyset_sql(plan)
    sql = (
        f"SELECT v, score, {records.names} FROM ("
        f"SELECT q.name, {order_col} AS v, ({score}) AS score, {records.select}"
        f" FROM {records.source} WHERE {' AND '.join(where)}) s"
        f" WHERE {keyset} ORDER BY {_order_sql(plan)} LIMIT %s"
    )
    rows = conn.execute(sql, (*score_params, *params, *keyset_params, plan.limit + 1)).fetchall()
    out = []
    for row in rows:  # v, score, then the record's columns
        name, record = records.read(row[2:])
        out.append((SortKey(row[0] if plan.order is not None else None, row[1], name), record))
    return out


def _browse(
    conn: Any, kb: int, where: str, params: list[Any], plan: SearchPlan, records: _Records
) -> list[tuple[SortKey, Any]]:
    """No queries: the page from an index (storage/sql/search_order.py, search_browse.py)."""
    fetch = lambda sql, args: conn.execute(sql, args).fetchall()  # noqa: E731
    if plan.order is not None:
        hits = ordered_browse(fetch, kb, where, params, plan, "%s", records.table)
    else:
        hits = filtered_browse(fetch, records.table, where, params, plan, POSTGRES)
    if not hits:
        return []
    found = {
        row[0]: records.read(row[1:])[1]
        for row in conn.execute(
            f"SELECT q.seq, {records.select} FROM {records.source} WHERE q.seq = ANY(%s)",
            ([seq for _, seq in hits],),
        )
    }
    return [(key, found[seq]) for key, seq in hits]
