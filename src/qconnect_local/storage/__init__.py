"""State storage: one interface (`base.Store`, `base.Session`), embedded SQLite by default.

The SQL both stores share is in `sql/` (spelled once, with a `dialect.Dialect` for what differs);
each store's own work (connections, schema, bulk loading, search) is in its package, `sqlite/`
and `postgres/`. Operations only call session methods. See docs/storage.md.
"""

from __future__ import annotations

from qconnect_local.storage.base import Store


def is_postgres_url(database: str) -> bool:
    return database.startswith(("postgresql://", "postgres://"))


# How long a write waits for a lock unless told otherwise (HardeningSettings.lock_timeout_seconds).
DEFAULT_LOCK_TIMEOUT = 10.0


def open_store(database: str, lock_timeout: float = DEFAULT_LOCK_TIMEOUT) -> Store:
    """`database` is a SQLite file path, ':memory:', or a postgresql:// URL; `lock_timeout`
    bounds every lock wait of a write session (seconds)."""
    if is_postgres_url(database):
        from qconnect_local.storage.postgres import PostgresStore

        return PostgresStore(database, lock_timeout=lock_timeout)
    from qconnect_local.storage.sqlite import SQLiteStore

    return SQLiteStore(database, lock_timeout=lock_timeout)


__all__ = ["Store", "is_postgres_url", "open_store"]
