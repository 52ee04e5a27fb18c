"""The embedded SQLite store: connection handling (store.py), schema and migrations, the
quick-response rows and writes, the bulk loader and the FTS5 search executor (search/)."""

from qconnect_local.storage.sqlite.store import PAGE_SIZE, SQLiteSession, SQLiteStore

__all__ = ["PAGE_SIZE", "SQLiteSession", "SQLiteStore"]
