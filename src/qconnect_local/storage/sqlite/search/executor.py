"""Runs a SearchPlan on the SQLite store: FTS5 finds candidates, SQL filters and orders, and
nothing reads every row of a big knowledge base for an ordinary query.

- Each query's matches are fetched from FTS5 unranked (the plan's order is a small score, then
  name, not bm25) and capped at CAP rows: a query with at most CAP matches is "sparse" (all its
  matches scored and sorted); one with more is "dense", and walking the knowledge base in name
  order (the (kb, name) index) meets the first page after a few hundred rows.
- Dense queries with up to some ten thousand matches are fetched anyway and walked by
  membership (table rows read for matches only); with filters, sparse queries read the names
  of their matches from a narrow index and table rows only for the page.
- With the default order, rows that match a sparse query, and rows that may be exact
  whole-field matches (their exact key, see exact_keys.py), are scored one by one first; rows
  that match only dense queries come in groups walked best first (_Search.walk_by_score).
- No FTS5 prefix index (it makes bulk imports much slower): prefix words use FTS5's
  `"word" *`; a short prefix matches so many rows that it is dense and the walk serves it.
- allowFuzziness: the words within the allowed edit distance are looked up in the in-memory
  vocabulary (vocabulary.py) and searched as an OR of exact words; until it is loaded, a fuzzy
  word is tested in Python on walked rows (slower, same results).
(docs/performance-storage-notes.md has the measurements behind these choices.)
"""

from __future__ import annotations

import bisect
import itertools
import math
import os
import sqlite3
import time
from collections.abc import Iterable, Iterator
from typing import Any

import orjson

from qconnect_local.errors import InternalServerException
from qconnect_local.search.plan import SearchPlan, SortKey, compare
from qconnect_local.storage.sql.search_tables import QUICK_RESPONSES, SearchTable
from qconnect_local.storage.sqlite.search.matcher import Matcher
from qconnect_local.storage.sqlite.search.sql import (
    Hit,
    _browse,
    _filters_sql,
    _fts_rowids,
    _keyset_sql,
    _order_sql,
    _order_value,
    _records,
    sort_hits,
)
from qconnect_local.storage.sqlite.search.vocabulary import vocabulary

CAP = 10000  # estimated matches of one query beyond which it is walked, not fetched
FETCH_LIMIT = 60000  # matches fetched from FTS5 before an (underestimated) query is walked instead
WALK_BATCH = 256
# s a fuzzy walk without the vocabulary runs before it waits for the load (env: a test hook)
FALLBACK_BUDGET = float(os.environ.get("QCONNECT_TEST_FALLBACK_BUDGET") or 0.25)
LOAD_WAIT = 120.0  # s it waits at most (then it walks on)
GROUP_LIMIT = 10000  # at most this many rows of a group of walk_by_score read whole


def search(conn: sqlite3.Connection, kb: int, plan: SearchPlan) -> list[tuple[SortKey, dict[str, Any]]]:
    """Up to plan.limit + 1 (key, record) quick-response results after plan.after, in the plan's order."""
    return _records(conn, search_hits(conn, kb, plan))


def search_hits(conn: sqlite3.Connection, kb: int, plan: SearchPlan, table: SearchTable = QUICK_RESPONSES) -> list[Hit]:
    """Up to plan.limit + 1 (key, seq) results of `table` after plan.after, in the plan's order."""
    if not plan.queries:
        hits = _browse(conn, kb, plan, table)
    else:
        hits = _search(conn, kb, plan, table)
    return hits[: plan.limit + 1]


class _Search:
    """One search with queries. Each query is
    - sparse: its matches fetched from FTS5 and scored one by one (few matches: at most CAP,
      and with the default order at most `_sparse_limit`);
    - dense with known matches: fetched from FTS5 too (at most FETCH_LIMIT), but walked in the
      plan's order with a membership test on the index's rowid, so that only matching rows are
      read from the table (when the estimate is under `_member_limit`);
    - dense: walked with a superset test in SQL and the exact test in Python on the rows the
      walk meets (estimated above both limits, or more than FETCH_LIMIT matches, or a fuzzy
      query while the vocabulary loads)."""

    def __init__(self, conn: sqlite3.Connection, kb: int, plan: SearchPlan, table: SearchTable) -> None:
        self.conn, self.kb, self.plan, self.table = conn, kb, plan, table
        words = vocabulary(conn, table).lookup(conn) if any(q.values for q in plan.queries) else (None, False)
        self.matchers = [Matcher(q, conn, words) for q in plan.queries if q.values]
        self.cols = ["q.seq", "q.name", f"q.{plan.order.column}" if plan.order else "NULL"]
        self.cols.extend(dict.fromkeys(f"q.{m.column}" for m in self.matchers))
        index = {c: i for i, c in enumerate(self.cols)}
        self.text_at = [index[f"q.{m.column}"] for m in self.matchers]
        self.where, self.params = _filters_sql(plan, table)
        self.need = plan.limit + 1
        # Rows of the index (the vocabulary's count, or the highest rowid while it loads).
        rows = words[0].rows if words[0] is not None else 0
        if rows <= 0:
            rows = conn.execute(f"SELECT coalesce(max(seq), 0) FROM {table.table}").fetchone()[0]
        self.rows = rows = max(rows, 1)
        sparse_limit = CAP if plan.order is not None else min(CAP, self._sparse_limit(rows))
        self.sets: list[set[int] | None] = []  # sparse: all matches, scored one by one
        self.members: list[list[int] | None] = []  # dense, matches known: walked by membership
        self.member_sets: list[set[int] | None] = []
        # With several queries of the default order, known matches also bound scores (see
        # walk_by_score), so dense queries are fetched up to FETCH_LIMIT.
        several = plan.order is None and sum(1 for m in self.matchers if m.estimate > sparse_limit) >= 2
        for m in self.matchers:
            found = members = None
            member_limit = FETCH_LIMIT if several else self._member_limit(m, rows)
            if not m.walk_only and (m.estimate <= CAP or m.estimate <= member_limit):
                fetched = _fts_rowids(conn, m.fts, FETCH_LIMIT + 1, table)
                if len(fetched) <= min(sparse_limit, FETCH_LIMIT):
                    found = set(fetched)
                elif len(fetched) <= FETCH_LIMIT:
                    members = fetched
            self.sets.append(found)
            self.members.append(members)
            self.member_sets.append(set(members) if members is not None else None)
        self.exacts = [set(_fts_rowids(conn, m.fts_exact, table=table)) for m in self.matchers]
        self.dense = [i for i, found in enumerate(self.sets) if found is None]

    # Costs (us) that choose between the paths: reading and testing a table row in a walk
    # (between a cached and an uncached page); a match's name from the narrow (seq, kb, name)
    # index; stepping the name index with a membership test (no table read); fetching one
    # match from FTS5 and building SQLite's membership table from it.
    ROW_US, NARROW_US, STEP_US, FETCH_US = 8.0, 2.0, 0.25, 0.5

    def _selectivity(self) -> float:
        """The fraction of rows the filters let through: a guess (1/4 with filters)."""
        return 0.25 if self.plan.filters else 1.0

    def _member_limit(self, m: Matcher, rows: int) -> float:
        """Up to how many estimated matches a dense query is better fetched from FTS5 and walked
        by membership (only matching rows are read) than walked with the SQL superset test (the
        walk reads need / (match fraction x selectivity) rows, each tested against every
        needle): the fetch costs M x FETCH_US, the rows it spares need x rows / (M x
        selectivity) x (ROW_US x needles - STEP_US), equal at the square root."""
        needles = max(1, len(m.sql_params))
        saved = self.ROW_US * needles - self.STEP_US
        return min(FETCH_LIMIT, math.sqrt(self.need * rows * saved / (self._selectivity() * self.FETCH_US)))

    def _sparse_limit(self, rows: int) -> float:
        """Default order: up to how many matches a query is better scored one by one (each
        match's name read from the narrow index; table rows only for the page, see
        _best_special) than walked by membership (need x rows / (M x selectivity) index
        steps)."""
        return math.sqrt(self.need * rows * self.STEP_US / (self._selectivity() * self.NARROW_US))

    def score(self, row: tuple[Any, ...]) -> int | None:
        total, matched = 0, False
        seq = row[0]
        for i, m in enumerate(self.matchers):
            found = self.sets[i]
            may_be_exact = seq in self.exacts[i]
            known = found if found is not None else self.member_sets[i]
            if known is not None:
                if seq not in known:
                    continue
                strength = 2 if may_be_exact and m.exact(row[self.text_at[i]]) else 1
            else:
                strength = m.strength(row[self.text_at[i]], may_be_exact)
            if strength:
                matched = True
                total += m.query.weight * strength
        return total if matched else None

    def key(self, row: tuple[Any, ...], score: int) -> SortKey:
        return SortKey(_order_value(self.plan, row[2]), score, row[1])

    def after(self, key: SortKey) -> bool:
        return self.plan.after is None or compare(self.plan, key, self.plan.after) > 0

    def hit(self, row: tuple[Any, ...]) -> Hit | None:
        """The row's hit: None when it does not match, or sorts before the page's cursor."""
        score = self.score(row)
        if score is None:
            return None
        key = self.key(row, score)
        return (key, row[0]) if self.after(key) else None

    def hits_of(self, rows: Iterable[tuple[Any, ...]]) -> list[Hit]:
        return [hit for hit in map(self.hit, rows) if hit is not None]

    def special(self) -> tuple[set[int], list[Hit]]:
        """The rows matching a sparse query and the possible exact matches, scored."""
        special: set[int] = set()
        for found in self.sets:
            if found is not None:
                special |= found
        for exact in self.exacts:
            special |= exact
        if not special:
            return special, []
        if self.plan.order is None:
            return special, self._best_special(self._names(special))
        light = self._rows(special, self.cols[:3])
        # orderOnField, sparse queries only: scores come from membership; text is needed only to
        # confirm exact matches.
        exact = set().union(*self.exacts) & special
        texts = {row[0]: row for row in self._rows(exact, self.cols)} if exact else {}
        return special, self.hits_of(texts.get(row[0], row) for row in light)

    def top_sparse(self) -> list[Hit]:
        """Sparse queries only, default order: the score of a row is the sum of the weights of
        the queries whose matches hold it, so SQL computes it and keeps the top rows (a top-N
        sort in C); only the possible exact matches are scored in Python."""
        exact = set().union(*self.exacts)
        hits: list[Hit] = self.hits_of(self._rows(exact, self.cols)) if exact else []
        others = set().union(*self.sets) - exact  # type: ignore[arg-type]
        if others:
            score_sql = " + ".join(
                f"(CASE WHEN q.seq IN (SELECT value FROM json_each(?)) THEN {m.query.weight} ELSE 0 END)"
                for m in self.matchers
            )
            keyset, keyset_params = "", []
            if self.plan.after is not None:
                a = self.plan.after
                keyset, keyset_params = " WHERE score < ? OR (score = ? AND name > ?)", [a.score, a.score, a.name]
            narrow = "" if self.plan.filters else f" INDEXED BY {self.table.seq_name_index}"
            sql = (
                f"SELECT seq, name, score FROM (SELECT q.seq AS seq, q.name AS name, {score_sql} AS score"
                f" FROM {self.table.table} q{narrow} WHERE q.seq IN (SELECT value FROM json_each(?))"
                f" AND {self.where}){keyset} ORDER BY score DESC, name LIMIT ?"
            )
            params = [
                *(orjson.dumps(sorted(found)) for found in self.sets),  # type: ignore[arg-type]
                orjson.dumps(sorted(others)),
                self.kb,
                *self.params,
                *keyset_params,
                self.need,
            ]
            hits.extend((SortKey(None, score, name), seq) for seq, name, score in self.conn.execute(sql, params))
        sort_hits(self.plan, hits)
        return hits[: self.need]

    def _best_special(self, light: list[tuple[Any, ...]]) -> list[Hit]:
        """Default order: scores the special rows lazily, best possible first. A row's score is
        bounded by the weights of the sparse queries it is known to match plus every dense query
        (doubled where it may be an exact match); once `need` rows are known that beat the next
        row's bound, no later row can reach the page. Table rows (text, filters) are read only for
        the rows scored: with filters, a sparse query of a few thousand matches reads the few
        hundred rows the page needs, not all of them."""
        candidates = []
        for row in light:
            seq = row[0]
            upper = 0
            for i, m in enumerate(self.matchers):
                known = self.sets[i] if self.sets[i] is not None else self.member_sets[i]
                if known is None or seq in known:
                    upper += m.query.weight * (2 if seq in self.exacts[i] else 1)
            if upper:
                candidates.append((-upper, row[1], seq))
        candidates.sort()
        exact = set().union(*self.exacts)
        best: list[tuple[int, str]] = []  # the `need` best (-score, name) found so far
        hits: list[Hit] = []
        # Filters, and dense queries tested on text, need each candidate's table row: read in
        # growing batches (dense queries with known matches are tested by membership).
        read_all = bool(self.plan.filters) or any(self.member_sets[i] is None for i in self.dense)
        i, size = 0, 64
        while i < len(candidates):
            if len(best) >= self.need and candidates[i][:2] > best[-1]:
                break
            batch = candidates[i : i + size]
            i += size
            size = min(size * 2, WALK_BATCH)
            wanted = {seq for _, _, seq in batch if read_all or seq in exact}
            texts = {row[0]: row for row in self._rows(wanted, self.cols)} if wanted else {}
            for minus_upper, name, seq in batch:
                if len(best) >= self.need and (minus_upper, name) > best[-1]:
                    break
                row = texts.get(seq, (seq, name, None))
                if seq in wanted and seq not in texts:
                    continue  # filtered out
                score = self.score(row)
                if score is None:
                    continue
                key = SortKey(None, score, name)
                if self.after(key):
                    hits.append((key, seq))
                    bisect.insort(best, (-score, name))
                    del best[self.need :]
        return hits

    def _names(self, seqs: set[int]) -> list[tuple[Any, ...]]:
        """(seq, name, None) of the knowledge base's rows among seqs, unfiltered: from the narrow
        (seq, kb, name) index, no table row read."""
        table = self.table
        return self.conn.execute(
            f"SELECT q.seq, q.name, NULL FROM {table.table} q INDEXED BY {table.seq_name_index}"
            f" WHERE q.seq IN (SELECT value FROM json_each(?)) AND q.{table.kb} = ?",
            (orjson.dumps(sorted(seqs)), self.kb),
        ).fetchall()

    def _rows(self, seqs: set[int], cols: list[str]) -> list[tuple[Any, ...]]:
        # (seq, name) without filters or order: from the narrow (seq, kb, name) index.
        narrow = len(cols) == 3 and self.plan.order is None and not self.plan.filters
        sql = (
            f"SELECT {', '.join(cols)} FROM {self.table.table} q"
            f"{' INDEXED BY ' + self.table.seq_name_index if narrow else ''}"
            f" WHERE q.seq IN (SELECT value FROM json_each(?)) AND {self.where}"
        )
        return self.conn.execute(sql, (orjson.dumps(sorted(seqs)), self.kb, *self.params)).fetchall()

    def walk(self, matchers: list[Matcher], start_name: str | None = None) -> Iterator[tuple[Any, ...]]:
        """Filtered rows of the knowledge base in the plan's order that may match one of
        `matchers` (a cheap superset test in SQL: only those rows reach Python)."""
        start, start_params = ("", []) if start_name is None else (" AND q.name > ?", [start_name])
        if self.plan.order is not None:
            start, start_params = _keyset_sql(self.plan, exact=False)
        tests: list[str] = []
        params: list[Any] = []
        for m in matchers:
            members = self.members[self.matchers.index(m)]
            if members is not None:
                # `+`: not an index lookup (the walk keeps its order); the test needs only the
                # index's rowid, so SQLite reads the table row of matching rows only.
                tests.append("+q.seq IN (SELECT value FROM json_each(?))")
                params.append(orjson.dumps(members))
            else:
                tests.append(m.sql)
                params.extend(m.sql_params)
        may_match = " OR ".join(tests)
        kb_test, filters = self.where.split(" AND ", 1) if " AND " in self.where else (self.where, "1")
        if all(self.members[self.matchers.index(m)] is not None for m in matchers):
            where = f"{kb_test} AND ({may_match}) AND {filters}{start}"
            params = [self.kb, *params, *self.params, *start_params]
        else:  # the cheap filters first
            where = f"{self.where}{start} AND ({may_match})"
            params = [self.kb, *self.params, *start_params, *params]
        cur = self.conn.execute(
            f"SELECT {', '.join(self.cols)} FROM {self.table.table} q WHERE {where}"
            f" ORDER BY {_order_sql(self.plan, self.table)}",
            params,
        )
        # Row by row: SQLite scans until it has the rows asked for, and a walk that stops after a
        # few matches must not have made it find many more.
        if not any(m.walk_only for m in matchers):
            yield from cur
            return
        # A fuzzy word without the vocabulary: its walk may have to test most rows in Python.
        # Past a budget, wait for the load and
        # search again with the vocabulary: never longer than the load itself.
        # A stop (the server shutting down) ends such a walk, so it cannot hold the shutdown.
        vocab = vocabulary(self.conn, self.table)
        deadline = time.monotonic() + FALLBACK_BUDGET
        for n, row in enumerate(cur):
            if n % 64 == 0:
                if vocab.stopped:
                    raise InternalServerException("The server is stopping; search again.")
                if time.monotonic() > deadline:
                    deadline = float("inf")
                    if vocab.wait(self.conn, timeout=LOAD_WAIT):
                        raise _Retry
            yield row

    def run(self) -> list[Hit]:
        if not self.matchers:
            return []
        if self.dense and self.plan.order is not None:
            return self.walk_ordered()
        if not self.dense and self.plan.order is None and not self.plan.filters:
            return self.top_sparse()
        special, hits = self.special()
        if not self.dense:
            sort_hits(self.plan, hits)
            return hits[: self.need]
        if self.plan.order is not None:
            return self.walk_ordered()
        return self.walk_by_score(special, hits)

    def walk_ordered(self) -> list[Hit]:
        """orderOnField with a dense query: walk in the field's order, score every row; stop once a
        page is full and the field's value changes (ties on the value are ordered by score)."""
        hits: list[Hit] = []
        last: Any = object()
        for row in self.walk(self.matchers):
            if len(hits) >= self.need and row[2] != last:
                break
            hit = self.hit(row)
            if hit is not None:
                hits.append(hit)
                last = row[2]
        sort_hits(self.plan, hits)
        return hits[: self.need]

    def walk_by_score(self, special: set[int], hits: list[Hit]) -> list[Hit]:
        """Default order with dense queries. The special rows are scored already; every other
        matching row matches dense queries only, with no exact bonus.

        Rows in the known matches of dense queries (`member_sets`) come in groups, one per set
        T of those queries a row matches: its score is at least their weights k(T) and at most
        k(T) + the weights of the dense queries without known matches. Small groups are scored
        first, best bound first (several queries of common words or short prefixes: the rows
        matching most of them are few and score most), until the page is known or a group is
        too big to read whole.

        Then the walk: every row not scored yet scores at most `top` (the bound of the groups
        left, or of the rows outside them). Walking in name order, the page is known once
        `need` rows are known that come before any row not walked yet could: rows scoring more
        than `top`, and rows scoring `top` with a name up to the walk's position."""
        dense = [(self.matchers[i], self.text_at[i], self.member_sets[i]) for i in self.dense]
        known = [(m.query.weight, members) for m, _, members in dense if members is not None]
        unknown = sum(m.query.weight for m, _, members in dense if members is None)
        top = sum(m.query.weight for m, _, _ in dense)
        scored = special
        if known:
            best, scored = self._score_groups(known, unknown, special, hits)
            if best is None:
                sort_hits(self.plan, hits)
                return hits[: self.need]
            top = best
        # Lower-scoring rows may have any name, so the walk starts at the beginning on every page.
        above = sum(1 for k, _ in hits if k.score > top)
        at_top_special = sorted(k.name for k, _ in hits if k.score == top)
        at_top = 0
        for row in self.walk([m for m, _, _ in dense]):
            seq, name = row[0], row[1]
            # Rows up to here that score `top`: walked ones, and scored ones with a name <= name.
            if above + at_top + bisect.bisect_right(at_top_special, name) >= self.need:
                break
            if seq in scored:
                continue
            score = 0
            for m, at, members in dense:
                if members is not None:
                    if seq in members:
                        score += m.query.weight
                    continue
                text = row[at]
                if text is not None and m.matches(text.lower()):
                    score += m.query.weight
            if not score:
                continue
            key = SortKey(None, score, name)
            if self.after(key):
                hits.append((key, seq))
                if score == top:
                    at_top += 1
        sort_hits(self.plan, hits)
        return hits[: self.need]

    def _score_groups(
        self, known: list[tuple[int, set[int]]], unknown: int, special: set[int], hits: list[Hit]
    ) -> tuple[int | None, set[int]]:
        """Scores the groups of walk_by_score, adding to `hits`. Returns (the highest score a row
        not scored yet may have, or None when no such row can reach the page; the rows scored)."""
        subsets = []
        for r in range(len(known), 0, -1):
            for chosen in itertools.combinations(range(len(known)), r):
                subsets.append((sum(known[i][0] for i in chosen) + unknown, chosen))
        subsets.sort(key=lambda item: -item[0])
        scored = set(special)
        union = set().union(*(members for _, members in known))
        # A group is read whole (ROW_US a row) when that costs less than the walk would to meet
        # `need` of its rows (need x rows / group steps, by membership only when every dense
        # query's matches are known, else reading each row).
        step = self.ROW_US if unknown else self.STEP_US
        limit = min(GROUP_LIMIT, math.sqrt(self.need * self.rows * step / (self._selectivity() * self.ROW_US)))
        for upper, chosen in subsets:
            if sum(1 for k, _ in hits if k.score > upper) >= self.need:
                return None, scored
            sets = sorted((known[i][1] for i in chosen), key=len)
            group = sets[0].intersection(*sets[1:]) if len(sets) > 1 else set(sets[0])
            for i in range(len(known)):
                if i not in chosen and group:
                    group -= known[i][1]
            group -= scored
            if len(group) > limit:
                return upper, scored  # the walk scores the rest (in name order, by membership)
            if group:
                hits.extend(self.hits_of(self._rows(group, self.cols)))
                scored |= group
        # Every row of the known matches is scored: the rest match only the other dense queries.
        if not unknown or sum(1 for k, _ in hits if k.score > unknown) >= self.need:
            return None, scored
        return unknown, scored | union


class _Retry(Exception):
    """The vocabulary was loaded while a search walked without it: search again."""


def _search(conn: sqlite3.Connection, kb: int, plan: SearchPlan, table: SearchTable) -> list[Hit]:
    try:
        return _Search(conn, kb, plan, table).run()
    except _Retry:
        return _Search(conn, kb, plan, table).run()
