"""A `qconnect-local worker` on the SQLite file of a server, stopped (SIGSTOP) while it holds
SQLite's write lock (issue 14): API writes get a retryable 408 after the lock timeout, never a 500
`database is locked`, and never commit later; reads and health go on; once the worker resumes,
its job lands and the writes that were refused are not there."""

from __future__ import annotations

import signal
import sqlite3
import time

import botocore.exceptions
import pytest
from test_workers import BIG, rows

from import_support import http, start, upload, wait_job
from support import EXPECTED_STORAGE, ServerProcess, query_state, single_attempt_client
from team_support import WorkerProcess

pytestmark = [
    pytest.mark.skipif(EXPECTED_STORAGE != "sqlite", reason="SQLite's write lock; PostgreSQL: test_stalled_worker.py"),
    pytest.mark.slow,  # stops a worker process
]

LOCK_TIMEOUT = 1.0


def _write_locked(tmp_path) -> bool:
    db = sqlite3.connect(tmp_path / "state.sqlite3", timeout=0, isolation_level=None)
    try:
        db.execute("BEGIN IMMEDIATE")
        db.execute("ROLLBACK")
        return False
    except sqlite3.OperationalError as exc:
        assert "locked" in str(exc), exc
        return True
    finally:
        db.close()


def _stop_holding_the_lock(worker: WorkerProcess, tmp_path) -> None:
    assert worker.proc is not None
    for _ in range(100):
        worker.proc.send_signal(signal.SIGSTOP)
        time.sleep(0.1)
        if _write_locked(tmp_path):
            return
        worker.proc.send_signal(signal.SIGCONT)
        time.sleep(0.05)
    raise AssertionError("the worker never held SQLite's write lock when stopped")


def test_a_stopped_worker_holding_sqlites_lock_makes_api_writes_408_never_500(tmp_path):
    server = ServerProcess("--no-worker", "--lock-timeout", str(LOCK_TIMEOUT), *BIG, data_dir=tmp_path).start()
    worker = WorkerProcess("--data-dir", str(tmp_path), *BIG).start()
    try:
        client = single_attempt_client(server.endpoint_url)
        kb_id, other_kb = (
            client.create_knowledge_base(name=name, knowledgeBaseType="QUICK_RESPONSES")["knowledgeBase"][
                "knowledgeBaseId"
            ]
            for name in ("kb", "other")
        )
        job_id = start(client, kb_id, upload(client, kb_id, rows(100_000)))["importJobId"]
        deadline = time.monotonic() + 30
        while query_state(tmp_path, f"SELECT lease_owner FROM import_jobs WHERE id = '{job_id}'") == [(None,)]:
            assert time.monotonic() < deadline, "the worker never claimed the job"
            time.sleep(0.02)
        _stop_holding_the_lock(worker, tmp_path)
        assert query_state(tmp_path, f"SELECT status FROM import_jobs WHERE id = '{job_id}'") == [
            ("START_IN_PROGRESS",)
        ]
        for target, name in ((kb_id, "refused"), (other_kb, "refused-elsewhere")):
            started = time.monotonic()
            with pytest.raises(botocore.exceptions.ClientError) as caught:
                client.create_quick_response(knowledgeBaseId=target, name=name, content={"content": "x"})
            waited = time.monotonic() - started
            error = caught.value.response
            assert (error["ResponseMetadata"]["HTTPStatusCode"], error["Error"]["Code"]) == (
                408,
                "RequestTimeoutException",
            ), error
            assert waited < LOCK_TIMEOUT + 5, waited
        # Reads and health do not wait for the stopped worker.
        assert client.list_quick_responses(knowledgeBaseId=other_kb)["quickResponseSummaries"] == []
        assert http("GET", server.endpoint_url + "/_qconnect/health")[0] == 200
        assert worker.proc is not None
        worker.proc.send_signal(signal.SIGCONT)  # its job waits for it, and lands when it resumes
        assert wait_job(client, kb_id, job_id, timeout=120)["status"] == "COMPLETE"
        time.sleep(0.5)
        ((count,),) = query_state(tmp_path, "SELECT count(*) FROM quick_responses")
        assert count == 100_000  # and neither refused write
        assert query_state(tmp_path, "SELECT count(*) FROM quick_responses WHERE name LIKE 'refused%'") == [(0,)]
        client.create_quick_response(knowledgeBaseId=other_kb, name="after", content={"content": "x"})
    finally:
        if worker.proc is not None and worker.proc.poll() is None:
            worker.proc.send_signal(signal.SIGCONT)
        worker.stop()
        server.stop()
