"""Content of CUSTOM knowledge bases: one row each, the ContentData record as JSON,
`seq` for creation order, the knowledge base's `seq` as parent (ON DELETE CASCADE)."""

from __future__ import annotations

from typing import Any

from qconnect_local.storage.dialect import Record
from qconnect_local.storage.sql.session import SqlSession

_KB = "SELECT seq FROM knowledge_bases WHERE account_id = ? AND region = ? AND id = ?"


class ContentQueries(SqlSession):
    def insert_content(self, account: str, region: str, content: Record, text: str) -> bool:
        """False when the knowledge base already has content of that name. `text` is the file's
        text, for search."""
        cur = self.execute(
            "INSERT INTO contents (kb_seq, account_id, region, id, name, data, text)"
            " SELECT seq, ?, ?, ?, ?, ?, ? FROM knowledge_bases WHERE account_id = ? AND region = ? AND id = ?"
            " ON CONFLICT DO NOTHING",
            (
                account,
                region,
                content["contentId"],
                content["name"],
                self.dialect.json_param(content),
                text,
                account,
                region,
                content["knowledgeBaseId"],
            ),
        )
        inserted = bool(cur.rowcount > 0)
        if inserted:
            self.index_content_text(account, region, content["contentId"], content.get("title", ""), text)
        return inserted

    def index_content_text(self, account: str, region: str, content_id: str, title: str, text: str | None) -> None:
        """See content_search.ContentSearchQueries (the store's session provides it)."""

    def get_content(self, account: str, region: str, kb_id: str, content_id: str) -> Record | None:
        row = self.execute(
            f"SELECT data FROM contents WHERE account_id = ? AND region = ? AND id = ? AND kb_seq = ({_KB})"
            + self.row_lock(),
            (account, region, content_id, account, region, kb_id),
        ).fetchone()
        return self.dialect.json_value(row[0]) if row else None

    def update_content(self, account: str, region: str, content: Record, text: str | None = None) -> None:
        """Saves the record, and the file's text when a new file came with it."""
        if text is None:
            self.execute(
                "UPDATE contents SET data = ? WHERE account_id = ? AND region = ? AND id = ?",
                (self.dialect.json_param(content), account, region, content["contentId"]),
            )
        else:
            self.execute(
                "UPDATE contents SET data = ?, text = ? WHERE account_id = ? AND region = ? AND id = ?",
                (self.dialect.json_param(content), text, account, region, content["contentId"]),
            )
        self.index_content_text(account, region, content["contentId"], content.get("title", ""), text)

    def delete_content(self, account: str, region: str, kb_id: str, content_id: str) -> bool:
        cur = self.execute(
            f"DELETE FROM contents WHERE account_id = ? AND region = ? AND id = ? AND kb_seq = ({_KB})",
            (account, region, content_id, account, region, kb_id),
        )
        return bool(cur.rowcount > 0)

    def count_contents(self, account: str, region: str, kb_id: str) -> int:
        self.lock("content-quota", account, region, kb_id)
        return int(
            self.execute(f"SELECT count(*) FROM contents WHERE kb_seq = ({_KB})", (account, region, kb_id)).fetchone()[
                0
            ]
        )

    def list_contents(
        self, account: str, region: str, kb_id: str, name: str | None, after: int, limit: int
    ) -> list[tuple[int, Record]]:
        """The knowledge base's content in creation order after `after`, only that named `name`
        when it is given."""
        sql = f"SELECT seq, data FROM contents WHERE kb_seq = ({_KB}) AND seq > ?"
        params: list[Any] = [account, region, kb_id, after]
        if name is not None:
            sql += " AND name = ?"
            params.append(name)
        rows = self.execute(sql + " ORDER BY seq LIMIT ?", (*params, limit)).fetchall()
        return [(seq, self.dialect.json_value(data)) for seq, data in rows]
