"""Knowledge bases: one row each, the KnowledgeBaseData record as JSON, `seq` for creation order."""

from __future__ import annotations

from qconnect_local.errors import ResourceNotFoundException
from qconnect_local.storage.dialect import Record
from qconnect_local.storage.sql.session import SqlSession


class KnowledgeBaseQueries(SqlSession):
    def insert_knowledge_base(self, account: str, region: str, kb: Record) -> None:
        self.execute(
            "INSERT INTO knowledge_bases (account_id, region, id, data) VALUES (?, ?, ?, ?)",
            (account, region, kb["knowledgeBaseId"], self.dialect.json_param(kb)),
        )

    def get_knowledge_base(self, account: str, region: str, kb_id: str) -> Record | None:
        row = self.execute(
            "SELECT data FROM knowledge_bases WHERE account_id = ? AND region = ? AND id = ?" + self.row_lock(),
            (account, region, kb_id),
        ).fetchone()
        return self.dialect.json_value(row[0]) if row else None

    def knowledge_base_seq(self, account: str, region: str, kb_id: str) -> int | None:
        """The knowledge base's row number (None if there is none); in a write session on
        PostgreSQL this locks its row until the session ends."""
        row = self.execute(
            "SELECT seq FROM knowledge_bases WHERE account_id = ? AND region = ? AND id = ?" + self.row_lock(),
            (account, region, kb_id),
        ).fetchone()
        return row[0] if row else None

    def _kb_seq(self, account: str, region: str, kb_id: str) -> int:
        seq = self.knowledge_base_seq(account, region, kb_id)
        if seq is None:
            raise ResourceNotFoundException("Knowledge base not found", resource_name=kb_id)
        return seq

    def update_knowledge_base(self, account: str, region: str, kb: Record) -> None:
        self.execute(
            "UPDATE knowledge_bases SET data = ? WHERE account_id = ? AND region = ? AND id = ?",
            (self.dialect.json_param(kb), account, region, kb["knowledgeBaseId"]),
        )

    def touch_knowledge_base_content(self, account: str, region: str, kb_id: str, when: float) -> None:
        """Sets the knowledge base's lastContentModificationTime to `when` (epoch seconds)."""
        kb = self.get_knowledge_base(account, region, kb_id)
        if kb is None:
            raise ResourceNotFoundException("Knowledge base not found", resource_name=kb_id)
        kb["lastContentModificationTime"] = when
        self.update_knowledge_base(account, region, kb)

    def delete_knowledge_base(self, account: str, region: str, kb_id: str) -> bool:
        # Child tables reference knowledge_bases(seq) ON DELETE CASCADE.
        cur = self.execute(
            "DELETE FROM knowledge_bases WHERE account_id = ? AND region = ? AND id = ?",
            (account, region, kb_id),
        )
        return bool(cur.rowcount > 0)

    def count_knowledge_bases(self, account: str, region: str) -> int:
        # A count in a write session comes before a create: hold the quota until commit.
        self.lock("knowledge-base-quota", account, region)
        return int(
            self.execute(
                "SELECT count(*) FROM knowledge_bases WHERE account_id = ? AND region = ?",
                (account, region),
            ).fetchone()[0]
        )

    def list_knowledge_bases(self, account: str, region: str, after: int, limit: int) -> list[tuple[int, Record]]:
        rows = self.execute(
            "SELECT seq, data FROM knowledge_bases WHERE account_id = ? AND region = ? AND seq > ?"
            " ORDER BY seq LIMIT ?",
            (account, region, after, limit),
        ).fetchall()
        json_value = self.dialect.json_value
        return [(seq, json_value(data)) for seq, data in rows]
