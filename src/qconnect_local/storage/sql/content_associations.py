"""Content associations: one row each, the ContentAssociationData record as JSON, hanging off
its content's `seq` (ON DELETE CASCADE: deleting content deletes its associations)."""

from __future__ import annotations

from qconnect_local.storage.dialect import Record
from qconnect_local.storage.sql.session import SqlSession

_CONTENT = "SELECT seq FROM contents WHERE account_id = ? AND region = ? AND id = ?"


class ContentAssociationQueries(SqlSession):
    def insert_content_association(self, account: str, region: str, association: Record, target: str) -> bool:
        """False when the content already has an association with `target`."""
        cur = self.execute(
            "INSERT INTO content_associations (content_seq, account_id, region, id, target, data)"
            " SELECT seq, ?, ?, ?, ?, ? FROM contents WHERE account_id = ? AND region = ? AND id = ?"
            " ON CONFLICT DO NOTHING",
            (
                account,
                region,
                association["contentAssociationId"],
                target,
                self.dialect.json_param(association),
                account,
                region,
                association["contentId"],
            ),
        )
        return bool(cur.rowcount > 0)

    def get_content_association(self, account: str, region: str, content_id: str, association_id: str) -> Record | None:
        row = self.execute(
            "SELECT data FROM content_associations WHERE account_id = ? AND region = ? AND id = ?"
            f" AND content_seq = ({_CONTENT})" + self.row_lock(),
            (account, region, association_id, account, region, content_id),
        ).fetchone()
        return self.dialect.json_value(row[0]) if row else None

    def update_content_association(self, account: str, region: str, association: Record) -> None:
        self.execute(
            "UPDATE content_associations SET data = ? WHERE account_id = ? AND region = ? AND id = ?",
            (self.dialect.json_param(association), account, region, association["contentAssociationId"]),
        )

    def delete_content_association(self, account: str, region: str, content_id: str, association_id: str) -> bool:
        cur = self.execute(
            "DELETE FROM content_associations WHERE account_id = ? AND region = ? AND id = ?"
            f" AND content_seq = ({_CONTENT})",
            (account, region, association_id, account, region, content_id),
        )
        return bool(cur.rowcount > 0)

    def list_content_associations(
        self, account: str, region: str, content_id: str, after: int, limit: int
    ) -> list[tuple[int, Record]]:
        rows = self.execute(
            f"SELECT seq, data FROM content_associations WHERE content_seq = ({_CONTENT}) AND seq > ?"
            " ORDER BY seq LIMIT ?",
            (account, region, content_id, after, limit),
        ).fetchall()
        return [(seq, self.dialect.json_value(data)) for seq, data in rows]
