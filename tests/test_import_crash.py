"""kill -9 in the middle of a large import: after a restart on the same data dir the job is taken
over (its lease has run out), finishes, and every row is imported exactly once."""

from __future__ import annotations

import time

from import_support import csv_bytes, start, upload, wait_job
from support import ServerProcess, query_state

ROWS = 60_000


def test_kill_9_mid_import_then_restart(tmp_path):
    args = ("--import-lease", "2", "--max-quick-responses", str(ROWS), "--max-upload-bytes", str(64 * 1024 * 1024))
    body = csv_bytes([["Name", "Content", "Shortcut key"]] + [[f"row-{i:06d}", f"content {i} " * 5, f"k{i}"] for i in range(ROWS)])
    first = ServerProcess(*args, data_dir=tmp_path).start()
    try:
        client = first.client()
        kb_id = client.create_knowledge_base(name="kb", knowledgeBaseType="QUICK_RESPONSES")["knowledgeBase"]["knowledgeBaseId"]
        job_id = start(client, kb_id, upload(client, kb_id, body))["importJobId"]
        time.sleep(1.0)
        assert client.get_import_job(knowledgeBaseId=kb_id, importJobId=job_id)["importJob"]["status"] == "START_IN_PROGRESS"
    finally:
        first.kill()  # SIGKILL: no shutdown hooks, the job's lease stays behind
    assert query_state(tmp_path, "SELECT count(*) FROM quick_responses")[0][0] == 0
    assert query_state(tmp_path, "SELECT status, attempts FROM import_jobs")[0] == ("START_IN_PROGRESS", 1)

    second = ServerProcess(*args, data_dir=tmp_path).start()
    try:
        client = second.client()
        job = wait_job(client, kb_id, job_id, timeout=120)
        assert job["status"] == "COMPLETE", job
        page = client.list_quick_responses(knowledgeBaseId=kb_id, maxResults=5)
        assert [q["name"] for q in page["quickResponseSummaries"]] == [f"row-{i:06d}" for i in range(5)]
    finally:
        second.stop()
    count, distinct = query_state(tmp_path, "SELECT count(*), count(DISTINCT name) FROM quick_responses")[0]
    assert count == distinct == ROWS
    assert query_state(tmp_path, "SELECT status, attempts FROM import_jobs")[0] == ("COMPLETE", 2)
