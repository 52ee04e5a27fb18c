"""Assistants, their knowledge-base associations and their sessions: one row each,
the API's record as JSON, `seq` for creation order. Children hang off their assistant's `seq`
(ON DELETE CASCADE), an association also off its knowledge base's."""

from __future__ import annotations

from typing import Any

from qconnect_local.storage.dialect import Record
from qconnect_local.storage.sql.session import SqlSession


class AssistantQueries(SqlSession):
    # -- assistants ---------------------------------------------------------------------------

    def insert_assistant(self, account: str, region: str, assistant: Record) -> None:
        self.execute(
            "INSERT INTO assistants (account_id, region, id, data) VALUES (?, ?, ?, ?)",
            (account, region, assistant["assistantId"], self.dialect.json_param(assistant)),
        )

    def get_assistant(self, account: str, region: str, assistant_id: str) -> Record | None:
        row = self.execute(
            "SELECT data FROM assistants WHERE account_id = ? AND region = ? AND id = ?" + self.row_lock(),
            (account, region, assistant_id),
        ).fetchone()
        return self.dialect.json_value(row[0]) if row else None

    def update_assistant(self, account: str, region: str, assistant: Record) -> None:
        self.execute(
            "UPDATE assistants SET data = ? WHERE account_id = ? AND region = ? AND id = ?",
            (self.dialect.json_param(assistant), account, region, assistant["assistantId"]),
        )

    def delete_assistant(self, account: str, region: str, assistant_id: str) -> bool:
        # Its associations and sessions reference assistants(seq) ON DELETE CASCADE.
        cur = self.execute(
            "DELETE FROM assistants WHERE account_id = ? AND region = ? AND id = ?",
            (account, region, assistant_id),
        )
        return bool(cur.rowcount > 0)

    def count_assistants(self, account: str, region: str) -> int:
        # A count in a write session comes before a create: hold the quota until commit.
        self.lock("assistant-quota", account, region)
        return int(
            self.execute(
                "SELECT count(*) FROM assistants WHERE account_id = ? AND region = ?", (account, region)
            ).fetchone()[0]
        )

    def list_assistants(self, account: str, region: str, after: int, limit: int) -> list[tuple[int, Record]]:
        rows = self.execute(
            "SELECT seq, data FROM assistants WHERE account_id = ? AND region = ? AND seq > ? ORDER BY seq LIMIT ?",
            (account, region, after, limit),
        ).fetchall()
        return [(seq, self.dialect.json_value(data)) for seq, data in rows]

    # -- assistant associations ---------------------------------------------------------------

    def insert_assistant_association(self, account: str, region: str, association: Record, kb_id: str | None) -> bool:
        """False when the knowledge base is already associated with the assistant."""
        kb_seq: Any = None
        if kb_id is not None:
            row = self.execute(
                "SELECT seq FROM knowledge_bases WHERE account_id = ? AND region = ? AND id = ?" + self.row_lock(),
                (account, region, kb_id),
            ).fetchone()
            kb_seq = row[0] if row else None
        cur = self.execute(
            "INSERT INTO assistant_associations (assistant_seq, kb_seq, account_id, region, id, data)"
            " SELECT seq, ?, ?, ?, ?, ? FROM assistants WHERE account_id = ? AND region = ? AND id = ?"
            " ON CONFLICT DO NOTHING",
            (
                kb_seq,
                account,
                region,
                association["assistantAssociationId"],
                self.dialect.json_param(association),
                account,
                region,
                association["assistantId"],
            ),
        )
        return bool(cur.rowcount > 0)

    def get_assistant_association(
        self, account: str, region: str, assistant_id: str, association_id: str
    ) -> Record | None:
        row = self.execute(
            "SELECT c.data FROM assistant_associations c JOIN assistants a ON a.seq = c.assistant_seq"
            " WHERE c.account_id = ? AND c.region = ? AND c.id = ? AND a.id = ?" + self.row_lock(),
            (account, region, association_id, assistant_id),
        ).fetchone()
        return self.dialect.json_value(row[0]) if row else None

    def update_assistant_association(self, account: str, region: str, association: Record) -> None:
        self.execute(
            "UPDATE assistant_associations SET data = ? WHERE account_id = ? AND region = ? AND id = ?",
            (self.dialect.json_param(association), account, region, association["assistantAssociationId"]),
        )

    def delete_assistant_association(self, account: str, region: str, assistant_id: str, association_id: str) -> bool:
        cur = self.execute(
            "DELETE FROM assistant_associations WHERE account_id = ? AND region = ? AND id = ?"
            " AND assistant_seq IN (SELECT seq FROM assistants WHERE account_id = ? AND region = ? AND id = ?)",
            (account, region, association_id, account, region, assistant_id),
        )
        return bool(cur.rowcount > 0)

    def count_assistant_associations(self, account: str, region: str) -> int:
        self.lock("assistant-association-quota", account, region)
        return int(
            self.execute(
                "SELECT count(*) FROM assistant_associations WHERE account_id = ? AND region = ?", (account, region)
            ).fetchone()[0]
        )

    def list_assistant_associations(
        self, account: str, region: str, assistant_id: str, after: int, limit: int
    ) -> list[tuple[int, Record]]:
        rows = self.execute(
            "SELECT c.seq, c.data FROM assistant_associations c JOIN assistants a ON a.seq = c.assistant_seq"
            " WHERE a.account_id = ? AND a.region = ? AND a.id = ? AND c.seq > ? ORDER BY c.seq LIMIT ?",
            (account, region, assistant_id, after, limit),
        ).fetchall()
        return [(seq, self.dialect.json_value(data)) for seq, data in rows]

    # -- sessions -----------------------------------------------------------------------------

    def insert_session(self, account: str, region: str, assistant_id: str, session: Record) -> None:
        self.execute(
            "INSERT INTO assistant_sessions (assistant_seq, account_id, region, id, name, data, runtime_data)"
            " SELECT seq, ?, ?, ?, ?, ?, ? FROM assistants WHERE account_id = ? AND region = ? AND id = ?",
            (
                account,
                region,
                session["sessionId"],
                session["name"],
                self.dialect.json_param(session),
                self.dialect.json_param({}),
                account,
                region,
                assistant_id,
            ),
        )

    def get_session(self, account: str, region: str, assistant_id: str, session_id: str) -> Record | None:
        row = self.execute(
            "SELECT s.data FROM assistant_sessions s JOIN assistants a ON a.seq = s.assistant_seq"
            " WHERE s.account_id = ? AND s.region = ? AND s.id = ? AND a.id = ?" + self.row_lock(),
            (account, region, session_id, assistant_id),
        ).fetchone()
        return self.dialect.json_value(row[0]) if row else None

    def update_session(self, account: str, region: str, session: Record) -> None:
        self.execute(
            "UPDATE assistant_sessions SET data = ? WHERE account_id = ? AND region = ? AND id = ?",
            (self.dialect.json_param(session), account, region, session["sessionId"]),
        )

    def get_session_data(self, account: str, region: str, session_id: str) -> dict[str, Any]:
        """The session's runtime data by namespace: {namespace: [{key, value}, ...]}."""
        row = self.execute(
            "SELECT runtime_data FROM assistant_sessions WHERE account_id = ? AND region = ? AND id = ?"
            + self.row_lock(),
            (account, region, session_id),
        ).fetchone()
        return self.dialect.json_value(row[0]) if row else {}

    def put_session_data(self, account: str, region: str, session_id: str, data: dict[str, Any]) -> None:
        self.execute(
            "UPDATE assistant_sessions SET runtime_data = ? WHERE account_id = ? AND region = ? AND id = ?",
            (self.dialect.json_param(data), account, region, session_id),
        )

    def search_sessions(
        self, account: str, region: str, assistant_id: str, name: str | None, after: int, limit: int
    ) -> list[tuple[int, Record]]:
        """The assistant's sessions in creation order after `after`, only those named `name`
        when it is given."""
        sql = (
            "SELECT s.seq, s.data FROM assistant_sessions s JOIN assistants a ON a.seq = s.assistant_seq"
            " WHERE a.account_id = ? AND a.region = ? AND a.id = ? AND s.seq > ?"
        )
        params: list[Any] = [account, region, assistant_id, after]
        if name is not None:
            sql += " AND s.name = ?"
            params.append(name)
        rows = self.execute(sql + " ORDER BY s.seq LIMIT ?", (*params, limit)).fetchall()
        return [(seq, self.dialect.json_value(data)) for seq, data in rows]
