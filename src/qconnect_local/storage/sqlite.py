"""The embedded SQLite store: one file in the data dir, WAL, foreign keys on.

Each thread gets its own connection (WAL lets readers run beside the one writer). Writers are
serialized by a process-wide lock taken before `BEGIN IMMEDIATE`, so a write session is a real
critical section: quota checks and inserts inside it cannot race.

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
import uuid
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from types import MappingProxyType

import orjson

from qconnect_local.storage.base import Record
from qconnect_local.storage.sqlite_import_jobs import ImportJobQueries
from qconnect_local.storage.sqlite_quick_responses import QuickResponseQueries
from qconnect_local.storage.sqlite_schema import MIGRATIONS

PAGE_SIZE = 8192  # bytes, for databases created from now on (see _connect)


def _bind_none_and_bytes_directly() -> None:
    """Registers identity adapters for None and bytes, unless the process has adapters of its own.

    The sqlite3 module binds int, float and str as they are, but first looks for an adapter for
    every other value, and for None and bytes that lookup fails through two attribute errors per
    parameter, with the GIL held: ~2 us a row of an import's multi-row INSERT (a third of its
    binding time, and time the import's checking thread waited for). An adapter that returns
    the value itself binds exactly as before (NULL, BLOB) and is found at once.

    The adapters are C functions (`bytes`, and `get` of an empty mapping, which gives None for
    None), not a Python `lambda v: v`: calling Python code runs the interpreter loop, which hands
    the GIL to a waiting thread, so an import's writer gave the GIL to its checking thread up to
    once per parameter while binding a 36,000-parameter INSERT, and waited to get it back each
    time (a 200,000-row insert with a busy checking thread: ~1.36 s of insert time instead of
    ~1.01 s)."""
    for kind, same in ((type(None), _NOTHING.get), (bytes, bytes)):
        if (kind, sqlite3.PrepareProtocol) not in sqlite3.adapters:
            sqlite3.register_adapter(kind, same)


_NOTHING: Mapping[object, object] = MappingProxyType({})


_bind_none_and_bytes_directly()


def _dumps(record: Record) -> bytes:
    return orjson.dumps(record)


def _loads(data: bytes | str) -> Record:
    return orjson.loads(data)


class SQLiteSession(QuickResponseQueries, ImportJobQueries):
    """All SQL of the operations, for one connection inside one transaction.

    The SQL of each concern lives in its own mixin module beside this one.
    """

    def __init__(self, conn: sqlite3.Connection) -> None:
        self.conn = conn

    # -- knowledge bases ---------------------------------------------------------------------

    def insert_knowledge_base(self, account: str, region: str, kb: Record) -> None:
        self.conn.execute(
            "INSERT INTO knowledge_bases (account_id, region, id, data) VALUES (?, ?, ?, ?)",
            (account, region, kb["knowledgeBaseId"], _dumps(kb)),
        )

    def get_knowledge_base(self, account: str, region: str, kb_id: str) -> Record | None:
        row = self.conn.execute(
            "SELECT data FROM knowledge_bases WHERE account_id = ? AND region = ? AND id = ?",
            (account, region, kb_id),
        ).fetchone()
        return _loads(row[0]) if row else None

    def knowledge_base_seq(self, account: str, region: str, kb_id: str) -> int | None:
        row = self.conn.execute(
            "SELECT seq FROM knowledge_bases WHERE account_id = ? AND region = ? AND id = ?",
            (account, region, kb_id),
        ).fetchone()
        return row[0] if row else None

    def update_knowledge_base(self, account: str, region: str, kb: Record) -> None:
        self.conn.execute(
            "UPDATE knowledge_bases SET data = ? WHERE account_id = ? AND region = ? AND id = ?",
            (_dumps(kb), account, region, kb["knowledgeBaseId"]),
        )

    def delete_knowledge_base(self, account: str, region: str, kb_id: str) -> bool:
        # Child tables reference knowledge_bases(seq) ON DELETE CASCADE.
        cur = self.conn.execute(
            "DELETE FROM knowledge_bases WHERE account_id = ? AND region = ? AND id = ?",
            (account, region, kb_id),
        )
        return cur.rowcount > 0

    def count_knowledge_bases(self, account: str, region: str) -> int:
        return self.conn.execute(
            "SELECT count(*) FROM knowledge_bases WHERE account_id = ? AND region = ?",
            (account, region),
        ).fetchone()[0]

    def list_knowledge_bases(self, account: str, region: str, after: int, limit: int) -> list[tuple[int, Record]]:
        rows = self.conn.execute(
            "SELECT seq, data FROM knowledge_bases WHERE account_id = ? AND region = ? AND seq > ?"
            " ORDER BY seq LIMIT ?",
            (account, region, after, limit),
        ).fetchall()
        return [(seq, _loads(data)) for seq, data in rows]

    # -- idempotency -------------------------------------------------------------------------

    def get_idempotency(
        self, account: str, region: str, operation: str, scope: str, token: str
    ) -> tuple[str, str] | None:
        row = self.conn.execute(
            "SELECT request_hash, resource_id FROM idempotency_tokens WHERE account_id = ?"
            " AND region = ? AND operation = ? AND scope = ? AND token = ?",
            (account, region, operation, scope, token),
        ).fetchone()
        return (row[0], row[1]) if row else None

    def put_idempotency(
        self,
        account: str,
        region: str,
        operation: str,
        scope: str,
        token: str,
        request_hash: str,
        resource_id: str,
        created: float,
    ) -> None:
        self.conn.execute(
            "INSERT INTO idempotency_tokens VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            (account, region, operation, scope, token, request_hash, resource_id, created),
        )


class SQLiteStore:
    kind = "sqlite"
    session_class = SQLiteSession

    def __init__(self, database: str) -> None:
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
            timeout=60.0,
        )
        # 8 KiB pages for a new database (an existing one keeps its own: this is a no-op once
        # it has a table): a million-row import took ~46.2 s instead of ~47.8 s (two runs each
        # of bench/import.py's rows through a server), with ~2 s less CPU. 16 KiB: ~47.8 s.
        conn.execute(f"PRAGMA page_size = {PAGE_SIZE}")
        if not self._uri:
            conn.execute("PRAGMA journal_mode = WAL")
        conn.execute("PRAGMA synchronous = NORMAL")
        conn.execute("PRAGMA foreign_keys = ON")
        conn.execute("PRAGMA cache_size = -65536")  # 64 MiB per connection
        with self._connections_lock:
            self._connections.append(conn)
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
                for statement in _split_sql(sql):
                    conn.execute(statement)
                conn.execute("INSERT INTO schema_migrations VALUES (?)", (version,))
                conn.execute("COMMIT")
            except BaseException:
                conn.execute("ROLLBACK")
                raise

    def migrations(self) -> list[tuple[int, str]]:
        return MIGRATIONS

    @contextmanager
    def read(self) -> Iterator[SQLiteSession]:
        conn = self.connection()
        # A deferred transaction gives the reader one consistent snapshot.
        conn.execute("BEGIN")
        try:
            yield self.session_class(conn)
        finally:
            conn.execute("COMMIT")

    @contextmanager
    def write(self) -> Iterator[SQLiteSession]:
        conn = self.connection()
        with self._write_lock:
            conn.execute("BEGIN IMMEDIATE")
            try:
                yield self.session_class(conn)
            except BaseException:
                conn.execute("ROLLBACK")
                raise
            conn.execute("COMMIT")

    def reset(self) -> None:
        """Wipes all state (keeps the schema)."""
        with self.write() as session:
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

    def search_vocabulary_state(self) -> str | None:
        """The in-memory search vocabulary: "loading", "ready" or "none" (search/sqlite.py)."""
        from qconnect_local.search.sqlite import vocabulary_state

        path = self._path()
        return vocabulary_state(path) if path is not None else None

    def stop_background_work(self) -> None:
        """Stops a search-vocabulary load in progress (it reads on its own connection), and so
        releases searches waiting for it: the server calls this before waiting for requests."""
        from qconnect_local.search.sqlite import close_vocabulary

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
