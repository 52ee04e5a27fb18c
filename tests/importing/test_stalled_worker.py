"""A stalled worker (SIGSTOP mid-import) on PostgreSQL (issue 14): its transaction cannot hold
the job and its knowledge base beyond the lease, whether it was stopped between statements or in
the middle of sending a COPY batch; another worker takes the job over and imports every row
exactly once, and the stalled one, when it wakes, changes nothing."""

from __future__ import annotations

import signal
import time

import pytest
from test_workers import BIG, rows

import postgres_support
from import_support import start, upload, wait_job
from support import ServerProcess, single_attempt_client
from team_support import WorkerProcess, needs_postgres, query

pytestmark = [needs_postgres, pytest.mark.slow]  # stops and kills worker processes

LEASE = 2.0


def _mid_copy(database_url: str) -> bool:
    """Whether a backend waits for the rest of a COPY (an "active" session reading from its client)."""
    return bool(
        query(
            database_url,
            "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database()"
            " AND state = 'active' AND wait_event = 'ClientRead' AND pid <> pg_backend_pid()",
        )[0][0]
    )


def _stop(worker: WorkerProcess, database_url: str, mid_copy: bool) -> None:
    """SIGSTOP, again until the worker is (`mid_copy`) or is not halfway through sending a COPY batch."""
    assert worker.proc is not None
    deadline = time.monotonic() + 120  # a busy machine makes the COPY moments rarer
    while time.monotonic() < deadline:
        worker.proc.send_signal(signal.SIGSTOP)
        time.sleep(0.2)
        if _mid_copy(database_url) == mid_copy:
            return
        worker.proc.send_signal(signal.SIGCONT)
        time.sleep(0.01 if mid_copy else 0.03)
    raise AssertionError(f"could not stop the worker with mid_copy={mid_copy}")


def _write_behind_the_stall(server: ServerProcess, kb_id: str, must_wait: bool) -> int:
    """CreateQuickResponse, one attempt: 1 if it went through, 0 if it got the 408."""
    import botocore.exceptions

    client = single_attempt_client(server.endpoint_url)
    try:
        client.create_quick_response(knowledgeBaseId=kb_id, name="behind-the-stall", content={"content": "x"})
    except botocore.exceptions.ClientError as exc:
        error = exc.response
        assert (error["ResponseMetadata"]["HTTPStatusCode"], error["Error"]["Code"]) == (
            408,
            "RequestTimeoutException",
        ), error
        return 0
    assert not must_wait, "a write went through while the stopped worker held the knowledge base"
    return 1


@pytest.mark.parametrize("mid_copy", [False, True], ids=["between-statements", "mid-copy"])
def test_a_sigstopped_worker_loses_its_job_within_the_lease(tmp_path, mid_copy):
    database_url = postgres_support.new_database("stall")
    n = 30_000
    lease = ["--import-lease", str(LEASE)]
    server = ServerProcess(
        "--no-worker", "--database-url", database_url, "--lock-timeout", "1", *BIG, data_dir=tmp_path
    ).start()
    first = WorkerProcess("--data-dir", str(tmp_path), "--database-url", database_url, *BIG, *lease).start()
    second = None
    try:
        client = server.client()
        kb_id = client.create_knowledge_base(name="kb", knowledgeBaseType="QUICK_RESPONSES")["knowledgeBase"][
            "knowledgeBaseId"
        ]
        job_id = start(client, kb_id, upload(client, kb_id, rows(n)))["importJobId"]
        deadline = time.monotonic() + 30
        while not query(
            database_url, "SELECT 1 FROM import_jobs WHERE id = %s AND lease_owner = %s", (job_id, first.owner)
        ):
            assert time.monotonic() < deadline, "the first worker never claimed the job"
            time.sleep(0.02)
        time.sleep(0.5)  # inside the job (30,000 rows take seconds)
        assert first.proc is not None
        _stop(first, database_url, mid_copy)
        stopped = time.monotonic()
        assert query(database_url, "SELECT status FROM import_jobs WHERE id = %s", (job_id,)) == [
            ("START_IN_PROGRESS",)
        ], "the job finished before the stop"
        # An API write behind the stalled worker: a 408 after --lock-timeout, never a late commit
        # (between statements the stall limit may already have freed the knowledge base).
        landed = _write_behind_the_stall(server, kb_id, must_wait=mid_copy)
        # Another knowledge base is not held by the stalled worker: its writes go through.
        other = client.create_knowledge_base(name="other", knowledgeBaseType="QUICK_RESPONSES")["knowledgeBase"]
        client.create_quick_response(
            knowledgeBaseId=other["knowledgeBaseId"], name="elsewhere", content={"content": "x"}
        )
        second = WorkerProcess("--data-dir", str(tmp_path), "--database-url", database_url, *BIG, *lease).start()
        done = wait_job(client, kb_id, job_id, timeout=60)
        took = time.monotonic() - stopped
        assert done["status"] == "COMPLETE", (done, "".join(second.output)[-2000:])
        deadline = time.monotonic() + 10  # its log line comes after the commit
        while second.jobs_finished() == 0 and time.monotonic() < deadline:
            time.sleep(0.05)
        assert second.jobs_finished() == 1
        # The lease, the stall limit (one lease) and the import itself, with room for a busy machine.
        assert took < 4 * LEASE + 30, took
        # An API write to the knowledge base goes through at once.
        client.create_quick_response(knowledgeBaseId=kb_id, name="after", content={"content": "x"})
        first.proc.send_signal(signal.SIGCONT)
        time.sleep(2.0)  # the woken worker finds its connection gone: it must land nothing
        ((count, distinct),) = query(database_url, "SELECT count(*), count(DISTINCT name) FROM quick_responses")
        assert count == distinct == n + 2 + landed
        assert len(query(database_url, "SELECT 1 FROM quick_responses WHERE name = 'behind-the-stall'")) == landed
        assert query(database_url, "SELECT status FROM import_jobs WHERE id = %s", (job_id,)) == [("COMPLETE",)]
        assert client.get_import_job(knowledgeBaseId=kb_id, importJobId=job_id)["importJob"]["status"] == "COMPLETE"
        print(f"stalled worker's job completed by another {took:.1f} s after SIGSTOP")
    finally:
        if first.proc is not None and first.proc.poll() is None:
            first.proc.send_signal(signal.SIGCONT)
        first.kill()
        if second:
            second.stop()
        server.stop()
