"""The S3 blob store against a real S3-compatible server (moto's standalone server)."""

from __future__ import annotations

import pytest
import requests

from qconnect_local.blobs import BlobNotFound
from qconnect_local.blobs.s3 import S3BlobStore
from qconnect_local.importing.csv_format import read_rows
from s3_support import S3_ENV, MotoS3Server


@pytest.fixture(scope="module")
def moto_s3():
    server = MotoS3Server().start()
    yield server
    server.stop()


@pytest.fixture
def blobs(moto_s3, monkeypatch):
    for k, v in S3_ENV.items():
        monkeypatch.setenv(k, v)
    store = S3BlobStore(MotoS3Server.new_bucket_url(), endpoint_url=moto_s3.endpoint_url)
    yield store
    store.close()


def test_write_commit_open_size_delete(blobs, moto_s3):
    with blobs.writer("uploads/a") as w:
        w.write(b"hello ")
        w.write(b"world")
        assert w.size == 11
        assert blobs.size("uploads/a") is None  # nothing visible before the commit
        w.commit()
    with blobs.open("uploads/a") as f:
        assert f.read() == b"hello world"
    assert blobs.size("uploads/a") == 11
    # The prefix of the URL is where the objects live.
    listed = moto_s3.client().list_objects_v2(Bucket=blobs.bucket)["Contents"]
    assert [o["Key"] for o in listed] == ["blobs/uploads/a"]
    assert list(blobs.keys()) == ["uploads/a"]
    blobs.delete("uploads/a")
    assert blobs.size("uploads/a") is None
    with pytest.raises(BlobNotFound):
        blobs.open("uploads/a")


def test_a_write_left_without_commit_leaves_nothing(blobs):
    with pytest.raises(RuntimeError):
        with blobs.writer("reports/x.csv") as w:
            w.write(b"partial")
            raise RuntimeError("boom")
    assert list(blobs.keys()) == []


def test_a_big_blob_streams_through_multipart_and_reads_as_csv(blobs):
    row = b"name-%07d,some content here,application/x.quickresponse;format=plain\r\n"
    with blobs.writer("uploads/big") as w:
        w.write(b"name,content,contentType\r\n")
        for i in range(200_000):  # ~14 MB: more than one multipart part and the memory spool
            w.write(row % i)
        w.commit()
    assert blobs.size("uploads/big") > 10 * 1024 * 1024
    with blobs.open("uploads/big") as f:
        header, rows = read_rows(f)
        assert sum(1 for _ in rows) == 200_000


def test_presigned_put_and_get_are_real_s3_urls(blobs):
    url = blobs.presigned_put("uploads/p", "text/csv", 60)
    assert "X-Amz-Signature=" in url and f"/{blobs.bucket}/blobs/uploads/p" in url
    assert requests.put(url, data=b"a,b\n", headers={"Content-Type": "text/csv"}).status_code == 200
    got = requests.get(blobs.presigned_get("uploads/p", 60))
    assert got.status_code == 200 and got.content == b"a,b\n"
    # (moto does not check presigned signatures, so a forged URL cannot be tested here.)


def test_clear_and_ping_and_bad_keys(blobs):
    for i in range(3):
        with blobs.writer(f"k/{i}") as w:
            w.write(b"x")
            w.commit()
    assert blobs.ping()
    blobs.clear()
    assert list(blobs.keys()) == []
    for bad in ("", "/abs", "a/../b"):
        with pytest.raises(ValueError):
            blobs.size(bad)


def test_unreachable_endpoint_pings_false(monkeypatch):
    for k, v in S3_ENV.items():
        monkeypatch.setenv(k, v)
    store = S3BlobStore("s3://nowhere/p", endpoint_url="http://127.0.0.1:9", create_bucket=False)
    store.client.meta.config.retries = {"max_attempts": 1}
    assert store.ping() is False
