"""Content text search on the PostgreSQL store: each content's `search_words` tsvector (GIN
index, migration 303) holds `t:<word>` for the words of its title and `c:<word>` for those of
its text, built here with the quick-response search's tokenizer and lexemes (rows.py), so both
stores split text into the same words. storage/sql/content_search.py scores."""

from __future__ import annotations

from typing import Any

from qconnect_local.search.plan import tokenize
from qconnect_local.storage.postgres.rows import FIELD_PREFIXES, word_lexeme
from qconnect_local.storage.sql.content_search import ContentSearchQueries

# A tsvector holds at most 1 MB: the words of a very long text past this many bytes of
# lexemes are not indexed (the first ones, in text order, are).
MAX_LEXEME_BYTES = 900_000
_ENTRY_BYTES = 8  # a lexeme's overhead in a tsvector, rounded up
_BACKFILL_BATCH = 500
CONTENT_SEARCH_STEP = 303  # the schema step that adds search_words


def content_words(title: str, text: str) -> str:
    """The tsvector text of a content's title and text."""
    budget = MAX_LEXEME_BYTES
    lexemes: list[str] = []
    for prefix, source in (("t", title), ("c", text)):
        for word in dict.fromkeys(tokenize(source)):
            lexeme = word_lexeme(prefix, word)
            budget -= len(lexeme.encode("utf-8")) + _ENTRY_BYTES
            if budget < 0:
                break
            lexemes.append(lexeme)
    return " ".join(f"'{lexeme}'" for lexeme in lexemes)


def index_unindexed_contents(conn: Any) -> int:
    """Builds the words of content written before migration 303 (run when the store opens)."""
    done = 0
    while True:
        rows = conn.execute(
            "SELECT seq, data->>'title', text FROM contents WHERE search_words IS NULL ORDER BY seq LIMIT %s",
            (_BACKFILL_BATCH,),
        ).fetchall()
        if not rows:
            return done
        with conn.cursor() as cur:
            cur.executemany(
                "UPDATE contents SET search_words = %s::tsvector WHERE seq = %s",
                [(content_words(title or "", text), seq) for seq, title, text in rows],
            )
        done += len(rows)


class PostgresContentSearch(ContentSearchQueries):
    content_title_sql = "(c.data->>'title')"
    content_status_sql = "(c.data->>'status')"
    content_collation = ' COLLATE "C"'

    def content_word_match(self, column: str | None, words: list[str]) -> tuple[str, Any]:
        prefixes = ("t", "c") if column is None else ("t",) if column == "title" else ("c",)
        query = " | ".join(f"'{word_lexeme(p, w)}'" for w in words for p in prefixes)
        return "c.search_words @@ ?::tsquery", query

    def quick_response_word_match(self, word: str) -> tuple[str, Any]:
        query = f"'{word_lexeme(FIELD_PREFIXES['name'], word)}' | '{word_lexeme(FIELD_PREFIXES['content'], word)}'"
        return "q.search_words @@ ?::tsquery", query

    def index_content_text(self, account: str, region: str, content_id: str, title: str, text: str | None) -> None:
        if text is None:
            row = self.execute(
                "SELECT text FROM contents WHERE account_id = ? AND region = ? AND id = ?",
                (account, region, content_id),
            ).fetchone()
            if row is None:
                return
            text = row[0]
        self.execute(
            "UPDATE contents SET search_words = ?::tsvector WHERE account_id = ? AND region = ? AND id = ?",
            (content_words(title, text or ""), account, region, content_id),
        )
