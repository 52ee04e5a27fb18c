"""The PostgreSQL store: the same session interface as the SQLite store, for several servers
and workers sharing one database.

Connections come from a psycopg 3 pool and run in autocommit mode; a session decides its own
transaction:

- A read session runs each statement on its own (READ COMMITTED): most reads are one
  statement, and skipping BEGIN/COMMIT saves two round trips per API call.
- A write session is one transaction (READ COMMITTED). The SQLite store serializes all writers
  with one lock; here that would make every server and worker wait on one another, so a write
  session takes only the locks its own work needs, when it first touches a thing:
    * reading a knowledge base locks its row (`FOR NO KEY UPDATE`): everything that writes inside
      one knowledge base (quick responses, names, shortcut keys, per-KB quotas, import jobs) is
      serialized per knowledge base, and a delete of the knowledge base waits for them;
    * counting knowledge bases (the quota check before a create) takes an advisory lock on the
      account and region;
    * looking up a clientToken takes an advisory lock on that token, so two requests with one
      token cannot both miss and both create.
  The UNIQUE constraints stay as the last word; a unique violation that gets past the locks
  turns into a ConflictException rather than an internal error.
- Every connection has `lock_timeout` set to the store's lock timeout, so an API write waiting
  for any of those locks (an import holds its knowledge base's row) gives up with 55P03 and rolls
  back; a patient write (the import's own transaction) lifts it with `SET LOCAL lock_timeout = 0`.
- The import's transaction has `idle_in_transaction_session_timeout` (its stall limit, the
  lease): a worker stopped with SIGSTOP has its session ended by the server, which releases its
  locks, so another worker can take the job over; and it is named for its runner, so the runner
  taking the job over can end it at once, even mid-COPY (import_sessions.py).

Migrations run at start-up under a session-level advisory lock, so servers that start at once
apply each step exactly once.
"""

from __future__ import annotations

import logging
import os
import secrets
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import AbstractContextManager, contextmanager, suppress
from functools import partial
from typing import Any

import orjson
import psycopg
import psycopg.errors
from psycopg.types.json import set_json_dumps, set_json_loads
from psycopg_pool import ConnectionPool, PoolTimeout

from qconnect_local.errors import ConflictException
from qconnect_local.storage.postgres.content_search import (
    CONTENT_SEARCH_STEP,
    PostgresContentSearch,
    index_unindexed_contents,
)
from qconnect_local.storage.postgres.dialect import POSTGRES
from qconnect_local.storage.postgres.import_sessions import ImportSessionTags
from qconnect_local.storage.postgres.message_templates import MessageTemplateSearch
from qconnect_local.storage.postgres.quick_responses import QuickResponseWrites
from qconnect_local.storage.postgres.schema import MIGRATIONS
from qconnect_local.storage.sql.assistants import AssistantQueries
from qconnect_local.storage.sql.content_associations import ContentAssociationQueries
from qconnect_local.storage.sql.content_tasks import ContentTaskQueries
from qconnect_local.storage.sql.contents import ContentQueries
from qconnect_local.storage.sql.idempotency import IdempotencyQueries
from qconnect_local.storage.sql.import_jobs import ImportJobQueries
from qconnect_local.storage.sql.routing_profiles import DirectoryQueries
from qconnect_local.storage.sql.schema import Migration
from qconnect_local.storage.sql.uploads import UploadQueries

log = logging.getLogger("qconnect_local.postgres")

# The advisory lock that serializes schema migrations across processes (an arbitrary constant).
MIGRATION_LOCK_KEY = 0x71C0_4E01
# Tables that `reset` keeps: the schema's own bookkeeping and deployment-wide settings.
_KEPT_ON_RESET = ("schema_migrations", "shared_settings")


def _configure(conn: psycopg.Connection, lock_timeout: float) -> None:
    # orjson for every json/jsonb value on this connection (faster than the json module).
    set_json_loads(orjson.loads, conn)
    set_json_dumps(orjson.dumps, conn)
    # Set once per connection rather than per write transaction: no extra round trip per call.
    conn.execute(f"SET lock_timeout = {max(1, int(lock_timeout * 1000))}")


class PostgresSession(
    ImportSessionTags,  # before ImportJobQueries: its tag_import_session wins
    QuickResponseWrites,
    IdempotencyQueries,
    UploadQueries,
    ImportJobQueries,
    DirectoryQueries,
    AssistantQueries,
    PostgresContentSearch,  # before ContentQueries: its index_content_text wins
    ContentQueries,
    ContentTaskQueries,
    ContentAssociationQueries,
    MessageTemplateSearch,
):
    """All SQL of the operations, for one pooled connection; one transaction when writing: the
    shared queries (storage/sql/) and this store's quick-response writes and search."""

    dialect = POSTGRES

    def __init__(
        self,
        conn: psycopg.Connection,
        writing: bool,
        side_connection: Callable[[], AbstractContextManager[psycopg.Connection]] | None = None,
    ) -> None:
        super().__init__(conn, writing)
        self.side_connection = side_connection
        self._held: set[str] = set()

    def executemany(self, sql: str, rows: Iterable[Sequence[Any]]) -> None:
        self.conn.cursor().executemany(self.dialect.sql(sql), rows)

    def lock(self, *key: str) -> None:
        """A transaction-scoped advisory lock on a logical key (a no-op when reading).

        Held until the write session ends; taking it twice costs nothing.
        """
        if not self.writing:
            return
        name = "\x1f".join(key)
        if name in self._held:
            return
        self.conn.execute("SELECT pg_advisory_xact_lock(hashtextextended(%s, 0))", (name,))
        self._held.add(name)


class PostgresStore:
    kind = "postgresql"
    session_class = PostgresSession
    # Every read waits on the network: the server runs them in its threads, not on the event loop.
    reads_on_event_loop = False

    def __init__(
        self, url: str, pool_size: int = 10, connect_timeout: float | None = None, lock_timeout: float = 10.0
    ) -> None:
        self.url = url
        self.lock_timeout = lock_timeout
        if connect_timeout is None:
            # How long start-up waits for the database (a team's servers may start before it).
            connect_timeout = float(os.environ.get("QCONNECT_LOCAL_DB_CONNECT_TIMEOUT", "15"))
        self.pool = ConnectionPool(
            url,
            min_size=1,
            max_size=pool_size,
            kwargs={"autocommit": True},
            configure=lambda conn: _configure(conn, lock_timeout),
            name="qconnect-local",
            # A call waits this long for a connection; only an unreachable database makes it wait.
            timeout=5.0,
            open=False,
        )
        self.pool.open()
        try:
            self.pool.wait(timeout=connect_timeout)
            self._migrate()
        except PoolTimeout:
            self.pool.close()
            raise ConnectionError(f"cannot connect to PostgreSQL at {redact(url)}") from None
        except BaseException:
            self.pool.close()
            raise

    def migrations(self) -> list[tuple[int, Migration]]:
        return MIGRATIONS

    def _migrate(self) -> None:
        with self.pool.connection() as conn:
            # Another server may be migrating a big table: wait for it, however long it takes.
            conn.execute("SET lock_timeout = 0")
            conn.execute("SELECT pg_advisory_lock(%s)", (MIGRATION_LOCK_KEY,))
            try:
                conn.execute(
                    "CREATE TABLE IF NOT EXISTS schema_migrations ("
                    " version INTEGER PRIMARY KEY, applied_at TIMESTAMPTZ NOT NULL DEFAULT now())"
                )
                done = {v for (v,) in conn.execute("SELECT version FROM schema_migrations")}
                for version, sql in self.migrations():
                    if version in done:
                        continue
                    with conn.transaction():
                        if callable(sql):  # a step that needs Python (filling new columns in)
                            sql(conn)
                        else:
                            conn.execute(sql)
                        conn.execute("INSERT INTO schema_migrations (version) VALUES (%s)", (version,))
                    log.info("applied PostgreSQL migration %s", version)
                if any(version == CONTENT_SEARCH_STEP for version, _ in self.migrations()):
                    with conn.transaction():
                        index_unindexed_contents(conn)
            finally:
                conn.execute("SELECT pg_advisory_unlock(%s)", (MIGRATION_LOCK_KEY,))
                conn.execute(f"SET lock_timeout = {max(1, int(self.lock_timeout * 1000))}")

    @contextmanager
    def read(self) -> Iterator[PostgresSession]:
        with self.pool.connection() as conn:
            yield self.session_class(conn, writing=False)

    read_one = read  # reads run statement by statement already (autocommit)

    @contextmanager
    def write(self, patient: bool = False, stall_limit: float | None = None) -> Iterator[PostgresSession]:
        with self.pool.connection() as conn:
            try:
                with conn.transaction():
                    if patient:  # LOCAL: the connection's own bound is back at the transaction's end
                        conn.execute("SET LOCAL lock_timeout = 0")
                    session = self.session_class(conn, writing=True, side_connection=self.pool.connection)
                    if stall_limit is not None:  # the server ends the session of a stopped client
                        ms = max(1, int(stall_limit * 1000))
                        conn.execute(f"SET LOCAL idle_in_transaction_session_timeout = {ms}")
                        session.side_connection = partial(self._stall_limited_connection, ms, session)
                    yield session
            except psycopg.errors.UniqueViolation as exc:
                # The locks make this rare; the constraint still has the last word.
                log.info("unique violation turned into a conflict: %s", exc.diag.message_detail)
                raise ConflictException(
                    "The request conflicts with a resource that was created at the same time"
                ) from exc

    @contextmanager
    def _stall_limited_connection(self, ms: int, main: PostgresSession) -> Iterator[psycopg.Connection]:
        """A side connection of a stall-limited write (the import's words writer): its own
        transactions must not outlive a stopped process either, and it bears the main
        session's import tag (import_sessions.py)."""
        with self.pool.connection() as conn:
            conn.execute(f"SET idle_in_transaction_session_timeout = {ms}")
            if main.import_tag:
                conn.execute("SELECT set_config('application_name', %s, false)", (main.import_tag,))
            try:
                yield conn
            finally:
                with suppress(psycopg.Error):  # a connection the server ended goes back broken
                    conn.execute("RESET idle_in_transaction_session_timeout")
                    conn.execute("RESET application_name")

    def reset(self) -> None:
        """Wipes all state (keeps the schema and the deployment's shared settings); waits for a
        running import rather than fail."""
        with self.write(patient=True) as session:
            tables = [
                name
                for (name,) in session.conn.execute(
                    "SELECT tablename FROM pg_tables WHERE schemaname = current_schema()"
                )
                if name not in _KEPT_ON_RESET
            ]
            if tables:
                names = ", ".join(f'"{t}"' for t in tables)
                session.conn.execute(f"TRUNCATE {names} RESTART IDENTITY CASCADE")

    def search_vocabulary_state(self) -> str | None:
        """None: search reads its words from the database, there is no vocabulary to load."""
        return None

    def stop_background_work(self) -> None:
        """Nothing runs in the background beyond the requests' own work."""

    def scratch_directory(self) -> str | None:
        """None: the database lives in the PostgreSQL server."""
        return None

    def shared_secret(self, name: str, size: int = 32) -> bytes | None:
        """A random value made once per database and shared by every server and worker
        (the key that signs URLs and tokens must be the same on all of them)."""
        with self.write() as session:
            session.conn.execute(
                "INSERT INTO shared_settings (name, value) VALUES (%s, %s) ON CONFLICT DO NOTHING",
                (name, secrets.token_bytes(size)),
            )
            row = session.conn.execute("SELECT value FROM shared_settings WHERE name = %s", (name,)).fetchone()
        assert row is not None  # inserted above unless already there
        return bytes(row[0])

    def ping(self) -> bool:
        try:
            with self.pool.connection(timeout=2.0) as conn:
                conn.execute("SELECT 1").fetchone()
            return True
        except (psycopg.Error, PoolTimeout):
            return False

    def close(self) -> None:
        self.pool.close()


def redact(url: str) -> str:
    """The URL without its password, for messages and logs."""
    try:
        info = psycopg.conninfo.conninfo_to_dict(url)
    except psycopg.ProgrammingError:
        return "<unparseable database URL>"
    info.pop("password", None)
    return " ".join(f"{k}={v}" for k, v in info.items())


__all__ = ["PostgresStore", "PostgresSession", "redact"]
