"""The rest-json protocol layer: routing, parsing, validation and error shapes."""

from __future__ import annotations

import json
import re
import urllib.error
import urllib.request

import pytest

from qconnect_local import errors
from qconnect_local.protocol.model import error_statuses, service_model
from qconnect_local.protocol.validation import validate
from support import EXPECTED_STORAGE, ServerProcess

UUID = "3f0b7a52-1c1e-4f6e-9d8a-2b1f0c3e4d5a"


def raw(endpoint: str, method: str, path: str, body: bytes | None = None, headers: dict | None = None):
    req = urllib.request.Request(endpoint + path, method=method, data=body, headers=headers or {})
    try:
        with urllib.request.urlopen(req, timeout=30) as r:
            return r.status, r.headers, r.read()
    except urllib.error.HTTPError as e:
        return e.code, e.headers, e.read()


def _sample_path(op) -> str:
    path, _, query = op.http["requestUri"].partition("?")
    path = re.sub(r"\{[^}]+\}", UUID, path)
    return path + ("?" + query if query else "")


def test_every_operation_of_the_model_routes(endpoint):
    """Each operation reaches its handler or the NotImplemented error: never 404 or 500."""
    model = service_model()
    for name in model.operation_names:
        op = model.operation_model(name)
        status, headers, body = raw(
            endpoint, op.http["method"], _sample_path(op), b"{}", {"Content-Type": "application/json"}
        )
        assert status not in (404, 500) or headers.get("x-amzn-ErrorType") == "ResourceNotFoundException", (
            name,
            status,
            body,
        )
        assert headers.get("x-amzn-RequestId"), name
        if status == 501:
            assert headers["x-amzn-ErrorType"] == "NotImplemented"
            assert name in json.loads(body)["message"]


def test_not_implemented_is_a_clear_client_error(qconnect):
    from botocore.exceptions import ClientError

    with pytest.raises(ClientError) as e:
        qconnect.list_ai_agents(assistantId=UUID)
    assert e.value.response["Error"]["Code"] == "NotImplemented"
    assert "ListAIAgents" in e.value.response["Error"]["Message"]
    assert e.value.response["ResponseMetadata"]["HTTPStatusCode"] == 501


def test_unknown_route(endpoint):
    status, headers, body = raw(endpoint, "GET", "/no/such/thing")
    assert status == 404
    assert headers["x-amzn-ErrorType"] == "UnknownOperationException"
    assert "GET /no/such/thing" in json.loads(body)["message"]


def test_malformed_json(endpoint):
    status, headers, body = raw(endpoint, "POST", "/knowledgeBases", b'{"name": ', {"Content-Type": "application/json"})
    assert status == 400
    assert headers["x-amzn-ErrorType"] == "SerializationException"
    assert json.loads(body)["message"]


def test_json_that_is_not_an_object(endpoint):
    status, headers, _ = raw(endpoint, "POST", "/knowledgeBases", b"[1, 2]")
    assert (status, headers["x-amzn-ErrorType"]) == (400, "SerializationException")


def test_wrong_json_types_are_validation_errors(endpoint):
    body = json.dumps({"name": 123, "knowledgeBaseType": "QUICK_RESPONSES", "tags": ["not", "a", "map"]}).encode()
    status, headers, payload = raw(endpoint, "POST", "/knowledgeBases", body)
    message = json.loads(payload)["message"]
    assert (status, headers["x-amzn-ErrorType"]) == (400, "ValidationException")
    assert message.startswith("2 validation errors detected: ")
    assert "Value '123' at 'name' failed to satisfy constraint: Member must be of type string" in message
    assert "at 'tags' failed to satisfy constraint: Member must be a map" in message


def test_missing_required_member_from_a_raw_client(endpoint):
    status, headers, payload = raw(endpoint, "POST", "/knowledgeBases", b'{"name": "kb"}')
    assert (status, headers["x-amzn-ErrorType"]) == (400, "ValidationException")
    assert (
        "Value null at 'knowledgeBaseType' failed to satisfy constraint: Member must not be null"
        in json.loads(payload)["message"]
    )


def test_tagged_union_needs_exactly_one_member(endpoint):
    body = {
        "name": "kb",
        "knowledgeBaseType": "EXTERNAL",
        "sourceConfiguration": {
            "appIntegrations": {
                "appIntegrationArn": "arn:aws:app-integrations:us-east-1:000000000000:data-integration/x"
            },
            "managedSourceConfiguration": {"webCrawlerConfiguration": {"urlConfiguration": {}}},
        },
    }
    status, headers, payload = raw(endpoint, "POST", "/knowledgeBases", json.dumps(body).encode())
    assert (status, headers["x-amzn-ErrorType"]) == (400, "ValidationException")
    assert (
        "at 'sourceConfiguration' failed to satisfy constraint: Member must have exactly one of the following members set"
        in json.loads(payload)["message"]
    )


def test_unknown_members_are_ignored(endpoint):
    body = json.dumps({"name": "kb", "knowledgeBaseType": "QUICK_RESPONSES", "surprise": {"x": 1}}).encode()
    status, _, payload = raw(endpoint, "POST", "/knowledgeBases", body)
    assert status == 200
    assert "surprise" not in json.loads(payload)["knowledgeBase"]


def test_non_integer_query_parameter(endpoint):
    status, headers, payload = raw(endpoint, "GET", "/knowledgeBases?maxResults=ten")
    assert (status, headers["x-amzn-ErrorType"]) == (400, "ValidationException")
    assert (
        "Value 'ten' at 'maxResults' failed to satisfy constraint: Member must be of type integer"
        in json.loads(payload)["message"]
    )


def test_path_labels_are_decoded_after_splitting(endpoint, qconnect):
    kb = qconnect.create_knowledge_base(name="kb", knowledgeBaseType="QUICK_RESPONSES")["knowledgeBase"]
    encoded = urllib.parse.quote(kb["knowledgeBaseArn"], safe="")
    status, _, payload = raw(endpoint, "GET", f"/knowledgeBases/{encoded}")
    assert status == 200
    assert json.loads(payload)["knowledgeBase"]["knowledgeBaseId"] == kb["knowledgeBaseId"]


def test_success_shapes_timestamps_and_204(endpoint, qconnect):
    kb = qconnect.create_knowledge_base(name="kb", knowledgeBaseType="QUICK_RESPONSES")["knowledgeBase"]
    status, headers, body = raw(endpoint, "DELETE", f"/knowledgeBases/{kb['knowledgeBaseId']}")
    assert (status, body) == (204, b"")
    assert headers["x-amzn-RequestId"]
    status, _, body = raw(endpoint, "GET", "/knowledgeBases")
    assert json.loads(body) == {"knowledgeBaseSummaries": []}  # required list present, no nextToken


def test_body_over_the_limit_is_413(tmp_path):
    server = ServerProcess("--max-request-bytes", "2048").start()
    try:
        big = json.dumps({"name": "kb", "knowledgeBaseType": "QUICK_RESPONSES", "description": "x" * 5000}).encode()
        status, headers, payload = raw(server.endpoint_url, "POST", "/knowledgeBases", big)
        assert status == 413
        assert headers["x-amzn-ErrorType"] == "RequestEntityTooLargeException"
        assert "2048" in json.loads(payload)["message"]
        assert server.client().list_knowledge_bases()["knowledgeBaseSummaries"] == []
    finally:
        server.stop()


def test_error_statuses_agree_with_the_model():
    modeled = error_statuses()
    for cls in vars(errors).values():
        if isinstance(cls, type) and issubclass(cls, errors.ServiceError) and cls.code in modeled:
            assert cls.status == modeled[cls.code], cls.code
    assert modeled["ServiceQuotaExceededException"] == 402


def test_sensitive_values_are_never_echoed():
    shape = service_model().operation_model("CreateQuickResponse").input_shape
    secret = "TOPSECRET-CHANNEL"
    with pytest.raises(errors.ValidationException) as e:
        validate(
            shape, {"knowledgeBaseId": UUID, "name": "n", "content": {"content": "x" * 5000}, "channels": [secret]}
        )
    message = e.value.message
    assert secret not in message and "xxxx" not in message
    assert (
        "Value at 'channels.1.member' failed to satisfy constraint: Member must have length less than or equal to 10"
        in message
    )
    assert (
        "Value at 'content.content' failed to satisfy constraint: Member must have length less than or equal to 4000"
        in message
    )


def test_health_and_reset(endpoint, qconnect):
    status, _, body = raw(endpoint, "GET", "/_qconnect/health")
    health = json.loads(body)
    assert status == 200 and health["status"] == "ok" and health["storage"] == EXPECTED_STORAGE
    assert health["uptimeSeconds"] >= 0 and health["version"]
    qconnect.create_knowledge_base(name="kb", knowledgeBaseType="QUICK_RESPONSES")
    assert raw(endpoint, "POST", "/_qconnect/reset", b"")[0] == 200
    assert qconnect.list_knowledge_bases()["knowledgeBaseSummaries"] == []


def test_unknown_internal_endpoint(endpoint):
    status, headers, _ = raw(endpoint, "GET", "/_qconnect/nope")
    assert status == 404 and headers["x-amzn-ErrorType"] == "UnknownOperationException"


@pytest.mark.slow
def test_port_in_use_fails_fast(server):
    port = server.endpoint_url.rsplit(":", 1)[1]
    import subprocess
    import sys

    done = subprocess.run(
        [sys.executable, "-m", "qconnect_local", "serve", "--in-memory", "--port", port],
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert done.returncode == 1
    assert "cannot listen" in done.stderr


@pytest.mark.slow
def test_sigterm_stops_cleanly():
    server = ServerProcess().start()
    assert server.stop() == 0
