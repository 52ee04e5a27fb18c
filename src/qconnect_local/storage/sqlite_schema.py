"""Versioned schema migrations of the SQLite store. Append only: never edit a released step.

Each concern keeps its own steps beside its SQL, in its own range of version numbers:
1-99 here (knowledge bases, idempotency), 100-199 quick responses, 200-299 uploads and import jobs.
"""

from __future__ import annotations

from qconnect_local.storage import sqlite_import_jobs, sqlite_quick_responses

BASE_MIGRATIONS: list[tuple[int, str]] = [
    (
        1,
        """
        CREATE TABLE knowledge_bases (
            seq         INTEGER PRIMARY KEY AUTOINCREMENT,  -- creation order, for stable pagination
            account_id  TEXT NOT NULL,
            region      TEXT NOT NULL,
            id          TEXT NOT NULL,
            data        BLOB NOT NULL,                      -- the KnowledgeBaseData record, JSON
            UNIQUE (account_id, region, id)
        );
        CREATE INDEX knowledge_bases_scope ON knowledge_bases (account_id, region, seq);

        CREATE TABLE idempotency_tokens (
            account_id    TEXT NOT NULL,
            region        TEXT NOT NULL,
            operation     TEXT NOT NULL,
            scope         TEXT NOT NULL,    -- the parent resource ('' for account-level creates)
            token         TEXT NOT NULL,
            request_hash  TEXT NOT NULL,
            resource_id   TEXT NOT NULL,
            created       REAL NOT NULL,
            PRIMARY KEY (account_id, region, operation, scope, token)
        );
        """,
    ),
]

MIGRATIONS = sorted(BASE_MIGRATIONS + sqlite_quick_responses.MIGRATIONS + sqlite_import_jobs.MIGRATIONS)
