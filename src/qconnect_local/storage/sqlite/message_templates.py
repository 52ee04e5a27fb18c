"""The SQLite store's message-template search: the quick responses' engine (search/executor.py)
over `message_templates`, its FTS5 index `message_templates_fts` and its own vocabulary.

Triggers keep the index in step with the table (templates are written one at a time; a
knowledge base's deletion cascades to its templates, and the triggers follow). Python computes
the `exact_keys` column (search/exact_keys.py) and feeds the vocabulary the words it writes.
"""

from __future__ import annotations

import sqlite3
import uuid
from typing import Any

import orjson

from qconnect_local.search.plan import SearchPlan, SortKey, tokenize
from qconnect_local.storage.dialect import Record
from qconnect_local.storage.sql.message_templates import MessageTemplateQueries
from qconnect_local.storage.sql.search_tables import MESSAGE_TEMPLATES, TEMPLATE_COLUMNS, template_columns
from qconnect_local.storage.sqlite.rows import set_index_token
from qconnect_local.storage.sqlite.search.exact_keys import exact_key
from qconnect_local.storage.sqlite.search.executor import search_hits
from qconnect_local.storage.sqlite.search.vocabulary import vocabulary

_FTS_COLUMNS = "name, description, exact_keys"
_TRIGGERS = f"""
    CREATE TRIGGER message_templates_index_insert AFTER INSERT ON message_templates BEGIN
        INSERT INTO message_templates_fts (rowid, {_FTS_COLUMNS})
            VALUES (new.seq, new.name, new.description, new.exact_keys);
    END;
    CREATE TRIGGER message_templates_index_delete AFTER DELETE ON message_templates BEGIN
        INSERT INTO message_templates_fts (message_templates_fts, rowid, {_FTS_COLUMNS})
            VALUES ('delete', old.seq, old.name, old.description, old.exact_keys);
    END;
    CREATE TRIGGER message_templates_index_update AFTER UPDATE ON message_templates BEGIN
        INSERT INTO message_templates_fts (message_templates_fts, rowid, {_FTS_COLUMNS})
            VALUES ('delete', old.seq, old.name, old.description, old.exact_keys);
        INSERT INTO message_templates_fts (rowid, {_FTS_COLUMNS})
            VALUES (new.seq, new.name, new.description, new.exact_keys);
    END;
"""


def _exact_keys(record: Record, sink: Any = None) -> str:
    keys = []
    for column in MESSAGE_TEMPLATES.text_columns:
        words = tokenize(record.get(column) or "")
        if words:
            keys.append(exact_key(column, words))
            if sink is not None:
                sink(column, words)
    return " ".join(keys)


def migrate_search(conn: sqlite3.Connection) -> None:
    """Step 402: the search columns, their index and its triggers; existing templates filled in."""
    for column in TEMPLATE_COLUMNS:
        conn.execute(f"ALTER TABLE message_templates ADD COLUMN {column} {_type(column)}")
    conn.execute("ALTER TABLE message_templates ADD COLUMN exact_keys TEXT")
    conn.execute("CREATE INDEX message_templates_seq_name ON message_templates (seq, kb_seq, name)")
    conn.execute("CREATE INDEX message_templates_modified ON message_templates (kb_seq, modified_time)")
    conn.execute(
        "CREATE TABLE message_templates_index_state (id INTEGER PRIMARY KEY CHECK (id = 1), token TEXT NOT NULL)"
    )
    conn.execute(
        f"CREATE VIRTUAL TABLE message_templates_fts USING fts5({_FTS_COLUMNS},"
        " content='message_templates', content_rowid='seq',"
        " tokenize='unicode61 remove_diacritics 0', detail=column, columnsize=0)"
    )
    rows = conn.execute("SELECT seq, data FROM message_templates").fetchall()
    assignments = ", ".join(f"{c} = ?" for c in (*TEMPLATE_COLUMNS, "exact_keys"))
    for seq, data in rows:
        record = orjson.loads(data)
        conn.execute(
            f"UPDATE message_templates SET {assignments} WHERE seq = ?",
            (*template_columns(record), _exact_keys(record), seq),
        )
    for statement in _TRIGGERS.split("END;")[:-1]:
        conn.execute(statement + "END;")
    conn.execute("INSERT INTO message_templates_fts (message_templates_fts) VALUES ('rebuild')")


def _type(column: str) -> str:
    return "REAL" if column.endswith("_time") else "TEXT"


class MessageTemplateSearch(MessageTemplateQueries):
    """Message-template writes keep the search vocabulary fed; search runs the shared executor."""

    conn: sqlite3.Connection
    TEMPLATE_INDEX_COLUMNS = ("exact_keys",)

    def _template_index(self, record: Record, bulk: bool = False) -> tuple[Any, ...]:
        # A bulk insert leaves its words to the vocabulary's reload (a new index token).
        return (_exact_keys(record, None if bulk else vocabulary(self.conn, MESSAGE_TEMPLATES).add),)

    def _templates_bulk_inserted(self) -> None:
        set_index_token(self.conn, uuid.uuid4().hex, MESSAGE_TEMPLATES)

    def search_message_templates(
        self, account: str, region: str, kb_id: str, plan: SearchPlan
    ) -> list[tuple[SortKey, Record]]:
        """Up to plan.limit + 1 (key, `$LATEST` record) results after plan.after, in the plan's order."""
        hits = search_hits(self.conn, self._kb_seq(account, region, kb_id), plan, MESSAGE_TEMPLATES)
        if not hits:
            return []
        records = {
            seq: orjson.loads(data)
            for seq, data in self.conn.execute(
                "SELECT seq, data FROM message_templates WHERE seq IN (SELECT value FROM json_each(?))",
                (orjson.dumps([seq for _, seq in hits]),),
            )
        }
        return [(key, records[seq]) for key, seq in hits]
