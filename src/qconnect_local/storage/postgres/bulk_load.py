"""The PostgreSQL store's bulk loader (COPY) and the thread that adds its fuzzy-search words."""

from __future__ import annotations

import logging
import queue
import threading
from collections.abc import Callable, Iterable
from contextlib import AbstractContextManager
from typing import Any

import psycopg
import psycopg.errors

from qconnect_local.storage.postgres.rows import ADD_WORDS, COLUMNS, bulk_conflict, fuzzy_words, row_and_words
from qconnect_local.storage.quick_response_records import Record

# For the load's transaction (SET LOCAL): a bigger GIN pending list, so common words are merged
# into the index less often. Readers scan the pending list, so a big load empties it at its end
# (CLEAN_AFTER rows).
_LOAD_SETTINGS = ("SET LOCAL gin_pending_list_limit = '16MB'", "SET LOCAL work_mem = '64MB'")
CLEAN_AFTER = 20_000
# Rows staged (COPY into a temporary table without indexes) before they go into the table with
# one INSERT…SELECT sorted by name (see BulkLoader).
STAGE_ROWS = 100_000
_STAGE = "qr_load_rows"
_COLUMN_LIST = ", ".join(COLUMNS)
_STAGE_COPY = f"COPY {_STAGE} ({_COLUMN_LIST}) FROM STDIN"
_FLUSH = f"INSERT INTO quick_responses ({_COLUMN_LIST}) SELECT {_COLUMN_LIST} FROM {_STAGE} ORDER BY name"
KNOWN_WORDS_CAP = 200_000  # words a loader remembers having sent (then it forgets them all)
log = logging.getLogger("qconnect_local.postgres")


class WordsWriter(threading.Thread):
    """Adds a bulk load's new fuzzy-search words to `quick_response_words` on a connection of
    its own, one committed statement per batch, while the load's transaction runs (so they do
    not pile up at the end of it). The table only has to hold a superset of the indexed words,
    so words of a load that then fails do no harm; each statement commits at once (sorted, so
    that two loads adding the same words cannot deadlock). If this connection fails, the words
    it had not added are handed back (`leftover`) and the loader adds them in its own
    transaction."""

    def __init__(self, connection: Callable[[], AbstractContextManager[psycopg.Connection]]) -> None:
        super().__init__(name="qconnect-import-words", daemon=True)
        self.connection = connection
        self.queue: queue.Queue[list[str] | None] = queue.Queue(maxsize=8)
        self.leftover: list[list[str]] = []
        self.failed = threading.Event()

    def put(self, words: list[str]) -> bool:
        """Queues words; False once the writer has failed (the caller keeps them)."""
        if self.failed.is_set():
            return False
        self.queue.put(words)
        return True

    def close(self) -> list[list[str]]:
        """Waits until every queued word is added; returns those that could not be."""
        self.queue.put(None)
        self.join()
        return self.leftover

    def run(self) -> None:
        words: list[str] | None = []  # [] until the first batch is taken; None once close() was
        try:
            with self.connection() as conn:
                while (words := self.queue.get()) is not None:
                    with conn.transaction():
                        # Never wait long behind another transaction's new words: the load's
                        # own transaction waits for this thread at its end, out of the
                        # server's sight. (LOCAL: nothing stays set on the pooled connection.)
                        conn.execute("SET LOCAL lock_timeout = '10s'")
                        conn.execute(ADD_WORDS, (words,))
        except Exception as exc:  # the database went away, the pool is exhausted, a lock timeout
            log.warning("fuzzy-search words go in with the import instead: %s", exc)
            self.failed.set()
            while words is not None:  # keep taking batches until close(), so put() never blocks
                if words:
                    self.leftover.append(words)
                words = self.queue.get()


class BulkLoader:
    """One bulk load of checked quick responses into a knowledge base, in the session's write
    transaction: `build` rows (pure Python: the import does it on its checking thread), `add`
    them batch by batch (one COPY each), then `finish`.

    - `build` makes the rows' columns, tsvectors and slim `data`, so the writer only streams COPY.
    - Rows are COPied into a temporary table without indexes (not WAL-logged) and go into the
      table STAGE_ROWS at a time, by one INSERT…SELECT sorted by name: the table's sixteen
      indexes then take each batch in one statement, the name-ordered ones in order, instead of
      2,000-row COPYs scattered over them (a third less database CPU, half the wall time
      at 300,000 rows, docs/performance.md).
    - Fuzzy-search words go to the WordsWriter (or, if it failed, to a temporary table added in
      one sorted INSERT at the end), each word once per load: adding them batch by batch held
      new words' index entries for the whole import.
    - The GIN index is most of the database work: it holds only the words (exact whole-field
      lexemes are in `exact_words`), with a bigger pending list for the load (_LOAD_SETTINGS).
      Indexes are never dropped: that takes an ACCESS EXCLUSIVE lock, and every reader of the
      table would wait for the whole import.
    - Uniqueness stays with the unique indexes: a clash raises ConflictException naming the
      value (from the error's detail) and the caller's transaction rolls back.
    (docs/performance-storage-notes.md has the measurements behind these choices.)
    """

    def __init__(
        self,
        conn: psycopg.Connection,
        kb: int,
        side_connection: Callable[[], AbstractContextManager[psycopg.Connection]] | None,
        expected_rows: int = 0,
    ) -> None:
        self.conn, self.kb = conn, kb
        self.small = expected_rows < STAGE_ROWS  # a guess (the file's size): see `idle`
        self.added = 0
        self.staged = 0
        self.last: tuple[Any, ...] = ()  # the last row staged (for a conflict's message)
        self.known: set[str] = set()
        self.words_table = False
        self.words_writer: WordsWriter | None = None
        if side_connection is not None:
            self.words_writer = WordsWriter(side_connection)
            self.words_writer.start()
        for setting in _LOAD_SETTINGS:
            self.conn.execute(setting)
        self.conn.execute(
            f"CREATE TEMP TABLE IF NOT EXISTS {_STAGE} ON COMMIT DROP AS SELECT {_COLUMN_LIST} FROM quick_responses LIMIT 0"
        )

    def __enter__(self) -> BulkLoader:
        return self

    def __exit__(self, *exc: Any) -> None:
        if self.words_writer is not None:  # the load failed before `finish`
            self.words_writer.close()
            self.words_writer = None

    def idle(self) -> None:
        """While the import waits for rows, a small load moves its staged rows into the table
        now, beside the checking, rather than all after the last batch; a big one keeps them for
        a bigger sorted INSERT (its checker seldom makes it wait long)."""
        if self.small:
            self._flush()

    def build(self, record: Record) -> tuple[tuple[Any, ...], set[str]]:
        """The COPY row of a checked record and its words. Touches no connection."""
        return row_and_words(self.kb, record)

    def add(self, rows: list[tuple[tuple[Any, ...], set[str]]]) -> int:
        if not rows:
            return 0
        words: set[str] = set()
        with self.conn.cursor() as cur, cur.copy(_STAGE_COPY) as copy:
            write_row = copy.write_row
            for row, found in rows:
                write_row(row)
                words |= found
        self.last = rows[-1][0]
        self.staged += len(rows)
        if self.staged >= STAGE_ROWS:
            self._flush()
        words -= self.known
        if len(self.known) > KNOWN_WORDS_CAP:
            self.known.clear()
        self.known |= words
        self._stage_words(words)
        self.added += len(rows)
        return len(rows)

    def _flush(self) -> None:
        """Moves the staged rows into the table (a unique index's clash: ConflictException)."""
        if not self.staged:
            return
        try:
            with self.conn.transaction():  # a savepoint: a clash leaves the stage as it was
                self.conn.execute(_FLUSH)
        except psycopg.errors.UniqueViolation as exc:
            raise bulk_conflict(exc, self.kb, self.last) from None
        self.conn.execute(f"TRUNCATE {_STAGE}")
        self.staged = 0

    def _clean_search_index(self) -> None:
        """Moves the search index's pending list into the index proper (see _LOAD_SETTINGS)."""
        try:
            with self.conn.transaction():  # a savepoint: not owning the index is not fatal
                self.conn.execute("SELECT gin_clean_pending_list('quick_responses_search')")
        except psycopg.errors.InsufficientPrivilege:
            pass

    def _stage_words(self, words: Iterable[str]) -> None:
        """Hands new words to the words writer, or else to a temporary table that `finish`
        adds in this transaction."""
        kept = fuzzy_words(words)
        if not kept or (self.words_writer is not None and self.words_writer.put(kept)):
            return
        if not self.words_table:
            self.conn.execute('CREATE TEMP TABLE IF NOT EXISTS qr_load_words (word TEXT COLLATE "C") ON COMMIT DROP')
            self.words_table = True
        with self.conn.cursor() as cur, cur.copy("COPY qr_load_words (word) FROM STDIN") as copy:
            for w in kept:
                copy.write_row((w,))

    def finish(self) -> int:
        self._flush()
        if self.added >= CLEAN_AFTER:
            self._clean_search_index()
        if self.words_writer is not None:
            writer, self.words_writer = self.words_writer, None
            for words in writer.close():
                self._stage_words(words)
        if self.words_table:
            self.conn.execute(
                "INSERT INTO quick_response_words (word) SELECT DISTINCT word FROM qr_load_words"
                " ORDER BY word ON CONFLICT DO NOTHING"
            )
            self.conn.execute("DROP TABLE qr_load_words")
            self.words_table = False
        return self.added
