"""After kill -9 (issue 14): a runner that starts on the same host takes over at once the jobs
whose lease owner is a dead local process, instead of counting them as running for a whole
lease; leases of live processes and of other hosts are left alone (both stores)."""

from __future__ import annotations

import os
import socket
import subprocess
import time

import postgres_support
from import_support import csv_bytes, http, start, upload, wait_job
from qconnect_local.leftovers import is_dead_local_runner
from support import EXPECTED_STORAGE, ServerProcess, query_state

LEASE = "600"  # far longer than the test: a takeover within it is the dead-owner check's


def _dead_pid() -> int:
    proc = subprocess.Popen(["true"])
    proc.wait()
    return proc.pid


def test_is_dead_local_runner():
    host, dead = socket.gethostname(), _dead_pid()
    assert is_dead_local_runner(f"{host}:{dead}:abcd1234")
    assert not is_dead_local_runner(f"{host}:{os.getpid()}:abcd1234")  # this process
    assert not is_dead_local_runner(f"{host}:{os.getppid()}:abcd1234")  # alive
    assert not is_dead_local_runner(f"another-{host}:{dead}:abcd1234")  # another host's: cannot tell
    assert not is_dead_local_runner("garbage")


def _health(server: ServerProcess) -> dict:
    import json

    status, _, body = http("GET", server.endpoint_url + "/_qconnect/health")
    assert status == 200, body
    return json.loads(body)


def _jobs_leased_by(tmp_path) -> tuple[str, dict[str, str]]:
    """A knowledge base with three runnable jobs, leased (for 10 minutes more) by a dead process
    of this host, by a live one, and by a process of another host."""
    first = ServerProcess("--import-mode", "manual", "--max-import-jobs-in-progress", "0", data_dir=tmp_path).start()
    try:
        client = first.client()
        kb_id = client.create_knowledge_base(name="kb", knowledgeBaseType="QUICK_RESPONSES")["knowledgeBase"][
            "knowledgeBaseId"
        ]
        jobs = {}
        for who in ("dead", "alive", "elsewhere"):
            body = csv_bytes([["Name", "Content"], [f"{who}-row", "text"]])
            jobs[who] = start(client, kb_id, upload(client, kb_id, body))["importJobId"]
    finally:
        first.stop()
    host, dead = socket.gethostname(), _dead_pid()
    owners = {
        "dead": f"{host}:{dead}:deadbeef",
        "alive": f"{host}:{os.getpid()}:11112222",  # the test itself
        "elsewhere": f"another-{host}:{dead}:33334444",
    }
    until = time.time() + float(LEASE)
    for who, job_id in jobs.items():
        query_state(
            tmp_path,
            f"UPDATE import_jobs SET run_after = 0, lease_owner = '{owners[who]}', lease_expires = {until},"
            f" attempts = 1 WHERE id = '{job_id}' RETURNING id",  # rows on both stores
        )
    return kb_id, jobs


def _status(tmp_path, job_id: str) -> tuple[str, int]:
    ((status, attempts),) = query_state(tmp_path, f"SELECT status, attempts FROM import_jobs WHERE id = '{job_id}'")
    return status, attempts


def test_a_dead_local_runners_job_is_taken_over_when_a_server_starts(tmp_path):
    kb_id, jobs = _jobs_leased_by(tmp_path)
    second = ServerProcess("--import-lease", LEASE, data_dir=tmp_path).start()
    try:
        client = second.client()
        started = time.monotonic()
        job = wait_job(client, kb_id, jobs["dead"], timeout=20)
        took = time.monotonic() - started
        assert job["status"] == "COMPLETE", job
        assert took < 10, took
        print(f"dead runner's job completed {took:.2f} s after a server started (lease {LEASE} s)")
        time.sleep(1.5)  # a poll of the runner: the others must stay untouched
        for who in ("alive", "elsewhere"):
            assert _status(tmp_path, jobs[who]) == ("START_IN_PROGRESS", 1)
        # Health counts only the two live leases as running.
        assert _health(second)["importQueue"] == {"waiting": 0, "running": 2}
        names = [q["name"] for q in client.list_quick_responses(knowledgeBaseId=kb_id)["quickResponseSummaries"]]
        assert names == ["dead-row"]
    finally:
        second.stop()
    assert _status(tmp_path, jobs["dead"]) == ("COMPLETE", 2)  # the killed try still counts


def test_a_dead_local_runners_job_is_taken_over_when_a_worker_starts(tmp_path):
    from team_support import WorkerProcess

    _, jobs = _jobs_leased_by(tmp_path)
    database = ["--database-url", postgres_support.database_for(str(tmp_path))] if EXPECTED_STORAGE != "sqlite" else []
    worker = WorkerProcess("--data-dir", str(tmp_path), *database, "--import-lease", LEASE).start()
    try:
        deadline = time.monotonic() + 10
        while _status(tmp_path, jobs["dead"])[0] == "START_IN_PROGRESS":
            assert time.monotonic() < deadline, "the dead runner's job was not taken over"
            time.sleep(0.05)
        assert _status(tmp_path, jobs["dead"]) == ("COMPLETE", 2)
        time.sleep(1.5)
        for who in ("alive", "elsewhere"):
            assert _status(tmp_path, jobs[who]) == ("START_IN_PROGRESS", 1)
    finally:
        assert worker.stop() == 0
