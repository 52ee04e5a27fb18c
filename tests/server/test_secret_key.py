"""The data dir's `secret.key` (signs pagination tokens and presigned URLs): read once per server,
not on every paginated call; the same file after a restart verifies the tokens issued before it;
concurrent creators agree on one key."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest

import postgres_support
from qconnect_local.config import Settings
from support import InProcessServer, ServerProcess


def _new_kb(client, count: int) -> str:
    kb = client.create_knowledge_base(name="kb", knowledgeBaseType="QUICK_RESPONSES")["knowledgeBase"][
        "knowledgeBaseId"
    ]
    for i in range(count):
        client.create_quick_response(knowledgeBaseId=kb, name=f"qr {i}", content={"content": "x"})
    return kb


@pytest.mark.skipif(bool(postgres_support.TEST_DATABASE_URL), reason="PostgreSQL keeps the key in the database")
def test_paginated_calls_do_not_read_the_key_file_each_time(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    server = InProcessServer(Settings(data_dir=tmp_path))
    try:
        client = server.client()
        kb = _new_kb(client, 6)
        reads = []
        read_bytes = Path.read_bytes

        def counting(self: Path) -> bytes:
            if self.name == "secret.key":
                reads.append(self)
            return read_bytes(self)

        monkeypatch.setattr(Path, "read_bytes", counting)
        names, token = [], None
        while True:
            page = client.list_quick_responses(
                knowledgeBaseId=kb, maxResults=1, **({"nextToken": token} if token else {})
            )
            names += [s["name"] for s in page["quickResponseSummaries"]]
            token = page.get("nextToken")
            if not token:
                break
        assert sorted(names) == [f"qr {i}" for i in range(6)]
        assert len(reads) <= 1, f"secret.key read {len(reads)} times for 6 pages"
    finally:
        server.stop()


def test_a_token_still_verifies_after_a_restart_with_the_same_key(tmp_path: Path) -> None:
    first = ServerProcess(data_dir=tmp_path).start()
    try:
        client = first.client()
        kb = _new_kb(client, 3)
        page = client.list_quick_responses(knowledgeBaseId=kb, maxResults=1)
        token, seen = page["nextToken"], page["quickResponseSummaries"][0]["name"]
    finally:
        first.stop()
    second = ServerProcess(data_dir=tmp_path).start()
    try:
        rest = second.client().list_quick_responses(knowledgeBaseId=kb, maxResults=5, nextToken=token)
        names = [s["name"] for s in rest["quickResponseSummaries"]]
        assert len(names) == 2 and seen not in names
    finally:
        second.stop()


def test_concurrent_creators_agree_on_one_complete_key(tmp_path: Path) -> None:
    settings = [Settings(data_dir=tmp_path) for _ in range(8)]
    barrier = threading.Barrier(len(settings))
    keys: list[bytes] = []
    errors: list[BaseException] = []

    def create(s: Settings) -> None:
        barrier.wait()
        try:
            keys.append(s.secret_key())
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    threads = [threading.Thread(target=create, args=(s,)) for s in settings]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == [] and len(set(keys)) == 1 and len(keys[0]) == 32
    assert (tmp_path / "secret.key").read_bytes() == keys[0]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["secret.key"]  # no temporary file left
