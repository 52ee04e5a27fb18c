"""The PostgreSQL store's message-template search: the quick responses' engine (search.py) over
`message_templates`, with the same `search_words`/`exact_words` tsvectors (rows.py builds them)
and its own table of words for allowFuzziness, `message_template_words`."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from qconnect_local.search.plan import SearchPlan, SortKey
from qconnect_local.storage.dialect import Record
from qconnect_local.storage.postgres.rows import fuzzy_words, index_words
from qconnect_local.storage.postgres.search import search_message_templates
from qconnect_local.storage.sql.message_templates import MessageTemplateQueries
from qconnect_local.storage.sql.search_tables import MESSAGE_TEMPLATES, TEMPLATE_COLUMNS, template_columns

_ADD_WORDS = (
    f"INSERT INTO {MESSAGE_TEMPLATES.words} (word) SELECT w FROM unnest(%s::text[]) AS w ORDER BY w"
    " ON CONFLICT DO NOTHING"
)


def _index(record: Record) -> tuple[str, str, set[str]]:
    """(search_words, exact_words, the words) of a template's name and description."""
    return index_words((record.get("name"), None, record.get("description"), None))


def _add_words(conn: Any, words: Iterable[str]) -> None:
    fresh = fuzzy_words(words)
    if fresh:
        conn.execute(_ADD_WORDS, (fresh,))


_TEXT, _TIME = 'TEXT COLLATE "C"', "DOUBLE PRECISION"


def migrate_search(conn: Any) -> None:
    """Step 402: the search columns (byte-wise "C" collation, as quick responses'), the index and
    the words of fuzzy search; existing templates filled in."""
    added = ", ".join(f"ADD COLUMN {c} {_TIME if c.endswith('_time') else _TEXT}" for c in TEMPLATE_COLUMNS)
    conn.execute(
        f'ALTER TABLE message_templates ALTER COLUMN name TYPE TEXT COLLATE "C", {added},'
        " ADD COLUMN search_words tsvector, ADD COLUMN exact_words tsvector"
    )
    conn.execute(f'CREATE TABLE {MESSAGE_TEMPLATES.words} (word TEXT COLLATE "C" PRIMARY KEY)')
    conn.execute(f"CREATE INDEX message_template_words_length ON {MESSAGE_TEMPLATES.words} (length(word))")
    assignments = ", ".join(f"{c} = %s" for c in (*TEMPLATE_COLUMNS, "search_words", "exact_words"))
    words: set[str] = set()
    for seq, record in conn.execute("SELECT seq, data FROM message_templates").fetchall():
        search_words, exact_words, found = _index(record)
        words |= found
        conn.execute(
            f"UPDATE message_templates SET {assignments} WHERE seq = %s",
            (*template_columns(record), search_words, exact_words, seq),
        )
    _add_words(conn, sorted(words))
    conn.execute("CREATE INDEX message_templates_search ON message_templates USING gin (search_words)")


class MessageTemplateSearch(MessageTemplateQueries):
    """Message-template writes add their words to `message_template_words`; search runs the
    shared executor."""

    conn: Any
    TEMPLATE_INDEX_COLUMNS = ("search_words", "exact_words")
    _bulk_words: set[str] | None = None

    def _template_index(self, record: Record, bulk: bool = False) -> tuple[Any, ...]:
        search_words, exact_words, found = _index(record)
        if bulk:
            self._bulk_words = (self._bulk_words or set()) | found
        else:
            _add_words(self.conn, found)
        return search_words, exact_words

    def _templates_bulk_inserted(self) -> None:
        _add_words(self.conn, sorted(self._bulk_words or ()))
        self._bulk_words = None

    def search_message_templates(
        self, account: str, region: str, kb_id: str, plan: SearchPlan
    ) -> list[tuple[SortKey, Record]]:
        """Up to plan.limit + 1 (key, `$LATEST` record) results after plan.after, in the plan's order."""
        return search_message_templates(self.conn, self._kb_seq(account, region, kb_id), plan)
