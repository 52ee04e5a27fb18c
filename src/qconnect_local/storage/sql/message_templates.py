"""Message templates and their numbered versions, the same SQL on both stores.

A template's row holds its `$LATEST` record (MessageTemplateData plus the operations' own
bookkeeping) as JSON; each version is an immutable snapshot row under it. Names are unique in a
knowledge base (a unique index backs the operations' own check).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from qconnect_local.storage.dialect import Dialect, Record
from qconnect_local.storage.sql.knowledge_bases import KnowledgeBaseQueries
from qconnect_local.storage.sql.search_tables import TEMPLATE_COLUMNS, template_columns


def message_template_step(d: Dialect) -> str:
    """Step 400: message templates and their versions."""
    return f"""
        CREATE TABLE message_templates (
            seq         {d.serial_key},  -- creation order, for pagination
            kb_seq      {d.big_int} NOT NULL REFERENCES knowledge_bases(seq) ON DELETE CASCADE,
            account_id  TEXT NOT NULL,
            region      TEXT NOT NULL,
            id          TEXT NOT NULL,
            name        TEXT NOT NULL,
            data        {d.json_type} NOT NULL,  -- the $LATEST record
            UNIQUE (account_id, region, id)
        );
        CREATE UNIQUE INDEX message_templates_name ON message_templates (kb_seq, name);
        CREATE INDEX message_templates_kb ON message_templates (kb_seq, seq);

        CREATE TABLE message_template_versions (
            template_seq  {d.big_int} NOT NULL REFERENCES message_templates(seq) ON DELETE CASCADE,
            version       {d.big_int} NOT NULL,
            data          {d.json_type} NOT NULL,  -- the version's snapshot
            PRIMARY KEY (template_seq, version)
        );
        """


def message_template_attachment_step(d: Dialect) -> str:
    """Step 401: attachment files. A file stays while its template does, since versions that
    list it keep it downloadable after it left the draft."""
    return f"""
        CREATE TABLE message_template_attachments (
            id            TEXT PRIMARY KEY,
            template_seq  {d.big_int} NOT NULL REFERENCES message_templates(seq) ON DELETE CASCADE,
            name          TEXT NOT NULL,
            body          TEXT NOT NULL  -- base64, as the request gave it
        );
        CREATE INDEX message_template_attachments_template ON message_template_attachments (template_seq);
        """


_TEMPLATE = (
    "SELECT m.seq, m.data FROM message_templates m JOIN knowledge_bases k ON k.seq = m.kb_seq"
    " WHERE m.account_id = ? AND m.region = ? AND m.id = ? AND k.id = ?"
)


class MessageTemplateQueries(KnowledgeBaseQueries):
    """Templates are named by (account, region, knowledge base UUID, template UUID); a missing
    knowledge base on insert or list is a ResourceNotFoundException.

    Every write also sets the search columns (search_tables.TEMPLATE_COLUMNS) and the store's
    search-index columns (`TEMPLATE_INDEX_COLUMNS`, from `_template_index`): search is the
    store's own (storage/sqlite/message_templates.py, storage/postgres/message_templates.py)."""

    TEMPLATE_INDEX_COLUMNS: tuple[str, ...] = ()

    def _template_index(self, record: Record, bulk: bool = False) -> tuple[Any, ...]:
        """The values of TEMPLATE_INDEX_COLUMNS for a record (`bulk`: one of many, see
        `insert_message_templates_bulk`)."""
        return ()

    def _templates_bulk_inserted(self) -> None:
        """Called after `insert_message_templates_bulk` (the store's index bookkeeping)."""

    def _template_values(self, record: Record, bulk: bool = False) -> tuple[Any, ...]:
        return (
            record["name"],
            self.dialect.json_param(record),
            *template_columns(record),
            *self._template_index(record, bulk),
        )

    def _template_insert(self) -> str:
        columns = (
            "kb_seq",
            "account_id",
            "region",
            "id",
            "name",
            "data",
            *TEMPLATE_COLUMNS,
            *self.TEMPLATE_INDEX_COLUMNS,
        )
        return f"INSERT INTO message_templates ({', '.join(columns)}) VALUES ({', '.join('?' * len(columns))})"

    def _template_seq(self, account: str, region: str, kb_id: str, mt_id: str) -> int | None:
        row = self.execute(_TEMPLATE + self.row_lock(), (account, region, mt_id, kb_id)).fetchone()
        return int(row[0]) if row else None

    def insert_message_template(self, account: str, region: str, kb_id: str, record: Record) -> None:
        kb = self._kb_seq(account, region, kb_id)
        self.execute(
            self._template_insert(), (kb, account, region, record["messageTemplateId"], *self._template_values(record))
        )

    def insert_message_templates_bulk(self, account: str, region: str, kb_id: str, records: Iterable[Record]) -> int:
        """Many new templates in one statement (benchmarks and tests load big knowledge bases so):
        records already checked, as CreateMessageTemplate makes them. Returns how many."""
        kb = self._kb_seq(account, region, kb_id)
        rows = [(kb, account, region, r["messageTemplateId"], *self._template_values(r, bulk=True)) for r in records]
        self.executemany(self._template_insert(), rows)
        self._templates_bulk_inserted()
        return len(rows)

    def get_message_template(self, account: str, region: str, kb_id: str, mt_id: str) -> Record | None:
        row = self.execute(_TEMPLATE + self.row_lock(), (account, region, mt_id, kb_id)).fetchone()
        return self.dialect.json_value(row[1]) if row else None

    def update_message_template(self, account: str, region: str, kb_id: str, record: Record) -> None:
        columns = ("name", "data", *TEMPLATE_COLUMNS, *self.TEMPLATE_INDEX_COLUMNS)
        self.execute(
            f"UPDATE message_templates SET {', '.join(c + ' = ?' for c in columns)}"
            " WHERE account_id = ? AND region = ? AND id = ?"
            " AND kb_seq = (SELECT seq FROM knowledge_bases WHERE account_id = ? AND region = ? AND id = ?)",
            (
                *self._template_values(record),
                account,
                region,
                record["messageTemplateId"],
                account,
                region,
                kb_id,
            ),
        )

    def delete_message_template(self, account: str, region: str, kb_id: str, mt_id: str) -> bool:
        # Versions reference message_templates(seq) ON DELETE CASCADE.
        seq = self._template_seq(account, region, kb_id, mt_id)
        if seq is None:
            return False
        self.execute("DELETE FROM message_templates WHERE seq = ?", (seq,))
        return True

    def message_template_name_taken(self, account: str, region: str, kb_id: str, name: str) -> str | None:
        """The id of the knowledge base's template with this name, if there is one. In a write
        session this holds the knowledge base's names until commit."""
        kb = self._kb_seq(account, region, kb_id)
        self.lock("message-template-name", str(kb))
        row = self.execute("SELECT id FROM message_templates WHERE kb_seq = ? AND name = ?", (kb, name)).fetchone()
        return str(row[0]) if row else None

    def count_message_templates(self, account: str, region: str, kb_id: str) -> int:
        kb = self._kb_seq(account, region, kb_id)
        self.lock("message-template-quota", str(kb))
        return int(self.execute("SELECT count(*) FROM message_templates WHERE kb_seq = ?", (kb,)).fetchone()[0])

    def list_message_templates(
        self, account: str, region: str, kb_id: str, after: int, limit: int
    ) -> list[tuple[int, Record]]:
        """(seq, record) in creation order after the given seq (keyset pagination)."""
        kb = self._kb_seq(account, region, kb_id)
        rows = self.execute(
            "SELECT seq, data FROM message_templates WHERE kb_seq = ? AND seq > ? ORDER BY seq LIMIT ?",
            (kb, after, limit),
        ).fetchall()
        json_value = self.dialect.json_value
        return [(int(seq), json_value(data)) for seq, data in rows]

    # -- versions ----------------------------------------------------------------------------

    def insert_message_template_version(
        self, account: str, region: str, kb_id: str, mt_id: str, version: int, snapshot: Record
    ) -> None:
        seq = self._template_seq(account, region, kb_id, mt_id)
        if seq is None:
            raise LookupError(mt_id)  # the caller loaded the template in this session
        self.execute(
            "INSERT INTO message_template_versions (template_seq, version, data) VALUES (?, ?, ?)",
            (seq, version, self.dialect.json_param(snapshot)),
        )

    def get_message_template_version(
        self, account: str, region: str, kb_id: str, mt_id: str, version: int
    ) -> Record | None:
        row = self.execute(
            "SELECT v.data FROM message_template_versions v JOIN message_templates m ON m.seq = v.template_seq"
            " JOIN knowledge_bases k ON k.seq = m.kb_seq"
            " WHERE m.account_id = ? AND m.region = ? AND m.id = ? AND k.id = ? AND v.version = ?",
            (account, region, mt_id, kb_id, version),
        ).fetchone()
        return self.dialect.json_value(row[0]) if row else None

    def list_message_template_versions(
        self, account: str, region: str, kb_id: str, mt_id: str, after: int, limit: int
    ) -> list[Record]:
        """Snapshots in version order after the given version number."""
        rows = self.execute(
            "SELECT v.data FROM message_template_versions v JOIN message_templates m ON m.seq = v.template_seq"
            " JOIN knowledge_bases k ON k.seq = m.kb_seq"
            " WHERE m.account_id = ? AND m.region = ? AND m.id = ? AND k.id = ? AND v.version > ?"
            " ORDER BY v.version LIMIT ?",
            (account, region, mt_id, kb_id, after, limit),
        ).fetchall()
        json_value = self.dialect.json_value
        return [json_value(data) for (data,) in rows]

    def delete_message_template_version(self, account: str, region: str, kb_id: str, mt_id: str, version: int) -> bool:
        seq = self._template_seq(account, region, kb_id, mt_id)
        if seq is None:
            return False
        cur = self.execute(
            "DELETE FROM message_template_versions WHERE template_seq = ? AND version = ?", (seq, version)
        )
        return bool(cur.rowcount > 0)

    # -- attachment files ----------------------------------------------------------------------

    def insert_message_template_attachment(
        self, account: str, region: str, kb_id: str, mt_id: str, attachment_id: str, name: str, body: str
    ) -> None:
        seq = self._template_seq(account, region, kb_id, mt_id)
        if seq is None:
            raise LookupError(mt_id)  # the caller loaded the template in this session
        self.execute(
            "INSERT INTO message_template_attachments (id, template_seq, name, body) VALUES (?, ?, ?, ?)",
            (attachment_id, seq, name, body),
        )

    def get_message_template_attachment(self, attachment_id: str) -> tuple[str, str] | None:
        """(name, base64 body) of an attachment file, by its id alone (its signed URL names it)."""
        row = self.execute(
            "SELECT name, body FROM message_template_attachments WHERE id = ?", (attachment_id,)
        ).fetchone()
        return (str(row[0]), str(row[1])) if row else None
