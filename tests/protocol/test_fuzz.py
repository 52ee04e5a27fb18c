"""Model-driven fuzzing (issue 14): hostile inputs for every implemented operation, built from
the botocore model's input shapes, sent through botocore (client-side validation off) and as raw
HTTP with hostile bytes. Whatever is sent: never a 5xx, and every error parses with botocore.

About 2,700 requests in all (FUZZ_EXAMPLES per operation, RAW_EXAMPLES raw ones and
INTERNAL_EXAMPLES to qconnect-local's own endpoints).
"""

from __future__ import annotations

import os
import string
import urllib.error
import urllib.request
from collections import Counter
from typing import Any

import boto3
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError
from botocore.parsers import RestJSONParser
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from qconnect_local.operations import OPERATIONS
from qconnect_local.protocol.model import service_model

FUZZ_EXAMPLES = int(os.environ.get("QCONNECT_FUZZ_EXAMPLES", "100"))
RAW_EXAMPLES = int(os.environ.get("QCONNECT_FUZZ_RAW_EXAMPLES", "700"))
INTERNAL_EXAMPLES = int(os.environ.get("QCONNECT_FUZZ_INTERNAL_EXAMPLES", "200"))
MODEL = service_model()
STATS: Counter[str] = Counter()
SEEDED: dict[str, str] = {}

HOSTILE_STRINGS = [
    "",
    "\x00",
    "a\x00b",
    "é" * 40,
    "\u202e\u0000\uffff",
    "x" * 3000,
    " ",
    "null",
    "../../etc/passwd",
    "'\"\\;--",
    "%00%ff",
    "arn:aws:wisdom:us-east-1:000000000000:knowledge-base/00000000-0000-0000-0000-000000000000",
    "00000000-0000-0000-0000-000000000000",
    "9" * 40,
    "<a>&amp;</a>",
    "{{$.Contact.CustomerFirstName}}",
]
HOSTILE_VALUES = [None, True, 0, -1, 2**64, 1.5, [], {}, [None], {"": None}, "\x00", [[[[[]]]]]]


def _string(shape: Any, name: str) -> st.SearchStrategy[Any]:
    options: list[st.SearchStrategy[Any]] = [
        st.sampled_from(HOSTILE_STRINGS),
        st.text(max_size=30),
        st.text(alphabet=string.ascii_letters + string.digits + "-_. ", min_size=1, max_size=20),
    ]
    if shape.metadata.get("enum"):
        options.append(st.sampled_from(shape.metadata["enum"]))
    lowered = name.lower()
    if "knowledgebaseid" in lowered or lowered == "resourcearn":
        options.append(st.sampled_from(["kb-id", "kb-arn"]).map(lambda k: SEEDED.get(k, k)))
    if "quickresponseid" in lowered:
        options.append(st.just("qr-id").map(lambda k: SEEDED.get(k, k)))
    if "uploadid" in lowered:
        options.append(st.just("upload-id").map(lambda k: SEEDED.get(k, k)))
    return st.one_of(options)


def strategy(shape: Any, name: str = "", depth: int = 0) -> st.SearchStrategy[Any]:
    kind = shape.type_name
    if kind == "structure":
        members = shape.members
        if depth > 6:
            return st.just({})
        required = {m: strategy(members[m], m, depth + 1) for m in shape.required_members if m in members}
        optional = {m: strategy(s, m, depth + 1) for m, s in members.items() if m not in required}
        # (Members the model does not have cannot go through botocore: the raw test sends them.)
        return st.fixed_dictionaries(required, optional=optional)
    if kind == "list":
        return st.lists(strategy(shape.member, name, depth + 1), max_size=4)
    if kind == "map":
        return st.dictionaries(_string(shape.key, name), strategy(shape.value, name, depth + 1), max_size=4)
    if kind == "string":
        typed = _string(shape, name)
    elif kind in ("integer", "long"):
        typed = st.one_of(st.integers(-5, 200), st.integers(-(2**70), 2**70))
    elif kind == "boolean":
        typed = st.booleans()
    elif kind in ("float", "double"):
        typed = st.floats(allow_nan=False)
    elif kind == "timestamp":
        typed = st.one_of(st.integers(0, 2**40), st.just("not a time"))
    else:
        typed = st.text(max_size=10)
    # Now and then a value of the wrong type (botocore's own checks are off).
    return st.one_of(typed, typed, typed, st.sampled_from(HOSTILE_VALUES))


def _client(endpoint: str) -> Any:
    return boto3.client(
        "qconnect",
        endpoint_url=endpoint,
        region_name="us-east-1",
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
        config=Config(retries={"max_attempts": 1}, parameter_validation=False, read_timeout=60),
    )


@pytest.fixture
def seeded(endpoint: str) -> Any:
    client = _client(endpoint)
    kb = client.create_knowledge_base(name="fuzz", knowledgeBaseType="QUICK_RESPONSES")["knowledgeBase"]
    qr = client.create_quick_response(knowledgeBaseId=kb["knowledgeBaseId"], name="seed", content={"content": "hello"})[
        "quickResponse"
    ]
    up = client.start_content_upload(knowledgeBaseId=kb["knowledgeBaseId"], contentType="text/csv")
    SEEDED.update(
        {
            "kb-id": kb["knowledgeBaseId"],
            "kb-arn": kb["knowledgeBaseArn"],
            "qr-id": qr["quickResponseId"],
            "upload-id": up["uploadId"],
        }
    )
    return client


def _record(status: int, code: str) -> None:
    STATS["requests"] += 1
    if status >= 500:
        STATS["5xx"] += 1
    assert status < 500, (status, code)


@pytest.mark.parametrize("operation", sorted(OPERATIONS))
def test_fuzz_operation(seeded, operation):
    op = MODEL.operation_model(operation)
    method = getattr(seeded, _snake(operation))

    @settings(
        max_examples=FUZZ_EXAMPLES,
        deadline=None,
        database=None,
        suppress_health_check=list(HealthCheck),
    )
    @given(params=strategy(op.input_shape) if op.input_shape else st.just({}))
    def run(params: dict[str, Any]) -> None:
        try:
            method(**params)
        except ClientError as exc:
            meta = exc.response["ResponseMetadata"]
            code = exc.response["Error"].get("Code", "")
            assert code, exc.response  # botocore found the error's code
            _record(meta["HTTPStatusCode"], code)
            return
        except Exception as exc:  # botocore could not even build this request: nothing was sent
            STATS["not sent"] += 1
            STATS[f"not sent: {type(exc).__name__}: {str(exc)[:60]}"] += 1
            return
        _record(200, "")

    run()


def _snake(name: str) -> str:
    return "".join("_" + c.lower() if c.isupper() else c for c in name).lstrip("_")


_PATHS = sorted({MODEL.operation_model(n).http["requestUri"].split("?")[0] for n in OPERATIONS})
_METHODS = ["GET", "POST", "PUT", "DELETE", "PATCH"]


def _raw_bodies() -> st.SearchStrategy[bytes]:
    deep = st.integers(1, 3000).map(lambda n: b"[" * n + b"]" * n)
    json_like = st.recursive(
        st.one_of(st.none(), st.booleans(), st.integers(), st.text(max_size=10)),
        lambda inner: st.one_of(st.lists(inner, max_size=3), st.dictionaries(st.text(max_size=8), inner, max_size=3)),
        max_leaves=20,
    ).map(lambda v: __import__("json").dumps(v).encode())
    modeled_with_junk = st.sampled_from(
        [
            b'{"name": "n", "knowledgeBaseType": "QUICK_RESPONSES", "junk": {"a": [1, {"b": null}]}}',
            b'{"name": "n", "content": {"content": "c", "junk": 1}, "groupingConfiguration": {"x": []}}',
            b'{"name": "\\ud800", "knowledgeBaseType": "QUICK_RESPONSES"}',
            b'{"name": "a\\u0000b", "knowledgeBaseType": "QUICK_RESPONSES"}',
            b'{"searchExpression": {"queries": [{"name": "content", "values": ["x"], "operator": "CONTAINS",'
            b' "junk": ' + b"[" * 200 + b"]" * 200 + b"}]}}",
            b'{"tags": {"k": {"nested": 1}}, "tagKeys": [1, 2]}',
            b'{"maxResults": 1e400, "nextToken": 12}',
        ]
    )
    return st.one_of(
        st.binary(max_size=200),
        deep,
        json_like,
        modeled_with_junk,
        st.sampled_from([b"{", b"\xff\xfe", b'{"a":1}' * 3]),
    )


def _label(kind: str) -> str:
    return SEEDED.get(kind, kind)


@settings(max_examples=RAW_EXAMPLES, deadline=None, database=None, suppress_health_check=list(HealthCheck))
@given(
    method=st.sampled_from(_METHODS),
    path=st.sampled_from(_PATHS),
    label=st.sampled_from(["kb-id", "qr-id", "%00", "%ff%fe", "x" * 300, "%C3%A9", "..", "", "%2F"]),
    query=st.sampled_from(
        [
            "",
            "maxResults=0",
            "maxResults=-1",
            "maxResults=99999999999999999999",
            "nextToken=%00",
            "tagKeys=a&tagKeys=%ff",
        ]
    ),
    body=_raw_bodies(),
    content_type=st.sampled_from(["application/json", "text/plain", "application/x-amz-json-1.1", "\x7f"]),
)
def test_fuzz_raw_http(seeded, method, path, label, query, body, content_type):
    import re

    url_path = re.sub(r"\{[^}]+\}", lambda m: _label(label) if label in SEEDED else label, path)
    url = seeded.meta.endpoint_url + url_path + ("?" + query if query else "")
    req = urllib.request.Request(url, data=body if method != "GET" else None, method=method)
    req.add_header("Content-Type", content_type)
    try:
        with urllib.request.urlopen(req, timeout=60) as r:
            status, headers, payload = r.status, dict(r.headers.items()), r.read()
    except urllib.error.HTTPError as e:
        status, headers, payload = e.code, dict(e.headers.items()), e.read()
    code = ""
    if status >= 300:
        parsed = RestJSONParser().parse(
            {"status_code": status, "headers": {k.lower(): v for k, v in headers.items()}, "body": payload},
            None,
        )
        code = parsed.get("Error", {}).get("Code", "")
        assert code, (status, payload[:300])
    _record(status, code)


_INTERNAL = [
    ("PUT", "/_qconnect/connect-instances/{x}/routing-profiles"),
    ("GET", "/_qconnect/connect-instances/{x}/routing-profiles"),
    ("DELETE", "/_qconnect/connect-instances/{x}/routing-profiles"),
    ("POST", "/_qconnect/import-jobs/{x}/run"),
    ("GET", "/_qconnect/import-jobs/{x}/failed-record-report"),
    ("PUT", "/_qconnect/uploads/{x}"),
    ("GET", "/_qconnect/uploads/{x}"),
    ("GET", "/_qconnect/health"),
]


@settings(max_examples=INTERNAL_EXAMPLES, deadline=None, database=None, suppress_health_check=list(HealthCheck))
@given(
    route=st.sampled_from(_INTERNAL),
    label=st.sampled_from(["upload-id", "i-1", "%00", "%C3%A9", "x" * 200, "a-b"]),
    query=st.sampled_from(
        ["", "wait=true", "X-Qc-Expires=1&X-Qc-Signature=00", "X-Qc-Signature=%C3%A9&X-Qc-Expires=9"]
    ),
    body=_raw_bodies(),
)
def test_fuzz_internal_endpoints(seeded, route, label, query, body):
    """qconnect-local's own endpoints answer S3 XML or plain JSON errors: never a 5xx."""
    method, path = route
    url = seeded.meta.endpoint_url + path.replace("{x}", SEEDED.get(label, label)) + ("?" + query if query else "")
    req = urllib.request.Request(url, data=body if method not in ("GET", "DELETE") else None, method=method)
    try:
        with urllib.request.urlopen(req, timeout=60) as r:
            status = r.status
            r.read()
    except urllib.error.HTTPError as e:
        status = e.code
        e.read()
    _record(status, "")


_HOSTILE_HEADS = [
    b"GET /knowledgeBases/\xff\xfe HTTP/1.1\r\nHost: x\r\n\r\n",
    b"GET /knowledgeBases?maxResults=\xff HTTP/1.1\r\nHost: x\r\n\r\n",
    b"POST /knowledgeBases HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\nX-Amz-Target: \xff\xfe\r\n\r\n{}",
    b"POST /knowledgeBases HTTP/1.1\r\nHost: \xff\r\nAuthorization: \xe9\xe9\r\nContent-Length: 2\r\n\r\n{}",
    b"GET /knowledgeBases HTTP/1.1\r\nHost: x\r\nContent-Length: 99999999999999999999999\r\n\r\n",
    b"DELETE /knowledgeBases/%00 HTTP/1.1\r\nHost: x\r\n\r\n",
    b"GET //// HTTP/1.1\r\nHost: x\r\n\r\n",
    b"GET /_qconnect/uploads/abc?X-Qc-Signature=\xff&X-Qc-Expires=1 HTTP/1.1\r\nHost: x\r\n\r\n",
    b"PUT /_qconnect/uploads/abc?X-Qc-Signature=%C3%A9&X-Qc-Expires=%FF HTTP/1.1\r\nHost: x\r\nContent-Length: 1\r\n\r\nx",
]


@pytest.mark.parametrize("head", _HOSTILE_HEADS)
def test_fuzz_hostile_bytes_on_the_wire(seeded, head):
    import http.client
    import socket

    host, port = seeded.meta.endpoint_url.rsplit("/", 1)[1].rsplit(":", 1)
    with socket.create_connection((host, int(port)), timeout=30) as sock:
        sock.sendall(head)
        response = http.client.HTTPResponse(sock)
        response.begin()
        payload = response.read()
    _record(response.status, str(payload[:80]))


def test_fuzz_totals():
    """Run last (file order): the totals of this run; `-s` prints them."""
    print(f"\nfuzz: {STATS['requests']} requests, {STATS['5xx']} 5xx, {STATS['not sent']} not sendable by botocore")
    if os.environ.get("QCONNECT_FUZZ_VERBOSE"):
        print(STATS.most_common(30))
    assert STATS["5xx"] == 0
