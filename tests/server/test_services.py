"""The composition root (`qconnect_local.services`): one wiring for every way of running, and the
promises that wiring keeps."""

from __future__ import annotations

import contextlib
import hashlib
from collections.abc import Iterator
from typing import Any

import pytest

from import_support import csv_bytes, start, wait_job
from qconnect_local.blobs import Link
from qconnect_local.config import Settings
from qconnect_local.operations.uploads import upload_key
from qconnect_local.services import Services, build_services
from support import InProcessServer


def test_the_local_blob_store_signs_urls_its_endpoints_accept() -> None:
    services = build_services(Settings(in_memory=True, database_url=None))
    try:
        link = Link("http://127.0.0.1:4580", "/_qconnect/uploads/u1", 2_000_000_000, 60)
        url = services.blobs.upload_url(upload_key("u1"), "text/csv", link)
        path, query = url.removeprefix("http://127.0.0.1:4580").split("?", 1)
        params = {k: [v] for k, v in (pair.split("=", 1) for pair in query.split("&"))}
        services.signer.verify("PUT", "127.0.0.1:4580", path, params, {"content-type": "text/csv"}, 1_000_000_000)
        assert services.blobs.direct_upload(upload_key("u1")) is None  # uploads go through a server
    finally:
        services.blobs.close()
        services.store.close()


class DirectUploads:
    """The local blob store in the role S3 plays for a team: clients' files land in it without
    passing a server. It notes whether a write transaction was open when it was asked."""

    def __init__(self, services: Services, files: dict[str, bytes]) -> None:
        self.real = services.blobs
        self.files = files
        self.asked_in_write: list[bool] = []
        self.writing = 0
        real_write = services.store.write

        @contextlib.contextmanager
        def write(**options: Any) -> Iterator[Any]:
            with real_write(**options) as session:
                self.writing += 1
                try:
                    yield session
                finally:
                    self.writing -= 1

        services.store.write = write  # type: ignore[method-assign]

    def direct_upload(self, key: str) -> tuple[int, str] | None:
        self.asked_in_write.append(self.writing > 0)
        body = self.files.get(key)
        if body is None:
            return None
        with self.real.writer(key) as out:
            out.write(body)
            out.commit()
        return len(body), hashlib.md5(body).hexdigest()

    def __getattr__(self, name: str) -> Any:
        return getattr(self.real, name)


@pytest.fixture
def direct() -> Iterator[tuple[InProcessServer, DirectUploads, dict[str, bytes]]]:
    files: dict[str, bytes] = {}
    holder: list[DirectUploads] = []

    def adapt(services: Services) -> None:
        holder.append(DirectUploads(services, files))
        services.blobs = holder[0]  # type: ignore[assignment]

    server = InProcessServer(Settings(in_memory=True, database_url=None), adapt=adapt)
    yield server, holder[0], files
    server.stop()


def test_a_direct_upload_is_looked_for_before_the_write_transaction(direct) -> None:
    server, blobs, files = direct
    client = server.client()
    kb_id = client.create_knowledge_base(name="kb", knowledgeBaseType="QUICK_RESPONSES")["knowledgeBase"][
        "knowledgeBaseId"
    ]
    up = client.start_content_upload(knowledgeBaseId=kb_id, contentType="text/csv")
    files[upload_key(up["uploadId"])] = csv_bytes([["Name", "Content"], ["Hello", "Hi there"]])
    job = wait_job(client, kb_id, start(client, kb_id, up["uploadId"])["importJobId"])
    assert job["status"] == "COMPLETE"
    assert blobs.asked_in_write == [False]  # asked once, with no write transaction open
    names = [s["name"] for s in client.list_quick_responses(knowledgeBaseId=kb_id)["quickResponseSummaries"]]
    assert names == ["Hello"]


def test_a_missing_direct_upload_is_still_refused(direct) -> None:
    server, blobs, _ = direct
    client = server.client()
    kb_id = client.create_knowledge_base(name="kb", knowledgeBaseType="QUICK_RESPONSES")["knowledgeBase"][
        "knowledgeBaseId"
    ]
    up = client.start_content_upload(knowledgeBaseId=kb_id, contentType="text/csv")
    with pytest.raises(client.exceptions.ValidationException, match="No file has been uploaded"):
        start(client, kb_id, up["uploadId"])
    assert blobs.asked_in_write == [False]
