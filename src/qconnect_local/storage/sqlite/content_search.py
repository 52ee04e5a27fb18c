"""Content text search on the SQLite store: the contentless FTS5 table `contents_fts` that the
triggers of migration 303 keep in step with `contents` (storage/sql/content_search.py scores)."""

from __future__ import annotations

from typing import Any

from qconnect_local.storage.sql.content_search import ContentSearchQueries


class SQLiteContentSearch(ContentSearchQueries):
    content_title_sql = "json_extract(CAST(c.data AS TEXT), '$.title')"
    content_status_sql = "json_extract(CAST(c.data AS TEXT), '$.status')"

    def content_word_match(self, column: str | None, words: list[str]) -> tuple[str, Any]:
        # Words come from search.plan.tokenize (letters and digits only): safe inside quotes.
        expression = " OR ".join(f'"{w}"' for w in words)
        if column is not None:
            expression = f"{column} : ({expression})"
        return "c.seq IN (SELECT rowid FROM contents_fts WHERE contents_fts MATCH ?)", expression

    def quick_response_word_match(self, word: str) -> tuple[str, Any]:
        match = f'{{name content}} : "{word}"'
        return "q.seq IN (SELECT rowid FROM quick_responses_fts WHERE quick_responses_fts MATCH ?)", match
