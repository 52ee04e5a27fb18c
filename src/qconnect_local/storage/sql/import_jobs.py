"""Import jobs, and the runners' side of them.

An import job is claimed by a runner with a lease (`lease_owner`, `lease_expires`): a job whose
lease ran out (its runner died) can be claimed again, and a runner may only finish a job it still
holds, so two runners can never both land the same job.
"""

from __future__ import annotations

from typing import Any

from qconnect_local.storage.dialect import Record
from qconnect_local.storage.sql.session import SqlSession

_JOB_COLUMNS = "status, modified, data, report_key, run_after, lease_owner, attempts, account_id, region, caller_arn"
_RUNNABLE = "status = 'START_IN_PROGRESS' AND run_after <= ? AND (lease_expires IS NULL OR lease_expires < ?)"


class ImportJobQueries(SqlSession):
    def _job(self, row: tuple[Any, ...]) -> Record:
        """A job row -> its ImportJobData record plus private keys (leading underscore)."""
        status, modified, data, report_key, run_after, lease_owner, attempts, account, region, caller = row
        job: Record = self.dialect.json_value(data)
        job["status"] = status
        job["lastModifiedTime"] = modified
        job["_reportKey"] = report_key
        job["_runAfter"] = run_after
        job["_leaseOwner"] = lease_owner
        job["_attempts"] = attempts
        job["_accountId"] = account
        job["_region"] = region
        job["_callerArn"] = caller
        return job

    def insert_import_job(
        self, account: str, region: str, job: Record, caller_arn: str, run_after: float | None
    ) -> None:
        fixed = {k: v for k, v in job.items() if k not in ("status", "lastModifiedTime")}
        self.execute(
            "INSERT INTO import_jobs (kb_seq, account_id, region, id, kb_id, upload_id, status, modified,"
            " data, caller_arn, run_after)"
            " SELECT seq, ?, ?, ?, ?, ?, ?, ?, ?, ?, ? FROM knowledge_bases"
            " WHERE account_id = ? AND region = ? AND id = ?",
            (
                account,
                region,
                job["importJobId"],
                job["knowledgeBaseId"],
                job["uploadId"],
                job["status"],
                job["lastModifiedTime"],
                self.dialect.json_param(fixed),
                caller_arn,
                run_after,
                account,
                region,
                job["knowledgeBaseId"],
            ),
        )

    def get_import_job(self, account: str, region: str, kb_id: str, job_id: str) -> Record | None:
        row = self.execute(
            f"SELECT {_JOB_COLUMNS} FROM import_jobs WHERE account_id = ? AND region = ? AND kb_id = ? AND id = ?",
            (account, region, kb_id, job_id),
        ).fetchone()
        return self._job(row) if row else None

    def get_import_job_by_id(self, job_id: str) -> Record | None:
        row = self.execute(f"SELECT {_JOB_COLUMNS} FROM import_jobs WHERE id = ?", (job_id,)).fetchone()
        return self._job(row) if row else None

    def list_import_jobs(
        self, account: str, region: str, kb_id: str, after: int, limit: int
    ) -> list[tuple[int, Record]]:
        rows = self.execute(
            f"SELECT seq, {_JOB_COLUMNS} FROM import_jobs WHERE account_id = ? AND region = ? AND kb_id = ?"
            " AND seq > ? ORDER BY seq LIMIT ?",
            (account, region, kb_id, after, limit),
        ).fetchall()
        return [(row[0], self._job(row[1:])) for row in rows]

    def count_import_jobs_in_progress(self, account: str, region: str, kb_id: str) -> int:
        return int(
            self.execute(
                "SELECT count(*) FROM import_jobs WHERE account_id = ? AND region = ? AND kb_id = ?"
                " AND status = 'START_IN_PROGRESS'",
                (account, region, kb_id),
            ).fetchone()[0]
        )

    def delete_import_job(self, account: str, region: str, job_id: str) -> bool:
        cur = self.execute(
            "DELETE FROM import_jobs WHERE account_id = ? AND region = ? AND id = ?", (account, region, job_id)
        )
        return bool(cur.rowcount > 0)

    def release_import_job(self, job_id: str) -> bool:
        """Manual mode: lets the runner take a held job now."""
        cur = self.execute(
            "UPDATE import_jobs SET run_after = 0 WHERE id = ? AND status = 'START_IN_PROGRESS'", (job_id,)
        )
        return bool(cur.rowcount > 0)

    # -- the runner's side -----------------------------------------------------------------

    def _soonest_run(self) -> float | None:
        (soonest,) = self.execute(
            f"SELECT min({self.dialect.greatest}(run_after, coalesce(lease_expires, 0))) FROM import_jobs"
            " WHERE status = 'START_IN_PROGRESS' AND run_after IS NOT NULL",
        ).fetchone()
        return soonest

    def next_runnable_import_job(self, now: float) -> tuple[str | None, float | None]:
        """(id of a job that can be claimed now, or None; earliest future run time, or None)."""
        # Several workers poll at once: in a write session, SKIP LOCKED hands each of them a
        # different job instead of making them queue behind the first one's row lock.
        row = self.execute(
            f"SELECT id FROM import_jobs WHERE {_RUNNABLE} ORDER BY seq LIMIT 1" + self.skip_locked(),
            (now, now),
        ).fetchone()
        if row:
            return row[0], None
        return None, self._soonest_run()

    def claim_import_job(self, job_id: str, owner: str, now: float, until: float) -> Record | None:
        """Takes the lease of a runnable job; None when someone else holds it or it is done."""
        cur = self.execute(
            f"UPDATE import_jobs SET lease_owner = ?, lease_expires = ?, attempts = attempts + 1"
            f" WHERE id = ? AND {_RUNNABLE}",
            (owner, until, job_id, now, now),
        )
        if cur.rowcount == 0:
            return None
        return self.get_import_job_by_id(job_id)

    def claim_next_import_job(self, owner: str, now: float, until: float) -> tuple[Record | None, float | None]:
        """Claims the oldest runnable job in one statement: (the job, None), or (None, when to
        look again). SKIP LOCKED lets many workers claim at once, each a different job."""
        rows = self.execute(
            "UPDATE import_jobs SET lease_owner = ?, lease_expires = ?, attempts = attempts + 1"
            f" WHERE seq = (SELECT seq FROM import_jobs WHERE {_RUNNABLE}"
            f" ORDER BY seq LIMIT 1{self.skip_locked()}) RETURNING id",
            (owner, until, now, now),
        ).fetchall()
        if rows:
            return self.get_import_job_by_id(rows[0][0]), None
        return None, self._soonest_run()

    def renew_import_job_lease(self, job_id: str, owner: str, until: float) -> bool:
        cur = self.execute(
            "UPDATE import_jobs SET lease_expires = ? WHERE id = ? AND lease_owner = ?"
            " AND status = 'START_IN_PROGRESS'",
            (until, job_id, owner),
        )
        return bool(cur.rowcount > 0)

    def abandon_import_job(self, job_id: str, owner: str) -> bool:
        """Gives a job back (a clean shutdown): claimable at once, and the try does not count."""
        cur = self.execute(
            "UPDATE import_jobs SET lease_owner = NULL, lease_expires = NULL,"
            f" attempts = {self.dialect.greatest}(attempts - 1, 0)"
            " WHERE id = ? AND lease_owner = ? AND status = 'START_IN_PROGRESS'",
            (job_id, owner),
        )
        return bool(cur.rowcount > 0)

    def import_job_leases(self) -> list[tuple[str, str]]:
        """(job id, lease owner) of every job in progress whose runner holds a lease."""
        rows = self.execute(
            "SELECT id, lease_owner FROM import_jobs WHERE status = 'START_IN_PROGRESS' AND lease_owner IS NOT NULL"
        ).fetchall()
        return [(job_id, owner) for job_id, owner in rows]

    def expire_import_job_lease(self, job_id: str, owner: str) -> bool:
        """Ends the lease of a runner known to be dead: the job is claimable at once (its
        interrupted try still counts toward the attempts)."""
        cur = self.execute(
            "UPDATE import_jobs SET lease_owner = NULL, lease_expires = NULL"
            " WHERE id = ? AND lease_owner = ? AND status = 'START_IN_PROGRESS'",
            (job_id, owner),
        )
        return bool(cur.rowcount > 0)

    def tag_import_session(self, job_id: str, owner: str) -> None:
        """Names this write session as `owner`'s run of `job_id` (a no-op where sessions cannot
        be ended from outside: the PostgreSQL store overrides it)."""

    def end_stalled_import_sessions(self, job_id: str, owner: str) -> int:
        """Ends the sessions of other runners' runs of `job_id`; how many (PostgreSQL only)."""
        return 0

    def import_queue_depth(self) -> dict[str, int]:
        """Jobs waiting for a runner and jobs being run (for /_qconnect/health)."""
        return leased_queue_depth(self, "import_jobs", "status = 'START_IN_PROGRESS'")

    def finish_import_job(self, job_id: str, owner: str, status: str, report_key: str | None, when: float) -> bool:
        """Lands the job's final state, only if this runner still holds it."""
        cur = self.execute(
            "UPDATE import_jobs SET status = ?, report_key = ?, modified = ?, lease_owner = NULL,"
            " lease_expires = NULL WHERE id = ? AND lease_owner = ? AND status = 'START_IN_PROGRESS'",
            (status, report_key, when, job_id, owner),
        )
        return bool(cur.rowcount > 0)


def leased_queue_depth(session: SqlSession, table: str, pending: str) -> dict[str, int]:
    """The `pending` rows of a leased work queue: waiting for a runner (no lease, or one that ran
    out) and being run."""
    now = session.dialect.now_epoch
    waiting, running = session.execute(
        f"SELECT count(*) FILTER (WHERE lease_owner IS NULL OR lease_expires < {now}),"
        f" count(*) FILTER (WHERE lease_owner IS NOT NULL AND lease_expires >= {now})"
        f" FROM {table} WHERE {pending}"
    ).fetchone()
    return {"waiting": waiting, "running": running}
