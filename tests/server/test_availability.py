"""Reads, searches and the health check answer promptly while an import runs and writes wait
for it (issue 14). Bounded: one import of ROWS rows, a few blocked writes, a few dozen reads."""

from __future__ import annotations

import threading
import time
import urllib.request

import pytest
from botocore.config import Config

from import_support import start, upload
from support import ServerProcess, make_client

ROWS = 100_000
BLOCKED_WRITES = 8  # twice the write threads: every write thread is taken
PROMPT_SECONDS = 2.0  # an import of ROWS rows takes several times longer on this machine


def test_only_operations_that_change_nothing_are_read_only():
    from qconnect_local.lanes import is_read_only
    from qconnect_local.protocol.model import service_model

    model = service_model()
    read_only = {n for n in model.operation_names if is_read_only(n)}
    assert "SearchQuickResponses" in read_only and "GetKnowledgeBase" in read_only
    for name in read_only:  # none of them is implemented as a write
        assert name.startswith(("Get", "List", "Search", "Query")), name
    assert not is_read_only("CreateQuickResponse") and not is_read_only("StartImportJob")


@pytest.fixture(scope="module")
def big_server(tmp_path_factory):
    proc = ServerProcess(
        "--max-upload-bytes",
        str(64 * 1024 * 1024),
        "--max-quick-responses",
        str(ROWS + 1000),
        data_dir=tmp_path_factory.mktemp("availability"),
    ).start()
    yield proc
    proc.stop()


def _timed(fn) -> float:
    t0 = time.monotonic()
    fn()
    return time.monotonic() - t0


def test_reads_searches_and_health_answer_promptly_during_an_import(big_server):
    qc = big_server.client()
    kb_id = qc.create_knowledge_base(name="big", knowledgeBaseType="QUICK_RESPONSES")["knowledgeBase"][
        "knowledgeBaseId"
    ]
    qc.create_quick_response(knowledgeBaseId=kb_id, name="before", content={"content": "hello world"})
    body = b"Name,Content\r\n" + b"".join(b"qr%d,hello row %d\r\n" % (i, i) for i in range(ROWS))
    job = start(qc, kb_id, upload(qc, kb_id, body))
    job_id = job["importJobId"]

    slow = Config(retries={"max_attempts": 1}, read_timeout=300)
    done: list[float] = []

    def blocked_write(i: int) -> None:
        client = make_client(big_server.endpoint_url)
        client.meta.config.read_timeout = slow.read_timeout
        t0 = time.monotonic()
        try:
            client.create_quick_response(knowledgeBaseId=kb_id, name=f"during{i}", content={"content": "x"})
        finally:
            done.append(time.monotonic() - t0)

    _wait_until_running(big_server)
    writers = [threading.Thread(target=blocked_write, args=(i,), daemon=True) for i in range(BLOCKED_WRITES)]
    for w in writers:
        w.start()
    time.sleep(0.3)  # the writes reach the server and take the write threads

    health = big_server.endpoint_url + "/_qconnect/health"
    expression = {"queries": [{"name": "content", "values": ["hello"], "operator": "CONTAINS"}]}
    probes = {
        "search": lambda: qc.search_quick_responses(knowledgeBaseId=kb_id, searchExpression=expression),
        "get": lambda: qc.get_knowledge_base(knowledgeBaseId=kb_id),
        "list": lambda: qc.list_quick_responses(knowledgeBaseId=kb_id, maxResults=5),
        "health": lambda: urllib.request.urlopen(health, timeout=60).read(),
    }
    samples: dict[str, list[float]] = {name: [] for name in probes}
    while _in_progress(qc, kb_id, job_id) and len(done) < BLOCKED_WRITES:
        for name, probe in probes.items():
            samples[name].append(_timed(probe))
        if len(samples["search"]) >= 5:
            break
    still_blocked = len(done) < BLOCKED_WRITES and _in_progress(qc, kb_id, job_id)
    for w in writers:
        w.join(300)
    worst = {name: max(times) for name, times in samples.items() if times}
    assert all(t < PROMPT_SECONDS for t in worst.values()), worst
    assert samples["search"] and still_blocked, (
        f"the import ended before the probes ran ({len(samples['search'])} rounds): raise ROWS"
    )
    final = qc.get_import_job(knowledgeBaseId=kb_id, importJobId=job_id)["importJob"]
    assert final["status"] == "COMPLETE", final


def _in_progress(qc, kb_id: str, job_id: str) -> bool:
    return qc.get_import_job(knowledgeBaseId=kb_id, importJobId=job_id)["importJob"]["status"] == "START_IN_PROGRESS"


def _wait_until_running(server: ServerProcess) -> None:
    import orjson

    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        with urllib.request.urlopen(server.endpoint_url + "/_qconnect/health", timeout=30) as r:
            queue = orjson.loads(r.read()).get("importQueue") or {}
        if queue.get("running"):
            return
        time.sleep(0.02)
    raise AssertionError("the import never started")
