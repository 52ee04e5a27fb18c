"""The SQLite store's quick-response writes: each keeps the FTS5 search index in step."""

from __future__ import annotations

import sqlite3

from qconnect_local.errors import ResourceNotFoundException
from qconnect_local.search.plan import SearchPlan, SortKey
from qconnect_local.storage.quick_response_records import Record
from qconnect_local.storage.sql.quick_responses import QuickResponseQueries
from qconnect_local.storage.sqlite.bulk_load import BulkLoader
from qconnect_local.storage.sqlite.rows import (
    COLUMNS,
    FTS_DELETE,
    FTS_INSERT,
    FTS_OLD,
    INSERT,
    build_row,
    conflict,
    fts_values,
)
from qconnect_local.storage.sqlite.search.executor import search
from qconnect_local.storage.sqlite.search.vocabulary import Vocabulary, vocabulary


class QuickResponseWrites(QuickResponseQueries):
    """The SQLite store's quick-response writes and search. Every method keeps
    `quick_responses_fts` in step with `quick_responses` in the session's transaction."""

    conn: sqlite3.Connection

    def _vocabulary(self) -> Vocabulary:
        return vocabulary(self.conn)

    # -- the import contract ------------------------------------------------------------------

    def insert_quick_response(self, account: str, region: str, kb_id: str, record: Record) -> None:
        """Inserts one quick response and its index entry.

        Guarantees: a duplicate name or shortcutKey in the knowledge base raises ConflictException
        naming the field; it is enforced by unique indexes in this transaction, so two concurrent
        creates can never both succeed. Nothing is written when it raises.
        """
        row = build_row(self._kb_seq(account, region, kb_id), record, self._vocabulary().add)
        try:
            cur = self.conn.execute(INSERT, row)
        except sqlite3.IntegrityError as exc:
            raise conflict(exc, record) from None
        self.conn.execute(FTS_INSERT, (cur.lastrowid, *fts_values(row)))

    def quick_response_loader(self, account: str, region: str, kb_id: str, expected_rows: int = 0) -> BulkLoader:
        """A bulk insert into the knowledge base, in this session's transaction: `build` rows
        (on any thread), `add` them batch by batch, then `finish`. `expected_rows`, a guess at
        how many rows will come, lets a big load start as one (see BulkLoader)."""
        return BulkLoader(self.conn, self._kb_seq(account, region, kb_id), self._vocabulary(), expected_rows)

    # -- single-record operations -------------------------------------------------------------

    def update_quick_response(self, account: str, region: str, kb_id: str, record: Record) -> None:
        """Replaces a quick response (same id) and its index entry; ConflictException as for insert."""
        kb = self._kb_seq(account, region, kb_id)
        old = self.conn.execute(FTS_OLD, (record["quickResponseId"], kb)).fetchone()
        if old is None:
            raise ResourceNotFoundException("Quick response not found", resource_name=record["quickResponseId"])
        row = build_row(kb, record, self._vocabulary().add)
        self.conn.execute(FTS_DELETE, old)
        try:
            self.conn.execute(
                f"UPDATE quick_responses SET {', '.join(f'{c} = ?' for c in COLUMNS)} WHERE seq = ?",
                (*row, old[0]),
            )
        except sqlite3.IntegrityError as exc:
            raise conflict(exc, record) from None
        self.conn.execute(FTS_INSERT, (old[0], *fts_values(row)))

    def delete_quick_response(self, account: str, region: str, kb_id: str, qr_id: str) -> bool:
        kb = self._kb_seq(account, region, kb_id)
        old = self.conn.execute(FTS_OLD, (qr_id, kb)).fetchone()
        if old is None:
            return False
        self.conn.execute(FTS_DELETE, old)
        self.conn.execute("DELETE FROM quick_responses WHERE seq = ?", (old[0],))
        return True

    def search_quick_responses(
        self, account: str, region: str, kb_id: str, plan: SearchPlan
    ) -> list[tuple[SortKey, Record]]:
        """Runs a search/plan.py SearchPlan: up to plan.limit + 1 (SortKey, record) results after
        plan.after, in the plan's order (see search/executor.py)."""
        return search(self.conn, self._kb_seq(account, region, kb_id), plan)
