"""Runs a SearchPlan on the SQLite store: FTS5 finds candidates, SQL filters and orders, and
nothing reads every row of a big knowledge base for an ordinary query.

Why this shape (measured at 1,000,000 quick responses, bench/search.py):
- Ranking by bm25 costs ~2.5 us per matching row, so a query of common words (hundreds of
  thousands of matches) takes 0.5 s. The plan's order is not bm25: it is a small integer score,
  then name. So each query's matches are fetched from FTS5 unranked and capped at CAP rows:
  * a query with at most CAP matches is "sparse": its matches are all known, scored and sorted;
  * a query with more is "dense": its matches are common enough that walking the knowledge base
    in name order (the (kb, name) index) meets the first page after a few hundred rows, testing
    each row's text in Python. The cap balances the two costs (both grow like CAP and N/CAP).
- With the default order, rows that match only dense queries come in tiers (one per set of
  dense queries they match, scored by the sum of the weights): rows of a tier are walked in name
  order, or fetched and sorted when the tier itself is sparse. Rows that match a sparse query, and
  rows that may be exact whole-field matches (FTS5 `^"phrase"`, the field starts with the value),
  are scored one by one first.
- No FTS5 prefix index: it raised the bulk import of 1M rows from 52 s to 92 s. Prefix words
  use FTS5's `"word" *` (merging the doclists of the words with that prefix); a short prefix
  matches so many rows that it is dense, and then the name-order walk serves it.
- allowFuzziness: the words within the allowed edit distance are looked up (rapidfuzz) in a
  vocabulary of the index's words kept in memory (built once from fts5vocab, kept up to date by
  this store's writes), then searched as an OR of exact words.
"""

from __future__ import annotations

import bisect
import functools
import hashlib
import itertools
import re
import sqlite3
import threading
from typing import Any, Iterable, Iterator

import orjson

from qconnect_local.search.plan import (
    FilterPlan,
    QueryPlan,
    SearchPlan,
    SortKey,
    compare,
    fuzzy_distance,
    tokenize,
)
from qconnect_local.storage.sqlite_quick_responses import SEP, record_from_row

CAP = 4000          # matches of one query beyond which it is walked rather than fetched
WALK_BATCH = 256

Hit = tuple[SortKey, int]   # (sort key, seq)


# -- exact keys and vocabulary --------------------------------------------------------------------

def exact_key(column: str, words: Iterable[str]) -> str:
    """The word indexed in the `exact_keys` FTS column for a field whose words are `words`: an
    exact whole-field match is then one FTS lookup (collisions are harmless: candidates are
    checked in Python)."""
    digest = hashlib.blake2b(" ".join(words).encode("utf-8"), digest_size=8).hexdigest()
    return f"x{_COLUMN_LETTER[column]}{digest}"


_COLUMN_LETTER = {"name": "n", "shortcut_key": "s", "description": "d", "content": "c"}
MAX_EXPANSION = 3000   # a prefix with more words than this is searched with FTS5's own `*`


class Vocabulary:
    """The words of each searchable column, for prefixes (sorted, bisected) and allowFuzziness.

    Writes add their words as they go (`add`); the first search that needs a column's words reads
    the words of the index once (fts5vocab) and merges what writes added. A superset of the words
    in the index is harmless (a word that no longer occurs matches nothing), so words are never
    removed. Per database file and process: the SQLite store has one writer process."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._added: dict[str, set[str]] = {}
        self._sorted: dict[str, list[str]] = {}

    def add(self, column: str, words: Iterable[str]) -> None:
        with self._lock:
            added = self._added.setdefault(column, set())
            ordered = self._sorted.get(column)
            for w in words:
                if w not in added:
                    added.add(w)
                    if ordered is not None:
                        bisect.insort(ordered, w)

    def words(self, conn: sqlite3.Connection, column: str) -> list[str]:
        with self._lock:
            ordered = self._sorted.get(column)
            if ordered is None:
                conn.execute(
                    "CREATE VIRTUAL TABLE IF NOT EXISTS temp.quick_responses_vocab"
                    " USING fts5vocab(main, quick_responses_fts, 'col')"
                )
                added = self._added.setdefault(column, set())
                added.update(t for (t,) in conn.execute(
                    "SELECT term FROM temp.quick_responses_vocab WHERE col = ?", (column,)
                ))
                ordered = self._sorted[column] = sorted(added)
            return ordered

    def with_prefix(self, conn: sqlite3.Connection, column: str, prefix: str) -> list[str]:
        ordered = self.words(conn, column)
        lo = bisect.bisect_left(ordered, prefix)
        hi = bisect.bisect_left(ordered, prefix + "\U0010ffff")
        return ordered[lo:hi]

    def near(self, conn: sqlite3.Connection, column: str, word: str) -> list[str]:
        """Words of the column within the fuzzy distance of `word` (the word itself included)."""
        limit = fuzzy_distance(word)
        if limit == 0:
            return [word]
        from rapidfuzz.distance import Levenshtein
        from rapidfuzz.process import extract

        found = extract(word, self.words(conn, column), scorer=Levenshtein.distance,
                        score_cutoff=limit, limit=None)
        return sorted({word, *(w for w, _, _ in found)})


_VOCABULARIES: dict[str, Vocabulary] = {}
_VOCABULARIES_LOCK = threading.Lock()


def vocabulary(conn: sqlite3.Connection) -> Vocabulary:
    """The vocabulary of this connection's database file (one per file per process)."""
    path = conn.execute("PRAGMA database_list").fetchone()[2]
    with _VOCABULARIES_LOCK:
        return _VOCABULARIES.setdefault(path, Vocabulary())


# -- one query: FTS5 expression and Python matcher -----------------------------------------------

def _quote(word: str) -> str:
    return '"' + word + '"'


class Matcher:
    """One query, as FTS5 expressions (candidates; exact-match candidates) and as Python tests on
    a field's text (the reference's rules)."""

    def __init__(self, query: QueryPlan, conn: sqlite3.Connection) -> None:
        self.query = query
        self.column = column = query.column
        vocab = vocabulary(conn)
        fts_values, self._tests, self._exact = [], [], []
        for value in query.values:
            words_fts, tests = [], []
            for i, word in enumerate(value):
                prefix = query.prefix and i == len(value) - 1
                fuzzy = query.fuzzy and fuzzy_distance(word) > 0
                alternatives = vocab.near(conn, column, word) if fuzzy else [word]
                parts = [_quote(w) for w in alternatives]
                if prefix:
                    expanded = vocab.with_prefix(conn, column, word)
                    if len(expanded) > MAX_EXPANSION:
                        parts.append(_quote(word) + " *")
                    else:
                        parts.extend(_quote(w) for w in expanded if w not in alternatives)
                if not parts:
                    parts = [_quote(word)]
                words_fts.append(parts[0] if len(parts) == 1 else "(" + " OR ".join(parts) + ")")
                alt = "|".join(re.escape(w) for w in alternatives)
                pattern = rf"(?<![^\W_])(?:{alt})(?![^\W_])"
                if prefix:
                    pattern = rf"(?<![^\W_])(?:{re.escape(word)}|(?:{alt})(?![^\W_]))"
                tests.append(re.compile(pattern))
            fts_values.append("(" + " AND ".join(words_fts) + ")")
            self._tests.append(tests)
            self._exact.append(list(value))
        self.fts = "{" + column + "} : (" + " OR ".join(fts_values) + ")"
        self.fts_exact = "{exact_keys} : (" + " OR ".join(
            _quote(exact_key(column, value)) for value in query.values
        ) + ")"

    def exact(self, text: str | None) -> bool:
        if text is None:
            return False
        words = tokenize(text)
        return any(words == value for value in self._exact)

    def strength(self, text: str | None, may_be_exact: bool) -> int:
        """0, 1 or 2 (exact whole-field match), as reference.query_strength. Only rows found by
        `fts_exact` can be exact (`may_be_exact`), so others are never tokenized."""
        if text is None:
            return 0
        lowered = text.lower()
        for tests in self._tests:
            if all(t.search(lowered) for t in tests):
                return 2 if may_be_exact and self.exact(text) else 1
        return 0


# -- filters and order in SQL ----------------------------------------------------------------------

def _filter_sql(flt: FilterPlan) -> tuple[str, list[Any]]:
    col = "q." + flt.column
    missing = f"{col} IS NULL"
    if flt.values is None:
        return (missing if flt.include_missing else f"{col} IS NOT NULL"), []
    tests: list[str] = []
    params: list[Any] = []
    for value in flt.values:
        if flt.kind == "bool":
            tests.append(f"{col} = ?")
            params.append(1 if value else 0)
        elif flt.kind == "time":
            tests.append(f"abs({col} - ?) < 0.0005")
            params.append(value)
        elif flt.kind == "list":
            tests.append(f"instr({col}, ?) > 0")
            params.append(SEP + value + (SEP if flt.operator == "EQUALS" else ""))
        elif flt.operator == "PREFIX":
            tests.append(f"substr({col}, 1, ?) = ?")
            params.extend((len(value), value))
        else:
            tests.append(f"{col} = ?")
            params.append(value)
    sql = "(" + (" OR ".join(tests) if tests else "0") + ")"
    if flt.include_missing:
        sql = f"({sql} OR {missing})"
    return sql, params


def _filters_sql(plan: SearchPlan) -> tuple[str, list[Any]]:
    parts, params = ["q.kb = ?"], []
    for flt in plan.filters:
        sql, p = _filter_sql(flt)
        parts.append(sql)
        params.extend(p)
    return " AND ".join(parts), params


# Columns that are never NULL (no "missing last" term needed, so an index can serve the order).
_NOT_NULL = {"name", "content_type", "is_active", "created_time", "modified_time"}


def _order_sql(plan: SearchPlan) -> str:
    if plan.order is None:
        return "q.name"
    col = "q." + plan.order.column
    direction = " DESC" if plan.order.descending else ""
    if plan.order.column in _NOT_NULL:
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
        return f" AND ({col} IS NULL OR {col} {op} ? OR ({col} = ? AND q.name > ?))", [after.value, after.value, after.name]
    return f" AND ({col} IS NULL OR {col} {op}= ?)", [after.value]


def _order_value(plan: SearchPlan, value: Any) -> Any:
    return value if plan.order is not None else None


# -- the executor ----------------------------------------------------------------------------------

def search(conn: sqlite3.Connection, kb: int, plan: SearchPlan) -> list[tuple[SortKey, dict[str, Any]]]:
    """Up to plan.limit + 1 (key, record) results after plan.after, in the plan's order."""
    if not plan.queries:
        hits = _browse(conn, kb, plan)
    else:
        hits = _search(conn, kb, plan)
    return _records(conn, hits[: plan.limit + 1])


def _records(conn: sqlite3.Connection, hits: list[Hit]) -> list[tuple[SortKey, dict[str, Any]]]:
    if not hits:
        return []
    rows = {
        seq: record_from_row(data, content, markdown)
        for seq, data, content, markdown in conn.execute(
            "SELECT seq, data, content, markdown FROM quick_responses"
            " WHERE seq IN (SELECT value FROM json_each(?))",
            (orjson.dumps([seq for _, seq in hits]),),
        )
    }
    return [(key, rows[seq]) for key, seq in hits]


def _browse(conn: sqlite3.Connection, kb: int, plan: SearchPlan) -> list[Hit]:
    """No queries: every filtered row, score 0, in SQL order with a SQL keyset."""
    where, params = _filters_sql(plan)
    order_col = f"q.{plan.order.column}" if plan.order else "NULL"
    start, start_params = _keyset_sql(plan, exact=True)
    sql = (
        f"SELECT q.seq, q.name, {order_col} FROM quick_responses q WHERE {where}{start}"
        f" ORDER BY {_order_sql(plan)} LIMIT ?"
    )
    return [
        (SortKey(_order_value(plan, value), 0, name), seq)
        for seq, name, value in conn.execute(sql, (kb, *params, *start_params, plan.limit + 1))
    ]


def _columns(plan: SearchPlan, matchers: list[Matcher]) -> list[str]:
    cols = ["q.seq", "q.name", f"q.{plan.order.column}" if plan.order else "NULL"]
    cols.extend(dict.fromkeys(f"q.{m.column}" for m in matchers))
    return cols


def _search(conn: sqlite3.Connection, kb: int, plan: SearchPlan) -> list[Hit]:
    matchers = [Matcher(q, conn) for q in plan.queries if q.values]
    if not matchers:
        return []
    cols = _columns(plan, matchers)
    col_index = {c: i for i, c in enumerate(cols)}
    text_at = [col_index[f"q.{m.column}"] for m in matchers]
    where, params = _filters_sql(plan)

    sets: list[set[int] | None] = []
    exacts: list[set[int]] = []
    for m in matchers:
        rows = conn.execute(
            "SELECT rowid FROM quick_responses_fts WHERE quick_responses_fts MATCH ? LIMIT ?", (m.fts, CAP + 1)
        ).fetchall()
        sets.append(None if len(rows) > CAP else {r for (r,) in rows})
        exacts.append({r for (r,) in conn.execute(
            "SELECT rowid FROM quick_responses_fts WHERE quick_responses_fts MATCH ?", (m.fts_exact,)
        )})
    dense = [i for i, s in enumerate(sets) if s is None]

    def score_row(row: tuple[Any, ...]) -> int | None:
        total, matched = 0, False
        seq = row[0]
        for i, m in enumerate(matchers):
            s = sets[i]
            may_be_exact = seq in exacts[i]
            if s is not None:
                if seq not in s:
                    continue
                strength = 2 if may_be_exact and m.exact(row[text_at[i]]) else 1
            else:
                strength = m.strength(row[text_at[i]], may_be_exact)
            if strength:
                matched = True
                total += m.query.weight * strength
        return total if matched else None

    def key_of(row: tuple[Any, ...], score: int) -> SortKey:
        return SortKey(_order_value(plan, row[2]), score, row[1])

    def keep(key: SortKey) -> bool:
        return plan.after is None or compare(plan, key, plan.after) > 0

    # Rows matching a sparse query, and the possible exact matches of every query.
    special: set[int] = set()
    for s in sets:
        if s is not None:
            special |= s
    for e in exacts:
        special |= e
    scored: list[Hit] = []
    if special:
        sql = (
            f"SELECT {', '.join(cols)} FROM quick_responses q"
            f" WHERE q.seq IN (SELECT value FROM json_each(?)) AND {where}"
        )
        for row in conn.execute(sql, (orjson.dumps(sorted(special)), kb, *params)):
            score = score_row(row)
            if score is not None:
                key = key_of(row, score)
                if keep(key):
                    scored.append((key, row[0]))
    order = functools.cmp_to_key(lambda a, b: compare(plan, a[0], b[0]))
    scored.sort(key=order)
    need = plan.limit + 1
    if not dense:
        return scored[:need]
    if plan.order is not None:
        return _walk_ordered(conn, kb, plan, cols, score_row, key_of, keep, need)
    return _tiers(conn, kb, plan, matchers, dense, special, scored, cols, text_at, need)


def _walk(conn: sqlite3.Connection, kb: int, plan: SearchPlan, cols: list[str], extra: str = "",
          extra_params: Iterable[Any] = (), name_after: str | None = None) -> Iterator[tuple[Any, ...]]:
    """Filtered rows in the plan's order (the (kb, name) index without orderOnField)."""
    where, params = _filters_sql(plan)
    start, start_params = ("", []) if name_after is None else (" AND q.name > ?", [name_after])
    if plan.order is not None:
        start, start_params = _keyset_sql(plan, exact=False)
    cur = conn.execute(
        f"SELECT {', '.join(cols)} FROM quick_responses q WHERE {where}{start}{extra}"
        f" ORDER BY {_order_sql(plan)}",
        (kb, *params, *start_params, *extra_params),
    )
    while True:
        batch = cur.fetchmany(WALK_BATCH)
        if not batch:
            return
        yield from batch


def _walk_ordered(conn, kb, plan, cols, score_row, key_of, keep, need) -> list[Hit]:
    """orderOnField with a dense query: walk in the field's order, score every row; stop once a
    page is full and the field's value changes (ties on the value are then ordered by score)."""
    hits: list[Hit] = []
    last_value: Any = object()
    for row in _walk(conn, kb, plan, cols):
        if len(hits) >= need and row[2] != last_value:
            break
        score = score_row(row)
        if score is None:
            continue
        key = key_of(row, score)
        if keep(key):
            hits.append((key, row[0]))
            last_value = row[2]
    hits.sort(key=functools.cmp_to_key(lambda a, b: compare(plan, a[0], b[0])))
    return hits[:need]


def _tiers(conn, kb, plan, matchers, dense, special, scored, cols, text_at, need) -> list[Hit]:
    """Default order with dense queries: the scored special rows, merged with the rows that match
    only dense queries, tier by tier (each subset of dense queries, by its summed weight)."""
    tiers: dict[int, list[tuple[int, ...]]] = {}
    for size in range(1, len(dense) + 1):
        for subset in itertools.combinations(dense, size):
            tiers.setdefault(sum(matchers[i].query.weight for i in subset), []).append(subset)
    scores = sorted({k.score for k, _ in scored} | set(tiers), reverse=True)
    after = plan.after
    out: list[Hit] = []
    for score in scores:
        if len(out) >= need:
            break
        if after is not None and score > after.score:
            continue
        name_after = after.name if after is not None and score == after.score else None
        group = [h for h in scored if h[0].score == score]
        for subset in tiers.get(score, ()):
            group.extend(_tier_rows(conn, kb, plan, matchers, dense, subset, special, cols, text_at,
                                    score, name_after, need - len(out)))
        group.sort(key=lambda h: h[0].name)
        out.extend(group)
    return out[:need]


def _tier_rows(conn, kb, plan, matchers, dense, subset, special, cols, text_at, score, name_after, need):
    """Up to `need` rows (by name) that match exactly the dense queries in `subset` and no others,
    excluding the special rows."""
    inside = [matchers[i] for i in subset]
    outside = [matchers[i] for i in dense if i not in subset]
    expression = " AND ".join(f"({m.fts})" for m in inside)
    if outside:
        expression = f"({expression}) NOT ({' OR '.join(f'({m.fts})' for m in outside)})"
    rows = conn.execute(
        "SELECT rowid FROM quick_responses_fts WHERE quick_responses_fts MATCH ? LIMIT ?", (expression, CAP + 1)
    ).fetchall()
    hits: list[Hit] = []
    if len(rows) <= CAP:
        candidates = [r for (r,) in rows if r not in special]
        if not candidates:
            return hits
        where, params = _filters_sql(plan)
        start = " AND q.name > ?" if name_after is not None else ""
        sql = (
            f"SELECT q.seq, q.name FROM quick_responses q WHERE q.seq IN (SELECT value FROM json_each(?))"
            f" AND {where}{start} ORDER BY q.name LIMIT ?"
        )
        for seq, name in conn.execute(
            sql, (orjson.dumps(candidates), kb, *params, *([name_after] if name_after is not None else []), need)
        ):
            hits.append((SortKey(None, score, name), seq))
        return hits
    inside_at = [text_at[i] for i in subset]
    outside_at = [text_at[i] for i in dense if i not in subset]
    for row in _walk(conn, kb, plan, cols, name_after=name_after):
        if row[0] in special:
            continue
        if all(m.strength(row[t], False) for m, t in zip(inside, inside_at)) and not any(
            m.strength(row[t], False) for m, t in zip(outside, outside_at)
        ):
            hits.append((SortKey(None, score, row[1]), row[0]))
            if len(hits) >= need:
                break
    return hits
