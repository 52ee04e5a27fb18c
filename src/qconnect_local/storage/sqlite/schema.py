"""Versioned schema migrations of the SQLite store. Append only: never edit a released step.

Each concern has its own range of version numbers: 1-99 knowledge bases and idempotency,
100-199 quick responses, 200-299 uploads and import jobs (the PostgreSQL store's numbers mean
the same steps).
"""

from __future__ import annotations

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

# Quick responses and their search index (see rows.py).
QUICK_RESPONSE_MIGRATIONS: list[tuple[int, str]] = [
    (
        100,
        """
        CREATE TABLE quick_responses (
            seq                INTEGER PRIMARY KEY,     -- FTS rowid; creation order
            kb                 INTEGER NOT NULL REFERENCES knowledge_bases(seq) ON DELETE CASCADE,
            id                 TEXT NOT NULL UNIQUE,
            name               TEXT NOT NULL,
            shortcut_key       TEXT,
            description        TEXT,
            content            TEXT NOT NULL,           -- contents.plainText (searched)
            markdown           TEXT,                    -- contents.markdown when it differs
            content_type       TEXT NOT NULL,
            is_active          INTEGER NOT NULL,
            language           TEXT,
            channels           TEXT,                    -- '\x1f'-delimited, NULL when absent/empty
            grouping_criteria  TEXT,
            grouping_values    TEXT,                    -- '\x1f'-delimited, NULL when absent/empty
            created_time       REAL NOT NULL,
            modified_time      REAL NOT NULL,
            modified_by        TEXT,
            data               BLOB NOT NULL,           -- the record without `contents`, JSON
            exact_keys         TEXT                     -- one word per searchable field: its exact key
        );
        CREATE UNIQUE INDEX quick_responses_name ON quick_responses (kb, name);
        CREATE UNIQUE INDEX quick_responses_shortcut ON quick_responses (kb, shortcut_key)
            WHERE shortcut_key IS NOT NULL;
        CREATE INDEX quick_responses_modified ON quick_responses (kb, modified_time);
        -- Narrow and append-only: search reads (kb, name) of its candidates by seq from here
        -- instead of from the table's wide rows.
        CREATE INDEX quick_responses_seq_name ON quick_responses (seq, kb, name);
        CREATE VIRTUAL TABLE quick_responses_fts USING fts5(
            name, shortcut_key, description, content, exact_keys,
            content='quick_responses', content_rowid='seq',
            tokenize='unicode61 remove_diacritics 0'
        );
        CREATE TRIGGER knowledge_bases_clear_quick_response_index
        BEFORE DELETE ON knowledge_bases BEGIN
            INSERT INTO quick_responses_fts(quick_responses_fts) SELECT 'delete-all'
                WHERE NOT EXISTS (SELECT 1 FROM quick_responses WHERE kb != old.seq);
            INSERT INTO quick_responses_fts(quick_responses_fts, rowid, name, shortcut_key, description, content, exact_keys)
                SELECT 'delete', seq, name, shortcut_key, description, content, exact_keys FROM quick_responses
                WHERE kb = old.seq AND EXISTS (SELECT 1 FROM quick_responses WHERE kb != old.seq);
        END;
        """,
    ),
    (
        101,
        """
        CREATE TABLE quick_responses_index_state (
            id     INTEGER PRIMARY KEY CHECK (id = 1),
            token  TEXT NOT NULL                    -- replaced by every bulk insert
        );
        """,
    ),
    (
        102,
        # The search index without token positions or per-row column sizes: search asks only
        # which rows have a word (or a word with a prefix) in a column, never for phrases,
        # NEAR or bm25. Existing databases rebuild the index from the table once.
        """
        DROP TABLE quick_responses_fts;
        CREATE VIRTUAL TABLE quick_responses_fts USING fts5(
            name, shortcut_key, description, content, exact_keys,
            content='quick_responses', content_rowid='seq',
            tokenize='unicode61 remove_diacritics 0', detail=column, columnsize=0
        );
        INSERT INTO quick_responses_fts (quick_responses_fts) VALUES ('rebuild');
        """,
    ),
]

# Uploads, import jobs and the local directory of Connect routing profiles.
IMPORT_MIGRATIONS: list[tuple[int, str]] = [
    (
        200,
        """
        CREATE TABLE uploads (
            seq           INTEGER PRIMARY KEY AUTOINCREMENT,
            kb_seq        INTEGER NOT NULL REFERENCES knowledge_bases(seq) ON DELETE CASCADE,
            account_id    TEXT NOT NULL,
            region        TEXT NOT NULL,
            id            TEXT NOT NULL,
            kb_id         TEXT NOT NULL,
            content_type  TEXT NOT NULL,
            created       REAL NOT NULL,
            expires       REAL NOT NULL,     -- the upload URL's expiry
            uploaded      REAL,              -- NULL until a PUT succeeded
            size          INTEGER,
            etag          TEXT,
            UNIQUE (account_id, region, id)
        );

        CREATE TABLE import_jobs (
            seq            INTEGER PRIMARY KEY AUTOINCREMENT,  -- creation order, for pagination
            kb_seq         INTEGER NOT NULL REFERENCES knowledge_bases(seq) ON DELETE CASCADE,
            account_id     TEXT NOT NULL,
            region         TEXT NOT NULL,
            id             TEXT NOT NULL,
            kb_id          TEXT NOT NULL,
            upload_id      TEXT NOT NULL,
            status         TEXT NOT NULL,
            modified       REAL NOT NULL,
            data           BLOB NOT NULL,      -- the fixed members of ImportJobData, JSON
            caller_arn     TEXT NOT NULL,      -- lastModifiedBy of the quick responses it creates
            report_key     TEXT,               -- blob key of the failed-record report
            run_after      REAL,               -- NULL: held until POST /_qconnect/import-jobs/{id}/run
            lease_owner    TEXT,
            lease_expires  REAL,
            attempts       INTEGER NOT NULL DEFAULT 0,
            UNIQUE (account_id, region, id)
        );
        CREATE INDEX import_jobs_kb ON import_jobs (account_id, region, kb_id, seq);
        CREATE INDEX import_jobs_pending ON import_jobs (status, run_after);

        CREATE TABLE connect_instances (
            instance_id  TEXT PRIMARY KEY
        );
        CREATE TABLE connect_routing_profiles (
            instance_id  TEXT NOT NULL REFERENCES connect_instances(instance_id) ON DELETE CASCADE,
            name         TEXT NOT NULL,     -- case-sensitive, as Connect compares them
            arn          TEXT NOT NULL,
            PRIMARY KEY (instance_id, name)
        );
        """,
    ),
]

MIGRATIONS = sorted(BASE_MIGRATIONS + QUICK_RESPONSE_MIGRATIONS + IMPORT_MIGRATIONS)
