"""No input reaches a 500 (issue 14): U+0000, forged pagination tokens, deep JSON, unknown
members, huge invalid values, hostile upload signatures. Real server, real boto3, both stores."""

from __future__ import annotations

import base64
import json
import urllib.error
import urllib.request

import orjson
import pytest
from botocore.exceptions import ClientError

from import_support import http, s3_error_code

NUL = "a\x00b"


def _code(exc: pytest.ExceptionInfo[ClientError]) -> str:
    return exc.value.response["Error"]["Code"]


def raw(endpoint: str, method: str, path: str, body: bytes = b"") -> tuple[int, dict]:
    req = urllib.request.Request(endpoint + path, data=body or None, method=method)
    req.add_header("content-type", "application/json")
    try:
        with urllib.request.urlopen(req, timeout=30) as r:
            return r.status, orjson.loads(r.read() or b"{}")
    except urllib.error.HTTPError as e:
        return e.code, orjson.loads(e.read() or b"{}") | {"_type": e.headers.get("x-amzn-ErrorType", "")}


# -- U+0000 ----------------------------------------------------------------------------------


def test_nul_in_any_string_is_a_validation_error(qconnect, quick_responses_kb):
    kb_id = quick_responses_kb["knowledgeBaseId"]
    calls = [
        lambda: qconnect.create_knowledge_base(name=NUL, knowledgeBaseType="QUICK_RESPONSES"),
        lambda: qconnect.create_knowledge_base(name="n", knowledgeBaseType="QUICK_RESPONSES", description=NUL),
        lambda: qconnect.create_quick_response(knowledgeBaseId=kb_id, name="n", content={"content": NUL}),
        lambda: qconnect.create_quick_response(knowledgeBaseId=kb_id, name=NUL, content={"content": "c"}),
        lambda: qconnect.create_quick_response(
            knowledgeBaseId=kb_id, name="n", content={"content": "c"}, shortcutKey=NUL
        ),
        lambda: qconnect.tag_resource(resourceArn=quick_responses_kb["knowledgeBaseArn"], tags={"k": NUL}),
        lambda: qconnect.search_quick_responses(
            knowledgeBaseId=kb_id,
            searchExpression={"queries": [{"name": "content", "values": [NUL], "operator": "CONTAINS"}]},
        ),
    ]
    for call in calls:
        with pytest.raises(ClientError) as exc:
            call()
        assert _code(exc) == "ValidationException", exc.value.response
        assert "U+0000" in exc.value.response["Error"]["Message"]
    assert qconnect.list_quick_responses(knowledgeBaseId=kb_id)["quickResponseSummaries"] == []


def test_nul_in_a_csv_cell_fails_that_row_only(qconnect, quick_responses_kb):
    from import_support import import_file, report_rows

    kb_id = quick_responses_kb["knowledgeBaseId"]
    body = b"Name,Content\r\ngood,fine\r\nbad,has \x00 nul\r\n"
    job = import_file(qconnect, kb_id, body)
    assert job["status"] == "FAILED"
    rows = report_rows(job)
    assert [r[0] for r in rows[1:]] == ["bad"] and "U+0000" in rows[1][-1], rows
    names = [s["name"] for s in qconnect.list_quick_responses(knowledgeBaseId=kb_id)["quickResponseSummaries"]]
    assert names == ["good"]


# -- pagination tokens -----------------------------------------------------------------------


def _forged_tokens(valid: str) -> list[str]:
    payload, _, mac = valid.partition(".")
    b64 = lambda raw: base64.urlsafe_b64encode(raw).decode().rstrip("=")  # noqa: E731
    return [
        "x",
        "!!!!",
        "é",
        valid[:-3],
        valid[: len(valid) // 2],
        payload,
        f"{payload}.{b64(b'0' * 16)}",
        f"{b64(json.dumps(10**30).encode())}.{mac}",
        f"{b64(orjson.dumps('a'))}.{mac}",
        f"{b64(orjson.dumps({'h': 1, 'k': [None, 'x']}))}.{mac}",
        b64(json.dumps({"l": "ListKnowledgeBases", "k": 10**40}).encode()),
        b64(orjson.dumps({"l": "ListQuickResponses", "k": {"a": 1}})),
        valid + ".x",
        "A" * 2000,
    ]


def test_forged_pagination_tokens_are_validation_errors_on_every_listing(qconnect, quick_responses_kb):
    kb_id = quick_responses_kb["knowledgeBaseId"]
    qconnect.create_knowledge_base(name="second", knowledgeBaseType="QUICK_RESPONSES")
    for i in range(3):
        qconnect.create_quick_response(knowledgeBaseId=kb_id, name=f"qr{i}", content={"content": "hello"})
    expression = {"queries": [{"name": "content", "values": ["hello"], "operator": "CONTAINS"}]}
    listings = {
        "ListKnowledgeBases": lambda **kw: qconnect.list_knowledge_bases(maxResults=1, **kw),
        "ListQuickResponses": lambda **kw: qconnect.list_quick_responses(knowledgeBaseId=kb_id, maxResults=1, **kw),
        "SearchQuickResponses": lambda **kw: qconnect.search_quick_responses(
            knowledgeBaseId=kb_id, searchExpression=expression, maxResults=1, **kw
        ),
        "ListImportJobs": lambda **kw: qconnect.list_import_jobs(knowledgeBaseId=kb_id, maxResults=1, **kw),
    }
    for name, call in listings.items():
        valid = call().get("nextToken") or qconnect.list_knowledge_bases(maxResults=1)["nextToken"]
        for token in _forged_tokens(valid):
            with pytest.raises(ClientError) as exc:
                call(nextToken=token)
            assert _code(exc) == "ValidationException", (name, token, exc.value.response)
    # A real token still pages, and a token of one listing is refused by another.
    kb_token = qconnect.list_knowledge_bases(maxResults=1)["nextToken"]
    assert qconnect.list_knowledge_bases(maxResults=1, nextToken=kb_token)["knowledgeBaseSummaries"]
    with pytest.raises(ClientError) as exc:
        qconnect.list_import_jobs(knowledgeBaseId=kb_id, nextToken=kb_token)
    assert _code(exc) == "ValidationException"


# -- JSON shape ------------------------------------------------------------------------------


def test_deep_json_is_a_serialization_error_and_unknown_members_are_not_stored(qconnect, endpoint):
    deep = '{"a":' * 300 + '"x"' + "}" * 300
    body = b'{"name": "kb", "knowledgeBaseType": "QUICK_RESPONSES", "junk": ' + deep.encode() + b"}"
    status, doc = raw(endpoint, "POST", "/knowledgeBases", body)
    assert status == 400 and doc["_type"].startswith("SerializationException"), doc
    lists = json.dumps({"name": "kb", "knowledgeBaseType": "QUICK_RESPONSES", "x": [[[[]]]]}).replace(
        "[[[[]]]]", "[" * 5000 + "]" * 5000
    )
    status, doc = raw(endpoint, "POST", "/knowledgeBases", lists.encode())
    assert status == 400 and doc["_type"].startswith("SerializationException"), doc

    big = "y" * 1_000_000
    body = orjson.dumps(
        {
            "name": "kb",
            "knowledgeBaseType": "QUICK_RESPONSES",
            "junk": big,
            "serverSideEncryptionConfiguration": {"kmsKeyId": "k", "junk": big, "deeper": {"a": [1, 2]}},
            "tags": {"t": "v"},
        }
    )
    status, doc = raw(endpoint, "POST", "/knowledgeBases", body)
    assert status == 200, doc
    kb = qconnect.get_knowledge_base(knowledgeBaseId=doc["knowledgeBase"]["knowledgeBaseId"])["knowledgeBase"]
    stored = orjson.dumps(kb)
    assert b"junk" not in stored and b"deeper" not in stored and len(stored) < 10_000
    assert kb["serverSideEncryptionConfiguration"] == {"kmsKeyId": "k"}


def test_validation_messages_cap_the_echoed_value(qconnect):
    with pytest.raises(ClientError) as exc:
        qconnect.create_knowledge_base(name="!" + "x" * 2_000_000, knowledgeBaseType="QUICK_RESPONSES")
    message = exc.value.response["Error"]["Message"]
    assert _code(exc) == "ValidationException" and len(message) < 2_000, len(message)
    assert "characters)" in message


def test_many_failures_make_a_short_message(endpoint):
    body = orjson.dumps({"tags": {f"aws:{i}" + "x" * 200: "v" * 300 for i in range(5000)}})
    arn = "arn:aws:wisdom:us-east-1:000000000000:knowledge-base/00000000-0000-0000-0000-000000000000"
    status, doc = raw(endpoint, "POST", "/tags/" + urllib.request.quote(arn, safe=""), body)
    assert status == 400 and len(doc["message"]) < 10_000, (status, len(doc.get("message", "")))


# -- the presigned upload URL ----------------------------------------------------------------


@pytest.mark.parametrize("signature", ["é" * 64, "\u2603", "ff" * 31 + "é"])
def test_non_ascii_upload_signature_is_403(qconnect, quick_responses_kb, signature):
    up = qconnect.start_content_upload(knowledgeBaseId=quick_responses_kb["knowledgeBaseId"], contentType="text/csv")
    base, _, query = up["url"].partition("?")
    params = dict(p.split("=", 1) for p in query.split("&"))
    params["X-Qc-Signature"] = urllib.request.quote(signature)
    url = base + "?" + "&".join(f"{k}={v}" for k, v in params.items())
    status, _, body = http("PUT", url, b"Name,Content\r\na,b\r\n", up["headersToInclude"])
    assert status == 403 and s3_error_code(body) == "SignatureDoesNotMatch", body


# -- CSV edge cases --------------------------------------------------------------------------


def _import(qconnect, kb_id, body):
    import csv

    from import_support import import_file, report_rows

    csv.field_size_limit(2**31 - 1)  # the report quotes a big cell

    job = import_file(qconnect, kb_id, body)
    report = report_rows(job) if job.get("failedRecordReport") else []
    names = sorted(s["name"] for s in qconnect.list_quick_responses(knowledgeBaseId=kb_id)["quickResponseSummaries"])
    return job, report, names


def test_a_quote_inside_an_unquoted_field_fails_its_row(qconnect, quick_responses_kb):
    kb_id = quick_responses_kb["knowledgeBaseId"]
    body = b'Name,Content\r\ngood,"quoted ""fine"", yes"\r\nbad,say "hi" there\r\nalso good,x\r\n'
    job, report, names = _import(qconnect, kb_id, body)
    assert names == ["also good", "good"]
    assert [r[0] for r in report[1:]] == ["bad"] and "quote" in report[1][-1], report


def test_a_cell_over_128_kib_fails_its_row_not_the_file(qconnect, quick_responses_kb):
    kb_id = quick_responses_kb["knowledgeBaseId"]
    body = b"Name,Content\r\nbig," + b"z" * (200 * 1024) + b"\r\nsmall,ok\r\n"
    job, report, names = _import(qconnect, kb_id, body)
    assert names == ["small"]
    assert [r[0] for r in report[1:]] == ["big"], [r[:1] for r in report]


def test_a_trailing_empty_header_cell_is_ignored(qconnect, quick_responses_kb):
    kb_id = quick_responses_kb["knowledgeBaseId"]
    job, report, names = _import(qconnect, kb_id, b"Name,Content,\r\na,b,\r\nc,d\r\n")
    assert job["status"] == "COMPLETE" and names == ["a", "c"], (job, report)


def test_a_hundred_thousand_unknown_columns_give_a_short_error(qconnect, quick_responses_kb):
    kb_id = quick_responses_kb["knowledgeBaseId"]
    header = "Name,Content," + ",".join(f"col{i}" for i in range(100_000))
    job, report, names = _import(qconnect, kb_id, (header + "\r\na,b\r\n").encode())
    assert job["status"] == "FAILED" and names == []
    message = report[1][0]
    assert "unknown column(s) 'col0'" in message and "and 99990 more" in message and len(message) < 1_000
