"""Part of the suite run both ways through the pytest plugin: against the HTTP server and through
`mock_qconnect()` in-process. Same test, same answers."""

from __future__ import annotations

import shutil
import subprocess
import urllib.request

import pytest
import requests

pytestmark = pytest.mark.parametrize("qconnect_mode", ["server", "mock"])


def new_kb(client) -> str:
    return client.create_knowledge_base(name="kb", knowledgeBaseType="QUICK_RESPONSES")["knowledgeBase"]["knowledgeBaseId"]


def test_quick_response_lifecycle(qconnect_client) -> None:
    kb = new_kb(qconnect_client)
    qr = qconnect_client.create_quick_response(
        knowledgeBaseId=kb, name="Greeting", content={"content": "Hi {{Attributes.Customer}}"},
        shortcutKey="hi", channels=["Chat"], tags={"team": "care"},
    )["quickResponse"]
    got = qconnect_client.get_quick_response(knowledgeBaseId=kb, quickResponseId=qr["quickResponseId"])["quickResponse"]
    assert got["contents"]["plainText"]["content"] == "Hi {{Attributes.Customer}}"
    assert got["tags"] == {"team": "care"}
    with pytest.raises(qconnect_client.exceptions.ConflictException):
        qconnect_client.create_quick_response(knowledgeBaseId=kb, name="Greeting", content={"content": "again"})
    found = qconnect_client.search_quick_responses(
        knowledgeBaseId=kb, searchExpression={"queries": [{"name": "content", "values": ["Hi"], "operator": "CONTAINS"}]},
        attributes={"Customer": "Ana"},
    )["results"]
    assert [r["contents"]["plainText"]["content"] for r in found] == ["Hi Ana"]
    qconnect_client.delete_quick_response(knowledgeBaseId=kb, quickResponseId=qr["quickResponseId"])
    with pytest.raises(qconnect_client.exceptions.ResourceNotFoundException) as missing:
        qconnect_client.get_quick_response(knowledgeBaseId=kb, quickResponseId=qr["quickResponseId"])
    assert missing.value.response["ResponseMetadata"]["HTTPStatusCode"] == 404


def test_validation_errors_and_pagination(qconnect_client) -> None:
    with pytest.raises(qconnect_client.exceptions.ValidationException):
        qconnect_client.get_knowledge_base(knowledgeBaseId="NOT-A-UUID")
    kb = new_kb(qconnect_client)
    for i in range(5):
        qconnect_client.create_quick_response(knowledgeBaseId=kb, name=f"qr{i}", content={"content": "x"})
    pages = qconnect_client.get_paginator("list_quick_responses").paginate(
        knowledgeBaseId=kb, PaginationConfig={"PageSize": 2})
    assert sorted(s["name"] for p in pages for s in p["quickResponseSummaries"]) == [f"qr{i}" for i in range(5)]


def test_upload_urls_work_with_any_http_client(qconnect_client, tmp_path) -> None:
    """In mock mode too, the URLs point at a real (loopback) server: requests, urllib and curl."""
    kb = new_kb(qconnect_client)
    bodies = {}
    for tool in ("requests", "urllib", "curl"):
        upload = qconnect_client.start_content_upload(knowledgeBaseId=kb, contentType="text/csv")
        body = f"Name,Content\n{tool},via {tool}\n".encode()
        if tool == "requests":
            assert requests.put(upload["url"], data=body, headers=upload["headersToInclude"]).status_code == 200
        elif tool == "urllib":
            request = urllib.request.Request(upload["url"], data=body, method="PUT", headers=upload["headersToInclude"])
            assert urllib.request.urlopen(request).status == 200
        else:
            if shutil.which("curl") is None:
                continue
            path = tmp_path / "body.csv"
            path.write_bytes(body)
            headers = [a for k, v in upload["headersToInclude"].items() for a in ("-H", f"{k}: {v}")]
            done = subprocess.run(["curl", "-sf", "-X", "PUT", "--data-binary", f"@{path}", *headers, upload["url"]])
            assert done.returncode == 0
        bodies[upload["uploadId"]] = body
    from qconnect_local import wait_for_import_job

    for upload_id, body in bodies.items():
        job = qconnect_client.start_import_job(knowledgeBaseId=kb, importJobType="QUICK_RESPONSES", uploadId=upload_id)
        done = wait_for_import_job(qconnect_client, kb, job["importJob"]["importJobId"], timeout=20)
        assert requests.get(done["url"]).content == body  # the download URL works as well
    names = sorted(s["name"] for s in qconnect_client.list_quick_responses(knowledgeBaseId=kb)["quickResponseSummaries"])
    assert names == sorted(["requests", "urllib", "curl"][: len(bodies)])
