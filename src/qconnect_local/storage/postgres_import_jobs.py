"""PostgreSQL SQL for uploads and import jobs (mirrors sqlite_import_jobs.py)."""

from __future__ import annotations

# Schema steps of this module (versions 200-299, the same numbers as the SQLite store's).
MIGRATIONS: list[tuple[int, str]] = []


class ImportJobQueries:
    """Mixed into PostgresSession; `self.conn` is the session's connection."""
