"""Quick-response reads, the same on both stores (each store writes its own search index, so
inserts, updates, deletes, bulk loads and search are the store's own)."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from qconnect_local.storage.base import BulkLoader
from qconnect_local.storage.dialect import Record
from qconnect_local.storage.quick_response_records import record_from_columns
from qconnect_local.storage.sql.knowledge_bases import KnowledgeBaseQueries

# What `record_from_row` takes, from `quick_responses q JOIN knowledge_bases k ON k.seq = q.kb`
# (aliased, so that a query can select them in a subquery and name them again outside:
# RECORD_NAMES).
_RECORD_COLUMNS = (
    ("k.account_id", "r_account"),
    ("k.region", "r_region"),
    ("k.id", "r_kb_id"),
    ("q.id", "r_id"),
    ("q.name", "r_name"),
    ("q.shortcut_key", "r_shortcut_key"),
    ("q.description", "r_description"),
    ("q.content", "r_content"),
    ("q.markdown", "r_markdown"),
    ("q.content_type", "r_content_type"),
    ("q.is_active", "r_is_active"),
    ("q.language", "r_language"),
    ("q.channels", "r_channels"),
    ("q.grouping_criteria", "r_grouping_criteria"),
    ("q.grouping_values", "r_grouping_values"),
    ("q.created_time", "r_created_time"),
    ("q.modified_time", "r_modified_time"),
    ("q.modified_by", "r_modified_by"),
    ("q.data", "r_data"),
)
SELECT_RECORD = ", ".join(f"{expr} AS {alias}" for expr, alias in _RECORD_COLUMNS)
RECORD_NAMES = ", ".join(alias for _, alias in _RECORD_COLUMNS)
# Where q.id is in a row of `k.data, SELECT_RECORD` (NULL when the LEFT JOIN found no quick response).
_QR_ID_COLUMN = 1 + [alias for _, alias in _RECORD_COLUMNS].index("r_id")


class QuickResponseQueries(KnowledgeBaseQueries):
    """Quick-response reads, and the bulk insert on top of the store's own loader. Knowledge bases are named by (account, region, UUID); a missing one is a
    ResourceNotFoundException (in a PostgreSQL write session, reading it locks its row)."""

    def record_from_row(self, *row: Any) -> Record:
        """The QuickResponseData record of a row selected with SELECT_RECORD (`data` last)."""
        return record_from_columns(*row[:-1], self.dialect.json_value(row[-1]))  # type: ignore[call-arg]  # 19 long

    def get_quick_response(self, account: str, region: str, kb_id: str, qr_id: str) -> Record | None:
        row = self.execute(
            f"SELECT {SELECT_RECORD} FROM quick_responses q JOIN knowledge_bases k ON k.seq = q.kb"
            " WHERE q.id = ? AND k.id = ? AND k.account_id = ? AND k.region = ?",
            (qr_id, kb_id, account, region),
        ).fetchone()
        return self.record_from_row(*row) if row else None

    def get_quick_response_and_knowledge_base(
        self, account: str, region: str, kb_id: str, qr_id: str
    ) -> tuple[Record | None, Record | None]:
        """(knowledge base, quick response) in one statement, each None when it does not exist."""
        row = self.execute(
            f"SELECT k.data, {SELECT_RECORD} FROM knowledge_bases k"
            " LEFT JOIN quick_responses q ON q.kb = k.seq AND q.id = ?"
            " WHERE k.account_id = ? AND k.region = ? AND k.id = ?",
            (qr_id, account, region, kb_id),
        ).fetchone()
        if row is None:
            return None, None
        kb = self.dialect.json_value(row[0])
        return kb, (self.record_from_row(*row[1:]) if row[_QR_ID_COLUMN] is not None else None)

    def list_quick_responses(
        self, account: str, region: str, kb_id: str, after: str | None, limit: int
    ) -> list[Record]:
        """Records in name order (byte-wise; names are unique in a knowledge base), after the
        given name (keyset pagination: stable while quick responses are added or removed)."""
        kb = self._kb_seq(account, region, kb_id)
        rows = self.execute(
            f"SELECT {SELECT_RECORD} FROM quick_responses q JOIN knowledge_bases k ON k.seq = q.kb"
            " WHERE q.kb = ? AND q.name > ? ORDER BY q.name LIMIT ?",
            (kb, after if after is not None else "", limit),
        ).fetchall()
        return [self.record_from_row(*row) for row in rows]

    def count_quick_responses(self, account: str, region: str, kb_id: str, at_most: int | None = None) -> int:
        """How many quick responses the knowledge base holds; with `at_most`, counting stops there
        (the quota check on create needs no more than that)."""
        kb = self._kb_seq(account, region, kb_id)
        if at_most is not None:
            return int(
                self.execute(
                    "SELECT count(*) FROM (SELECT 1 FROM quick_responses WHERE kb = ? LIMIT ?) AS q", (kb, at_most)
                ).fetchone()[0]
            )
        return int(self.execute("SELECT count(*) FROM quick_responses WHERE kb = ?", (kb,)).fetchone()[0])

    def quick_response_keys(self, account: str, region: str, kb_id: str) -> tuple[set[str], set[str], int]:
        """(names, shortcut keys, count) of the knowledge base's quick responses, from the indexes."""
        kb = self._kb_seq(account, region, kb_id)
        names = {n for (n,) in self.execute("SELECT name FROM quick_responses WHERE kb = ?", (kb,))}
        keys = {
            k
            for (k,) in self.execute(
                "SELECT shortcut_key FROM quick_responses WHERE kb = ? AND shortcut_key IS NOT NULL", (kb,)
            )
        }
        return names, keys, len(names)

    def quick_response_loader(self, account: str, region: str, kb_id: str, expected_rows: int = 0) -> BulkLoader:
        """A bulk insert into the knowledge base in this session's transaction (the store's own)."""
        raise NotImplementedError

    def insert_quick_responses_bulk(self, account: str, region: str, kb_id: str, records: Iterable[Record]) -> int:
        """The import fast path for records already checked for uniqueness and quota, in the
        caller's write session (see `quick_response_loader`). Returns how many were inserted.

        A duplicate that slipped through still raises ConflictException, and the caller's
        transaction then rolls everything back."""
        loader = self.quick_response_loader(account, region, kb_id)
        loader.add([loader.build(r) for r in records])
        return loader.finish()
