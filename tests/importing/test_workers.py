"""`serve --no-worker` + `qconnect-local worker` on one PostgreSQL database: jobs run only in
workers, and a worker killed with kill -9 mid-import loses its lease to another worker, which
imports every row exactly once."""

from __future__ import annotations

import time

import pytest

import postgres_support
from import_support import csv_bytes, start, upload, wait_job
from support import ServerProcess
from team_support import WorkerProcess, needs_postgres, query

pytestmark = [needs_postgres, pytest.mark.slow]  # kills and stops worker processes

BIG = ["--max-quick-responses", "100000", "--max-upload-bytes", str(64 * 1024 * 1024)]


def rows(n: int, prefix: str = "qr") -> bytes:
    body = [["Name", "Content", "Shortcut key"]]
    body += [[f"{prefix}-{i:06d}", f"content number {i} with a few words", f"{prefix}k{i}"] for i in range(n)]
    return csv_bytes(body)


@pytest.fixture
def database_url() -> str:
    return postgres_support.new_database("team")


@pytest.fixture
def data_dir(tmp_path):
    """Without S3, servers and workers share the blob directory of one data dir."""
    return tmp_path


def test_no_worker_server_leaves_jobs_to_workers(database_url, data_dir):
    server = ServerProcess("--no-worker", "--database-url", database_url, data_dir=data_dir).start()
    worker = None
    try:
        client = server.client()
        kb = client.create_knowledge_base(name="kb", knowledgeBaseType="QUICK_RESPONSES")["knowledgeBase"]
        job = start(client, kb["knowledgeBaseId"], upload(client, kb["knowledgeBaseId"], rows(20)))
        time.sleep(1.5)  # longer than a runner's poll: nobody in the server takes it
        got = client.get_import_job(knowledgeBaseId=kb["knowledgeBaseId"], importJobId=job["importJobId"])
        assert got["importJob"]["status"] == "START_IN_PROGRESS"
        worker = WorkerProcess("--data-dir", str(data_dir), "--database-url", database_url).start()
        done = wait_job(client, kb["knowledgeBaseId"], job["importJobId"], timeout=30)
        assert done["status"] == "COMPLETE"
        assert (
            client.list_quick_responses(knowledgeBaseId=kb["knowledgeBaseId"], maxResults=100)[
                "quickResponseSummaries"
            ].__len__()
            == 20
        )
        # The download link the server signs works although a worker did the job (shared key).
        assert done["url"].startswith(server.endpoint_url)
    finally:
        if worker:
            assert worker.stop() == 0
        server.stop()


def test_a_worker_killed_mid_import_is_replaced_and_every_row_lands_once(database_url, data_dir):
    n = 30_000
    server = ServerProcess("--no-worker", "--database-url", database_url, *BIG, data_dir=data_dir).start()
    lease = ["--import-lease", "2"]
    first = WorkerProcess("--data-dir", str(data_dir), "--database-url", database_url, *BIG, *lease).start()
    second = None
    try:
        client = server.client()
        kb_id = client.create_knowledge_base(name="kb", knowledgeBaseType="QUICK_RESPONSES")["knowledgeBase"][
            "knowledgeBaseId"
        ]
        job = start(client, kb_id, upload(client, kb_id, rows(n)))
        job_id = job["importJobId"]
        # Wait until the first worker holds the job, then kill it without warning.
        deadline = time.monotonic() + 30
        while not query(
            database_url, "SELECT 1 FROM import_jobs WHERE id = %s AND lease_owner = %s", (job_id, first.owner)
        ):
            assert time.monotonic() < deadline, "the first worker never claimed the job"
            time.sleep(0.02)
        time.sleep(0.3)  # well inside the job (30,000 rows take seconds)
        first.kill()
        ((status, owner),) = query(database_url, "SELECT status, lease_owner FROM import_jobs WHERE id = %s", (job_id,))
        assert (status, owner) == ("START_IN_PROGRESS", first.owner), "the job finished before the kill"
        assert query(database_url, "SELECT count(*) FROM quick_responses")[0][0] == 0
        second = WorkerProcess("--data-dir", str(data_dir), "--database-url", database_url, *BIG, *lease).start()
        done = wait_job(client, kb_id, job_id, timeout=120)
        assert done["status"] == "COMPLETE"
        ((count, distinct),) = query(database_url, "SELECT count(*), count(DISTINCT name) FROM quick_responses")
        assert count == distinct == n
        ((attempts,),) = query(database_url, "SELECT attempts FROM import_jobs WHERE id = %s", (job_id,))
        assert attempts == 2
        assert second.jobs_finished() == 1
    finally:
        first.kill()
        if second:
            second.stop()
        server.stop()


def test_a_stopped_worker_gives_its_job_back(database_url, data_dir):
    server = ServerProcess("--no-worker", "--database-url", database_url, *BIG, data_dir=data_dir).start()
    first = WorkerProcess("--data-dir", str(data_dir), "--database-url", database_url, *BIG).start()
    second = None
    try:
        client = server.client()
        kb_id = client.create_knowledge_base(name="kb", knowledgeBaseType="QUICK_RESPONSES")["knowledgeBase"][
            "knowledgeBaseId"
        ]
        job_id = start(client, kb_id, upload(client, kb_id, rows(20_000)))["importJobId"]
        deadline = time.monotonic() + 30
        while not query(database_url, "SELECT 1 FROM import_jobs WHERE id = %s AND lease_owner IS NOT NULL", (job_id,)):
            assert time.monotonic() < deadline
            time.sleep(0.02)
        assert first.stop() == 0  # SIGTERM mid-job
        ((status, owner, attempts),) = query(
            database_url, "SELECT status, lease_owner, attempts FROM import_jobs WHERE id = %s", (job_id,)
        )
        if status == "START_IN_PROGRESS":  # given back, and the try does not count
            assert owner is None and attempts == 0
        second = WorkerProcess("--data-dir", str(data_dir), "--database-url", database_url, *BIG).start()
        assert wait_job(client, kb_id, job_id, timeout=120)["status"] == "COMPLETE"
        assert query(database_url, "SELECT count(*) FROM quick_responses")[0][0] == 20_000
    finally:
        first.kill()
        if second:
            second.stop()
        server.stop()


def test_worker_refuses_an_unreachable_database():
    proc = WorkerProcess(
        "--database-url", "postgresql://postgres@127.0.0.1:1/nothing", env={"QCONNECT_LOCAL_DB_CONNECT_TIMEOUT": "1"}
    )
    with pytest.raises(RuntimeError, match="exited with 1"):
        proc.start(timeout=60)
    assert any("cannot connect to PostgreSQL" in line for line in proc.output)


def test_workers_read_content_files_too(database_url, data_dir):
    """Content text extraction is background work like an import: a worker does it for a
    `serve --no-worker`."""
    import requests

    server = ServerProcess("--no-worker", "--database-url", database_url, data_dir=data_dir).start()
    worker = None
    try:
        client = server.client()
        kb_id = client.create_knowledge_base(name="kb", knowledgeBaseType="CUSTOM")["knowledgeBase"]["knowledgeBaseId"]
        up = client.start_content_upload(knowledgeBaseId=kb_id, contentType="text/plain")
        assert requests.put(up["url"], data=b"read by a worker", headers=up["headersToInclude"]).status_code == 200
        content = client.create_content(knowledgeBaseId=kb_id, name="doc", uploadId=up["uploadId"])["content"]
        time.sleep(1.5)  # longer than a runner's poll: nobody in the server takes it
        summary = client.get_content_summary(knowledgeBaseId=kb_id, contentId=content["contentId"])
        assert summary["contentSummary"]["status"] == "CREATE_IN_PROGRESS"
        worker = WorkerProcess("--data-dir", str(data_dir), "--database-url", database_url).start()
        deadline = time.monotonic() + 30
        while summary["contentSummary"]["status"] == "CREATE_IN_PROGRESS" and time.monotonic() < deadline:
            time.sleep(0.1)
            summary = client.get_content_summary(knowledgeBaseId=kb_id, contentId=content["contentId"])
        assert summary["contentSummary"]["status"] == "ACTIVE"
        assert query(database_url, f"SELECT text FROM contents WHERE id = '{content['contentId']}'") == [
            ("read by a worker",)
        ]
    finally:
        if worker:
            assert worker.stop() == 0
        server.stop()
