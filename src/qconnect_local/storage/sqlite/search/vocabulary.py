"""The SQLite store's in-memory search vocabulary: the index's words per column with document
counts, for prefixes, allowFuzziness and estimates (see Vocabulary)."""

from __future__ import annotations

import bisect
import logging
import os
import sqlite3
import threading
import time
from collections import Counter
from collections.abc import Iterable
from typing import Any

from qconnect_local.search.plan import fuzzy_distance
from qconnect_local.storage.sql.search_tables import QUICK_RESPONSES, SearchTable
from qconnect_local.storage.sqlite.rows import index_token

log = logging.getLogger("qconnect_local.search")


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

    Reading it from the index (fts5vocab decodes every doclist) takes seconds on a big
    knowledge base, so it is never read on a request's thread: the first search that finds no
    up-to-date `Words` starts a *loader* thread, which reads them on its own read connection
    (one snapshot) and installs them. Until then searches run without them (`lookup` answers
    stale or no words) on paths that need no vocabulary and give the same results, only slower:
    prefixes as FTS5 `"word" *`, fuzzy words tested in Python on walked rows (Matcher). Such a
    walk may have to test most rows (for a word that matches nothing), so after
    FALLBACK_BUDGET it waits for the load instead and searches again: a fuzzy search takes at
    most about as long as the load. `close` stops a loader promptly (its connection is
    interrupted).

    Writes add their words as they go (`add`, counting one document per row; kept in `_added`
    for a load in progress or to come, as they may commit after its snapshot was taken).

    Bulk inserts (imports) do not feed unloaded words word by word: that costs time and memory
    per row for counts a load reads from the index anyway. Instead every bulk insert writes a new random *index token*
    (rows.py) in its transaction. `Words.known` holds the tokens whose
    words they hold (the one they were loaded with, and those of bulk inserts that fed them on
    top of a known token: `feeds_bulk` / `add_bulk`); a search that sees any other token starts
    a reload in the background and meanwhile uses the words for estimates only. So words can
    never go missing, rolled-back or racing bulk inserts only cost a reload, and a server that has
    searched before keeps its vocabulary in step through imports cheaply."""

    RETRY_SECONDS = 5.0  # after a failed load, the next search starts another only after this

    def __init__(self, path: str = "", table: SearchTable = QUICK_RESPONSES) -> None:
        self.path = path
        self.table = table
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
        token = index_token(conn, self.table)
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
            f"CREATE VIRTUAL TABLE IF NOT EXISTS temp.{self.table.table}_vocab"
            f" USING fts5vocab(main, {self.table.fts}, 'col')"
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
            token = index_token(conn, self.table)  # the same snapshot as the words
            with self._lock:
                self._loading = token
            loaded: dict[str, Counter[str]] = {c: Counter() for c in self.table.text_columns}
            cur = conn.execute(f"SELECT term, col, doc FROM temp.{self.table.table}_vocab")
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
            rows = conn.execute(f"SELECT count(*) FROM {self.table.table}").fetchone()[0]
        finally:
            conn.execute("COMMIT")
        # fts5vocab lists terms in UTF-8 byte order, which is code point order: already sorted.
        ordered = {column: list(counts) for column, counts in loaded.items()}
        return Words(self._lock, loaded, ordered, rows, token)


_PENDING = object()
BACKGROUND_LOADS = True  # tests turn loads off to search without a vocabulary
LOAD_DELAY = float(os.environ.get("QCONNECT_TEST_VOCABULARY_DELAY") or 0)  # test hook (seconds)
LOAD_GATE: threading.Event | None = None  # test hook: loads wait until it is set

_VOCABULARIES: dict[tuple[str, str], Vocabulary] = {}
_VOCABULARIES_LOCK = threading.Lock()


def _path(conn: sqlite3.Connection) -> str:
    return conn.execute("PRAGMA database_list").fetchone()[2]


def vocabulary(conn: sqlite3.Connection, table: SearchTable = QUICK_RESPONSES) -> Vocabulary:
    """The vocabulary of a searchable table of this connection's database file (one per file
    and table per process)."""
    key = (_path(conn), table.table)
    with _VOCABULARIES_LOCK:
        found = _VOCABULARIES.get(key)
        if found is None:
            found = _VOCABULARIES[key] = Vocabulary(key[0], table)
    return found


def vocabulary_state(path: str) -> str:
    """ "loading", "ready" or "none" (no search has needed it yet), for the health report."""
    with _VOCABULARIES_LOCK:
        found = _VOCABULARIES.get((path, QUICK_RESPONSES.table))
    return found.state if found is not None else "none"


def close_vocabulary(path: str) -> None:
    """Forgets the vocabularies of a database file, stopping their loaders (the store is closing)."""
    with _VOCABULARIES_LOCK:
        found = [_VOCABULARIES.pop(key) for key in list(_VOCABULARIES) if key[0] == path]
    for one in found:
        one.close()
