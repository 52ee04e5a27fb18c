"""Team mode is safe to expose (issue 14): the guard of the internal endpoints, presigned URLs
from configuration, connection limits, and no leftovers after kill -9. Servers bind 127.0.0.1."""

from __future__ import annotations

import os
import socket
import time
from pathlib import Path
from types import SimpleNamespace

import pytest

from import_support import http
from qconnect_local.hardening import HardeningSettings
from qconnect_local.internal_guard import is_guarded, needs_token
from support import ServerProcess


def _settings(host: str, **hardening) -> SimpleNamespace:
    return SimpleNamespace(host=host, hardening=HardeningSettings(**hardening))


def test_the_guard_is_open_only_on_loopback_with_sqlite():
    assert not needs_token(_settings("127.0.0.1"), "sqlite")
    assert not needs_token(_settings("::1"), "sqlite")
    assert not needs_token(_settings("localhost"), "sqlite")
    assert needs_token(_settings("0.0.0.0"), "sqlite")
    assert needs_token(_settings("192.168.1.5"), "sqlite")
    assert needs_token(_settings("127.0.0.1"), "postgresql")
    assert needs_token(_settings("127.0.0.1", admin_token="t"), "sqlite")
    assert not needs_token(_settings("0.0.0.0", allow_internal_endpoints=True), "postgresql")
    assert is_guarded("POST", "/_qconnect/reset")
    assert is_guarded("PUT", "/_qconnect/connect-instances/i/routing-profiles")
    assert is_guarded("DELETE", "/_qconnect/connect-instances/i/routing-profiles")
    assert is_guarded("POST", "/_qconnect/import-jobs/j/run")
    assert is_guarded("GET", "/_qconnect/requests")
    assert not is_guarded("GET", "/_qconnect/health")
    assert not is_guarded("PUT", "/_qconnect/uploads/u")  # signed


def _call(method: str, url: str, headers: dict[str, str] | None = None, body: bytes = b""):
    status, _, text = http(method, url, body if method != "GET" else None, headers)
    return status, text


@pytest.fixture(scope="module")
def token_server(tmp_path_factory):
    proc = ServerProcess("--admin-token", "s3cret", data_dir=tmp_path_factory.mktemp("guard")).start()
    yield proc
    proc.stop()


def test_state_changing_internal_endpoints_need_the_admin_token(token_server):
    url = token_server.endpoint_url
    qc = token_server.client()
    qc.create_knowledge_base(name="kept", knowledgeBaseType="QUICK_RESPONSES")
    profiles = b'{"routingProfiles": ["Sales"]}'
    for method, path, body in [
        ("POST", "/_qconnect/reset", b""),
        ("PUT", "/_qconnect/connect-instances/i-1/routing-profiles", profiles),
        ("DELETE", "/_qconnect/connect-instances/i-1/routing-profiles", b""),
        ("POST", "/_qconnect/import-jobs/abc/run", b""),
    ]:
        for headers in [{}, {"X-Qc-Admin-Token": "wrong"}, {"X-Qc-Admin-Token": "s3cre"}]:
            status, text = _call(method, url + path, headers, body)
            assert status == 403 and b"X-Qc-Admin-Token" in text, (path, text)
    assert len(qc.list_knowledge_bases()["knowledgeBaseSummaries"]) == 1  # nothing was wiped
    assert _call("GET", url + "/_qconnect/health")[0] == 200  # reads stay open
    ok = {"X-Qc-Admin-Token": "s3cret"}
    assert _call("PUT", url + "/_qconnect/connect-instances/i-1/routing-profiles", ok, profiles)[0] == 200
    assert _call("POST", url + "/_qconnect/reset", ok)[0] == 200
    assert qc.list_knowledge_bases()["knowledgeBaseSummaries"] == []


def test_loopback_sqlite_leaves_them_open(server, endpoint):
    assert _call("POST", endpoint + "/_qconnect/reset")[0] == 200


# -- presigned URLs --------------------------------------------------------------------------


@pytest.fixture(scope="module")
def public_url_server(tmp_path_factory):
    proc = ServerProcess(
        "--public-base-url", "https://qc.example.test:8443/", data_dir=tmp_path_factory.mktemp("public")
    ).start()
    yield proc
    proc.stop()


def test_presigned_urls_come_from_the_public_base_url(public_url_server):
    qc = public_url_server.client()
    kb = qc.create_knowledge_base(name="kb", knowledgeBaseType="QUICK_RESPONSES")["knowledgeBase"]
    up = qc.start_content_upload(knowledgeBaseId=kb["knowledgeBaseId"], contentType="text/csv")
    assert up["url"].startswith("https://qc.example.test:8443/_qconnect/uploads/"), up["url"]
    # A proxy forwards it here: the signature holds for the public host, whatever Host says.
    local = public_url_server.endpoint_url + up["url"].split("8443", 1)[1]
    status, _, body = http("PUT", local, b"Name,Content\r\na,b\r\n", up["headersToInclude"])
    assert status == 200, body


def test_forwarded_headers_are_ignored_unless_trusted(qconnect, quick_responses_kb, endpoint):
    kb_id = quick_responses_kb["knowledgeBaseId"]
    qconnect.meta.events.register(
        "before-send.qconnect.StartContentUpload",
        lambda request, **kw: request.headers.update(
            {"X-Forwarded-Proto": "https", "X-Forwarded-Host": "evil.example"}
        ),
    )
    up = qconnect.start_content_upload(knowledgeBaseId=kb_id, contentType="text/csv")
    assert up["url"].startswith(endpoint + "/_qconnect/uploads/"), up["url"]


def test_a_bad_host_header_never_makes_the_url(endpoint, quick_responses_kb, qconnect):
    qconnect.meta.events.register(
        "before-send.qconnect.StartContentUpload",
        lambda request, **kw: request.headers.__setitem__("Host", "evil.example/path?x="),
    )
    up = qconnect.start_content_upload(knowledgeBaseId=quick_responses_kb["knowledgeBaseId"], contentType="text/csv")
    assert "evil" not in up["url"], up["url"]


def test_public_endpoint_trusts_forwarded_headers_only_when_told():
    from qconnect_local.public_urls import public_endpoint

    headers = {"host": "127.0.0.1:4580", "x-forwarded-proto": "https", "x-forwarded-host": "qc.example.test"}
    plain = SimpleNamespace(host="127.0.0.1", port=4580, hardening=HardeningSettings())
    trusting = SimpleNamespace(host="127.0.0.1", port=4580, hardening=HardeningSettings(trust_forwarded_headers=True))
    assert public_endpoint(plain, headers) == "http://127.0.0.1:4580"
    assert public_endpoint(trusting, headers) == "https://qc.example.test"
    assert public_endpoint(trusting, {"host": "h:1", "x-forwarded-host": "a/b"}) == "http://h:1"


# -- connection limits -----------------------------------------------------------------------


@pytest.fixture(scope="module")
def limited_server(tmp_path_factory):
    proc = ServerProcess(
        "--max-header-bytes",
        "8192",
        "--header-timeout",
        "1",
        "--max-connections",
        "40",
        "--keep-alive-timeout",
        "1",
        data_dir=tmp_path_factory.mktemp("limits"),
    ).start()
    yield proc
    proc.stop()


def _port(proc: ServerProcess) -> int:
    return int(proc.endpoint_url.rsplit(":", 1)[1])


def _read_all(sock: socket.socket, timeout: float) -> bytes:
    sock.settimeout(timeout)
    out = b""
    try:
        while chunk := sock.recv(65536):
            out += chunk
    except (TimeoutError, ConnectionResetError):
        pass
    return out


def test_an_oversized_request_head_is_431(limited_server):
    with socket.create_connection(("127.0.0.1", _port(limited_server))) as sock:
        head = b"GET /_qconnect/health HTTP/1.1\r\nHost: x\r\nX-Big: " + b"a" * 100_000 + b"\r\n\r\n"
        try:
            sock.sendall(head)
        except (BrokenPipeError, ConnectionResetError):
            pass
        assert _read_all(sock, 5).startswith(b"HTTP/1.1 431"), "no 431"
    status, _ = _call("GET", limited_server.endpoint_url + "/_qconnect/health", {"X-Fine": "b" * 4000})
    assert status == 200


def test_a_silent_or_slow_connection_is_closed_after_the_header_timeout(limited_server):
    start = time.monotonic()
    with socket.create_connection(("127.0.0.1", _port(limited_server))) as silent:
        assert _read_all(silent, 10).startswith(b"HTTP/1.1 408")
    assert time.monotonic() - start < 5
    with socket.create_connection(("127.0.0.1", _port(limited_server))) as slow:
        slow.sendall(b"GET /_qconnect/health HTTP/1.1\r\n")
        time.sleep(0.5)
        slow.sendall(b"Host: x\r\n")  # still no end of head after the timeout
        assert _read_all(slow, 10).startswith(b"HTTP/1.1 408")
    assert time.monotonic() - start < 10


def test_idle_connections_cannot_lock_clients_out(limited_server):
    port = _port(limited_server)
    idle = [socket.create_connection(("127.0.0.1", port)) for _ in range(60)]
    try:
        refused = 0
        for sock in idle[40:]:
            if _read_all(sock, 2).startswith(b"HTTP/1.1 503"):
                refused += 1
        assert refused >= 15, refused
    finally:
        for sock in idle:
            sock.close()
    deadline = time.monotonic() + 10
    while True:  # the idle ones are gone after the header timeout at the latest
        try:
            if _call("GET", limited_server.endpoint_url + "/_qconnect/health")[0] == 200:
                break
        except OSError:
            pass
        assert time.monotonic() < deadline
        time.sleep(0.2)


# -- leftovers after kill -9 ------------------------------------------------------------------


def test_killed_processes_leave_no_temporary_blob_files(tmp_path):
    from qconnect_local.blobs.local import LocalBlobStore
    from qconnect_local.blobs.signed_urls import UrlSigner

    root = tmp_path / "blobs"
    (root / "reports").mkdir(parents=True)
    dead = _dead_pid()
    leftover = root / "reports" / f".tmp-{dead}-report.csv-abc"
    mine = root / "reports" / f".tmp-{os.getpid()}-report.csv-def"
    leftover.write_bytes(b"half")
    mine.write_bytes(b"in flight")
    LocalBlobStore(root, UrlSigner(b"k" * 32))
    assert not leftover.exists() and mine.exists()


def test_the_in_memory_servers_lock_file_is_not_a_blob(tmp_path):
    """The blob garbage collector deletes every key no row refers to: the `.alive` lock file of
    an in-memory server must not be one (deleting it was refused, which stopped the collection)."""
    from qconnect_local.blobs.local import LocalBlobStore
    from qconnect_local.blobs.signed_urls import UrlSigner
    from qconnect_local.leftovers import hold_directory

    root = tmp_path / "blobs"
    root.mkdir()
    fd = hold_directory(root)
    try:
        store = LocalBlobStore(root, UrlSigner(b"k" * 32), temporary=True)
        with store.writer("uploads/abc") as w:
            w.write(b"x")
            w.commit()
        assert sorted(store.keys()) == ["uploads/abc"]
        for key in store.keys():
            store.delete(key)
        assert list(store.keys()) == [] and (root / ".alive").exists()
    finally:
        os.close(fd)


def _dead_pid() -> int:
    import subprocess
    import sys

    proc = subprocess.Popen([sys.executable, "-c", "pass"])
    proc.wait()
    return proc.pid


@pytest.mark.skipif(not os.access("/dev/shm", os.W_OK), reason="no tmpfs")
def test_a_killed_in_memory_server_leaves_nothing_in_dev_shm():
    victim = ServerProcess("--in-memory").start()
    # The directories the victim holds (other tests' servers may be making theirs meanwhile).
    fds = Path(f"/proc/{victim.proc.pid}/fd")
    held = {Path(os.readlink(fd)) for fd in fds.iterdir() if os.readlink(fd).endswith("/.alive")}
    theirs = {p.parent.name for p in held if p.parent.parent == Path("/dev/shm")}
    assert theirs, "the in-memory server made no tmpfs directory"
    victim.kill()
    assert all(Path("/dev/shm", n).exists() for n in theirs)
    follower = ServerProcess("--in-memory").start()  # its start-up sweeps dead servers' directories
    try:
        assert not any(Path("/dev/shm", n).exists() for n in theirs)
    finally:
        follower.stop()


def test_an_accounts_routing_profile_directory_is_not_usable_by_another(server, endpoint):
    from import_support import import_file, report_rows

    instance = "11111111-2222-3333-4444-555555555555"
    body = b'{"routingProfiles": ["Sales"]}'
    assert _call("PUT", f"{endpoint}/_qconnect/connect-instances/{instance}/routing-profiles", {}, body)[0] == 200
    csv_body = b"Name,Content,Routing Profile\r\nqr,hello,Sales\r\n"
    config = {"source": "AMAZON_CONNECT", "configuration": {"connectConfiguration": {"instanceId": instance}}}
    results = {}
    for account in ("000000000000", "111111111111"):
        client = server.client(access_key=account)
        kb_id = client.create_knowledge_base(name="kb", knowledgeBaseType="QUICK_RESPONSES")["knowledgeBase"][
            "knowledgeBaseId"
        ]
        job = import_file(client, kb_id, csv_body, externalSourceConfiguration=config)
        results[account] = (job["status"], report_rows(job) if job.get("failedRecordReport") else [])
    assert results["000000000000"][0] == "COMPLETE", results
    assert results["111111111111"][0] == "FAILED" and "not known" in str(results["111111111111"][1]), results


def test_a_lock_wait_that_ran_out_is_a_retryable_408():
    import sqlite3

    from qconnect_local.protocol.retryable import as_retryable

    busy = as_retryable(sqlite3.OperationalError("database is locked"))
    assert busy is not None and busy.code == "RequestTimeoutException" and busy.status == 408
    lock_timeout = type("LockNotAvailable", (Exception,), {"sqlstate": "55P03"})()
    assert as_retryable(lock_timeout) is not None
    assert as_retryable(sqlite3.OperationalError("no such table: x")) is None
    assert as_retryable(ValueError("x")) is None


def test_nul_in_the_routing_profile_directory_is_a_400(endpoint):
    body = b'{"routingProfiles": ["Sa\\u0000les"]}'
    status, text = _call("PUT", f"{endpoint}/_qconnect/connect-instances/i-nul/routing-profiles", {}, body)
    assert status == 400 and b"U+0000" in text, text
