"""Versioned schema migrations of the SQLite store. Append only: never edit a released step.

Each concern has its own range of version numbers: 1-99 knowledge bases and idempotency,
100-199 quick responses, 200-299 uploads and import jobs (the PostgreSQL store's numbers mean
the same steps).
"""

from __future__ import annotations

from qconnect_local.storage.sql.assistant_schema import (
    assistant_step,
    content_association_step,
    content_step,
    content_task_step,
    content_text_step,
)
from qconnect_local.storage.sql.message_templates import message_template_attachment_step, message_template_step
from qconnect_local.storage.sql.schema import Migration, import_step, knowledge_base_step
from qconnect_local.storage.sql.search_order import order_index_step
from qconnect_local.storage.sql.search_tables import MESSAGE_TEMPLATES
from qconnect_local.storage.sqlite.dialect import SQLITE
from qconnect_local.storage.sqlite.message_templates import migrate_search as message_template_search_step

BASE_MIGRATIONS: list[tuple[int, Migration]] = [(1, knowledge_base_step(SQLITE))]

# Quick responses and their search index (see rows.py).
QUICK_RESPONSE_MIGRATIONS: list[tuple[int, Migration]] = [
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
    # orderOnField reads a page from an index instead of sorting the knowledge base.
    (103, order_index_step(drop_modified=True)),
]

# Uploads, import jobs and the local directory of Connect routing profiles.
IMPORT_MIGRATIONS: list[tuple[int, Migration]] = [(200, import_step(SQLITE))]

# The words of each content's title and text, for Retrieve and QueryAssistant
# (storage/sql/content_search.py). Contentless, so the text is not stored twice; the triggers
# keep it in step with every write of `contents` (knowledge-base deletes cascade through them),
# handing FTS5 the old values it needs to remove a row. Existing content is indexed once.
_TITLE = "json_extract(CAST({row}.data AS TEXT), '$.title')"
CONTENT_SEARCH_STEP = f"""
    CREATE VIRTUAL TABLE contents_fts USING fts5(
        title, text, content='', tokenize='unicode61 remove_diacritics 0', detail=column
    );
    CREATE TRIGGER contents_fts_insert AFTER INSERT ON contents BEGIN
        INSERT INTO contents_fts (rowid, title, text) VALUES (new.seq, {_TITLE.format(row="new")}, new.text);
    END;
    CREATE TRIGGER contents_fts_delete AFTER DELETE ON contents BEGIN
        INSERT INTO contents_fts (contents_fts, rowid, title, text)
            VALUES ('delete', old.seq, {_TITLE.format(row="old")}, old.text);
    END;
    CREATE TRIGGER contents_fts_update AFTER UPDATE OF data, text ON contents
    WHEN old.text IS NOT new.text OR {_TITLE.format(row="old")} IS NOT {_TITLE.format(row="new")} BEGIN
        INSERT INTO contents_fts (contents_fts, rowid, title, text)
            VALUES ('delete', old.seq, {_TITLE.format(row="old")}, old.text);
        INSERT INTO contents_fts (rowid, title, text) VALUES (new.seq, {_TITLE.format(row="new")}, new.text);
    END;
    INSERT INTO contents_fts (rowid, title, text) SELECT seq, {_TITLE.format(row="contents")}, text FROM contents;
"""

# Assistants, their associations and sessions: 300-399.
ASSISTANT_MIGRATIONS: list[tuple[int, Migration]] = [
    (300, assistant_step(SQLITE)),
    (301, content_step(SQLITE)),
    (302, content_text_step()),
    (303, CONTENT_SEARCH_STEP),
    (310, content_task_step(SQLITE)),
    (311, content_association_step(SQLITE)),
]

# Message templates and their versions (400-499).
MESSAGE_TEMPLATE_MIGRATIONS: list[tuple[int, Migration]] = [
    (400, message_template_step(SQLITE)),
    (401, message_template_attachment_step(SQLITE)),
    (402, message_template_search_step),  # search columns and index (storage/sqlite/message_templates.py)
    # Filters and orderOnField without queries read a page from an index (storage/sql/search_browse.py).
    (403, order_index_step(drop_modified=True, table=MESSAGE_TEMPLATES)),
]

MIGRATIONS = sorted(
    BASE_MIGRATIONS + QUICK_RESPONSE_MIGRATIONS + IMPORT_MIGRATIONS + ASSISTANT_MIGRATIONS + MESSAGE_TEMPLATE_MIGRATIONS
)
