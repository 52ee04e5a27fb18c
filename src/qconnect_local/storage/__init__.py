"""State storage: one interface (`base.Store`), embedded SQLite by default.

Dialect-specific SQL stays inside this package; operations only call session methods.
"""

from __future__ import annotations

from qconnect_local.storage.base import Store


def open_store(database: str) -> Store:
    """`database` is a SQLite file path or ':memory:'."""
    from qconnect_local.storage.sqlite import SQLiteStore

    return SQLiteStore(database)


__all__ = ["Store", "open_store"]
