"""PostgreSQL SQL for uploads, import jobs and the local directory of Connect routing profiles
(mirrors sqlite_import_jobs.py; the same method names, arguments and records).

An import job is claimed by a runner with a lease (`lease_owner`, `lease_expires`): a job whose
lease ran out (its runner died) can be claimed again, and a runner may only finish a job it still
holds, so two runners can never both land the same job.
"""

from __future__ import annotations

from typing import Any

from psycopg.types.json import Jsonb

from qconnect_local.storage.base import Record

# Schema steps of this module, appended to the store's migrations (versions 200-299).
MIGRATIONS: list[tuple[int, str]] = [
    (
        200,
        """
        CREATE TABLE uploads (
            seq           BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
            kb_seq        BIGINT NOT NULL REFERENCES knowledge_bases(seq) ON DELETE CASCADE,
            account_id    TEXT NOT NULL,
            region        TEXT NOT NULL,
            id            TEXT NOT NULL,
            kb_id         TEXT NOT NULL,
            content_type  TEXT NOT NULL,
            created       DOUBLE PRECISION NOT NULL,
            expires       DOUBLE PRECISION NOT NULL,     -- the upload URL's expiry
            uploaded      DOUBLE PRECISION,              -- NULL until a PUT succeeded
            size          BIGINT,
            etag          TEXT,
            UNIQUE (account_id, region, id)
        );

        CREATE TABLE import_jobs (
            seq            BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,  -- creation order, for pagination
            kb_seq         BIGINT NOT NULL REFERENCES knowledge_bases(seq) ON DELETE CASCADE,
            account_id     TEXT NOT NULL,
            region         TEXT NOT NULL,
            id             TEXT NOT NULL,
            kb_id          TEXT NOT NULL,
            upload_id      TEXT NOT NULL,
            status         TEXT NOT NULL,
            modified       DOUBLE PRECISION NOT NULL,
            data           JSONB NOT NULL,     -- the fixed members of ImportJobData
            caller_arn     TEXT NOT NULL,      -- lastModifiedBy of the quick responses it creates
            report_key     TEXT,               -- blob key of the failed-record report
            run_after      DOUBLE PRECISION,               -- NULL: held until POST /_qconnect/import-jobs/{id}/run
            lease_owner    TEXT,
            lease_expires  DOUBLE PRECISION,
            attempts       INTEGER NOT NULL DEFAULT 0,
            UNIQUE (account_id, region, id)
        );
        CREATE INDEX import_jobs_kb ON import_jobs (account_id, region, kb_id, seq);
        CREATE INDEX import_jobs_pending ON import_jobs (status, run_after);

        CREATE TABLE connect_instances (
            instance_id  TEXT PRIMARY KEY
        );
        CREATE TABLE connect_routing_profiles (
            instance_id  TEXT NOT NULL REFERENCES connect_instances(instance_id) ON DELETE CASCADE,
            name         TEXT NOT NULL,     -- case-sensitive, as Connect compares them
            arn          TEXT NOT NULL,
            PRIMARY KEY (instance_id, name)
        );
        """,
    ),
]

_JOB_COLUMNS = "status, modified, data, report_key, run_after, lease_owner, attempts, account_id, region, caller_arn"


def _job(row: tuple[Any, ...]) -> Record:
    """A job row -> its ImportJobData record plus private keys (leading underscore)."""
    status, modified, data, report_key, run_after, lease_owner, attempts, account, region, caller = row
    job = dict(data)
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


def _upload(row: tuple[Any, ...]) -> Record:
    upload_id, kb_id, content_type, created, expires, uploaded, size, etag = row
    return {
        "uploadId": upload_id,
        "knowledgeBaseId": kb_id,
        "contentType": content_type,
        "created": created,
        "expires": expires,
        "uploaded": uploaded,
        "size": size,
        "etag": etag,
    }


class ImportJobQueries:
    """Mixed into PostgresSession; `self.conn` is the session's connection."""

    conn: Any
    writing: bool

    # -- uploads ---------------------------------------------------------------------------

    def insert_upload(self, account: str, region: str, upload: Record) -> None:
        self.conn.execute(
            "INSERT INTO uploads (kb_seq, account_id, region, id, kb_id, content_type, created, expires)"
            " SELECT seq, %s, %s, %s, %s, %s, %s, %s FROM knowledge_bases"
            " WHERE account_id = %s AND region = %s AND id = %s",
            (
                account,
                region,
                upload["uploadId"],
                upload["knowledgeBaseId"],
                upload["contentType"],
                upload["created"],
                upload["expires"],
                account,
                region,
                upload["knowledgeBaseId"],
            ),
        )

    def get_upload(self, account: str, region: str, upload_id: str) -> Record | None:
        row = self.conn.execute(
            "SELECT id, kb_id, content_type, created, expires, uploaded, size, etag FROM uploads"
            " WHERE account_id = %s AND region = %s AND id = %s",
            (account, region, upload_id),
        ).fetchone()
        return _upload(row) if row else None

    def get_upload_by_id(self, upload_id: str) -> Record | None:
        """For the upload endpoint, which knows only the (signed) upload id."""
        row = self.conn.execute(
            "SELECT id, kb_id, content_type, created, expires, uploaded, size, etag FROM uploads WHERE id = %s",
            (upload_id,),
        ).fetchone()
        return _upload(row) if row else None

    def mark_uploaded(self, upload_id: str, size: int, etag: str, when: float) -> bool:
        cur = self.conn.execute(
            "UPDATE uploads SET uploaded = %s, size = %s, etag = %s WHERE id = %s", (when, size, etag, upload_id)
        )
        return cur.rowcount > 0

    def delete_upload_unless_used(self, account: str, region: str, upload_id: str) -> bool:
        """Deletes the upload unless an import job still refers to it; True when deleted."""
        cur = self.conn.execute(
            "DELETE FROM uploads WHERE account_id = %s AND region = %s AND id = %s AND NOT EXISTS"
            " (SELECT 1 FROM import_jobs j WHERE j.account_id = %s AND j.region = %s AND j.upload_id = %s)",
            (account, region, upload_id, account, region, upload_id),
        )
        return cur.rowcount > 0

    def live_blob_keys(self) -> set[str]:
        """Blob keys some row still refers to (the rest is garbage)."""
        keys = {f"uploads/{u}" for (u,) in self.conn.execute("SELECT id FROM uploads")}
        keys.update(k for (k,) in self.conn.execute("SELECT report_key FROM import_jobs WHERE report_key IS NOT NULL"))
        return keys

    # -- import jobs -----------------------------------------------------------------------

    def insert_import_job(
        self, account: str, region: str, job: Record, caller_arn: str, run_after: float | None
    ) -> None:
        fixed = {k: v for k, v in job.items() if k not in ("status", "lastModifiedTime")}
        self.conn.execute(
            "INSERT INTO import_jobs (kb_seq, account_id, region, id, kb_id, upload_id, status, modified,"
            " data, caller_arn, run_after)"
            " SELECT seq, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s FROM knowledge_bases"
            " WHERE account_id = %s AND region = %s AND id = %s",
            (
                account,
                region,
                job["importJobId"],
                job["knowledgeBaseId"],
                job["uploadId"],
                job["status"],
                job["lastModifiedTime"],
                Jsonb(fixed),
                caller_arn,
                run_after,
                account,
                region,
                job["knowledgeBaseId"],
            ),
        )

    def get_import_job(self, account: str, region: str, kb_id: str, job_id: str) -> Record | None:
        row = self.conn.execute(
            f"SELECT {_JOB_COLUMNS} FROM import_jobs WHERE account_id = %s AND region = %s AND kb_id = %s AND id = %s",
            (account, region, kb_id, job_id),
        ).fetchone()
        return _job(row) if row else None

    def get_import_job_by_id(self, job_id: str) -> Record | None:
        row = self.conn.execute(f"SELECT {_JOB_COLUMNS} FROM import_jobs WHERE id = %s", (job_id,)).fetchone()
        return _job(row) if row else None

    def list_import_jobs(
        self, account: str, region: str, kb_id: str, after: int, limit: int
    ) -> list[tuple[int, Record]]:
        rows = self.conn.execute(
            f"SELECT seq, {_JOB_COLUMNS} FROM import_jobs WHERE account_id = %s AND region = %s AND kb_id = %s"
            " AND seq > %s ORDER BY seq LIMIT %s",
            (account, region, kb_id, after, limit),
        ).fetchall()
        return [(row[0], _job(row[1:])) for row in rows]

    def count_import_jobs_in_progress(self, account: str, region: str, kb_id: str) -> int:
        return self.conn.execute(
            "SELECT count(*) FROM import_jobs WHERE account_id = %s AND region = %s AND kb_id = %s"
            " AND status = 'START_IN_PROGRESS'",
            (account, region, kb_id),
        ).fetchone()[0]

    def delete_import_job(self, account: str, region: str, job_id: str) -> bool:
        cur = self.conn.execute(
            "DELETE FROM import_jobs WHERE account_id = %s AND region = %s AND id = %s", (account, region, job_id)
        )
        return cur.rowcount > 0

    def release_import_job(self, job_id: str) -> bool:
        """Manual mode: lets the runner take a held job now."""
        cur = self.conn.execute(
            "UPDATE import_jobs SET run_after = 0 WHERE id = %s AND status = 'START_IN_PROGRESS'", (job_id,)
        )
        return cur.rowcount > 0

    # -- the runner's side -----------------------------------------------------------------

    def next_runnable_import_job(self, now: float) -> tuple[str | None, float | None]:
        """(id of a job that can be claimed now, or None; earliest future run time, or None)."""
        # Several workers poll at once: in a write session, SKIP LOCKED hands each of them a
        # different job instead of making them queue behind the first one's row lock.
        skip_locked = " FOR UPDATE SKIP LOCKED" if self.writing else ""
        row = self.conn.execute(
            "SELECT id FROM import_jobs WHERE status = 'START_IN_PROGRESS' AND run_after <= %s"
            " AND (lease_expires IS NULL OR lease_expires < %s) ORDER BY seq LIMIT 1" + skip_locked,
            (now, now),
        ).fetchone()
        if row:
            return row[0], None
        (soonest,) = self.conn.execute(
            "SELECT min(greatest(run_after, coalesce(lease_expires, 0))) FROM import_jobs"
            " WHERE status = 'START_IN_PROGRESS' AND run_after IS NOT NULL",
        ).fetchone()
        return None, soonest

    def claim_import_job(self, job_id: str, owner: str, now: float, until: float) -> Record | None:
        """Takes the lease of a runnable job; None when someone else holds it or it is done."""
        cur = self.conn.execute(
            "UPDATE import_jobs SET lease_owner = %s, lease_expires = %s, attempts = attempts + 1"
            " WHERE id = %s AND status = 'START_IN_PROGRESS' AND run_after <= %s"
            " AND (lease_expires IS NULL OR lease_expires < %s)",
            (owner, until, job_id, now, now),
        )
        if cur.rowcount == 0:
            return None
        return self.get_import_job_by_id(job_id)

    def renew_import_job_lease(self, job_id: str, owner: str, until: float) -> bool:
        cur = self.conn.execute(
            "UPDATE import_jobs SET lease_expires = %s WHERE id = %s AND lease_owner = %s"
            " AND status = 'START_IN_PROGRESS'",
            (until, job_id, owner),
        )
        return cur.rowcount > 0

    def abandon_import_job(self, job_id: str, owner: str) -> bool:
        """Gives a job back (a clean shutdown): claimable at once, and the try does not count."""
        cur = self.conn.execute(
            "UPDATE import_jobs SET lease_owner = NULL, lease_expires = NULL, attempts = greatest(attempts - 1, 0)"
            " WHERE id = %s AND lease_owner = %s AND status = 'START_IN_PROGRESS'",
            (job_id, owner),
        )
        return cur.rowcount > 0

    def claim_next_import_job(self, owner: str, now: float, until: float) -> tuple[Record | None, float | None]:
        """Claims the oldest runnable job in one statement: (the job, None), or (None, when to
        look again). SKIP LOCKED lets many workers claim at once, each a different job, without
        queueing behind one another's row locks."""
        row = self.conn.execute(
            "UPDATE import_jobs SET lease_owner = %s, lease_expires = %s, attempts = attempts + 1"
            " WHERE seq = (SELECT seq FROM import_jobs WHERE status = 'START_IN_PROGRESS'"
            " AND run_after <= %s AND (lease_expires IS NULL OR lease_expires < %s)"
            " ORDER BY seq LIMIT 1 FOR UPDATE SKIP LOCKED) RETURNING id",
            (owner, until, now, now),
        ).fetchone()
        if row is not None:
            return self.get_import_job_by_id(row[0]), None
        (soonest,) = self.conn.execute(
            "SELECT min(greatest(run_after, coalesce(lease_expires, 0))) FROM import_jobs"
            " WHERE status = 'START_IN_PROGRESS' AND run_after IS NOT NULL",
        ).fetchone()
        return None, soonest

    def import_queue_depth(self) -> dict[str, int]:
        """Jobs waiting for a runner and jobs being run (for /_qconnect/health)."""
        waiting, running = self.conn.execute(
            "SELECT count(*) FILTER (WHERE lease_owner IS NULL OR lease_expires < extract(epoch FROM now())),"
            " count(*) FILTER (WHERE lease_owner IS NOT NULL AND lease_expires >= extract(epoch FROM now()))"
            " FROM import_jobs WHERE status = 'START_IN_PROGRESS'"
        ).fetchone()
        return {"waiting": waiting, "running": running}

    def finish_import_job(self, job_id: str, owner: str, status: str, report_key: str | None, when: float) -> bool:
        """Lands the job's final state, only if this runner still holds it."""
        cur = self.conn.execute(
            "UPDATE import_jobs SET status = %s, report_key = %s, modified = %s, lease_owner = NULL,"
            " lease_expires = NULL WHERE id = %s AND lease_owner = %s AND status = 'START_IN_PROGRESS'",
            (status, report_key, when, job_id, owner),
        )
        return cur.rowcount > 0

    # -- the local directory of Amazon Connect routing profiles ----------------------------

    def replace_routing_profiles(self, instance_id: str, profiles: dict[str, str]) -> None:
        self.conn.execute("DELETE FROM connect_routing_profiles WHERE instance_id = %s", (instance_id,))
        self.conn.execute("INSERT INTO connect_instances VALUES (%s) ON CONFLICT DO NOTHING", (instance_id,))
        self.conn.cursor().executemany(
            "INSERT INTO connect_routing_profiles (instance_id, name, arn) VALUES (%s, %s, %s)",
            [(instance_id, name, arn) for name, arn in profiles.items()],
        )

    def routing_profiles(self, instance_id: str) -> dict[str, str] | None:
        """name -> ARN for a known instance, None for an unknown one."""
        if not self.conn.execute("SELECT 1 FROM connect_instances WHERE instance_id = %s", (instance_id,)).fetchone():
            return None
        rows = self.conn.execute(
            "SELECT name, arn FROM connect_routing_profiles WHERE instance_id = %s ORDER BY name", (instance_id,)
        ).fetchall()
        return dict(rows)

    def delete_routing_profiles(self, instance_id: str) -> bool:
        cur = self.conn.execute("DELETE FROM connect_instances WHERE instance_id = %s", (instance_id,))
        return cur.rowcount > 0
