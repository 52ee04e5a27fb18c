"""Every lock wait of an API write is bounded (issue 14): a write that cannot get its lock within
the lock timeout is answered with a retryable 408, and never commits later (both stores)."""

from __future__ import annotations

import threading
import time

import botocore.exceptions
import pytest

from qconnect_local.config import Settings
from support import InProcessServer, single_attempt_client

LOCK_TIMEOUT = 1.0


@pytest.fixture
def server():
    settings = Settings(in_memory=True, database_url=None)
    settings.hardening.lock_timeout_seconds = LOCK_TIMEOUT
    proc = InProcessServer(settings)
    yield proc
    proc.stop()


def _hold_knowledge_base(store, account: str, kb_id: str, holding: threading.Event, release: threading.Event) -> None:
    """A write session that holds what an import holds: the store's write lock (SQLite), the
    knowledge base's row (PostgreSQL), until `release`."""
    with store.write(patient=True) as session:
        assert session.get_knowledge_base(account, "us-east-1", kb_id) is not None
        holding.set()
        release.wait(30)


def test_a_blocked_write_gets_a_retryable_error_in_time_and_never_commits(server):
    qc = single_attempt_client(server.endpoint_url)
    kb_id = qc.create_knowledge_base(name="kb", knowledgeBaseType="QUICK_RESPONSES")["knowledgeBase"]["knowledgeBaseId"]
    account = server.services.settings.account_id
    holding, release = threading.Event(), threading.Event()
    holder = threading.Thread(
        target=_hold_knowledge_base, args=(server.services.store, account, kb_id, holding, release)
    )
    holder.start()
    try:
        assert holding.wait(10)
        started = time.monotonic()
        with pytest.raises(botocore.exceptions.ClientError) as caught:
            qc.create_quick_response(knowledgeBaseId=kb_id, name="late", content={"content": "x"})
        waited = time.monotonic() - started
    finally:
        release.set()
        holder.join(30)
    error = caught.value.response
    assert error["Error"]["Code"] == "RequestTimeoutException", error
    assert error["ResponseMetadata"]["HTTPStatusCode"] == 408
    assert LOCK_TIMEOUT * 0.9 <= waited < LOCK_TIMEOUT + 2, waited
    time.sleep(0.5)  # the holder is gone: a write that was still queued would land now
    assert qc.list_quick_responses(knowledgeBaseId=kb_id)["quickResponseSummaries"] == []
    # The store is usable again at once.
    qc.create_quick_response(knowledgeBaseId=kb_id, name="now", content={"content": "x"})
    assert len(qc.list_quick_responses(knowledgeBaseId=kb_id)["quickResponseSummaries"]) == 1


@pytest.mark.parametrize("command", ["serve", "worker"])
def test_the_lock_timeout_is_an_option_of_serve_and_worker(monkeypatch, command):
    from qconnect_local import envconfig
    from qconnect_local.cli import build_parser, settings_from_args

    def settings(*argv: str) -> Settings:
        return settings_from_args(envconfig.resolve(build_parser().parse_args([command, *argv])))

    monkeypatch.delenv("QCONNECT_LOCAL_LOCK_TIMEOUT", raising=False)
    assert settings().hardening.lock_timeout_seconds == 10.0
    assert settings("--lock-timeout", "2.5").hardening.lock_timeout_seconds == 2.5
    monkeypatch.setenv("QCONNECT_LOCAL_LOCK_TIMEOUT", "3")
    assert settings().hardening.lock_timeout_seconds == 3.0
