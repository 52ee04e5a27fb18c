"""The request log: one line per API call on the server's stderr, the ring at
GET /_qconnect/requests (newest first, bodies parsed, `sensitive` members redacted)."""

from __future__ import annotations

import json
import time
import urllib.error
import urllib.request

import botocore.exceptions
import pytest

from qconnect_local.request_log import REDACTED
from support import ServerProcess

KEYS = {
    "id",
    "time",
    "operation",
    "method",
    "path",
    "status",
    "errorCode",
    "latencyMs",
    "account",
    "region",
    "request",
    "response",
}


def requests(endpoint: str, limit: int | None = None) -> list[dict]:
    url = endpoint + "/_qconnect/requests" + (f"?limit={limit}" if limit is not None else "")
    with urllib.request.urlopen(url, timeout=10) as r:
        return json.load(r)["requests"]


def lines_of(server: ServerProcess, request_id: str, timeout: float = 5.0) -> list[str]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = [line for line in list(server.output) if request_id in line]
        if found:
            return found
        time.sleep(0.02)
    return []


@pytest.fixture(scope="module")
def text_server():
    server = ServerProcess().start()
    yield server
    server.stop()


@pytest.fixture(scope="module")
def json_server():
    server = ServerProcess("--log-format", "json").start()
    yield server
    server.stop()


def test_records_are_newest_first_with_the_contract_keys_and_redaction(text_server: ServerProcess) -> None:
    client = text_server.client("qconnect", region="eu-west-2", access_key="123456789012")
    kb = client.create_knowledge_base(name="log-kb", knowledgeBaseType="QUICK_RESPONSES")["knowledgeBase"]
    created = client.create_quick_response(
        knowledgeBaseId=kb["knowledgeBaseId"],
        name="secret-answer",
        content={"content": "the secret text"},
        channels=["Chat"],
    )
    with pytest.raises(botocore.exceptions.ClientError):
        client.get_knowledge_base(knowledgeBaseId="00000000-0000-0000-0000-000000000000")
    records = requests(text_server.endpoint_url, limit=3)
    assert [r["operation"] for r in records] == ["GetKnowledgeBase", "CreateQuickResponse", "CreateKnowledgeBase"]
    assert all(set(r) == KEYS for r in records)
    missing, create_qr, create_kb = records
    assert missing["status"] == 404 and missing["errorCode"] == "ResourceNotFoundException"
    assert missing["request"] is None and missing["method"] == "GET"
    assert missing["response"]["message"]
    assert create_kb["status"] == 200 and create_kb["errorCode"] is None
    assert create_kb["account"] == "123456789012" and create_kb["region"] == "eu-west-2"
    assert create_kb["request"]["name"] == "log-kb"
    assert create_kb["response"]["knowledgeBase"]["knowledgeBaseId"] == kb["knowledgeBaseId"]
    assert create_qr["id"] == created["ResponseMetadata"]["RequestId"]
    assert create_qr["path"] == f"/knowledgeBases/{kb['knowledgeBaseId']}/quickResponses"
    assert create_qr["request"]["name"] == "secret-answer"
    assert create_qr["request"]["content"]["content"] == REDACTED
    assert create_qr["request"]["channels"] == [REDACTED]
    qr = create_qr["response"]["quickResponse"]
    assert qr["contents"]["plainText"]["content"] == REDACTED and qr["name"] == "secret-answer"
    assert "the secret text" not in json.dumps(records)
    assert isinstance(create_qr["time"], float) and abs(create_qr["time"] - time.time()) < 60
    assert create_qr["latencyMs"] >= 0


def test_one_text_line_per_call(text_server: ServerProcess) -> None:
    client = text_server.client("qconnect")
    response = client.list_knowledge_bases()
    request_id = response["ResponseMetadata"]["RequestId"]
    (line,) = lines_of(text_server, request_id)
    assert " 200 ListKnowledgeBases " in line
    assert "000000000000/us-east-1" in line and "ms " in line
    assert "\033[" not in line  # not a terminal: no colour codes


def test_error_line_names_the_code(text_server: ServerProcess) -> None:
    client = text_server.client("qconnect")
    with pytest.raises(botocore.exceptions.ClientError) as caught:
        client.create_knowledge_base(name="!bad", knowledgeBaseType="QUICK_RESPONSES")
    (line,) = lines_of(text_server, caught.value.response["ResponseMetadata"]["RequestId"])
    assert " 400 CreateKnowledgeBase ValidationException " in line


def test_json_lines(json_server: ServerProcess) -> None:
    client = json_server.client("qconnect")
    request_id = client.list_knowledge_bases()["ResponseMetadata"]["RequestId"]
    (line,) = lines_of(json_server, request_id)
    record = json.loads(line)
    assert record["operation"] == "ListKnowledgeBases" and record["status"] == 200
    assert record["errorCode"] is None and record["id"] == request_id
    assert set(record) == KEYS - {"request", "response"}


def test_ring_is_bounded_and_limit_and_clear() -> None:
    server = ServerProcess("--request-log-size", "3", "--request-log", "quiet").start()
    try:
        client = server.client("qconnect")
        ids = [client.list_knowledge_bases()["ResponseMetadata"]["RequestId"] for _ in range(5)]
        assert [r["id"] for r in requests(server.endpoint_url)] == ids[::-1][:3]
        assert [r["id"] for r in requests(server.endpoint_url, limit=1)] == ids[-1:]
        assert not lines_of(server, ids[-1], timeout=0.3)  # quiet: no lines
        with pytest.raises(urllib.error.HTTPError) as bad:
            requests(server.endpoint_url + "", limit=-1)  # type: ignore[arg-type]
        assert bad.value.code == 400
        req = urllib.request.Request(server.endpoint_url + "/_qconnect/requests", method="DELETE")
        urllib.request.urlopen(req, timeout=10).read()
        assert requests(server.endpoint_url) == []
    finally:
        server.stop()


def test_off_keeps_nothing() -> None:
    server = ServerProcess("--request-log", "off").start()
    try:
        request_id = server.client("qconnect").list_knowledge_bases()["ResponseMetadata"]["RequestId"]
        assert requests(server.endpoint_url) == []
        assert not lines_of(server, request_id, timeout=0.3)
    finally:
        server.stop()


def test_mock_keeps_a_ring_without_lines() -> None:
    import boto3

    from qconnect_local.mock import mock_qconnect

    with mock_qconnect() as mock:
        mock.app.request_log.clear()
        boto3.client("qconnect", region_name="us-east-1").list_knowledge_bases()
        (record,) = mock.app.request_log.records()
        assert record["operation"] == "ListKnowledgeBases"
        assert not mock.app.request_log.lines
