"""The pytest plugin in separate pytest runs of throw-away projects (pytester subprocesses)."""

from __future__ import annotations

import socket

import pytest

from qconnect_local.threaded_server import ServerStartError, ThreadedServer

FIXTURE_TESTS = """
import json
import os
import urllib.request

import boto3
import pytest


def new_kb(client, name="kb"):
    return client.create_knowledge_base(name=name, knowledgeBaseType="QUICK_RESPONSES")["knowledgeBase"]


def test_server_fixture_serves_http(qconnect_server):
    with urllib.request.urlopen(qconnect_server.endpoint_url + "/_qconnect/health") as response:
        assert json.load(response)["status"] == "ok"
    new_kb(qconnect_server.client())


def test_state_is_wiped_before_each_test(qconnect_server):
    assert qconnect_server.client().list_knowledge_bases()["knowledgeBaseSummaries"] == []
    new_kb(qconnect_server.client())


def test_client_default_mode_is_server(qconnect_client, qconnect_mode, qconnect_server):
    assert qconnect_mode == "server"
    assert qconnect_client.meta.endpoint_url == qconnect_server.endpoint_url
    assert qconnect_client.list_knowledge_bases()["knowledgeBaseSummaries"] == []


@pytest.fixture
def kb(qconnect_client):
    return new_kb(qconnect_client)


def test_endpoint_url_after_data_fixture_keeps_the_data(kb, qconnect_endpoint_url):
    client = boto3.client("qconnect", endpoint_url=qconnect_endpoint_url, region_name="us-east-1",
                          aws_access_key_id="x", aws_secret_access_key="y")
    assert [s["name"] for s in client.list_knowledge_bases()["knowledgeBaseSummaries"]] == ["kb"]


@pytest.mark.qconnect_mode("mock")
def test_marker_selects_mock(qconnect_client, qconnect_mode, qconnect_endpoint_url):
    assert qconnect_mode == "mock"
    new_kb(qconnect_client)
    # A client aimed anywhere is answered in-process while the mock is active.
    other = boto3.client("qconnect", region_name="us-east-1", endpoint_url="http://127.0.0.1:9")
    assert len(other.list_knowledge_bases()["knowledgeBaseSummaries"]) == 1
    # The loopback server shares the mock's state.
    with urllib.request.urlopen(qconnect_endpoint_url + "/_qconnect/health") as response:
        assert response.status == 200


@pytest.mark.parametrize("qconnect_mode", ["server", "mock"])
def test_same_test_both_ways(qconnect_client, qconnect_mode):
    kb = new_kb(qconnect_client)
    got = qconnect_client.get_knowledge_base(knowledgeBaseId=kb["knowledgeBaseArn"])["knowledgeBase"]
    assert got["knowledgeBaseId"] == kb["knowledgeBaseId"]
    qconnect_client.delete_knowledge_base(knowledgeBaseId=kb["knowledgeBaseId"])
    with pytest.raises(qconnect_client.exceptions.ResourceNotFoundException):
        qconnect_client.delete_knowledge_base(knowledgeBaseId=kb["knowledgeBaseId"])
"""


@pytest.mark.slow
def test_fixtures_in_a_separate_pytest_run(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(test_fixtures=FIXTURE_TESTS)
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider", "-q")
    result.assert_outcomes(passed=7)


@pytest.mark.slow
def test_mode_option_and_ini(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        test_mode="""
def test_mode(qconnect_mode, qconnect_client):
    assert qconnect_mode == "mock"
    assert qconnect_client.list_knowledge_bases()["knowledgeBaseSummaries"] == []
"""
    )
    pytester.makeini("[pytest]\nqconnect_mode = mock\n")
    pytester.runpytest_subprocess("-p", "no:cacheprovider", "-q").assert_outcomes(passed=1)
    # The command line wins over the ini file.
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider", "-q", "--qconnect-mode", "server")
    result.assert_outcomes(failed=1)


XDIST_TESTS = """
import os
import pytest

@pytest.mark.parametrize("n", range(6))
def test_worker_server(n, qconnect_client, qconnect_server):
    assert qconnect_client.list_knowledge_bases()["knowledgeBaseSummaries"] == []
    qconnect_client.create_knowledge_base(name=f"kb{n}", knowledgeBaseType="QUICK_RESPONSES")
    out = os.path.join(os.environ["ENDPOINTS_DIR"], f"endpoint-{os.environ['PYTEST_XDIST_WORKER']}-{n}")
    with open(out, "w") as f:
        f.write(qconnect_server.endpoint_url)
"""


@pytest.mark.slow
def test_xdist_one_server_per_worker(pytester: pytest.Pytester, tmp_path, monkeypatch) -> None:
    pytester.makepyfile(test_x=XDIST_TESTS)
    monkeypatch.setenv("ENDPOINTS_DIR", str(tmp_path))
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider", "-q", "-n", "2")
    result.assert_outcomes(passed=6)
    files = list(tmp_path.glob("endpoint-*"))
    workers = {f.name.split("-")[1] for f in files}
    endpoints = {f.read_text() for f in files}
    assert len(files) == 6 and len(workers) == 2 and len(endpoints) == 2


@pytest.mark.slow
def test_failing_start_up_raises_at_once(pytester: pytest.Pytester, tmp_path) -> None:
    pytester.makepyfile(
        test_f="""
def test_one(qconnect_client):
    pass

def test_two(qconnect_server):
    pass

def test_unrelated():
    pass
"""
    )
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        # A hang would fail at the timeout; "at once" is test_a_taken_port_fails_before_any_wait's.
        result = pytester.runpytest_subprocess(
            "-p", "no:cacheprovider", "-q", "--qconnect-port", str(port), timeout=120
        )
    result.assert_outcomes(passed=1, errors=2)
    result.stdout.fnmatch_lines(["*ServerStartError*cannot listen on 127.0.0.1:*Address already in use*"])
    # A data dir that cannot be created fails the same way.
    blocker = tmp_path / "a-file"
    blocker.write_text("")
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider", "-q", "--qconnect-data-dir", str(blocker / "x"))
    result.assert_outcomes(passed=1, errors=2)
    result.stdout.fnmatch_lines(["*ServerStartError*could not start*"])


def test_a_taken_port_fails_before_any_wait() -> None:
    """ "At once" as an event rather than a duration: the bind error is raised before start-up
    reads its clock, so it never waits for the server thread."""
    reads: list[float] = []

    def clock() -> float:
        reads.append(0.0)
        return 0.0

    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        server = ThreadedServer(app=None, host="127.0.0.1", port=taken.getsockname()[1], clock=clock)
        with pytest.raises(ServerStartError, match="cannot listen on 127.0.0.1:.*Address already in use"):
            server.start()
    assert reads == []


def _head_answer(port: int, head: bytes) -> bytes:
    with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
        try:
            sock.sendall(head)
        except (BrokenPipeError, ConnectionResetError):
            pass
        sock.settimeout(10)
        out = b""
        try:
            while chunk := sock.recv(65536):
                out += chunk
        except (TimeoutError, ConnectionResetError):
            pass
        return out


def test_the_plugin_and_mock_servers_have_serves_connection_limits():
    """The plugin's server and the mock's loopback server bound the request head (431) and the
    time to send it (408) as `serve` does, instead of uvicorn's unbounded defaults."""
    from qconnect_local.mock import _Backend
    from qconnect_local.pytest_plugin import start_server

    plugin = start_server()
    backend = _Backend()
    try:
        backend.app.settings.hardening.header_timeout_seconds = 0.5
        backend.loopback_url()
        servers = [plugin._threaded, backend._loopback]
        for server in servers:
            port = server.port
            big = b"GET /_qconnect/health HTTP/1.1\r\nHost: x\r\nX-Big: " + b"a" * 100_000 + b"\r\n\r\n"
            assert _head_answer(port, big).startswith(b"HTTP/1.1 431")
            fine = b"GET /_qconnect/health HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"
            assert _head_answer(port, fine).startswith(b"HTTP/1.1 200")
        assert _head_answer(backend._loopback.port, b"GET / HTTP/1.1\r\n").startswith(b"HTTP/1.1 408")
    finally:
        plugin.stop()
        if backend._loopback is not None:
            backend._loopback.stop()
        backend.app.close()
