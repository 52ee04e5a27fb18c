"""Text extraction of content files in the background: a content with a `task` waits for a
runner, which claims it with a lease (as import jobs are claimed), reads the file outside any
transaction and lands the outcome only if the task is still the content's (a newer upload
replaces the task, and the stale outcome is dropped)."""

from __future__ import annotations

from typing import Any

from qconnect_local.storage.dialect import Record
from qconnect_local.storage.sql.import_jobs import leased_queue_depth
from qconnect_local.storage.sql.session import SqlSession

_RUNNABLE = "task IS NOT NULL AND run_after <= ? AND (lease_expires IS NULL OR lease_expires < ?)"


class ContentTaskQueries(SqlSession):
    def set_content_task(
        self, account: str, region: str, content_id: str, upload_id: str, task: str, kind: str, run_after: float | None
    ) -> None:
        """A new file to read: replaces any pending task (`run_after` None holds it: manual mode)."""
        self.execute(
            "UPDATE contents SET upload_id = ?, task = ?, task_kind = ?, run_after = ?, lease_owner = NULL,"
            " lease_expires = NULL, attempts = 0 WHERE account_id = ? AND region = ? AND id = ?",
            (upload_id, task, kind, run_after, account, region, content_id),
        )

    def content_task_due(self, now: float) -> tuple[bool, float | None]:
        """(whether a task can be claimed now, the earliest future run time or None): a read, so
        an idle runner never takes the write lock."""
        if self.execute(f"SELECT 1 FROM contents WHERE {_RUNNABLE} LIMIT 1", (now, now)).fetchone():
            return True, None
        return False, self._soonest()

    def _soonest(self) -> float | None:
        (soonest,) = self.execute(
            f"SELECT min({self.dialect.greatest}(run_after, coalesce(lease_expires, 0))) FROM contents"
            " WHERE task IS NOT NULL AND run_after IS NOT NULL"
        ).fetchone()
        return soonest

    def claim_next_content_task(self, owner: str, now: float, until: float) -> tuple[Record | None, float | None]:
        """Claims the oldest runnable task: (the task, None) or (None, when to look again). A
        task is {account, region, content, task, kind, attempts}."""
        rows = self.execute(
            "UPDATE contents SET lease_owner = ?, lease_expires = ?, attempts = attempts + 1"
            f" WHERE seq = (SELECT seq FROM contents WHERE {_RUNNABLE} ORDER BY run_after, seq LIMIT 1"
            f"{self.skip_locked()}) RETURNING account_id, region, data, task, task_kind, attempts",
            (owner, until, now, now),
        ).fetchall()
        if rows:
            account, region, data, task, kind, attempts = rows[0]
            content = self.dialect.json_value(data)
            return {
                "account": account,
                "region": region,
                "content": content,
                "task": task,
                "kind": kind,
                "attempts": attempts,
            }, None
        return None, self._soonest()

    def end_content_task(self, account: str, region: str, content_id: str, task: str) -> Record | None:
        """Takes the task off its content and returns the content's record to land the outcome
        in; None when the task is not the content's any more (replaced, or the content deleted)."""
        cur = self.execute(
            "UPDATE contents SET task = NULL, task_kind = NULL, run_after = NULL, lease_owner = NULL,"
            " lease_expires = NULL WHERE account_id = ? AND region = ? AND id = ? AND task = ?",
            (account, region, content_id, task),
        )
        if cur.rowcount == 0:
            return None
        row = self.execute(
            "SELECT data FROM contents WHERE account_id = ? AND region = ? AND id = ?", (account, region, content_id)
        ).fetchone()
        return self.dialect.json_value(row[0]) if row else None

    def release_content_task(self, content_id: str) -> bool:
        """Manual mode: lets the runner take a held task now; False when none is pending."""
        cur = self.execute("UPDATE contents SET run_after = 0 WHERE id = ? AND task IS NOT NULL", (content_id,))
        return bool(cur.rowcount > 0)

    def content_task_state(self, content_id: str) -> tuple[str, bool] | None:
        """(the content's status, whether a task is pending), None for no such content."""
        row: Any = self.execute("SELECT data, task FROM contents WHERE id = ?", (content_id,)).fetchone()
        if row is None:
            return None
        return str(self.dialect.json_value(row[0])["status"]), row[1] is not None

    def content_queue_depth(self) -> dict[str, int]:
        """Content files waiting for a runner and being read (for /_qconnect/health)."""
        return leased_queue_depth(self, "contents", "task IS NOT NULL")

    def content_task_leases(self) -> list[tuple[str, str]]:
        rows = self.execute(
            "SELECT id, lease_owner FROM contents WHERE task IS NOT NULL AND lease_owner IS NOT NULL"
        ).fetchall()
        return [(content_id, owner) for content_id, owner in rows]

    def expire_content_task_lease(self, content_id: str, owner: str) -> bool:
        cur = self.execute(
            "UPDATE contents SET lease_owner = NULL, lease_expires = NULL"
            " WHERE id = ? AND lease_owner = ? AND task IS NOT NULL",
            (content_id, owner),
        )
        return bool(cur.rowcount > 0)
