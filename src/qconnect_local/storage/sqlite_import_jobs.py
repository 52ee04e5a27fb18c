"""SQLite SQL for uploads and import jobs (owned by the import work)."""

from __future__ import annotations

# Schema steps of this module, appended to the store's migrations (versions 200-299).
MIGRATIONS: list[tuple[int, str]] = []


class ImportJobQueries:
    """Mixed into SQLiteSession; `self.conn` is the session's connection."""
