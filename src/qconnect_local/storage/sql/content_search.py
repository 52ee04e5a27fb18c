"""The word search of content text for Retrieve and QueryAssistant, written once for both
stores: each store says how a row `c` of `contents` is tested for words in its own index
(SQLite: the contents_fts table; PostgreSQL: the search_words tsvector), and this module
scores and orders in SQL.

Score of a content: for each query word, 2 when its title has the word and 1 when its text has
it (docs/assistants.md, "Retrieval"). Only ACTIVE content is searched. `common_words` tells
which words of a query are in too many items of a knowledge base to be worth searching."""

from __future__ import annotations

from typing import Any, ClassVar

from qconnect_local.storage.dialect import Record
from qconnect_local.storage.sql.session import SqlSession

_KB = "SELECT seq FROM knowledge_bases WHERE account_id = ? AND region = ? AND id = ?"

# (score, title, content id)
ContentHit = tuple[int, str, str]


class ContentSearchQueries(SqlSession):
    # A content row's title and status as SQL on `c`, and the collation that orders text
    # byte-wise ("" where that is the default).
    content_title_sql: ClassVar[str]
    content_status_sql: ClassVar[str]
    content_collation: ClassVar[str] = ""

    def content_word_match(self, column: str | None, words: list[str]) -> tuple[str, Any]:
        """A test of row `c`: its `column` ("title" or "text"; None: either) has one of `words`,
        with its one parameter."""
        raise NotImplementedError

    def quick_response_word_match(self, word: str) -> tuple[str, Any]:
        """A test of row `q` of quick_responses: its name or content has `word`, with its one
        parameter."""
        raise NotImplementedError

    def index_content_text(self, account: str, region: str, content_id: str, title: str, text: str | None) -> None:
        """Brings the index of one content up to date after a write of its title or text
        (`text` None: unchanged). A no-op where triggers keep the index (SQLite)."""

    def search_content_text(
        self, account: str, region: str, kb_id: str, words: list[str], limit: int
    ) -> list[ContentHit]:
        """The `limit` best ACTIVE contents of the knowledge base with any of `words`, by score
        descending, then title, then id."""
        if not words:
            return []
        terms: list[str] = []
        params: list[Any] = []
        for word in words:
            in_title, title_param = self.content_word_match("title", [word])
            in_text, text_param = self.content_word_match("text", [word])
            terms.append(f"(CASE WHEN {in_title} THEN 2 ELSE 0 END + CASE WHEN {in_text} THEN 1 ELSE 0 END)")
            params.extend((title_param, text_param))
        any_word, any_param = self.content_word_match(None, words)
        collate = self.content_collation
        sql = (
            f"SELECT score, title, id FROM (SELECT {' + '.join(terms)} AS score,"
            f" {self.content_title_sql}{collate} AS title, c.id{collate} AS id FROM contents c"
            f" WHERE c.kb_seq = ({_KB}) AND {self.content_status_sql} = 'ACTIVE' AND {any_word}) s"
            " ORDER BY score DESC, title, id LIMIT ?"
        )
        rows = self.execute(sql, (*params, account, region, kb_id, any_param, limit)).fetchall()
        return [(int(score), str(title), str(content_id)) for score, title, content_id in rows]

    def common_words(
        self, account: str, region: str, kb_id: str, quick_responses: bool, words: list[str], over: int
    ) -> list[str]:
        """The words in more than `over` items of the knowledge base (its contents, or with
        `quick_responses` the names and contents of its quick responses; any status), each
        counted only up to `over` + 1, so a common word costs a bounded walk."""
        table, kb_column = ("quick_responses q", "q.kb") if quick_responses else ("contents c", "c.kb_seq")
        common = []
        for word in words:
            match, param = (
                self.quick_response_word_match(word) if quick_responses else self.content_word_match(None, [word])
            )
            sql = f"SELECT count(*) FROM (SELECT 1 FROM {table} WHERE {kb_column} = ({_KB}) AND {match} LIMIT ?) n"
            if self.execute(sql, (account, region, kb_id, param, over + 1)).fetchone()[0] > over:
                common.append(word)
        return common

    def contents_with_text(self, account: str, region: str, content_ids: list[str]) -> dict[str, tuple[Record, str]]:
        """The records and texts of these contents, by id."""
        if not content_ids:
            return {}
        marks = ", ".join("?" for _ in content_ids)
        rows = self.execute(
            f"SELECT id, data, text FROM contents WHERE account_id = ? AND region = ? AND id IN ({marks})",
            (account, region, *content_ids),
        ).fetchall()
        return {row[0]: (self.dialect.json_value(row[1]), row[2]) for row in rows}
