"""SQLite SQL for quick responses and their search (owned by the quick-response work)."""

from __future__ import annotations

# Schema steps of this module, appended to the store's migrations (versions 100-199).
MIGRATIONS: list[tuple[int, str]] = []


class QuickResponseQueries:
    """Mixed into SQLiteSession; `self.conn` is the session's connection."""
