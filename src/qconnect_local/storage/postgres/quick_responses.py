"""The PostgreSQL store's quick-response writes: each writes the row's search words with it."""

from __future__ import annotations

from collections.abc import Callable
from contextlib import AbstractContextManager

import psycopg
import psycopg.errors

from qconnect_local.errors import ResourceNotFoundException
from qconnect_local.search.plan import SearchPlan, SortKey
from qconnect_local.storage.postgres.bulk_load import BulkLoader
from qconnect_local.storage.postgres.rows import ADD_WORDS, INSERT, UPDATE, build_row, conflict, fuzzy_words
from qconnect_local.storage.postgres.search import search
from qconnect_local.storage.quick_response_records import Record
from qconnect_local.storage.sql.quick_responses import QuickResponseQueries


class QuickResponseWrites(QuickResponseQueries):
    """The PostgreSQL store's quick-response writes and search. Every method that writes inside
    a knowledge base first reads its row through `knowledge_base_seq`, which locks it in a write
    session, so writers of one knowledge base are serialized across servers and workers; the
    unique indexes stay the last word."""

    conn: psycopg.Connection
    # Another pooled connection (a context manager) for work that commits on its own while
    # this session's transaction runs (bulk_load.WordsWriter); None in read sessions.
    side_connection: Callable[[], AbstractContextManager[psycopg.Connection]] | None

    # -- the import contract ------------------------------------------------------------------

    def insert_quick_response(self, account: str, region: str, kb_id: str, record: Record) -> None:
        """Inserts one quick response; a duplicate name or shortcutKey raises ConflictException
        naming the field, and leaves the session usable (the insert runs in a savepoint, since a
        failed statement would otherwise abort the whole PostgreSQL transaction)."""
        words: set[str] = set()
        row = build_row(self._kb_seq(account, region, kb_id), record, words)
        try:
            with self.conn.transaction():
                self.conn.execute(INSERT, row)
        except psycopg.errors.UniqueViolation as exc:
            raise conflict(exc, record) from None
        self._remember_words(words)

    def _remember_words(self, words: set[str]) -> None:
        """Adds words to the fuzzy-search vocabulary (see ADD_WORDS)."""
        fresh = fuzzy_words(words)
        if fresh:
            self.conn.execute(ADD_WORDS, (fresh,))

    def quick_response_loader(self, account: str, region: str, kb_id: str, expected_rows: int = 0) -> BulkLoader:
        """The SQLite store's bulk-load contract (build, add, finish; a context manager).
        `expected_rows` (a guess) tells a small load from a big one (BulkLoader.idle)."""
        return BulkLoader(self.conn, self._kb_seq(account, region, kb_id), self.side_connection, expected_rows)

    # -- single-record operations -------------------------------------------------------------

    def update_quick_response(self, account: str, region: str, kb_id: str, record: Record) -> None:
        """Replaces a quick response (same id); ConflictException as for insert."""
        kb = self._kb_seq(account, region, kb_id)
        old = self.conn.execute(
            "SELECT seq FROM quick_responses WHERE id = %s AND kb = %s",
            (record["quickResponseId"], kb),
        ).fetchone()
        if old is None:
            raise ResourceNotFoundException("Quick response not found", resource_name=record["quickResponseId"])
        words: set[str] = set()
        try:
            with self.conn.transaction():
                self.conn.execute(UPDATE, (*build_row(kb, record, words), old[0]))
        except psycopg.errors.UniqueViolation as exc:
            raise conflict(exc, record) from None
        self._remember_words(words)

    def delete_quick_response(self, account: str, region: str, kb_id: str, qr_id: str) -> bool:
        kb = self._kb_seq(account, region, kb_id)
        cur = self.conn.execute("DELETE FROM quick_responses WHERE id = %s AND kb = %s", (qr_id, kb))
        return cur.rowcount > 0

    def search_quick_responses(
        self, account: str, region: str, kb_id: str, plan: SearchPlan
    ) -> list[tuple[SortKey, Record]]:
        """Runs a search/plan.py SearchPlan: up to plan.limit + 1 (SortKey, record) results after
        plan.after, in the plan's order (see search.py)."""
        return search(self.conn, self._kb_seq(account, region, kb_id), plan)
