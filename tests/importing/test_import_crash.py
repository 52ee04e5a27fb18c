"""kill -9 in the middle of a large import: after a restart on the same data dir the job is taken
over (its lease has run out), finishes, and every row is imported exactly once."""

from __future__ import annotations

import time

import pytest

import postgres_support
from import_support import csv_bytes, start, upload, wait_job
from qconnect_local.storage.sql.search_order import order_indexes
from support import ServerProcess, query_state

pytestmark = pytest.mark.slow  # kills and restarts servers

ROWS = 250_000  # big enough to be mid-import a second in (~50,000 rows a second here)
INDEXES = {"quick_responses_name", "quick_responses_shortcut", "quick_responses_seq_name", *order_indexes()}


@pytest.mark.parametrize("big_load_rows", [None, "1000"], ids=["indexes-kept", "indexes-dropped"])
def test_kill_9_mid_import_then_restart(tmp_path, big_load_rows):
    """Also with the SQLite bulk load's big-load path on (a load of 1,000 rows or more, loaded or
    expected, drops the secondary indexes inside its transaction): the kill leaves them as they
    were."""
    if big_load_rows and postgres_support.TEST_DATABASE_URL:
        pytest.skip("the index rebuild is the SQLite store's")
    args = ("--import-lease", "2", "--max-quick-responses", str(ROWS), "--max-upload-bytes", str(64 * 1024 * 1024))
    env = {"QCONNECT_LOCAL_BIG_LOAD_ROWS": big_load_rows} if big_load_rows else None
    body = csv_bytes(
        [["Name", "Content", "Shortcut key"]] + [[f"row-{i:06d}", f"content {i} " * 5, f"k{i}"] for i in range(ROWS)]
    )
    first = ServerProcess(*args, data_dir=tmp_path, env=env).start()
    try:
        client = first.client()
        kb_id = client.create_knowledge_base(name="kb", knowledgeBaseType="QUICK_RESPONSES")["knowledgeBase"][
            "knowledgeBaseId"
        ]
        job_id = start(client, kb_id, upload(client, kb_id, body))["importJobId"]
        time.sleep(1.0)
        assert (
            client.get_import_job(knowledgeBaseId=kb_id, importJobId=job_id)["importJob"]["status"]
            == "START_IN_PROGRESS"
        )
    finally:
        first.kill()  # SIGKILL: no shutdown hooks, the job's lease stays behind
    assert query_state(tmp_path, "SELECT count(*) FROM quick_responses")[0][0] == 0
    assert query_state(tmp_path, "SELECT status, attempts FROM import_jobs")[0] == ("START_IN_PROGRESS", 1)
    if not postgres_support.TEST_DATABASE_URL:
        indexes = {n for (n,) in query_state(tmp_path, "SELECT name FROM sqlite_master WHERE type = 'index'")}
        assert INDEXES <= indexes

    assert first.proc is not None
    second = ServerProcess(*args, data_dir=tmp_path, env=env).start()
    try:
        # The killed server's half-written blob files (its report) are gone once a server starts.
        assert not list(tmp_path.rglob(f".tmp-{first.proc.pid}-*"))
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
    if not postgres_support.TEST_DATABASE_URL:
        indexes = {n for (n,) in query_state(tmp_path, "SELECT name FROM sqlite_master WHERE type = 'index'")}
        assert INDEXES <= indexes
