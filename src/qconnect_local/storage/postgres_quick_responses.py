"""PostgreSQL SQL for quick responses and their search (mirrors sqlite_quick_responses.py)."""

from __future__ import annotations

# Schema steps of this module (versions 100-199, the same numbers as the SQLite store's).
MIGRATIONS: list[tuple[int, str]] = []


class QuickResponseQueries:
    """Mixed into PostgresSession; `self.conn` is the session's connection."""
