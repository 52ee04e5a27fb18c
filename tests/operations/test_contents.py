"""Content of CUSTOM knowledge bases (issue 17): StartContentUpload, then CreateContent and the
rest, through boto3 against the running server."""

from __future__ import annotations

import uuid

import pytest
import requests
from botocore.exceptions import ClientError
from test_assistants import create_kb, error_of

from content_files import docx_bytes, pdf_bytes
from import_support import settle
from support import ServerProcess, query_state

DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"


def upload(client, kb_id, body=b"Reset your password from the sign-in page.", content_type="text/plain"):
    started = client.start_content_upload(knowledgeBaseId=kb_id, contentType=content_type)
    response = requests.put(started["url"], data=body, headers=started["headersToInclude"], timeout=30)
    assert response.status_code == 200
    return started["uploadId"]


def create_content(
    client, kb_id, name="password-reset", body=b"How to reset a password.", content_type="text/plain", **extra
):
    """CreateContent, then GetContent once its status is final."""
    upload_id = upload(client, kb_id, body, content_type)
    content = client.create_content(knowledgeBaseId=kb_id, name=name, uploadId=upload_id, **extra)["content"]
    assert content["status"] == "CREATE_IN_PROGRESS"
    return settle(client, kb_id, content["contentId"])


def update_content(client, kb_id, content_id, **params):
    """UpdateContent, then GetContent once a new file's text extraction has ended."""
    updated = client.update_content(knowledgeBaseId=kb_id, contentId=content_id, **params)["content"]
    if "uploadId" in params:
        assert updated["status"] == "CREATE_IN_PROGRESS"
    return settle(client, kb_id, updated["contentId"])


def name_filter(*names):
    return {"filters": [{"field": "NAME", "operator": "EQUALS", "value": n} for n in names]}


@pytest.fixture
def kb(qconnect):
    return create_kb(qconnect, name="articles", kb_type="CUSTOM")


@pytest.fixture(scope="module")
def manual_server(tmp_path_factory):
    """A server whose background work waits for POST /_qconnect/.../run (`--import-mode manual`)."""
    proc = ServerProcess("--import-mode", "manual", data_dir=tmp_path_factory.mktemp("manual")).start()
    yield proc
    proc.stop()


@pytest.fixture
def manual(manual_server):
    manual_server.reset()
    return manual_server


def run_content(server, content_id, wait=True):
    """Lets a held text extraction run (manual mode): (HTTP status, body)."""
    url = f"{server.endpoint_url}/_qconnect/contents/{content_id}/run" + ("?wait=true" if wait else "")
    response = requests.post(url, timeout=60)
    return response.status_code, response.json()


def blob_exists(server, upload_id) -> bool:
    return (server.data_dir / "blobs" / "uploads" / upload_id).exists()


def test_the_content_flow(manual):
    qconnect = manual.client()
    kb = create_kb(qconnect, name="articles", kb_type="CUSTOM")
    kb_id = kb["knowledgeBaseId"]
    html = b"<html><body><h1>Refunds</h1><p>Refunds take 5 days.</p></body></html>"
    upload_id = upload(qconnect, kb_id, html, "text/html")
    content = qconnect.create_content(
        knowledgeBaseId=kb["knowledgeBaseArn"],
        name="refunds",
        title="Refund policy",
        uploadId=upload_id,
        metadata={"team": "billing"},
        overrideLinkOutUri="https://example.com/refunds",
        tags={"k": "v"},
    )["content"]
    uuid.UUID(content["contentId"], version=4)
    assert content["contentArn"] == f"arn:aws:wisdom:us-east-1:000000000000:content/{kb_id}/{content['contentId']}"
    assert (content["knowledgeBaseId"], content["knowledgeBaseArn"]) == (kb_id, kb["knowledgeBaseArn"])
    assert (content["name"], content["title"], content["contentType"], content["status"]) == (
        "refunds",
        "Refund policy",
        "text/html",
        "CREATE_IN_PROGRESS",
    )
    held = qconnect.get_content(knowledgeBaseId=kb_id, contentId=content["contentId"])["content"]
    assert held["status"] == "CREATE_IN_PROGRESS"  # held until run
    assert requests.get(held["url"], timeout=30).content == html  # the file is there before its text
    assert run_content(manual, content["contentId"]) == (200, {"contentId": content["contentId"], "status": "ACTIVE"})
    assert run_content(manual, content["contentId"])[0] == 409  # nothing pending any more
    assert run_content(manual, str(uuid.uuid4()))[0] == 404
    content = qconnect.get_content(knowledgeBaseId=kb_id, contentId=content["contentId"])["content"]
    assert content["status"] == "ACTIVE"
    assert content["metadata"] == {"team": "billing"} and content["tags"] == {"k": "v"}
    assert content["linkOutUri"] == "https://example.com/refunds"
    assert requests.get(content["url"], timeout=30).content == html
    for kb_label in (kb_id, kb["knowledgeBaseArn"]):
        for label in (content["contentId"], content["contentArn"]):
            got = qconnect.get_content(knowledgeBaseId=kb_label, contentId=label)["content"]
            assert {k: v for k, v in got.items() if k not in ("url", "urlExpiry")} == {
                k: v for k, v in content.items() if k not in ("url", "urlExpiry")
            }
            assert requests.get(got["url"], timeout=30).content == html
    summary = qconnect.get_content_summary(knowledgeBaseId=kb_id, contentId=content["contentId"])["contentSummary"]
    assert "url" not in summary and "linkOutUri" not in summary
    assert summary["revisionId"] == content["revisionId"]
    assert qconnect.list_contents(knowledgeBaseId=kb_id)["contentSummaries"] == [summary]
    assert qconnect.get_knowledge_base(knowledgeBaseId=kb_id)["knowledgeBase"]["lastContentModificationTime"]

    new_body = b"Refunds now take 3 days."
    new_upload = upload(qconnect, kb_id, new_body)
    updated = qconnect.update_content(
        knowledgeBaseId=kb_id,
        contentId=content["contentArn"],
        revisionId=content["revisionId"],
        uploadId=new_upload,
        title="Refunds (new)",
        removeOverrideLinkOutUri=True,
    )["content"]
    assert updated["status"] == "CREATE_IN_PROGRESS"  # the model's ContentStatus has no UPDATE_IN_PROGRESS
    assert updated["revisionId"] != content["revisionId"]
    assert (updated["title"], updated["contentType"], updated["name"]) == ("Refunds (new)", "text/plain", "refunds")
    assert "linkOutUri" not in updated
    assert requests.get(updated["url"], timeout=30).content == new_body
    assert not blob_exists(manual, upload_id) and blob_exists(manual, new_upload)  # the old file is gone
    assert run_content(manual, content["contentId"])[1]["status"] == "ACTIVE"
    with pytest.raises(qconnect.exceptions.PreconditionFailedException) as e:
        qconnect.update_content(
            knowledgeBaseId=kb_id, contentId=content["contentId"], revisionId=content["revisionId"], title="stale"
        )
    assert e.value.response["ResponseMetadata"]["HTTPStatusCode"] == 412
    again = qconnect.update_content(knowledgeBaseId=kb_id, contentId=content["contentId"], metadata={})["content"]
    assert again["metadata"] == {} and again["revisionId"] != updated["revisionId"]
    assert again["status"] == "ACTIVE"  # no new file, nothing to read

    response = qconnect.delete_content(knowledgeBaseId=kb_id, contentId=content["contentId"])
    assert response["ResponseMetadata"]["HTTPStatusCode"] == 204
    assert not blob_exists(manual, new_upload)  # DeleteContent removes the uploaded file
    assert requests.get(updated["url"], timeout=30).status_code == 404
    for call in (qconnect.get_content, qconnect.get_content_summary, qconnect.delete_content):
        with pytest.raises(qconnect.exceptions.ResourceNotFoundException) as e:
            call(knowledgeBaseId=kb_id, contentId=content["contentId"])
        assert e.value.response["resourceName"] == content["contentId"]
    assert qconnect.list_contents(knowledgeBaseId=kb_id)["contentSummaries"] == []


def test_a_file_other_content_uses_is_kept(manual):
    client = manual.client()
    kb_id = create_kb(client, kb_type="CUSTOM")["knowledgeBaseId"]
    shared = upload(client, kb_id, b"shared file")
    first = client.create_content(knowledgeBaseId=kb_id, name="one", uploadId=shared)["content"]
    second = client.create_content(knowledgeBaseId=kb_id, name="two", uploadId=shared)["content"]
    client.update_content(knowledgeBaseId=kb_id, contentId=first["contentId"], uploadId=upload(client, kb_id, b"x"))
    assert blob_exists(manual, shared)  # still the second content's file
    client.delete_content(knowledgeBaseId=kb_id, contentId=first["contentId"])
    assert blob_exists(manual, shared)
    got = client.get_content(knowledgeBaseId=kb_id, contentId=second["contentId"])["content"]
    assert requests.get(got["url"], timeout=30).content == b"shared file"
    client.delete_content(knowledgeBaseId=kb_id, contentId=second["contentId"])
    assert not blob_exists(manual, shared)


def test_a_change_while_the_file_is_read_wins(manual):
    """A newer upload replaces the pending extraction: the older one never lands."""
    client = manual.client()
    kb_id = create_kb(client, kb_type="CUSTOM")["knowledgeBaseId"]
    content = client.create_content(
        knowledgeBaseId=kb_id, name="doc", uploadId=upload(client, kb_id, b"bad", "application/pdf")
    )["content"]
    client.update_content(knowledgeBaseId=kb_id, contentId=content["contentId"], uploadId=upload(client, kb_id))
    assert run_content(manual, content["contentId"])[1]["status"] == "ACTIVE"
    deleted = client.create_content(knowledgeBaseId=kb_id, name="gone", uploadId=upload(client, kb_id))["content"]
    client.delete_content(knowledgeBaseId=kb_id, contentId=deleted["contentId"])
    assert run_content(manual, deleted["contentId"])[0] == 404


def test_health_counts_content_waiting_to_be_read(manual):
    """GET /_qconnect/health: contentQueue counts content whose file no runner has read yet,
    beside importQueue, and nothing once it has been read or deleted."""

    def queue():
        return requests.get(f"{manual.endpoint_url}/_qconnect/health", timeout=30).json()["contentQueue"]

    client = manual.client()
    kb_id = create_kb(client, kb_type="CUSTOM")["knowledgeBaseId"]
    assert queue() == {"waiting": 0, "running": 0}
    held = [
        client.create_content(knowledgeBaseId=kb_id, name=f"doc{i}", uploadId=upload(client, kb_id))["content"]
        for i in range(3)
    ]
    assert queue() == {"waiting": 3, "running": 0}
    assert run_content(manual, held[0]["contentId"])[1]["status"] == "ACTIVE"
    client.delete_content(knowledgeBaseId=kb_id, contentId=held[1]["contentId"])
    assert queue() == {"waiting": 1, "running": 0}
    client.update_content(knowledgeBaseId=kb_id, contentId=held[0]["contentId"], uploadId=upload(client, kb_id))
    assert queue() == {"waiting": 2, "running": 0}


def test_import_delay_postpones_reading_the_file(tmp_path):
    """`--import-delay S` holds content CREATE_IN_PROGRESS for S seconds, as it holds import
    jobs, then the runner reads the file on its own (no /run call)."""
    server = ServerProcess("--import-delay", "8", data_dir=tmp_path).start()
    try:
        client = server.client()
        kb_id = create_kb(client, kb_type="CUSTOM")["knowledgeBaseId"]
        content = client.create_content(knowledgeBaseId=kb_id, name="later", uploadId=upload(client, kb_id))["content"]
        got = client.get_content(knowledgeBaseId=kb_id, contentId=content["contentId"])["content"]
        assert got["status"] == "CREATE_IN_PROGRESS"
        health = requests.get(f"{server.endpoint_url}/_qconnect/health", timeout=30).json()
        assert health["contentQueue"] == {"waiting": 1, "running": 0}
        assert settle(client, kb_id, content["contentId"])["status"] == "ACTIVE"
    finally:
        server.stop()


def test_pending_content_is_finished_after_a_restart(tmp_path):
    first = ServerProcess("--import-mode", "manual", data_dir=tmp_path).start()
    try:
        client = first.client()
        kb_id = create_kb(client, kb_type="CUSTOM")["knowledgeBaseId"]
        content = client.create_content(
            knowledgeBaseId=kb_id, name="doc", uploadId=upload(client, kb_id, b"after restart")
        )["content"]
    finally:
        assert first.stop() == 0
    second = ServerProcess("--import-mode", "manual", data_dir=tmp_path).start()
    try:
        client = second.client()
        held = client.get_content_summary(knowledgeBaseId=kb_id, contentId=content["contentId"])["contentSummary"]
        assert held["status"] == "CREATE_IN_PROGRESS"
        assert run_content(second, content["contentId"])[1]["status"] == "ACTIVE"
    finally:
        second.stop()


def test_create_content_failures(qconnect, kb):
    kb_id = kb["knowledgeBaseId"]
    other_kb = create_kb(qconnect, name="other", kb_type="CUSTOM")
    qr_kb = create_kb(qconnect, name="qr", kb_type="QUICK_RESPONSES")
    started = qconnect.start_content_upload(knowledgeBaseId=kb_id, contentType="text/plain")
    cases = [
        (kb_id, started["uploadId"], "No file has been uploaded"),
        (kb_id, "no-such-upload", "does not match any upload"),
        (other_kb["knowledgeBaseId"], upload(qconnect, kb_id), "belongs to another knowledge base"),
        (qr_kb["knowledgeBaseId"], upload(qconnect, kb_id), "Only CUSTOM knowledge bases"),
    ]
    for target, upload_id, fragment in cases:
        with pytest.raises(ClientError) as e:
            qconnect.create_content(knowledgeBaseId=target, name="doc", uploadId=upload_id)
        code, status, message = error_of(e)
        assert (code, status) == ("ValidationException", 400)
        assert fragment in message
    with pytest.raises(ClientError) as e:
        qconnect.create_content(
            knowledgeBaseId=kb_id, name="!doc", uploadId="u", metadata={f"k{i}": "v" for i in range(11)}
        )
    assert error_of(e)[2].startswith("2 validation errors detected: ")
    missing = str(uuid.uuid4())
    with pytest.raises(qconnect.exceptions.ResourceNotFoundException) as e:
        qconnect.create_content(knowledgeBaseId=missing, name="doc", uploadId="u")
    assert e.value.response["resourceName"] == missing
    assert qconnect.list_contents(knowledgeBaseId=kb_id)["contentSummaries"] == []


def test_names_are_unique_in_a_knowledge_base(qconnect, kb):
    create_content(qconnect, kb["knowledgeBaseId"], name="doc")
    with pytest.raises(qconnect.exceptions.ConflictException):
        create_content(qconnect, kb["knowledgeBaseId"], name="doc")
    other = create_kb(qconnect, name="other", kb_type="CUSTOM")
    create_content(qconnect, other["knowledgeBaseId"], name="doc")


def test_content_is_found_only_in_its_knowledge_base(qconnect, kb):
    content = create_content(qconnect, kb["knowledgeBaseId"])
    other = create_kb(qconnect, name="other", kb_type="CUSTOM")
    for label in (content["contentId"], content["contentArn"]):
        with pytest.raises(qconnect.exceptions.ResourceNotFoundException):
            qconnect.get_content(knowledgeBaseId=other["knowledgeBaseId"], contentId=label)


def test_update_content_validation(qconnect, kb):
    content = create_content(qconnect, kb["knowledgeBaseId"])
    with pytest.raises(ClientError) as e:
        qconnect.update_content(
            knowledgeBaseId=kb["knowledgeBaseId"],
            contentId=content["contentId"],
            overrideLinkOutUri="https://example.com",
            removeOverrideLinkOutUri=True,
        )
    assert error_of(e)[:2] == ("ValidationException", 400)
    with pytest.raises(ClientError) as e:
        qconnect.update_content(knowledgeBaseId=kb["knowledgeBaseId"], contentId=content["contentId"], uploadId="nope")
    assert "does not match any upload" in error_of(e)[2]
    got = qconnect.get_content_summary(knowledgeBaseId=kb["knowledgeBaseId"], contentId=content["contentId"])
    assert got["contentSummary"]["revisionId"] == content["revisionId"]  # failed updates change nothing


def test_list_and_search_with_pages(qconnect, kb):
    kb_id = kb["knowledgeBaseId"]
    created = [create_content(qconnect, kb_id, name=f"doc-{i}")["contentId"] for i in range(5)]
    pages = list(
        qconnect.get_paginator("list_contents").paginate(knowledgeBaseId=kb_id, PaginationConfig={"PageSize": 2})
    )
    assert [len(p["contentSummaries"]) for p in pages] == [2, 2, 1]
    assert [s["contentId"] for p in pages for s in p["contentSummaries"]] == created
    found = list(
        qconnect.get_paginator("search_content").paginate(
            knowledgeBaseId=kb_id, searchExpression=name_filter(), PaginationConfig={"PageSize": 3}
        )
    )
    assert [len(p["contentSummaries"]) for p in found] == [3, 2]
    one = qconnect.search_content(knowledgeBaseId=kb_id, searchExpression=name_filter("doc-3"))
    assert [s["contentId"] for s in one["contentSummaries"]] == [created[3]]
    both = qconnect.search_content(knowledgeBaseId=kb_id, searchExpression=name_filter("doc-1", "doc-3"))
    assert both["contentSummaries"] == []
    token = qconnect.list_contents(knowledgeBaseId=kb_id, maxResults=1)["nextToken"]
    with pytest.raises(ClientError) as e:
        qconnect.search_content(knowledgeBaseId=kb_id, searchExpression=name_filter(), nextToken=token)
    assert error_of(e)[:2] == ("ValidationException", 400)


def test_create_content_is_idempotent_both_ways(qconnect, kb):
    kb_id = kb["knowledgeBaseId"]
    upload_id = upload(qconnect, kb_id)
    first = qconnect.create_content(knowledgeBaseId=kb_id, name="doc", uploadId=upload_id, clientToken="t")["content"]
    again = qconnect.create_content(knowledgeBaseId=kb_id, name="doc", uploadId=upload_id, clientToken="t")["content"]
    assert (again["contentId"], again["revisionId"]) == (first["contentId"], first["revisionId"])
    with pytest.raises(qconnect.exceptions.ConflictException):
        qconnect.create_content(knowledgeBaseId=kb_id, name="other", uploadId=upload_id, clientToken="t")
    assert len(qconnect.list_contents(knowledgeBaseId=kb_id)["contentSummaries"]) == 1


def test_tags_of_content(qconnect, kb):
    content = create_content(qconnect, kb["knowledgeBaseId"], tags={"a": "1"})
    qconnect.tag_resource(resourceArn=content["contentArn"], tags={"b": "2"})
    qconnect.untag_resource(resourceArn=content["contentArn"], tagKeys=["a"])
    assert qconnect.list_tags_for_resource(resourceArn=content["contentArn"])["tags"] == {"b": "2"}
    summary = qconnect.get_content_summary(knowledgeBaseId=kb["knowledgeBaseId"], contentId=content["contentId"])
    assert summary["contentSummary"]["tags"] == {"b": "2"}


def test_deleting_the_knowledge_base_deletes_its_content(qconnect, kb):
    content = create_content(qconnect, kb["knowledgeBaseId"])
    qconnect.delete_knowledge_base(knowledgeBaseId=kb["knowledgeBaseId"])
    with pytest.raises(qconnect.exceptions.ResourceNotFoundException):
        qconnect.list_tags_for_resource(resourceArn=content["contentArn"])


def test_content_quota_and_restart(tmp_path):
    first = ServerProcess("--max-contents", "2", data_dir=tmp_path).start()
    try:
        client = first.client()
        kb = create_kb(client, kb_type="CUSTOM")
        content = create_content(client, kb["knowledgeBaseId"], name="one", body=b"durable")
        create_content(client, kb["knowledgeBaseId"], name="two")
        with pytest.raises(client.exceptions.ServiceQuotaExceededException) as e:
            create_content(client, kb["knowledgeBaseId"], name="three")
        assert e.value.response["ResponseMetadata"]["HTTPStatusCode"] == 402
    finally:
        assert first.stop() == 0
    second = ServerProcess(data_dir=tmp_path).start()
    try:
        got = second.client().get_content(knowledgeBaseId=kb["knowledgeBaseId"], contentId=content["contentId"])
        assert got["content"]["revisionId"] == content["revisionId"]
        assert requests.get(got["content"]["url"], timeout=30).content == b"durable"
    finally:
        second.stop()


@pytest.fixture(params=["server", "mock"])
def qconnect_mode(request: pytest.FixtureRequest) -> str:
    return request.param


def test_content_flow_in_every_mode(qconnect_client) -> None:
    kb = create_kb(qconnect_client, kb_type="CUSTOM")
    content = create_content(qconnect_client, kb["knowledgeBaseId"], body=b"in every mode")
    got = qconnect_client.get_content(knowledgeBaseId=kb["knowledgeBaseId"], contentId=content["contentId"])
    assert requests.get(got["content"]["url"], timeout=30).content == b"in every mode"


def stored_text(server, content_id: str) -> str:
    rows = query_state(server.data_dir, f"SELECT text FROM contents WHERE id = '{content_id}'")
    return str(rows[0][0])


def test_text_is_extracted_from_each_format(server, qconnect, kb):
    kb_id = kb["knowledgeBaseId"]
    files = {
        "plain": ("text/plain", b"Plain words here.\n"),
        "html": (
            "text/html",
            b"<html><head><script>var hidden = 1;</script></head><body><h1>Title</h1><p>Para</p></body></html>",
        ),
        "pdf": ("application/pdf", pdf_bytes("Invoices are due in 30 days", "Late fees apply")),
        "docx": (DOCX, docx_bytes("Warranty covers two years", "Keep the receipt")),
    }
    expected = {
        "plain": "Plain words here.",
        "html": "Title\nPara",
        "pdf": "Invoices are due in 30 days\n\nLate fees apply",
        "docx": "Warranty covers two years\n\nKeep the receipt",
    }
    for name, (content_type, body) in files.items():
        content = create_content(qconnect, kb_id, name=name, body=body, content_type=content_type)
        assert (content["status"], content["contentType"]) == ("ACTIVE", content_type)
        assert stored_text(server, content["contentId"]) == expected[name]
        assert requests.get(content["url"], timeout=30).content == body


def test_an_unreadable_file_fails_the_content(server, qconnect, kb):
    kb_id = kb["knowledgeBaseId"]
    broken = create_content(qconnect, kb_id, name="broken", body=b"this is no PDF", content_type="application/pdf")
    assert broken["status"] == "CREATE_FAILED"
    summary = qconnect.get_content_summary(knowledgeBaseId=kb_id, contentId=broken["contentId"])["contentSummary"]
    assert summary["status"] == "CREATE_FAILED"
    assert stored_text(server, broken["contentId"]) == ""

    good = create_content(qconnect, kb_id, name="good", body=docx_bytes("old words"), content_type=DOCX)
    assert stored_text(server, good["contentId"]) == "old words"
    failed = update_content(qconnect, kb_id, good["contentId"], uploadId=upload(qconnect, kb_id, b"PK broken", DOCX))
    assert failed["status"] == "UPDATE_FAILED"
    fixed = update_content(
        qconnect, kb_id, good["contentId"], uploadId=upload(qconnect, kb_id, docx_bytes("new words"), DOCX)
    )
    assert fixed["status"] == "ACTIVE"
    assert stored_text(server, good["contentId"]) == "new words"  # the old text is gone
    retitled = qconnect.update_content(knowledgeBaseId=kb_id, contentId=good["contentId"], title="T")["content"]
    assert retitled["status"] == "ACTIVE" and stored_text(server, good["contentId"]) == "new words"
