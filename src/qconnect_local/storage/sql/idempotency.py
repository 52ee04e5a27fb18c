"""clientToken bookkeeping: which request a token created which resource with."""

from __future__ import annotations

from qconnect_local.storage.sql.session import SqlSession


class IdempotencyQueries(SqlSession):
    def get_idempotency(
        self, account: str, region: str, operation: str, scope: str, token: str
    ) -> tuple[str, str] | None:
        # The lookup decides whether to create: two requests with one token must not both miss.
        self.lock("client-token", account, region, operation, scope, token)
        row = self.execute(
            "SELECT request_hash, resource_id FROM idempotency_tokens WHERE account_id = ?"
            " AND region = ? AND operation = ? AND scope = ? AND token = ?",
            (account, region, operation, scope, token),
        ).fetchone()
        return (row[0], row[1]) if row else None

    def put_idempotency(
        self,
        account: str,
        region: str,
        operation: str,
        scope: str,
        token: str,
        request_hash: str,
        resource_id: str,
        created: float,
    ) -> None:
        self.execute(
            "INSERT INTO idempotency_tokens VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            (account, region, operation, scope, token, request_hash, resource_id, created),
        )
