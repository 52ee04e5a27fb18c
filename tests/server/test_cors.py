"""CORS at the header level: preflight on the API and upload routes, Access-Control-* headers on
responses, allowed origins configurable (default any)."""

from __future__ import annotations

import urllib.error
import urllib.request

import pytest

from support import ServerProcess

ORIGIN = "http://localhost:3000"


def _request(url: str, method: str, headers: dict[str, str], data: bytes | None = None) -> tuple[int, dict[str, str]]:
    req = urllib.request.Request(url, method=method, headers=headers, data=data)
    try:
        with urllib.request.urlopen(req, timeout=10) as r:
            return r.status, {k.lower(): v for k, v in r.headers.items()}
    except urllib.error.HTTPError as exc:
        return exc.code, {k.lower(): v for k, v in exc.headers.items()}


def _preflight(url: str, origin: str, method: str = "POST") -> tuple[int, dict[str, str]]:
    return _request(
        url,
        "OPTIONS",
        {
            "Origin": origin,
            "Access-Control-Request-Method": method,
            "Access-Control-Request-Headers": "authorization,content-type,x-amz-date,x-amz-user-agent",
        },
    )


def test_preflight_and_headers_on_api_calls(endpoint: str) -> None:
    status, headers = _preflight(endpoint + "/knowledgeBases", ORIGIN)
    assert status == 204
    assert headers["access-control-allow-origin"] == ORIGIN
    assert "POST" in headers["access-control-allow-methods"]
    assert headers["access-control-allow-headers"] == "authorization,content-type,x-amz-date,x-amz-user-agent"
    # the real call: an error response carries the headers as well (the browser must read it)
    status, headers = _request(
        endpoint + "/knowledgeBases/00000000-0000-0000-0000-000000000000", "GET", {"Origin": ORIGIN}
    )
    assert status == 404
    assert headers["access-control-allow-origin"] == ORIGIN
    assert "x-amzn-requestid" in headers["access-control-expose-headers"]
    # no Origin: no CORS headers
    _, headers = _request(endpoint + "/knowledgeBases", "GET", {})
    assert "access-control-allow-origin" not in headers


def test_cross_origin_upload_to_the_presigned_url(endpoint: str, qconnect, quick_responses_kb) -> None:
    upload = qconnect.start_content_upload(
        knowledgeBaseId=quick_responses_kb["knowledgeBaseId"], contentType="text/csv"
    )
    status, headers = _preflight(upload["url"], ORIGIN, "PUT")
    assert (
        status == 204
        and headers["access-control-allow-origin"] == ORIGIN
        and "PUT" in headers["access-control-allow-methods"]
    )
    body = b"Name,Content\nx,y\n"
    status, headers = _request(
        upload["url"],
        "PUT",
        {**(upload.get("headersToInclude") or {}), "Origin": ORIGIN, "Content-Length": str(len(body))},
        body,
    )
    assert status == 200
    assert headers["access-control-allow-origin"] == ORIGIN and "etag" in headers["access-control-expose-headers"]


@pytest.fixture(scope="module")
def restricted():
    server = ServerProcess("--cors-allowed-origins", "https://app.example.com, http://localhost:5173").start()
    yield server
    server.stop()


def test_restricted_origins(restricted: ServerProcess) -> None:
    url = restricted.endpoint_url + "/knowledgeBases"
    status, headers = _preflight(url, "https://app.example.com")
    assert status == 204 and headers["access-control-allow-origin"] == "https://app.example.com"
    status, headers = _preflight(url, "https://evil.example.com")
    assert status == 403 and "access-control-allow-origin" not in headers
    _, headers = _request(url, "GET", {"Origin": "https://evil.example.com"})
    assert "access-control-allow-origin" not in headers


def test_cors_off() -> None:
    server = ServerProcess("--cors-allowed-origins", "off").start()
    try:
        status, headers = _preflight(server.endpoint_url + "/knowledgeBases", ORIGIN)
        assert status != 204 and "access-control-allow-origin" not in headers
    finally:
        server.stop()
