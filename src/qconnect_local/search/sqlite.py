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
- Dense queries with up to some ten thousand matches (where the walk would read many rows for
  few matches) are fetched anyway and walked by membership (an index-only test: table rows are
  read for matches only); with filters, sparse queries read the names of their matches from a
  narrow index and table rows only for the page (see _Search).
- With the default order, rows that match a sparse query, and rows that may be exact
  whole-field matches (their exact key, see exact_key), are scored one by one first. Rows that
  match only dense queries come in groups (one per set of dense queries they match, scored by
  the sum of the weights): with several dense queries (the CCP's four-field type-ahead) the
  small groups of the queries whose matches are known are scored first, best first; the rest
  is walked in name order until the page is known (_Search.walk_by_score).
- No FTS5 prefix index: it raised the bulk import of 1M rows from 52 s to 92 s. Prefix words
  use FTS5's `"word" *` (merging the doclists of the words with that prefix); a short prefix
  matches so many rows that it is dense, and then the name-order walk serves it.
- allowFuzziness: the words within the allowed edit distance are looked up (rapidfuzz) in a
  vocabulary of the index's words kept in memory (read from fts5vocab by a background thread,
  kept up to date by this store's writes), then searched as an OR of exact words. Until the
  vocabulary is loaded (6-8 s at 1M, after a start or an import) searches do not wait for it:
  prefixes use FTS5's `*`, and a fuzzy word is tested in Python on walked rows (slower, same
  results; a walk that runs long waits for the load after all, see Vocabulary).
"""

from __future__ import annotations

import bisect
import hashlib
import itertools
import logging
import math
import os
import re
import sqlite3
import threading
import time
import zlib
from collections import Counter
from collections.abc import Iterable, Iterator
from typing import Any

import orjson

from qconnect_local.errors import InternalServerException
from qconnect_local.search.plan import (
    FilterPlan,
    QueryPlan,
    SearchPlan,
    SortKey,
    compare,
    fuzzy_distance,
    tokenize,
)
from qconnect_local.storage.sqlite_quick_responses import SELECT_RECORD, SEP, index_token, record_from_row

log = logging.getLogger("qconnect_local.search")

CAP = 10000  # estimated matches of one query beyond which it is walked, not fetched
FETCH_LIMIT = 60000  # matches fetched from FTS5 before an (underestimated) query is walked instead
WALK_BATCH = 256
# s a fuzzy walk without the vocabulary runs before it waits for the load (env: a test hook)
FALLBACK_BUDGET = float(os.environ.get("QCONNECT_TEST_FALLBACK_BUDGET") or 0.25)
LOAD_WAIT = 120.0  # s it waits at most (then it walks on)
GROUP_LIMIT = 10000  # at most this many rows of a group of walk_by_score read whole
MAX_EXPANSION = 16  # prefix words searched as an OR of the words they expand to, up to this many
# (fetching every match, an OR of 60 words took 4x as long as FTS5's `*`; up to ~15, the same)

Hit = tuple[SortKey, int]  # (sort key, seq)


# -- exact keys and vocabulary --------------------------------------------------------------------

EXACT_KEY_BUCKETS = 0xFFFF + 1


def exact_key(column: str, words: Iterable[str]) -> str:
    """The word indexed in the `exact_keys` FTS column for a field whose words are `words`: an
    exact whole-field match is then one FTS lookup (collisions are harmless: candidates are
    checked in Python).

    A bucket (one of 65,536 per column, ~15 rows each at a million rows), not a unique hash:
    a unique word per field made FTS5 maintain four new terms per row, ~25 us of the ~60 us a
    bulk-inserted row cost; shared terms cost a fraction of that, and the few extra candidates
    per exact lookup are checked like any collision."""
    bucket = zlib.crc32(" ".join(words).encode("utf-8")) & (EXACT_KEY_BUCKETS - 1)
    return f"y{_COLUMN_LETTER[column]}{bucket:x}"


_ASCII_WORDS = bytes(c if (48 <= c <= 57 or 97 <= c <= 122) else 32 for c in range(256))


def exact_key_of_text(column: str, text: str) -> str | None:
    """`exact_key(column, tokenize(text))`, None for a text without words; ASCII text takes a
    bytes-only path (no word strings), as bulk inserts compute four of these per row."""
    lowered = text.lower()
    if not lowered.isascii():
        words = tokenize(text)
        return exact_key(column, words) if words else None
    parts = lowered.encode("ascii").translate(_ASCII_WORDS).split()
    if not parts:
        return None
    bucket = zlib.crc32(b" ".join(parts)) & (EXACT_KEY_BUCKETS - 1)
    return f"y{_COLUMN_LETTER[column]}{bucket:x}"


def legacy_exact_key(column: str, words: Iterable[str]) -> str:
    """The exact key of rows written before exact keys were bucketed (still searched for, so a
    database from then needs no rewrite)."""
    digest = hashlib.blake2b(" ".join(words).encode("utf-8"), digest_size=8).hexdigest()
    return f"x{_COLUMN_LETTER[column]}{digest}"


_COLUMN_LETTER = {"name": "n", "shortcut_key": "s", "description": "d", "content": "c"}


class Words:
    """The words of each searchable column with their document counts, as read from the index
    once (by a `Vocabulary`'s loader) and kept up to date by this process's writes since.

    `known` holds the index tokens the counts cover: a search whose snapshot has another token
    may not find every word here (an import added words), so it treats the counts as *stale*:
    good for estimates, never for expanding prefixes or fuzzy words. Counts only grow (deletes
    are not subtracted), so they are upper bounds, and a word that no longer occurs just matches
    nothing. Reads and writes hold the vocabulary's lock."""

    def __init__(
        self,
        lock: threading.Lock,
        counts: dict[str, Counter[str]],
        ordered: dict[str, list[str]],
        rows: int,
        token: str | None,
    ) -> None:
        self._lock = lock
        self.counts = counts
        self.sorted: dict[str, list[str] | None] = dict(ordered)  # None: sort again when next needed
        self.rows = rows  # rows indexed (an upper bound)
        self.known: set[str | None] = {token}

    def _ordered(self, column: str) -> list[str]:
        ordered = self.sorted.get(column)
        if ordered is None:
            ordered = self.sorted[column] = sorted(self.counts[column])
        return ordered

    def count(self, column: str, word: str) -> int:
        with self._lock:
            return self.counts[column].get(word, 0)

    def with_prefix(self, column: str, prefix: str) -> tuple[list[str], int]:
        """(words of the column starting with prefix, their summed document counts)."""
        with self._lock:
            counts = self.counts[column]
            ordered = self._ordered(column)
            lo = bisect.bisect_left(ordered, prefix)
            hi = bisect.bisect_left(ordered, prefix + "\U0010ffff")
            words = ordered[lo:hi]
            return words, sum(counts[w] for w in words)

    def near(self, column: str, word: str) -> tuple[list[str], int]:
        """(words of the column within the fuzzy distance of `word`, their summed counts)."""
        limit = fuzzy_distance(word)
        with self._lock:
            counts = self.counts[column]
            if limit == 0:
                return [word], counts.get(word, 0)
            from rapidfuzz.distance import Levenshtein
            from rapidfuzz.process import extract

            found = extract(word, self._ordered(column), scorer=Levenshtein.distance, score_cutoff=limit, limit=None)
            words = sorted({word, *(w for w, _, _ in found)})
            return words, sum(counts.get(w, 0) for w in words)


class Vocabulary:
    """The search vocabulary of one database file in this process (the SQLite store has one
    writer process): the index's words per column with document counts, for prefixes (sorted,
    bisected), allowFuzziness and estimating how many rows a query matches.

    Reading it from the index (fts5vocab decodes every doclist) takes ~20 s at a million quick
    responses, so it is never read on a request's thread: the first search that finds no
    up-to-date `Words` starts a *loader* thread, which reads them on its own read connection
    (one snapshot) and installs them. Until then searches run without them (`lookup` answers
    stale or no words) on paths that need no vocabulary and give the same results, only slower:
    prefixes as FTS5 `"word" *`, fuzzy words tested in Python on walked rows (Matcher). Such a
    walk may have to test most rows (~40 s at 1M for a word that matches nothing), so after
    FALLBACK_BUDGET it waits for the load instead and searches again: a fuzzy search takes at
    most about as long as the load. `close` stops a loader promptly (its connection is
    interrupted).

    Writes add their words as they go (`add`, counting one document per row; kept in `_added`
    for a load in progress or to come, as they may commit after its snapshot was taken).

    Bulk inserts (imports) do not feed unloaded words word by word: that cost ~25 us a row and,
    with a unique word per name and shortcut key, ~200 MB per million rows, for counts a load
    reads from the index anyway. Instead every bulk insert writes a new random *index token*
    (storage/sqlite_quick_responses.py) in its transaction. `Words.known` holds the tokens whose
    words they hold (the one they were loaded with, and those of bulk inserts that fed them on
    top of a known token: `feeds_bulk` / `add_bulk`); a search that sees any other token starts
    a reload in the background and meanwhile uses the words for estimates only. So words can
    never go missing, rolled-back or racing bulk inserts only cost a reload, and a server that has
    searched before keeps its vocabulary in step through imports cheaply."""

    RETRY_SECONDS = 5.0  # after a failed load, the next search starts another only after this

    def __init__(self, path: str = "") -> None:
        self.path = path
        self._lock = threading.Lock()
        self._idle = threading.Condition(self._lock)
        self._added: dict[str, Counter[str]] = {}  # column -> word -> docs added by writes
        self._words: Words | None = None
        self._loader: threading.Thread | None = None
        self._loader_conn: sqlite3.Connection | None = None
        self._loading: Any = None  # the loader's token (_PENDING: not read yet)
        self._reload = False  # a search saw a token the load may miss
        self._stop = threading.Event()
        self._failed_at = -1e9
        self.loads = 0  # loads completed (tests, monitoring)

    # -- writes (the storage layer) --------------------------------------------------------------

    @property
    def rows(self) -> int:
        words = self._words
        return words.rows if words is not None else 0

    def add(self, column: str, words: Iterable[str]) -> None:
        unique = set(words)
        with self._lock:
            added = self._added.get(column)
            if added is None:
                added = self._added[column] = Counter()
            added.update(unique)
            loaded = self._words
            if loaded is not None:
                if column == "name":
                    loaded.rows += 1
                counts = loaded.counts[column]
                ordered = loaded.sorted.get(column)
                if ordered is not None:
                    for w in unique - counts.keys():
                        bisect.insort(ordered, w)
                counts.update(unique)

    def feeds_bulk(self, token: str | None) -> bool:
        """Whether a bulk insert on top of index state `token` should count its words for
        `add_bulk` (only when they would be kept; `add_bulk` decides for good)."""
        with self._lock:
            return self._words is not None and token in self._words.known

    def add_bulk(self, previous: str | None, token: str, docs: dict[str, Counter[str]], rows: int) -> None:
        """A bulk insert moved the index from state `previous` to `token`, adding `rows` rows
        whose words have the document counts `docs` (column -> word -> rows). Kept only if the
        counts cover `previous`; otherwise a reload reads them from the index anyway."""
        with self._lock:
            loaded = self._words
            if loaded is None or previous not in loaded.known:
                return
            for column, column_docs in docs.items():
                counts = loaded.counts[column]
                if column_docs.keys() - counts.keys():
                    loaded.sorted[column] = None
                counts.update(column_docs)
            loaded.rows += rows
            loaded.known.add(token)

    def check(self, conn: sqlite3.Connection) -> None:
        """Kept for callers of the older interface: staleness is now judged per search (`lookup`)."""

    # -- searches --------------------------------------------------------------------------------

    def lookup(self, conn: sqlite3.Connection) -> tuple[Words | None, bool]:
        """(the words, whether they cover the index as `conn` sees it). Never waits for a load:
        when they do not cover it, a loader is started (or asked to read again) and the caller
        searches without them (stale words are still good for estimates)."""
        token = index_token(conn)
        with self._lock:
            words = self._words
            if words is not None and token in words.known:
                return words, True
            if self._loader is not None:
                if self._loading is not _PENDING and self._loading != token:
                    self._reload = True
            elif (
                BACKGROUND_LOADS
                and not self._stop.is_set()
                and time.monotonic() - self._failed_at >= self.RETRY_SECONDS
            ):
                self._start()
            return words, False

    def wait(self, conn: sqlite3.Connection, timeout: float = 120.0) -> bool:
        """Starts a load if the words do not cover `conn`'s index and waits for it (tests and
        benchmarks). True when they cover it."""
        deadline = time.monotonic() + timeout
        while True:
            words, fresh = self.lookup(conn)
            if fresh:
                return True
            with self._lock:
                remaining = deadline - time.monotonic()
                if remaining <= 0 or self._stop.is_set() or (self._loader is None and not BACKGROUND_LOADS):
                    return False
                self._idle.wait(min(remaining, 0.5))

    @property
    def stopped(self) -> bool:
        return self._stop.is_set()

    @property
    def state(self) -> str:
        """ "loading", "ready" (covers the last index state a search saw) or "none"."""
        with self._lock:
            if self._loader is not None:
                return "loading"
            return "ready" if self._words is not None else "none"

    def close(self, timeout: float = 5.0) -> None:
        """Stops a load in progress (interrupting its SQLite call) and waits for its thread;
        searches waiting for it go on without it, and no load starts again."""
        self._stop.set()
        with self._lock:
            loader, conn = self._loader, self._loader_conn
            self._idle.notify_all()
        if conn is not None:
            try:
                conn.interrupt()
            except sqlite3.Error:
                pass
        if loader is not None and loader is not threading.current_thread():
            loader.join(timeout)

    # -- the loader ------------------------------------------------------------------------------

    def _start(self) -> None:
        """Starts the loader thread (the lock is held)."""
        self._loading = _PENDING
        self._reload = False
        self._loader = threading.Thread(target=self._run, name="qconnect-search-vocabulary", daemon=True)
        self._loader.start()

    def _connect(self) -> sqlite3.Connection:
        if self.path and os.path.exists(self.path):
            conn = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False, timeout=60.0)
        else:  # the memdb VFS (in-memory mode without tmpfs)
            conn = sqlite3.connect(
                f"file:{self.path}?vfs=memdb", uri=True, isolation_level=None, check_same_thread=False, timeout=60.0
            )
        conn.execute(
            "CREATE VIRTUAL TABLE IF NOT EXISTS temp.quick_responses_vocab"
            " USING fts5vocab(main, quick_responses_fts, 'col')"
        )
        conn.execute("PRAGMA query_only = ON")
        return conn

    def _run(self) -> None:
        try:
            while not self._stop.is_set():
                # Test hooks: a load that takes LOAD_DELAY seconds longer, or waits for LOAD_GATE.
                if LOAD_DELAY and self._stop.wait(LOAD_DELAY):
                    return
                gate = LOAD_GATE
                while gate is not None and not gate.wait(0.05):
                    if self._stop.is_set():
                        return
                conn = self._connect()
                with self._lock:
                    self._loader_conn = conn
                try:
                    words = self._read(conn)
                finally:
                    with self._lock:
                        self._loader_conn = None
                    conn.close()
                if words is None:
                    return
                with self._lock:
                    for column, added in self._added.items():
                        counts = words.counts[column]
                        new = added.keys() - counts.keys()
                        for w, n in added.items():
                            if counts[w] < n:
                                counts[w] = n
                        if new:
                            words.sorted[column] = None
                    self._words = words
                    self.loads += 1
                    self._loading = _PENDING
                    if not self._reload:
                        return
                    self._reload = False
        except sqlite3.Error as exc:
            if not self._stop.is_set():
                log.warning("loading the search vocabulary of %s failed: %s", self.path, exc)
                self._failed_at = time.monotonic()
        except Exception:
            log.exception("loading the search vocabulary of %s failed", self.path)
            self._failed_at = time.monotonic()
        finally:
            with self._lock:
                self._loader = None
                self._loading = None
                self._idle.notify_all()

    def _read(self, conn: sqlite3.Connection) -> Words | None:
        """Every column's words and document counts in one snapshot (fts5vocab reads all columns
        whatever the WHERE clause, so all four are read at once); None when stopped."""
        conn.execute("BEGIN")
        try:
            token = index_token(conn)  # the same snapshot as the words
            with self._lock:
                self._loading = token
            loaded: dict[str, Counter[str]] = {c: Counter() for c in _COLUMN_LETTER}
            cur = conn.execute("SELECT term, col, doc FROM temp.quick_responses_vocab")
            while True:
                if self._stop.is_set():
                    return None
                batch = cur.fetchmany(8192)
                if not batch:
                    break
                for term, col, doc in batch:
                    counts = loaded.get(col)
                    if counts is not None:
                        counts[term] = doc
            rows = conn.execute("SELECT count(*) FROM quick_responses").fetchone()[0]
        finally:
            conn.execute("COMMIT")
        # fts5vocab lists terms in UTF-8 byte order, which is code point order: already sorted.
        ordered = {column: list(counts) for column, counts in loaded.items()}
        return Words(self._lock, loaded, ordered, rows, token)


_PENDING = object()
BACKGROUND_LOADS = True  # tests turn loads off to search without a vocabulary
LOAD_DELAY = float(os.environ.get("QCONNECT_TEST_VOCABULARY_DELAY") or 0)  # test hook (seconds)
LOAD_GATE: threading.Event | None = None  # test hook: loads wait until it is set

_VOCABULARIES: dict[str, Vocabulary] = {}
_VOCABULARIES_LOCK = threading.Lock()


def _path(conn: sqlite3.Connection) -> str:
    return conn.execute("PRAGMA database_list").fetchone()[2]


def vocabulary(conn: sqlite3.Connection) -> Vocabulary:
    """The vocabulary of this connection's database file (one per file per process)."""
    path = _path(conn)
    with _VOCABULARIES_LOCK:
        found = _VOCABULARIES.get(path)
        if found is None:
            found = _VOCABULARIES[path] = Vocabulary(path)
    return found


def vocabulary_state(path: str) -> str:
    """ "loading", "ready" or "none" (no search has needed it yet), for the health report."""
    with _VOCABULARIES_LOCK:
        found = _VOCABULARIES.get(path)
    return found.state if found is not None else "none"


def close_vocabulary(path: str) -> None:
    """Forgets the vocabulary of a database file, stopping its loader (the store is closing)."""
    with _VOCABULARIES_LOCK:
        found = _VOCABULARIES.pop(path, None)
    if found is not None:
        found.close()


# -- one query: FTS5 expression and Python matcher -----------------------------------------------


def _quote(word: str) -> str:
    return '"' + word + '"'


def _pieces(word: str, n: int) -> list[str]:
    """`word` cut into n contiguous pieces of nearly equal length."""
    cuts = [round(i * len(word) / n) for i in range(n + 1)]
    return [word[a:b] for a, b in zip(cuts, cuts[1:])]


class _FuzzyTest:
    """A fuzzy word's test on a field's lower-cased text without the vocabulary: some word of
    the text is within the word's fuzzy distance (or, for a prefix, starts with it). Has a
    compiled pattern's `search`, as Matcher's tests do."""

    def __init__(self, word: str, prefix: bool) -> None:
        self.word, self.prefix, self.limit = word, prefix, fuzzy_distance(word)

    def search(self, lowered: str) -> bool:
        from rapidfuzz.distance import Levenshtein

        word, limit = self.word, self.limit
        for w in tokenize(lowered):
            if (self.prefix and w.startswith(word)) or Levenshtein.distance(w, word, score_cutoff=limit) <= limit:
                return True
        return False


class Matcher:
    """One query, as FTS5 expressions (its matches; its possible exact matches), as Python tests
    on a field's text (the reference's rules), and an estimate of how many rows it matches (from
    the vocabulary's document counts, words assumed independent)."""

    def __init__(
        self, query: QueryPlan, conn: sqlite3.Connection, words: tuple[Words | None, bool] | None = None
    ) -> None:
        self.query = query
        self.column = column = query.column
        loaded, fresh = words if words is not None else vocabulary(conn).lookup(conn)
        fts_values, self._tests, self._exact = [], [], []
        sql_values: list[str] = []
        self.sql_params: list[str] = []
        self.estimate = 0.0
        # Without up-to-date words (a load in progress) a fuzzy word's neighbours are unknown:
        # such a query cannot be fetched from FTS5, only tested on walked rows.
        self.walk_only = False
        rows = max(loaded.rows, 1) if loaded is not None else 1
        for value in query.values:
            words_fts, tests, sql_words = [], [], []
            fraction = 1.0
            for i, word in enumerate(value):
                prefix = query.prefix and i == len(value) - 1
                fuzzy = query.fuzzy and fuzzy_distance(word) > 0
                # Document counts (estimates only: stale words will do; none: 0, fetch and see).
                docs = loaded.count(column, word) if loaded is not None else 0
                if fuzzy and fresh:
                    alternatives, docs = loaded.near(column, word)  # type: ignore[union-attr]
                else:
                    alternatives = [word]
                parts = [_quote(w) for w in alternatives]
                if prefix:
                    expanded, prefix_docs = loaded.with_prefix(column, word) if loaded is not None else ([], 0)
                    docs = max(docs, prefix_docs)
                    if fresh and len(expanded) <= MAX_EXPANSION:
                        # A few words: an OR of them streams; FTS5's `*` would first merge the
                        # doclists of every word with the prefix.
                        parts.extend(_quote(w) for w in expanded if w not in alternatives)
                    else:
                        parts.append(_quote(word) + " *")
                fraction *= min(1.0, docs / rows)
                words_fts.append(parts[0] if len(parts) == 1 else "(" + " OR ".join(parts) + ")")
                if fuzzy and not fresh:
                    self.walk_only = True
                    tests.append(_FuzzyTest(word, prefix))
                    # Superset in SQL: d edits leave one of d + 1 pieces of the word intact.
                    needles = _pieces(word, fuzzy_distance(word) + 1)
                else:
                    alt = "|".join(re.escape(w) for w in alternatives)
                    pattern = rf"(?<![^\W_])(?:{alt})(?![^\W_])"
                    if prefix:
                        pattern = rf"(?<![^\W_])(?:{re.escape(word)}|(?:{alt})(?![^\W_]))"
                    tests.append(re.compile(pattern))
                    # A superset test in SQL for walks: the word (or an alternative) occurs somewhere.
                    needles = [word] if prefix else []
                    needles += [w for w in alternatives if not (prefix and w.startswith(word))]
                sql_words.append("(" + " OR ".join(f"instr(lower(q.{column}), ?) > 0" for _ in needles) + ")")
                self.sql_params.extend(needles)
            self.estimate += fraction * rows
            sql_values.append("(" + " AND ".join(sql_words) + ")")
            fts_values.append("(" + " AND ".join(words_fts) + ")")
            self._tests.append(tests)
            self._exact.append(list(value))
        self.fts = "{" + column + "} : (" + " OR ".join(fts_values) + ")"
        # SQLite's lower() folds ASCII only: rows with other characters always go to Python.
        self.sql = (
            f"(({' OR '.join(sql_values)}) OR length(CAST(q.{column} AS BLOB)) != length(q.{column}))"
            if all(w.isascii() for value in query.values for w in value)
            else "1"
        )
        if self.sql == "1":
            self.sql_params = []
        self.fts_exact = (
            "{exact_keys} : ("
            + " OR ".join(_quote(key(column, value)) for value in query.values for key in (exact_key, legacy_exact_key))
            + ")"
        )

    def exact(self, text: str | None) -> bool:
        if text is None:
            return False
        words = tokenize(text)
        return any(words == value for value in self._exact)

    def matches(self, lowered: str) -> bool:
        return any(all(t.search(lowered) for t in tests) for tests in self._tests)

    def strength(self, text: str | None, may_be_exact: bool) -> int:
        """0, 1 or 2 (exact whole-field match), as reference.query_strength. Only rows found by
        `fts_exact` can be exact (`may_be_exact`), so others are never tokenized."""
        if text is None or not self.matches(text.lower()):
            return 0
        return 2 if may_be_exact and self.exact(text) else 1


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
        return f" AND ({col} IS NULL OR {col} {op} ? OR ({col} = ? AND q.name > ?))", [
            after.value,
            after.value,
            after.name,
        ]
    return f" AND ({col} IS NULL OR {col} {op}= ?)", [after.value]


def _order_value(plan: SearchPlan, value: Any) -> Any:
    return value if plan.order is not None else None


# -- the executor ----------------------------------------------------------------------------------


def sort_hits(plan: SearchPlan, hits: list[Hit]) -> None:
    """Sorts (key, seq) pairs in the plan's order (`plan.compare`), with native keys: stable
    passes from the last criterion to the first."""
    hits.sort(key=lambda h: (-h[0].score, h[0].name))
    if plan.order is not None:
        present = [h for h in hits if h[0].value is not None]
        missing = [h for h in hits if h[0].value is None]
        present.sort(key=lambda h: h[0].value, reverse=plan.order.descending)
        hits[:] = present + missing


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
        row[0]: record_from_row(*row[1:])
        for row in conn.execute(
            f"SELECT q.seq, {SELECT_RECORD} FROM quick_responses q JOIN knowledge_bases k ON k.seq = q.kb"
            " WHERE q.seq IN (SELECT value FROM json_each(?))",
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


def _fts_rowids(conn: sqlite3.Connection, expression: str, limit: int | None = None) -> list[int]:
    sql = "SELECT rowid FROM quick_responses_fts WHERE quick_responses_fts MATCH ?"
    if limit is None:
        return [r for (r,) in conn.execute(sql, (expression,))]
    return [r for (r,) in conn.execute(sql + " LIMIT ?", (expression, limit))]


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

    def __init__(self, conn: sqlite3.Connection, kb: int, plan: SearchPlan) -> None:
        self.conn, self.kb, self.plan = conn, kb, plan
        words = vocabulary(conn).lookup(conn) if any(q.values for q in plan.queries) else (None, False)
        self.matchers = [Matcher(q, conn, words) for q in plan.queries if q.values]
        self.cols = ["q.seq", "q.name", f"q.{plan.order.column}" if plan.order else "NULL"]
        self.cols.extend(dict.fromkeys(f"q.{m.column}" for m in self.matchers))
        index = {c: i for i, c in enumerate(self.cols)}
        self.text_at = [index[f"q.{m.column}"] for m in self.matchers]
        self.where, self.params = _filters_sql(plan)
        self.need = plan.limit + 1
        # Rows of the index (the vocabulary's count, or the highest rowid while it loads).
        rows = words[0].rows if words[0] is not None else 0
        if rows <= 0:
            rows = conn.execute("SELECT coalesce(max(seq), 0) FROM quick_responses").fetchone()[0]
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
                fetched = _fts_rowids(conn, m.fts, FETCH_LIMIT + 1)
                if len(fetched) <= min(sparse_limit, FETCH_LIMIT):
                    found = set(fetched)
                elif len(fetched) <= FETCH_LIMIT:
                    members = fetched
            self.sets.append(found)
            self.members.append(members)
            self.member_sets.append(set(members) if members is not None else None)
        self.exacts = [set(_fts_rowids(conn, m.fts_exact)) for m in self.matchers]
        self.dense = [i for i, found in enumerate(self.sets) if found is None]

    # Costs (us, measured at 1M rows) that choose between the paths:
    # reading and testing a table row in a walk (random pages); a match's name from the narrow
    # (seq, kb, name) index; stepping the name index with a membership test (no table read);
    # fetching one match from FTS5 and building SQLite's membership table from it.
    # A table row costs ~2 us when its page is cached and ten times that when not (at 1M rows
    # most of the table is not in SQLite's cache, and the OS evicts pages too): 8 is between.
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
            narrow = "" if self.plan.filters else " INDEXED BY quick_responses_seq_name"
            sql = (
                f"SELECT seq, name, score FROM (SELECT q.seq AS seq, q.name AS name, {score_sql} AS score"
                f" FROM quick_responses q{narrow} WHERE q.seq IN (SELECT value FROM json_each(?))"
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
        return self.conn.execute(
            "SELECT q.seq, q.name, NULL FROM quick_responses q INDEXED BY quick_responses_seq_name"
            " WHERE q.seq IN (SELECT value FROM json_each(?)) AND q.kb = ?",
            (orjson.dumps(sorted(seqs)), self.kb),
        ).fetchall()

    def _rows(self, seqs: set[int], cols: list[str]) -> list[tuple[Any, ...]]:
        # (seq, name) without filters or order: from the narrow (seq, kb, name) index.
        narrow = len(cols) == 3 and self.plan.order is None and not self.plan.filters
        sql = (
            f"SELECT {', '.join(cols)} FROM quick_responses q"
            f"{' INDEXED BY quick_responses_seq_name' if narrow else ''}"
            f" WHERE q.seq IN (SELECT value FROM json_each(?)) AND {self.where}"
        )
        return self.conn.execute(sql, (orjson.dumps(sorted(seqs)), self.kb, *self.params)).fetchall()

    def walk(self, matchers: list[Matcher], start_name: str | None = None) -> Iterator[tuple[Any, ...]]:
        """Filtered rows of the knowledge base in the plan's order that may match one of
        `matchers` (a cheap superset test in SQL: only those rows reach Python)."""
        start, start_params = ("", []) if start_name is None else (" AND q.name > ?", [start_name])
        if self.plan.order is not None:
            start, start_params = _keyset_sql(self.plan, exact=False)
        tests, params = [], []
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
            f"SELECT {', '.join(self.cols)} FROM quick_responses q WHERE {where} ORDER BY {_order_sql(self.plan)}",
            params,
        )
        # Row by row: SQLite scans until it has the rows asked for, and a walk that stops after a
        # few matches must not have made it find many more (a batch of 64 rows scanned ~3x the
        # rows a filtered page needed); the cursor's own step per row costs ~1 us.
        if not any(m.walk_only for m in matchers):
            yield from cur
            return
        # A fuzzy word without the vocabulary: its walk may have to test most rows in Python
        # (~40 s at 1M for a word that matches nothing). Past a budget, wait for the load and
        # search again with the vocabulary: never longer than the load itself.
        # A stop (the server shutting down) ends such a walk, so it cannot hold the shutdown.
        vocab = vocabulary(self.conn)
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
            top, scored = self._score_groups(known, unknown, special, hits)
            if top is None:
                sort_hits(self.plan, hits)
                return hits[: self.need]
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


def _search(conn: sqlite3.Connection, kb: int, plan: SearchPlan) -> list[Hit]:
    try:
        return _Search(conn, kb, plan).run()
    except _Retry:
        return _Search(conn, kb, plan).run()
