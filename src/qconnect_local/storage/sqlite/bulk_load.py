"""The SQLite store's bulk loader: an import's rows into one knowledge base, in one transaction."""

from __future__ import annotations

import functools
import itertools
import os
import sqlite3
import uuid
from collections import Counter
from collections.abc import Iterable, Iterator
from typing import Any

from qconnect_local.errors import ConflictException
from qconnect_local.storage.quick_response_records import Record
from qconnect_local.storage.sql.search_order import order_indexes
from qconnect_local.storage.sqlite.rows import (
    COLUMNS,
    FTS_COLUMNS,
    INSERT,
    build_row,
    conflict,
    count_words,
    index_token,
    set_index_token,
)
from qconnect_local.storage.sqlite.search.vocabulary import Vocabulary

# KiB: 96 MiB of page cache while a bulk insert runs (more counts against the import's memory budget).
BULK_CACHE_SIZE = -98304

ROWS_PER_STATEMENT = 2000


@functools.lru_cache(maxsize=8)
def _multi_insert(rows: int) -> str:
    one = "(" + ", ".join("?" * len(COLUMNS)) + ")"
    return f"INSERT INTO quick_responses ({', '.join(COLUMNS)}) VALUES " + ", ".join([one] * rows)


def _chunks(rows: Iterable[Any], size: int) -> Iterator[list[Any]]:
    chunk: list[Any] = []
    for row in rows:
        chunk.append(row)
        if len(chunk) >= size:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


# The indexes a big bulk load drops and creates again when it finishes (see BulkLoader); the
# same definitions as migrations 100's and 103's.
_REBUILT_INDEXES = {
    "quick_responses_name": "CREATE UNIQUE INDEX quick_responses_name ON quick_responses (kb, name)",
    "quick_responses_shortcut": (
        "CREATE UNIQUE INDEX quick_responses_shortcut ON quick_responses (kb, shortcut_key)"
        " WHERE shortcut_key IS NOT NULL"
    ),
    "quick_responses_seq_name": "CREATE INDEX quick_responses_seq_name ON quick_responses (seq, kb, name)",
    **order_indexes(),
}
# Rows from which a load is big (see BulkLoader): loaded so far, or expected from the file's
# size. The environment variable is a tuning knob (and lets the crash test reach that path with
# a small file).
BIG_LOAD_ROWS = int(os.environ.get("QCONNECT_LOCAL_BIG_LOAD_ROWS") or 300_000)
FTS_BATCH_ROWS = 10_000  # rows added to the search index by one statement (see BulkLoader)
# FTS5's merge settings while a big bulk load runs, and FTS5's defaults, which `finish` puts
# back (see BulkLoader).
BULK_AUTOMERGE, DEFAULT_AUTOMERGE = 16, 4
MERGE_PAGES = 10_000_000  # "merge until nothing is left to merge" for the 'merge' command


class BulkLoader:
    """One bulk load of checked quick responses into a knowledge base, in the session's write
    transaction: `build` rows (pure Python: the import does it on its checking thread), `add`
    them batch by batch, then `finish`. Use it as a context manager (`with`), which puts the
    connection's page cache back however the load ends.

    - Rows go in as multi-row INSERT statements, not executemany: one statement runs all its
      SQLite work with the GIL released, so the checking thread is not starved.
    - Search-index entries are added by one INSERT…SELECT per FTS_BATCH_ROWS rows: FTS5 writes
      a segment per statement, and fewer, bigger segments cost less to merge.
    - A big load (BIG_LOAD_ROWS rows loaded, or expected from the start: `expected_rows`, and at
      least as many as the table held when it began) drops the table's secondary indexes
      (_REBUILT_INDEXES) and lets FTS5 merge less often (BULK_AUTOMERGE); `finish` creates the
      indexes again with one sort each and merges what is left. Uniqueness is not given up: the
      import checked every name and shortcut key already, and CREATE UNIQUE INDEX checks again
      (a duplicate raises ConflictException and the transaction rolls back). A smaller load
      keeps its indexes: its checking thread is the slower side, so the writer has time to spare.
    (docs/performance-storage-notes.md has the measurements behind these choices.)
    """

    def __init__(self, conn: sqlite3.Connection, kb: int, vocabulary: Vocabulary, expected_rows: int = 0) -> None:
        self.conn, self.kb, self.vocabulary = conn, kb, vocabulary
        self.added = 0
        self.expected_rows = expected_rows  # a guess (the file's size), or 0
        self.big = False  # see the class's docstring; a big load has dropped _REBUILT_INDEXES
        self.last_seq = conn.execute("SELECT coalesce(max(seq), 0) FROM quick_responses").fetchone()[0]
        self.indexed_seq = self.last_seq  # rows up to here are in the search index
        self.table_rows = self.last_seq  # an upper bound (seq only grows), cheap to read
        self.previous_token = index_token(conn)
        self.docs: dict[str, Counter[str]] | None = None
        if vocabulary.feeds_bulk(self.previous_token):
            self.docs = {column: Counter() for column in FTS_COLUMNS}
        variables = conn.getlimit(sqlite3.SQLITE_LIMIT_VARIABLE_NUMBER)
        self.rows_per_statement = max(1, min(ROWS_PER_STATEMENT, variables // len(COLUMNS)))
        # A bigger page cache for the duration: the unique indexes take random inserts.
        (self.cache_size,) = conn.execute("PRAGMA cache_size").fetchone()
        conn.execute(f"PRAGMA cache_size = {BULK_CACHE_SIZE}")

    def __enter__(self) -> BulkLoader:
        return self

    def __exit__(self, *exc: Any) -> None:
        self.conn.execute(f"PRAGMA cache_size = {int(self.cache_size)}")

    def build(self, record: Record) -> tuple[Any, ...]:
        """The row of a checked record. Touches no connection."""
        return build_row(self.kb, record)

    def add(self, rows: list[tuple[Any, ...]]) -> int:
        """Inserts built rows and their search-index entries; returns how many."""
        if not rows:
            return 0
        if not self.big and max(self.added, self.expected_rows) >= max(BIG_LOAD_ROWS, self.table_rows):
            self._go_big()
        for chunk in _chunks(rows, self.rows_per_statement):
            if self.docs is not None:
                for row in chunk:
                    count_words(self.docs, row)
            self.last_seq = self._insert_chunk(chunk)
        self.added += len(rows)
        if self.last_seq - self.indexed_seq >= FTS_BATCH_ROWS:
            self._index_rows()
        return len(rows)

    def idle(self) -> None:
        """Called while the import waits for its next batch: in a load that is not big, adds the
        rows inserted so far to the search index now rather than with later ones (otherwise the
        last up to FTS_BATCH_ROWS rows are indexed after the last batch came, when nothing
        overlaps the work). Not in a big load: smaller index statements make more segments to
        merge, and a big load's writer seldom waits."""
        if not self.big:
            self._index_rows()

    def finish(self) -> int:
        """Indexes the last rows, creates the dropped indexes again, records the new index state;
        returns the rows added."""
        self._index_rows()
        if self.big:
            _set_fts_option(self.conn, "automerge", DEFAULT_AUTOMERGE)
            _set_fts_option(self.conn, "merge", MERGE_PAGES)
            # The sorts may use a second core: the import's checking thread is done by now.
            self.conn.execute("PRAGMA threads = 2")
            try:
                for name, create in _REBUILT_INDEXES.items():
                    try:
                        self.conn.execute(create)
                    except sqlite3.IntegrityError:
                        raise self._duplicate(name) from None
            finally:
                self.conn.execute("PRAGMA threads = 0")
        token = uuid.uuid4().hex
        set_index_token(self.conn, token)
        if self.docs is not None:
            self.vocabulary.add_bulk(self.previous_token, token, self.docs, self.added)
        return self.added

    def _index_rows(self) -> None:
        """Adds the rows inserted since the last call to the search index."""
        if self.last_seq > self.indexed_seq:
            self.conn.execute(
                "INSERT INTO quick_responses_fts (rowid, name, shortcut_key, description, content, exact_keys)"
                " SELECT seq, name, shortcut_key, description, content, exact_keys FROM quick_responses"
                " WHERE seq > ?",
                (self.indexed_seq,),
            )
            self.indexed_seq = self.last_seq

    def _go_big(self) -> None:
        """From here on the load works as a big one (see the class's docstring)."""
        self.big = True
        # In the transaction: if the load fails, the rollback puts the setting back too.
        _set_fts_option(self.conn, "automerge", BULK_AUTOMERGE)
        for name in _REBUILT_INDEXES:
            self.conn.execute(f"DROP INDEX {name}")

    def _duplicate(self, index: str) -> ConflictException:
        column, member = ("name", "name") if index == "quick_responses_name" else ("shortcut_key", "shortcutKey")
        (value,) = self.conn.execute(
            f"SELECT {column} FROM quick_responses WHERE {column} IS NOT NULL"
            f" GROUP BY kb, {column} HAVING count(*) > 1 LIMIT 1"
        ).fetchone()
        return ConflictException(f"A quick response with the {member} '{value}' already exists in this knowledge base")

    def _insert_chunk(self, chunk: list[tuple[Any, ...]]) -> int:
        """Inserts rows with one statement; returns the last row's seq."""
        try:
            cur = self.conn.execute(_multi_insert(len(chunk)), list(itertools.chain.from_iterable(chunk)))
            return int(cur.lastrowid or 0)  # an INSERT always sets it
        except sqlite3.IntegrityError:
            # The statement left nothing behind: find the row at fault, for the message.
            for row in chunk:
                try:
                    self.conn.execute("SAVEPOINT qr_row")
                    self.conn.execute(INSERT, row)
                except sqlite3.IntegrityError as exc:
                    self.conn.execute("ROLLBACK TO qr_row")
                    raise conflict(exc, {"quickResponseId": row[1], "name": row[2], "shortcutKey": row[3]}) from None
                finally:
                    self.conn.execute("RELEASE qr_row")
            raise


def _set_fts_option(conn: sqlite3.Connection, option: str, value: int) -> None:
    """Sets one of FTS5's options of the search index (stored in its config table), or runs
    one of its commands that take a number ('merge')."""
    conn.execute("INSERT INTO quick_responses_fts (quick_responses_fts, rank) VALUES (?, ?)", (option, value))
