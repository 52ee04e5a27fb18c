"""A healthy import longer than its lease keeps its job (issue 14): its runner, a server's
in-process runner or a worker, renews the lease while it works, through the final steps, so a
second runner polling the same store never takes it over, and health counts it as running
(both stores)."""

from __future__ import annotations

import json
import time

import pytest
from test_workers import BIG, rows

import postgres_support
from import_support import http, start, upload, wait_job
from support import EXPECTED_STORAGE, ServerProcess, query_state
from team_support import WorkerProcess

pytestmark = pytest.mark.slow  # runs worker processes

LEASE = "0.5"  # far shorter than the import
ROWS = 100_000


def _database(tmp_path) -> list[str]:
    return ["--database-url", postgres_support.database_for(str(tmp_path))] if EXPECTED_STORAGE != "sqlite" else []


def _worker(tmp_path) -> WorkerProcess:
    return WorkerProcess("--data-dir", str(tmp_path), *_database(tmp_path), *BIG, "--import-lease", LEASE).start()


def _job(tmp_path, job_id: str) -> tuple[str, str | None, int]:
    ((status, owner, attempts),) = query_state(
        tmp_path, f"SELECT status, lease_owner, attempts FROM import_jobs WHERE id = '{job_id}'"
    )
    return status, owner, attempts


@pytest.mark.parametrize("runner", ["serve", "worker"])
def test_a_long_import_keeps_its_lease_and_is_never_taken_over(tmp_path, runner):
    server_args = ["--no-worker"] if runner == "worker" else []
    server = ServerProcess(*server_args, *BIG, "--import-lease", LEASE, data_dir=tmp_path).start()
    workers = [_worker(tmp_path)] if runner == "worker" else []
    try:
        client = server.client()
        kb_id = client.create_knowledge_base(name="kb", knowledgeBaseType="QUICK_RESPONSES")["knowledgeBase"][
            "knowledgeBaseId"
        ]
        job_id = start(client, kb_id, upload(client, kb_id, rows(ROWS)))["importJobId"]
        deadline = time.monotonic() + 30
        while (owner := _job(tmp_path, job_id)[1]) is None:
            assert time.monotonic() < deadline, "nobody claimed the job"
            time.sleep(0.02)
        workers.append(_worker(tmp_path))  # a second runner, polling every second meanwhile
        assert _job(tmp_path, job_id)[0] == "START_IN_PROGRESS", "the import was over before a second runner started"
        seen = []
        while (job := _job(tmp_path, job_id))[0] == "START_IN_PROGRESS":
            status, body = http("GET", server.endpoint_url + "/_qconnect/health")[::2]
            assert status == 200, body
            seen.append(json.loads(body)["importQueue"])
            assert job[1:] == (owner, 1), "the healthy job was taken over"
            time.sleep(0.2)
        done = wait_job(client, kb_id, job_id, timeout=10)
        assert done["status"] == "COMPLETE", done
        assert _job(tmp_path, job_id) == ("COMPLETE", None, 1)
        ((count,),) = query_state(tmp_path, "SELECT count(*) FROM quick_responses")
        assert count == ROWS
        assert len(seen) > 3 * float(LEASE) / 0.2, "the import was shorter than three leases"
        if EXPECTED_STORAGE != "sqlite":
            # The renewals are committed, so health sees them (on SQLite the import holds the
            # write lock they need until it lands: no other runner can claim it either).
            assert all(q == {"waiting": 0, "running": 1} for q in seen), seen
    finally:
        for worker in workers:
            worker.stop()
        server.stop()
