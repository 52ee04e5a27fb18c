"""The embedded SQLite store: one file in the data dir, WAL, foreign keys on.

Each thread gets its own connection (WAL lets readers run beside the one writer). Writers are
serialized by a process-wide lock taken before `BEGIN IMMEDIATE`, so a write session is a real
critical section: quota checks and inserts inside it cannot race. A write waits at most the
store's lock timeout for that lock and for SQLite's own (another process writing) together, then
raises "database is locked" before BEGIN: a write that gave up can never commit later.

`:memory:` keeps the database in a tmpfs file (/dev/shm) when there is one, so in-memory mode has
exactly the file mode's behaviour (WAL, several connections) with nothing written to disk; without
tmpfs it falls back to SQLite's `memdb` VFS.
"""

from __future__ import annotations

import os
import shutil
import sqlite3
import tempfile
import threading
import time
import uuid
from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from types import MappingProxyType
from typing import Any

from qconnect_local.storage.sql.assistants import AssistantQueries
from qconnect_local.storage.sql.content_associations import ContentAssociationQueries
from qconnect_local.storage.sql.content_tasks import ContentTaskQueries
from qconnect_local.storage.sql.contents import ContentQueries
from qconnect_local.storage.sql.idempotency import IdempotencyQueries
from qconnect_local.storage.sql.import_jobs import ImportJobQueries
from qconnect_local.storage.sql.routing_profiles import DirectoryQueries
from qconnect_local.storage.sql.schema import Migration
from qconnect_local.storage.sql.uploads import UploadQueries
from qconnect_local.storage.sqlite.content_search import SQLiteContentSearch
from qconnect_local.storage.sqlite.dialect import SQLITE
from qconnect_local.storage.sqlite.message_templates import MessageTemplateSearch
from qconnect_local.storage.sqlite.quick_responses import QuickResponseWrites
from qconnect_local.storage.sqlite.schema import MIGRATIONS
from qconnect_local.storage.sqlite.search.vocabulary import close_vocabulary, vocabulary_state

PAGE_SIZE = 8192  # bytes, for databases created from now on (see _connect)
# SQLite's busy timeout for a patient write (the import's transaction) waiting on another process.
PATIENT_BUSY_SECONDS = 60.0


def _bind_none_and_bytes_directly() -> None:
    """Registers identity adapters for None and bytes, unless the process has adapters of its own.

    The sqlite3 module looks for an adapter for every value that is not an int, float or str,
    and for None and bytes that lookup fails slowly with the GIL held; an adapter that returns
    the value itself binds exactly as before (NULL, BLOB) and is found at once. The adapters are
    C functions (`bytes`, and `get` of an empty mapping), not a Python `lambda v: v`: Python code
    would hand the GIL to the import's checking thread once per bound parameter."""
    for kind, same in ((type(None), _NOTHING.get), (bytes, bytes)):
        if (kind, sqlite3.PrepareProtocol) not in sqlite3.adapters:
            sqlite3.register_adapter(kind, same)  # type: ignore[arg-type]  # typeshed wants one type


_NOTHING: Mapping[object, object] = MappingProxyType({})


_bind_none_and_bytes_directly()


class SQLiteSession(
    QuickResponseWrites,
    IdempotencyQueries,
    UploadQueries,
    ImportJobQueries,
    DirectoryQueries,
    AssistantQueries,
    SQLiteContentSearch,  # before ContentQueries: its index_content_text wins
    ContentQueries,
    ContentTaskQueries,
    ContentAssociationQueries,
    MessageTemplateSearch,
):
    """All SQL of the operations, for one connection inside one transaction: the shared queries
    (storage/sql/) and this store's quick-response writes and search."""

    dialect = SQLITE

    def __init__(self, conn: sqlite3.Connection, writing: bool = False) -> None:
        super().__init__(conn, writing)

    def execute(self, sql: str, params: Sequence[Any] = ()) -> sqlite3.Cursor:
        # The shared queries are written in SQLite's spelling: no translation.
        return self.conn.execute(sql, params)

    def executemany(self, sql: str, rows: Iterable[Sequence[Any]]) -> None:
        self.conn.executemany(sql, rows)


class SQLiteStore:
    kind = "sqlite"
    session_class = SQLiteSession
    # Reads are local and short: the server runs them on its event loop.
    reads_on_event_loop = True

    def __init__(self, database: str, lock_timeout: float = 10.0) -> None:
        self.lock_timeout = lock_timeout
        self._tmpdir: str | None = None
        if database == ":memory:":
            database = self._memory_database()
        self.database = database
        self._uri = database.startswith("file:")
        self._local = threading.local()
        self._connections: list[sqlite3.Connection] = []
        self._connections_lock = threading.Lock()
        self._write_lock = threading.Lock()
        # Keep one connection open for the store's life: a memdb database lives only while
        # some connection holds it.
        self._anchor = self._connect()
        self._migrate(self._anchor)

    def _memory_database(self) -> str:
        shm = "/dev/shm"
        if os.path.isdir(shm) and os.access(shm, os.W_OK):
            self._tmpdir = tempfile.mkdtemp(prefix="qconnect-local-", dir=shm)
            return os.path.join(self._tmpdir, "state.sqlite3")
        return f"file:/qconnect-local-{uuid.uuid4()}?vfs=memdb"

    def _connect(self) -> sqlite3.Connection:
        conn = sqlite3.connect(
            self.database,
            uri=self._uri,
            isolation_level=None,
            check_same_thread=False,
            timeout=self.lock_timeout,
        )
        # 8 KiB pages for a new database (an existing one keeps its own): big imports are faster.
        conn.execute(f"PRAGMA page_size = {PAGE_SIZE}")
        if not self._uri:
            conn.execute("PRAGMA journal_mode = WAL")
        conn.execute("PRAGMA synchronous = NORMAL")
        conn.execute("PRAGMA foreign_keys = ON")
        conn.execute("PRAGMA cache_size = -65536")  # 64 MiB per connection
        with self._connections_lock:
            self._connections.append(conn)
        self._local.busy = self.lock_timeout
        return conn

    def connection(self) -> sqlite3.Connection:
        conn = getattr(self._local, "conn", None)
        if conn is None:
            conn = self._local.conn = self._connect()
        return conn

    def _migrate(self, conn: sqlite3.Connection) -> None:
        conn.execute("CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY)")
        done = {v for (v,) in conn.execute("SELECT version FROM schema_migrations")}
        for version, sql in self.migrations():
            if version in done:
                continue
            conn.execute("BEGIN IMMEDIATE")
            try:
                if callable(sql):  # a step that needs Python (filling new columns in)
                    sql(conn)
                else:
                    for statement in _split_sql(sql):
                        conn.execute(statement)
                conn.execute("INSERT INTO schema_migrations VALUES (?)", (version,))
                conn.execute("COMMIT")
            except BaseException:
                conn.execute("ROLLBACK")
                raise

    def migrations(self) -> list[tuple[int, Migration]]:
        return MIGRATIONS

    @contextmanager
    def read(self) -> Iterator[SQLiteSession]:
        conn = self.connection()
        # A deferred transaction gives the reader one consistent snapshot.
        conn.execute("BEGIN")
        try:
            yield self.session_class(conn, writing=False)
        finally:
            conn.execute("COMMIT")

    def read_one(self) -> SQLiteSession:
        # One statement is its own snapshot in WAL: BEGIN and COMMIT would be two more statements.
        # The session is its own context manager (nothing to end): no generator per call.
        return self.session_class(self.connection(), writing=False)

    @contextmanager
    def write(self, patient: bool = False, stall_limit: float | None = None) -> Iterator[SQLiteSession]:
        # stall_limit: nothing can end a stopped process's transaction here (no server); API
        # writes behind it get 408 after the lock timeout.
        conn = self.connection()
        busy = self._take_write_lock(patient)
        try:
            if busy != self._local.busy:  # what is left of the bound, for another process's lock
                conn.execute(f"PRAGMA busy_timeout = {int(busy * 1000)}")
                self._local.busy = busy
            conn.execute("BEGIN IMMEDIATE")
            try:
                yield self.session_class(conn, writing=True)
            except BaseException:
                conn.execute("ROLLBACK")
                raise
            conn.execute("COMMIT")
        finally:
            self._write_lock.release()

    def _take_write_lock(self, patient: bool) -> float:
        """Takes the process-wide write lock; the busy timeout left for SQLite's own lock."""
        if patient:
            self._write_lock.acquire()
            return PATIENT_BUSY_SECONDS
        if self._write_lock.acquire(blocking=False):
            return self.lock_timeout
        started = time.monotonic()
        if not self._write_lock.acquire(timeout=self.lock_timeout):
            raise sqlite3.OperationalError(
                f"database is locked: another write held the store's write lock for {self.lock_timeout:g} s"
            )
        return max(self.lock_timeout - (time.monotonic() - started), 0.001)

    def reset(self) -> None:
        """Wipes all state (keeps the schema); waits for a running import rather than fail."""
        with self.write(patient=True) as session:
            conn = session.conn
            master = conn.execute(
                "SELECT name, sql FROM sqlite_master WHERE type = 'table'"
                " AND name NOT LIKE 'sqlite_%' AND name != 'schema_migrations'"
            ).fetchall()
            virtual = [n for n, sql in master if sql.upper().startswith("CREATE VIRTUAL TABLE")]
            shadow = tuple(f"{v}_" for v in virtual)
            conn.execute("PRAGMA defer_foreign_keys = ON")
            for name, _ in master:
                if name not in virtual and not name.startswith(shadow):
                    conn.execute(f'DELETE FROM "{name}"')
            for name in virtual:
                try:  # external-content and contentless FTS5 tables
                    conn.execute(f'INSERT INTO "{name}"("{name}") VALUES (\'delete-all\')')
                except sqlite3.OperationalError:  # FTS5 tables with their own content
                    conn.execute(f'DELETE FROM "{name}"')

    def ping(self) -> bool:
        try:
            self.connection().execute("SELECT 1").fetchone()
            return True
        except sqlite3.Error:
            return False

    def _path(self) -> str | None:
        try:
            return self._anchor.execute("PRAGMA database_list").fetchone()[2]
        except sqlite3.Error:
            return None

    def shared_secret(self, name: str, size: int = 32) -> bytes | None:
        """None: one process uses an SQLite database, so a per-process key serves."""
        return None

    def search_vocabulary_state(self) -> str | None:
        """The in-memory search vocabulary: "loading", "ready" or "none" (search/vocabulary.py)."""
        path = self._path()
        return vocabulary_state(path) if path is not None else None

    def scratch_directory(self) -> str | None:
        """The tmpfs directory of an in-memory database (None for a file or memdb database)."""
        return self._tmpdir

    def stop_background_work(self) -> None:
        """Stops a search-vocabulary load in progress (it reads on its own connection), and so
        releases searches waiting for it: the server calls this before waiting for requests."""
        path = self._path()
        if path is not None:
            close_vocabulary(path)

    def close(self) -> None:
        self.stop_background_work()
        with self._connections_lock:
            for conn in self._connections:
                try:
                    conn.close()
                except sqlite3.Error:
                    pass
            self._connections.clear()
        if self._tmpdir:
            shutil.rmtree(self._tmpdir, ignore_errors=True)


def _split_sql(sql: str) -> list[str]:
    """Splits a migration into statements (sqlite3's execute takes one at a time)."""
    statements, buf = [], ""
    for line in sql.splitlines(keepends=True):
        buf += line
        if sqlite3.complete_statement(buf):
            if buf.strip():
                statements.append(buf.strip())
            buf = ""
    if buf.strip():
        statements.append(buf.strip())
    return statements
