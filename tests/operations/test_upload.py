"""StartContentUpload and the presigned upload URL, over real HTTP."""

from __future__ import annotations

import hashlib
import http.client as httpclient
import time
from urllib.parse import urlsplit

import pytest
from botocore.exceptions import ClientError

from import_support import http, s3_error_code, start, upload, wait_job
from qconnect_local.config import Settings
from support import FakeClock, InProcessServer

CSV = b"Name,Content\r\nhello,Hello there\r\n"


def test_start_content_upload_shape(qconnect, quick_responses_kb):
    kb_id = quick_responses_kb["knowledgeBaseId"]
    before = time.time()
    up = qconnect.start_content_upload(knowledgeBaseId=kb_id, contentType="text/csv")
    assert up["headersToInclude"] == {"content-type": "text/csv"}
    assert up["url"].startswith(qconnect.meta.endpoint_url + "/_qconnect/uploads/" + up["uploadId"] + "?")
    assert before + 3600 - 2 <= up["urlExpiry"].timestamp() <= time.time() + 3600 + 1
    short = qconnect.start_content_upload(knowledgeBaseId=kb_id, contentType="text/csv", presignedUrlTimeToLive=5)
    assert abs(short["urlExpiry"].timestamp() - (time.time() + 300)) < 3
    assert short["uploadId"] != up["uploadId"]


def test_start_content_upload_errors(qconnect, quick_responses_kb):
    kb_id = quick_responses_kb["knowledgeBaseId"]
    with pytest.raises(ClientError) as e:
        qconnect.start_content_upload(knowledgeBaseId=kb_id, contentType="text/plain")
    assert e.value.response["Error"]["Code"] == "ValidationException"
    assert "text/csv" in e.value.response["Error"]["Message"]
    with pytest.raises(ClientError) as e:
        qconnect.start_content_upload(knowledgeBaseId=kb_id, contentType="image/png")
    assert "regular expression pattern" in e.value.response["Error"]["Message"]
    with pytest.raises(ClientError) as e:
        qconnect.start_content_upload(knowledgeBaseId=kb_id, contentType="text/csv", presignedUrlTimeToLive=61)
    assert "less than or equal to 60" in e.value.response["Error"]["Message"]
    with pytest.raises(qconnect.exceptions.ResourceNotFoundException):
        qconnect.start_content_upload(knowledgeBaseId="00000000-0000-4000-8000-000000000000", contentType="text/csv")
    custom = qconnect.create_knowledge_base(name="custom", knowledgeBaseType="CUSTOM")["knowledgeBase"]
    up = qconnect.start_content_upload(knowledgeBaseId=custom["knowledgeBaseId"], contentType="text/plain")
    assert up["headersToInclude"] == {"content-type": "text/plain"}


def test_put_returns_etag_and_a_second_put_replaces_the_file(qconnect, quick_responses_kb):
    kb_id = quick_responses_kb["knowledgeBaseId"]
    up = qconnect.start_content_upload(knowledgeBaseId=kb_id, contentType="text/csv")
    status, headers, _ = http("PUT", up["url"], b"Name,Content\r\nold,Old\r\n", up["headersToInclude"])
    assert status == 200
    assert headers["etag"] == '"' + hashlib.md5(b"Name,Content\r\nold,Old\r\n").hexdigest() + '"'
    status, headers, _ = http("PUT", up["url"], CSV, up["headersToInclude"])
    assert status == 200 and headers["etag"] == '"' + hashlib.md5(CSV).hexdigest() + '"'
    job = wait_job(qconnect, kb_id, start(qconnect, kb_id, up["uploadId"])["importJobId"])
    assert job["status"] == "COMPLETE"
    assert http("GET", job["url"])[2] == CSV
    names = [q["name"] for q in qconnect.list_quick_responses(knowledgeBaseId=kb_id)["quickResponseSummaries"]]
    assert names == ["hello"]


def _signed_put(up):
    return up["url"], up["headersToInclude"]


@pytest.mark.parametrize(
    "headers",
    [{}, {"content-type": "text/plain"}],
    ids=["missing-content-type", "other-content-type"],
)
def test_put_without_the_signed_header_is_refused(qconnect, quick_responses_kb, headers):
    up = qconnect.start_content_upload(knowledgeBaseId=quick_responses_kb["knowledgeBaseId"], contentType="text/csv")
    if not headers:
        # urllib adds application/x-www-form-urlencoded to a body without a Content-Type;
        # send the request by hand so that no Content-Type goes out at all.
        parts = urlsplit(up["url"])
        conn = httpclient.HTTPConnection(parts.netloc, timeout=10)
        conn.putrequest("PUT", f"{parts.path}?{parts.query}")
        conn.putheader("Content-Length", str(len(CSV)))
        conn.endheaders(CSV)
        resp = conn.getresponse()
        status, body = resp.status, resp.read()
    else:
        status, _, body = http("PUT", up["url"], CSV, headers)
    assert status == 403
    assert s3_error_code(body) == "SignatureDoesNotMatch"


def test_tampered_urls_are_refused(qconnect, quick_responses_kb, server):
    up = qconnect.start_content_upload(knowledgeBaseId=quick_responses_kb["knowledgeBaseId"], contentType="text/csv")
    url, headers = _signed_put(up)
    bad_signature = url[:-4] + ("0000" if not url.endswith("0000") else "1111")
    later = url.replace("X-Qc-Expires=", "X-Qc-Expires=9")
    other_upload = url.replace(up["uploadId"], "00000000-0000-4000-8000-000000000000")
    other_host = url.replace("127.0.0.1", "localhost")
    for tampered in (bad_signature, later, other_upload, other_host):
        status, _, body = http("PUT", tampered, CSV, headers)
        assert status == 403, tampered
        assert s3_error_code(body) == "SignatureDoesNotMatch"
    unsigned = url.split("?", 1)[0]
    status, _, body = http("PUT", unsigned, CSV, headers)
    assert status == 403 and s3_error_code(body) == "AccessDenied"
    # The PUT URL is not a download URL: the method is signed too.
    status, _, body = http("GET", url)
    assert status == 403 and s3_error_code(body) == "SignatureDoesNotMatch"
    # Nothing was stored by any of these.
    with pytest.raises(ClientError) as e:
        start(qconnect, quick_responses_kb["knowledgeBaseId"], up["uploadId"])
    assert "No file has been uploaded" in e.value.response["Error"]["Message"]


def test_upload_over_the_size_limit(qconnect, quick_responses_kb):
    kb_id = quick_responses_kb["knowledgeBaseId"]
    up = qconnect.start_content_upload(knowledgeBaseId=kb_id, contentType="text/csv")
    big = b"Name,Content\r\n" + b"x" * (5 * 1024 * 1024)
    status, _, body = http("PUT", up["url"], big, up["headersToInclude"])
    assert status == 400 and s3_error_code(body) == "EntityTooLarge"
    assert b"<MaxSizeAllowed>5242880</MaxSizeAllowed>" in body
    # Streamed without a Content-Length (chunked): refused while streaming.
    parts = urlsplit(up["url"])
    conn = httpclient.HTTPConnection(parts.netloc, timeout=30)
    conn.request(
        "PUT",
        f"{parts.path}?{parts.query}",
        body=iter([big[i : i + 65536] for i in range(0, len(big), 65536)]),
        headers={"content-type": "text/csv"},
        encode_chunked=True,
    )
    resp = conn.getresponse()
    assert resp.status == 400 and s3_error_code(resp.read()) == "EntityTooLarge"
    with pytest.raises(ClientError) as e:
        start(qconnect, kb_id, up["uploadId"])
    assert "No file has been uploaded" in e.value.response["Error"]["Message"]
    # Exactly at the limit is fine.
    ok = b"Name,Content\r\nbig," + b"y" * 1000 + b"\r\n"
    upload(qconnect, kb_id, ok + b" " * (5 * 1024 * 1024 - len(ok)))


@pytest.fixture(scope="module")
def short_url_server():
    """URLs that live one second, on a server whose clock the test moves instead of sleeping."""
    settings = Settings(in_memory=True, database_url=None)
    settings.imports.url_ttl_cap_seconds = 1
    settings.imports.upload_grace_seconds = 0
    server = InProcessServer(settings, FakeClock(time.time()))
    yield server
    server.stop()


def test_expired_upload_url_and_expired_upload(short_url_server):
    client = short_url_server.client()
    kb_id = client.create_knowledge_base(name="kb", knowledgeBaseType="QUICK_RESPONSES")["knowledgeBase"][
        "knowledgeBaseId"
    ]
    late = client.start_content_upload(knowledgeBaseId=kb_id, contentType="text/csv")
    in_time = client.start_content_upload(knowledgeBaseId=kb_id, contentType="text/csv")
    assert http("PUT", in_time["url"], CSV, in_time["headersToInclude"])[0] == 200
    short_url_server.clock.advance(2.1)
    status, _, body = http("PUT", late["url"], CSV, late["headersToInclude"])
    assert status == 403 and s3_error_code(body) == "AccessDenied"
    assert b"<Message>Request has expired</Message>" in body
    with pytest.raises(ClientError) as e:
        start(client, kb_id, in_time["uploadId"])
    assert e.value.response["Error"]["Code"] == "ValidationException"
    assert f"The upload '{in_time['uploadId']}' expired at" in e.value.response["Error"]["Message"]
