"""Two API servers and three workers on one PostgreSQL database behave as one service: under
concurrent requests through both servers, names and shortcut keys stay unique (exactly one
create wins each), quotas and clientToken idempotency hold, and many imports at once each land
every row exactly once."""

from __future__ import annotations

import collections
from concurrent.futures import ThreadPoolExecutor

import pytest
from botocore.exceptions import ClientError

import postgres_support
from import_support import csv_bytes, start, upload, wait_job
from support import ServerProcess
from team_support import WorkerProcess, needs_postgres, query

pytestmark = [needs_postgres, pytest.mark.slow]  # several server and worker processes

THREADS = 12


@pytest.fixture(scope="module")
def team(tmp_path_factory):
    """(database URL, [server A, server B], [three workers]) sharing one database and data dir."""
    url = postgres_support.new_database("conc")
    data_dir = tmp_path_factory.mktemp("team-data")
    common = ["--database-url", url, "--max-quick-responses", "100000", "--max-import-jobs-in-progress", "0"]
    servers = [ServerProcess("--no-worker", *common, data_dir=data_dir).start() for _ in range(2)]
    workers = [WorkerProcess("--data-dir", str(data_dir), *common[:4]).start() for _ in range(3)]
    yield url, servers, workers
    for w in workers:
        w.stop()
    for s in servers:
        s.stop()


@pytest.fixture
def clients(team):
    url, servers, _ = team
    servers[0].reset()  # one database: a reset through either server wipes it for both
    return [s.client() for s in servers]


def _outcome(call) -> str:
    try:
        call()
        return "ok"
    except ClientError as exc:
        return exc.response["Error"]["Code"]


def _race(calls) -> list[str]:
    with ThreadPoolExecutor(THREADS) as pool:
        return list(pool.map(_outcome, calls))


def test_clashing_names_and_shortcut_keys_have_exactly_one_winner(clients):
    a, b = clients
    kb_id = a.create_knowledge_base(name="kb", knowledgeBaseType="QUICK_RESPONSES")["knowledgeBase"]["knowledgeBaseId"]
    names = [f"name-{i}" for i in range(10)]
    attempts = 6  # per name, alternating servers

    def create(name: str, n: int, key: str | None):
        client = (a, b)[n % 2]
        extra = {"shortcutKey": key} if key else {}
        return lambda: client.create_quick_response(
            knowledgeBaseId=kb_id, name=name if key is None else f"{name}-{n}", content={"content": "x"}, **extra
        )

    by_name = _race([create(name, n, None) for name in names for n in range(attempts)])
    for i, name in enumerate(names):
        got = collections.Counter(by_name[i * attempts : (i + 1) * attempts])
        assert got == {"ok": 1, "ConflictException": attempts - 1}, (name, got)
    # Shortcut keys: different names, the same key -> one winner per key.
    by_key = _race([create(f"k{i}", n, f"key{i}") for i in range(5) for n in range(attempts)])
    for i in range(5):
        got = collections.Counter(by_key[i * attempts : (i + 1) * attempts])
        assert got == {"ok": 1, "ConflictException": attempts - 1}, got
    listed = a.list_quick_responses(knowledgeBaseId=kb_id, maxResults=100)["quickResponseSummaries"]
    assert len(listed) == len(names) + 5 == len({q["name"] for q in listed})


def test_knowledge_base_quota_holds_across_servers(clients):
    a, b = clients
    results = _race(
        [
            (lambda c=(a, b)[n % 2], n=n: c.create_knowledge_base(name=f"kb{n}", knowledgeBaseType="QUICK_RESPONSES"))
            for n in range(30)
        ]
    )
    assert collections.Counter(results) == {"ok": 10, "ServiceQuotaExceededException": 20}
    assert len(a.list_knowledge_bases()["knowledgeBaseSummaries"]) == 10


def test_quick_response_quota_holds_across_servers(team):
    url, servers, workers = team
    # A third server with a small quota on the same database (quotas are per-process settings).
    small = ServerProcess("--no-worker", "--database-url", url, "--max-quick-responses", "5").start()
    try:
        small.reset()
        client = small.client()
        kb_id = client.create_knowledge_base(name="kb", knowledgeBaseType="QUICK_RESPONSES")["knowledgeBase"][
            "knowledgeBaseId"
        ]
        results = _race(
            [
                (
                    lambda n=n: client.create_quick_response(
                        knowledgeBaseId=kb_id, name=f"q{n}", content={"content": "x"}
                    )
                )
                for n in range(15)
            ]
        )
        assert collections.Counter(results) == {"ok": 5, "ServiceQuotaExceededException": 10}
    finally:
        small.stop()


def test_one_client_token_creates_one_resource_across_servers(clients):
    a, b = clients
    ids: list[str] = []

    def create(n: int):
        client = (a, b)[n % 2]
        return lambda: ids.append(
            client.create_knowledge_base(name="same", knowledgeBaseType="QUICK_RESPONSES", clientToken="token-1")[
                "knowledgeBase"
            ]["knowledgeBaseId"]
        )

    assert set(_race([create(n) for n in range(10)])) == {"ok"}
    assert len(set(ids)) == 1
    assert len(a.list_knowledge_bases()["knowledgeBaseSummaries"]) == 1


def test_many_imports_at_once_each_land_every_row_once(team, clients):
    url, servers, workers = team
    a, b = clients
    kbs = [
        (a, b)[n % 2].create_knowledge_base(name=f"kb{n}", knowledgeBaseType="QUICK_RESPONSES")["knowledgeBase"][
            "knowledgeBaseId"
        ]
        for n in range(6)
    ]
    rows_per_file = 2000
    finished_before = sum(w.jobs_finished() for w in workers)

    def run(n: int) -> dict:
        client, kb_id = (a, b)[n % 2], kbs[n]
        body = [["Name", "Content", "Shortcut key"]]
        body += [[f"kb{n}-{i}", f"content {i}", f"s{i}"] for i in range(rows_per_file)]
        job = start(client, kb_id, upload(client, kb_id, csv_bytes(body)))
        return wait_job((b, a)[n % 2], kb_id, job["importJobId"], timeout=120)  # polled via the other server

    with ThreadPoolExecutor(6) as pool:
        jobs = list(pool.map(run, range(6)))
    assert [j["status"] for j in jobs] == ["COMPLETE"] * 6
    per_kb = dict(
        query(url, "SELECT k.id, count(*) FROM quick_responses q JOIN knowledge_bases k ON k.seq = q.kb GROUP BY k.id")
    )
    assert per_kb == dict.fromkeys(kbs, rows_per_file)
    assert sum(w.jobs_finished() for w in workers) - finished_before == 6
    assert sum(1 for w in workers if w.jobs_finished()) >= 2, "the jobs were not shared out among the workers"
