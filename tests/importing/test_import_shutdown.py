"""SIGTERM in the middle of a large import: the runner gives the job back (its transaction rolls
back, nothing is imported), the server exits 0 within a few seconds, and after a restart on the
same data dir the job runs again and imports every row exactly once."""

from __future__ import annotations

import signal
import time

import pytest

from import_support import csv_bytes, start, upload, wait_job
from support import ServerProcess, query_state

pytestmark = pytest.mark.slow  # stops servers mid-import

ROWS = 250_000  # big enough to be mid-import a second in (~50,000 rows a second here)


def test_sigterm_mid_import_gives_the_job_back_and_exits_promptly(tmp_path):
    args = ("--max-quick-responses", str(ROWS), "--max-upload-bytes", str(64 * 1024 * 1024))
    body = csv_bytes(
        [["Name", "Content", "Shortcut key"]] + [[f"row-{i:06d}", f"content {i} " * 5, f"k{i}"] for i in range(ROWS)]
    )
    first = ServerProcess(*args, data_dir=tmp_path).start()
    try:
        client = first.client()
        kb_id = client.create_knowledge_base(name="kb", knowledgeBaseType="QUICK_RESPONSES")["knowledgeBase"][
            "knowledgeBaseId"
        ]
        # A search first, so the import also keeps the loaded search vocabulary in step: a stop
        # must not wait for that work either.
        client.search_quick_responses(
            knowledgeBaseId=kb_id,
            searchExpression={"queries": [{"name": "content", "values": ["cont"], "operator": "CONTAINS_AND_PREFIX"}]},
        )
        job_id = start(client, kb_id, upload(client, kb_id, body))["importJobId"]
        time.sleep(1.0)
        assert (
            client.get_import_job(knowledgeBaseId=kb_id, importJobId=job_id)["importJob"]["status"]
            == "START_IN_PROGRESS"
        )
        assert first.proc is not None
        sent = time.monotonic()
        first.proc.send_signal(signal.SIGTERM)
        status = first.proc.wait(timeout=30)
        took = time.monotonic() - sent
    finally:
        first.kill()
    assert status == 0
    assert took < 5.0, f"the server took {took:.1f}s to exit"
    assert query_state(tmp_path, "SELECT count(*) FROM quick_responses")[0][0] == 0
    assert query_state(tmp_path, "SELECT status FROM import_jobs")[0] == ("START_IN_PROGRESS",)

    second = ServerProcess(*args, data_dir=tmp_path).start()
    try:
        client = second.client()
        job = wait_job(client, kb_id, job_id, timeout=120)
        assert job["status"] == "COMPLETE", job
    finally:
        second.stop()
    count, distinct = query_state(tmp_path, "SELECT count(*), count(DISTINCT name) FROM quick_responses")[0]
    assert count == distinct == ROWS
