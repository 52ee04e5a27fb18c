"""Uploads and imports with the S3 blob store (`--blob-url s3://...`), against moto's standalone
S3 server: StartContentUpload returns a real S3 presigned PUT, the runner streams the file from
the bucket, and GetImportJob's links are S3 presigned GETs."""

from __future__ import annotations

import csv
import io
import time

import pytest
import requests

from import_support import csv_bytes, start, wait_job
from s3_support import S3_ENV, MotoS3Server
from support import ServerProcess


@pytest.fixture(scope="module")
def moto_s3():
    server = MotoS3Server().start()
    yield server
    server.stop()


@pytest.fixture(scope="module")
def s3_server(moto_s3):
    url = MotoS3Server.new_bucket_url("qconnect")
    server = ServerProcess(
        "--blob-url", url, "--s3-endpoint-url", moto_s3.endpoint_url, "--max-upload-bytes", "2000", env=S3_ENV
    ).start()
    server.bucket = url[len("s3://") :].split("/")[0]
    yield server
    server.stop()


@pytest.fixture
def client(s3_server):
    s3_server.reset()
    return s3_server.client()


def _kb(client) -> str:
    return client.create_knowledge_base(name="kb", knowledgeBaseType="QUICK_RESPONSES")["knowledgeBase"][
        "knowledgeBaseId"
    ]


def test_upload_import_and_download_through_s3(client, s3_server, moto_s3):
    kb_id = _kb(client)
    up = client.start_content_upload(knowledgeBaseId=kb_id, contentType="text/csv")
    assert up["url"].startswith(f"{moto_s3.endpoint_url}/{s3_server.bucket}/qconnect/uploads/{up['uploadId']}?")
    assert "X-Amz-Signature=" in up["url"] and up["headersToInclude"] == {"content-type": "text/csv"}
    body = csv_bytes([["Name", "Content"], ["good", "hello"], ["", "a row without a name"]])
    assert requests.put(up["url"], data=body, headers=up["headersToInclude"]).status_code == 200
    job = wait_job(client, kb_id, start(client, kb_id, up["uploadId"])["importJobId"])
    assert job["status"] == "FAILED"  # one bad row; the good one is imported
    summaries = client.list_quick_responses(knowledgeBaseId=kb_id)["quickResponseSummaries"]
    assert [q["name"] for q in summaries] == ["good"]
    # Both links are S3 presigned GETs of the bucket's objects.
    assert job["url"].startswith(f"{moto_s3.endpoint_url}/{s3_server.bucket}/qconnect/uploads/")
    assert requests.get(job["url"]).content == body
    assert job["failedRecordReport"].startswith(f"{moto_s3.endpoint_url}/{s3_server.bucket}/qconnect/reports/")
    report = requests.get(job["failedRecordReport"])
    assert report.status_code == 200
    rows = list(csv.reader(io.StringIO(report.content.decode("utf-8-sig"))))
    assert len(rows) == 2 and rows[1][1] == "a row without a name"


def test_an_upload_never_put_is_refused(client):
    kb_id = _kb(client)
    up = client.start_content_upload(knowledgeBaseId=kb_id, contentType="text/csv")
    with pytest.raises(client.exceptions.ValidationException, match="No file has been uploaded"):
        start(client, kb_id, up["uploadId"])


def test_an_oversized_direct_upload_is_refused_at_start_import_job(client):
    kb_id = _kb(client)
    up = client.start_content_upload(knowledgeBaseId=kb_id, contentType="text/csv")
    big = csv_bytes([["Name", "Content"]] + [[f"n{i}", "x" * 50] for i in range(100)])
    assert requests.put(up["url"], data=big, headers=up["headersToInclude"]).status_code == 200
    with pytest.raises(client.exceptions.ValidationException, match="larger than the limit of 2000 bytes"):
        start(client, kb_id, up["uploadId"])


def test_reset_empties_the_bucket_prefix(client, s3_server, moto_s3):
    kb_id = _kb(client)
    up = client.start_content_upload(knowledgeBaseId=kb_id, contentType="text/csv")
    requests.put(up["url"], data=b"Name,Content\nx,y\n", headers=up["headersToInclude"])
    s3 = moto_s3.client()
    assert s3.list_objects_v2(Bucket=s3_server.bucket).get("KeyCount") == 1
    s3_server.reset()
    assert s3.list_objects_v2(Bucket=s3_server.bucket).get("KeyCount") == 0


def test_content_files_in_s3_go_with_their_content(client, s3_server, moto_s3):
    """CreateContent reads the file from the bucket in the background; UpdateContent with a new
    file and DeleteContent remove the object they no longer use."""
    kb_id = client.create_knowledge_base(name="docs", knowledgeBaseType="CUSTOM")["knowledgeBase"]["knowledgeBaseId"]

    def put(body: bytes) -> str:
        up = client.start_content_upload(knowledgeBaseId=kb_id, contentType="text/plain")
        assert requests.put(up["url"], data=body, headers=up["headersToInclude"]).status_code == 200
        return up["uploadId"]

    def objects() -> set[str]:
        listed = moto_s3.client().list_objects_v2(Bucket=s3_server.bucket, Prefix="qconnect/uploads/")
        return {o["Key"].rsplit("/", 1)[1] for o in listed.get("Contents", [])}

    first = put(b"first file")
    content = client.create_content(knowledgeBaseId=kb_id, name="doc", uploadId=first)["content"]
    deadline = time.monotonic() + 30
    while content["status"] == "CREATE_IN_PROGRESS" and time.monotonic() < deadline:
        time.sleep(0.05)
        content = client.get_content(knowledgeBaseId=kb_id, contentId=content["contentId"])["content"]
    assert content["status"] == "ACTIVE"
    assert content["url"].startswith(f"{moto_s3.endpoint_url}/{s3_server.bucket}/qconnect/uploads/{first}?")
    assert requests.get(content["url"]).content == b"first file"
    second = put(b"second file")
    client.update_content(knowledgeBaseId=kb_id, contentId=content["contentId"], uploadId=second)
    assert objects() == {second}
    client.delete_content(knowledgeBaseId=kb_id, contentId=content["contentId"])
    assert objects() == set()
