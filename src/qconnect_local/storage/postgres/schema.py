"""Versioned schema migrations of the PostgreSQL store. Append only: never edit a released step.

The version numbers mirror the SQLite store's (1-99 here, 100-199 quick responses, 200-299
uploads and import jobs), so one number means the same schema step on both stores.
"""

from __future__ import annotations

from qconnect_local.storage.postgres.dialect import POSTGRES
from qconnect_local.storage.postgres.message_templates import migrate_search as message_template_search_step
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

BASE_MIGRATIONS: list[tuple[int, Migration]] = [
    (
        1,
        knowledge_base_step(POSTGRES)
        + """
        -- Values every server of one deployment must share (the URL-signing key).
        CREATE TABLE shared_settings (
            name   TEXT PRIMARY KEY,
            value  BYTEA NOT NULL
        );
        """,
    ),
]

# Quick responses and their search words (see rows.py and search.py).
QUICK_RESPONSE_MIGRATIONS: list[tuple[int, Migration]] = [
    (
        100,
        """
        CREATE EXTENSION IF NOT EXISTS fuzzystrmatch;
        CREATE TABLE quick_responses (
            seq                BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,  -- creation order
            kb                 BIGINT NOT NULL REFERENCES knowledge_bases(seq) ON DELETE CASCADE,
            id                 TEXT COLLATE "C" NOT NULL UNIQUE,
            name               TEXT COLLATE "C" NOT NULL,
            shortcut_key       TEXT COLLATE "C",
            description        TEXT COLLATE "C",
            content            TEXT COLLATE "C" NOT NULL,   -- contents.plainText (searched)
            markdown           TEXT,                        -- contents.markdown when it differs
            content_type       TEXT COLLATE "C" NOT NULL,
            is_active          INTEGER NOT NULL,
            language           TEXT COLLATE "C",
            channels           TEXT COLLATE "C",            -- '\x1f'-delimited, NULL when absent/empty
            grouping_criteria  TEXT COLLATE "C",
            grouping_values    TEXT COLLATE "C",            -- '\x1f'-delimited, NULL when absent/empty
            created_time       DOUBLE PRECISION NOT NULL,
            modified_time      DOUBLE PRECISION NOT NULL,
            modified_by        TEXT COLLATE "C",
            data               JSONB NOT NULL,              -- the record without `contents`
            search_words       tsvector NOT NULL            -- see search.py
        );
        CREATE UNIQUE INDEX quick_responses_name ON quick_responses (kb, name);
        CREATE UNIQUE INDEX quick_responses_shortcut ON quick_responses (kb, shortcut_key)
            WHERE shortcut_key IS NOT NULL;
        CREATE INDEX quick_responses_search ON quick_responses USING gin (search_words);

        -- Every word ever indexed (for allowFuzziness); never shrinks, a superset is harmless.
        CREATE TABLE quick_response_words (
            word  TEXT COLLATE "C" PRIMARY KEY
        );
        CREATE INDEX quick_response_words_length ON quick_response_words (length(word));
        """,
    ),
    (
        101,
        """
        -- The exact whole-field lexemes (x<f>:<hash>, see search.py), kept out of the
        -- GIN index: search only tests them on rows the index already found, and as a new,
        -- random key per field and row they were a fifth of an import's database work. NULL
        -- in rows written before, whose search_words hold them.
        ALTER TABLE quick_responses ADD COLUMN exact_words tsvector;
        """,
    ),
    # orderOnField reads a page from an index instead of sorting the knowledge base.
    (102, order_index_step(drop_modified=False)),
]

# Uploads, import jobs and the local directory of Connect routing profiles.
IMPORT_MIGRATIONS: list[tuple[int, Migration]] = [(200, import_step(POSTGRES))]

# Assistants, their associations and sessions: 300-399.
ASSISTANT_MIGRATIONS: list[tuple[int, Migration]] = [
    (300, assistant_step(POSTGRES)),
    (301, content_step(POSTGRES)),
    (302, content_text_step()),
    (
        303,
        # The lexemes of each content's title and text (storage/postgres/content_search.py),
        # built in Python with the quick-response search's tokenizer; NULL until built (rows
        # written before this step are built when the store opens).
        """
        ALTER TABLE contents ADD COLUMN search_words tsvector;
        CREATE INDEX contents_search ON contents USING gin (search_words);
        CREATE INDEX contents_unindexed ON contents (seq) WHERE search_words IS NULL;
        """,
    ),
    (310, content_task_step(POSTGRES)),
    (311, content_association_step(POSTGRES)),
]

# Message templates and their versions (400-499).
MESSAGE_TEMPLATE_MIGRATIONS: list[tuple[int, Migration]] = [
    (400, message_template_step(POSTGRES)),
    (401, message_template_attachment_step(POSTGRES)),
    (402, message_template_search_step),  # search columns and index (storage/postgres/message_templates.py)
    # Filters and orderOnField without queries read a page from an index (storage/sql/search_browse.py).
    (403, order_index_step(drop_modified=False, table=MESSAGE_TEMPLATES)),
]

MIGRATIONS = sorted(
    BASE_MIGRATIONS + QUICK_RESPONSE_MIGRATIONS + IMPORT_MIGRATIONS + ASSISTANT_MIGRATIONS + MESSAGE_TEMPLATE_MIGRATIONS
)
