"""Part of the suite run three ways: against `qconnect-local serve` (the suite's server process),
against the pytest plugin's in-thread server, and through `mock_qconnect()` in-process.
Same test, same answers."""

from __future__ import annotations

import shutil
import subprocess
import urllib.request

import pytest
import requests


@pytest.fixture(params=["serve", "server", "mock"])
def qconnect_mode(request: pytest.FixtureRequest) -> str:
    return request.param


@pytest.fixture
def client(request: pytest.FixtureRequest, qconnect_mode: str):
    if qconnect_mode == "serve":
        return request.getfixturevalue("qconnect")  # conftest: the `qconnect-local serve` process
    return request.getfixturevalue("qconnect_client")  # the plugin: in-thread server, or the mock


def new_kb(client) -> str:
    return client.create_knowledge_base(name="kb", knowledgeBaseType="QUICK_RESPONSES")["knowledgeBase"][
        "knowledgeBaseId"
    ]


def test_quick_response_lifecycle(client) -> None:
    kb = new_kb(client)
    qr = client.create_quick_response(
        knowledgeBaseId=kb,
        name="Greeting",
        content={"content": "Hi {{Attributes.Customer}}"},
        shortcutKey="hi",
        channels=["Chat"],
        tags={"team": "care"},
    )["quickResponse"]
    got = client.get_quick_response(knowledgeBaseId=kb, quickResponseId=qr["quickResponseId"])["quickResponse"]
    assert got["contents"]["plainText"]["content"] == "Hi {{Attributes.Customer}}"
    assert got["tags"] == {"team": "care"}
    with pytest.raises(client.exceptions.ConflictException):
        client.create_quick_response(knowledgeBaseId=kb, name="Greeting", content={"content": "again"})
    found = client.search_quick_responses(
        knowledgeBaseId=kb,
        searchExpression={"queries": [{"name": "content", "values": ["Hi"], "operator": "CONTAINS"}]},
        attributes={"Customer": "Ana"},
    )["results"]
    assert [r["contents"]["plainText"]["content"] for r in found] == ["Hi Ana"]
    client.delete_quick_response(knowledgeBaseId=kb, quickResponseId=qr["quickResponseId"])
    with pytest.raises(client.exceptions.ResourceNotFoundException) as missing:
        client.get_quick_response(knowledgeBaseId=kb, quickResponseId=qr["quickResponseId"])
    assert missing.value.response["ResponseMetadata"]["HTTPStatusCode"] == 404


def test_validation_errors_and_pagination(client) -> None:
    with pytest.raises(client.exceptions.ValidationException):
        client.get_knowledge_base(knowledgeBaseId="NOT-A-UUID")
    kb = new_kb(client)
    for i in range(5):
        client.create_quick_response(knowledgeBaseId=kb, name=f"qr{i}", content={"content": "x"})
    pages = client.get_paginator("list_quick_responses").paginate(knowledgeBaseId=kb, PaginationConfig={"PageSize": 2})
    assert sorted(s["name"] for p in pages for s in p["quickResponseSummaries"]) == [f"qr{i}" for i in range(5)]


@pytest.mark.slow
def test_upload_urls_work_with_any_http_client(client, tmp_path) -> None:
    """In mock mode too, the URLs point at a real (loopback) server: requests, urllib and curl."""
    kb = new_kb(client)
    bodies = {}
    for tool in ("requests", "urllib", "curl"):
        upload = client.start_content_upload(knowledgeBaseId=kb, contentType="text/csv")
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
        job = client.start_import_job(knowledgeBaseId=kb, importJobType="QUICK_RESPONSES", uploadId=upload_id)
        done = wait_for_import_job(client, kb, job["importJob"]["importJobId"], timeout=20)
        assert requests.get(done["url"]).content == body  # the download URL works as well
    names = sorted(s["name"] for s in client.list_quick_responses(knowledgeBaseId=kb)["quickResponseSummaries"])
    assert names == sorted(["requests", "urllib", "curl"][: len(bodies)])
