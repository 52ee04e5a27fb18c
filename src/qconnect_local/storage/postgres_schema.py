"""Versioned schema migrations of the PostgreSQL store. Append only: never edit a released step.

The version numbers mirror the SQLite store's (1-99 here, 100-199 quick responses, 200-299
uploads and import jobs), so one number means the same schema step on both stores.
"""

from __future__ import annotations

from qconnect_local.storage import postgres_import_jobs, postgres_quick_responses

BASE_MIGRATIONS: list[tuple[int, str]] = [
    (
        1,
        """
        CREATE TABLE knowledge_bases (
            seq         BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,  -- creation order
            account_id  TEXT NOT NULL,
            region      TEXT NOT NULL,
            id          TEXT NOT NULL,
            data        JSONB NOT NULL,                    -- the KnowledgeBaseData record
            UNIQUE (account_id, region, id)
        );
        CREATE INDEX knowledge_bases_scope ON knowledge_bases (account_id, region, seq);

        CREATE TABLE idempotency_tokens (
            account_id    TEXT NOT NULL,
            region        TEXT NOT NULL,
            operation     TEXT NOT NULL,
            scope         TEXT NOT NULL,
            token         TEXT NOT NULL,
            request_hash  TEXT NOT NULL,
            resource_id   TEXT NOT NULL,
            created       DOUBLE PRECISION NOT NULL,
            PRIMARY KEY (account_id, region, operation, scope, token)
        );

        -- Values every server of one deployment must share (the URL-signing key).
        CREATE TABLE shared_settings (
            name   TEXT PRIMARY KEY,
            value  BYTEA NOT NULL
        );
        """,
    ),
]

MIGRATIONS = sorted(BASE_MIGRATIONS + postgres_quick_responses.MIGRATIONS + postgres_import_jobs.MIGRATIONS)
