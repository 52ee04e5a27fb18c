"""Create/Get/Update/Delete/ListQuickResponses and tags on quick responses, through boto3 against
the running server."""

from __future__ import annotations

import time

import pytest
from botocore.exceptions import ClientError, ParamValidationError

from support import EXPECTED_STORAGE, ServerProcess

MARKDOWN = "application/x.quickresponse;format=markdown"
PLAIN = "application/x.quickresponse;format=plain"
PROFILE = "arn:aws:connect:us-east-1:123456789012:instance/abc/routing-profile/def"


def code(exc: pytest.ExceptionInfo) -> str:
    return exc.value.response["Error"]["Code"]


def create(client, kb, name="Greeting", content="Hello there", **kwargs):
    return client.create_quick_response(
        knowledgeBaseId=kb["knowledgeBaseId"], name=name, content={"content": content}, **kwargs
    )["quickResponse"]


# -- create ----------------------------------------------------------------------------------------


def test_create_defaults_and_get(qconnect, quick_responses_kb):
    kb = quick_responses_kb
    qr = create(qconnect, kb)
    assert qr["contentType"] == PLAIN
    assert qr["status"] == "CREATED"
    assert qr["isActive"] is True
    assert qr["contents"] == {"plainText": {"content": "Hello there"}, "markdown": {"content": "Hello there"}}
    assert qr["lastModifiedBy"] == "arn:aws:iam::000000000000:root"
    assert qr["knowledgeBaseId"] == kb["knowledgeBaseId"]
    assert qr["knowledgeBaseArn"] == kb["knowledgeBaseArn"]
    assert qr["quickResponseArn"] == (
        f"arn:aws:wisdom:us-east-1:000000000000:quick-response/{kb['knowledgeBaseId']}/{qr['quickResponseId']}"
    )
    assert qr["createdTime"] == qr["lastModifiedTime"]
    got = qconnect.get_quick_response(knowledgeBaseId=kb["knowledgeBaseId"], quickResponseId=qr["quickResponseId"])
    assert got["quickResponse"] == qr
    # The knowledge base's content time moves.
    kb_now = qconnect.get_knowledge_base(knowledgeBaseId=kb["knowledgeBaseId"])["knowledgeBase"]
    assert kb_now["lastContentModificationTime"] == qr["createdTime"]


def test_create_with_every_member(qconnect, quick_responses_kb):
    qr = create(
        qconnect,
        quick_responses_kb,
        name="Refunds",
        content="# Refund policy\n\nSee **this** [page](https://x.y).",
        contentType=MARKDOWN,
        description="How refunds work",
        shortcutKey="refund",
        isActive=False,
        channels=["Chat", "Email"],
        language="fr_FR",
        tags={"team": "billing"},
        groupingConfiguration={"criteria": "RoutingProfileArn", "values": [PROFILE]},
    )
    assert qr["contents"]["markdown"]["content"].startswith("# Refund policy")
    assert qr["contents"]["plainText"]["content"] == "Refund policy\nSee this page."
    assert (qr["description"], qr["shortcutKey"], qr["isActive"]) == ("How refunds work", "refund", False)
    assert qr["channels"] == ["Chat", "Email"]
    assert qr["language"] == "fr_FR"
    assert qr["tags"] == {"team": "billing"}
    assert qr["groupingConfiguration"] == {"criteria": "RoutingProfileArn", "values": [PROFILE]}


def test_name_and_shortcut_key_are_unique(qconnect, quick_responses_kb):
    create(qconnect, quick_responses_kb, name="One", shortcutKey="one")
    with pytest.raises(ClientError) as e:
        create(qconnect, quick_responses_kb, name="One")
    assert code(e) == "ConflictException" and "name" in e.value.response["Error"]["Message"]
    with pytest.raises(ClientError) as e:
        create(qconnect, quick_responses_kb, name="Two", shortcutKey="one")
    assert code(e) == "ConflictException" and "shortcutKey" in e.value.response["Error"]["Message"]
    # Case-sensitive, and scoped to the knowledge base.
    create(qconnect, quick_responses_kb, name="one", shortcutKey="ONE")
    other = qconnect.create_knowledge_base(name="other", knowledgeBaseType="QUICK_RESPONSES")["knowledgeBase"]
    create(qconnect, other, name="One", shortcutKey="one")


def test_quota(tmp_path):
    server = ServerProcess("--max-quick-responses", "2", data_dir=tmp_path).start()
    try:
        client = server.client()
        kb = client.create_knowledge_base(name="kb", knowledgeBaseType="QUICK_RESPONSES")["knowledgeBase"]
        create(client, kb, name="a")
        create(client, kb, name="b")
        with pytest.raises(ClientError) as e:
            create(client, kb, name="c")
        assert code(e) == "ServiceQuotaExceededException"
        assert e.value.response["ResponseMetadata"]["HTTPStatusCode"] == 402
    finally:
        server.stop()


def test_wrong_knowledge_base_type(qconnect):
    kb = qconnect.create_knowledge_base(name="custom", knowledgeBaseType="CUSTOM")["knowledgeBase"]
    with pytest.raises(ClientError) as e:
        create(qconnect, kb)
    assert code(e) == "ValidationException"
    for call in (
        lambda: qconnect.list_quick_responses(knowledgeBaseId=kb["knowledgeBaseId"]),
        lambda: qconnect.search_quick_responses(knowledgeBaseId=kb["knowledgeBaseId"], searchExpression={}),
    ):
        with pytest.raises(ClientError) as e:
            call()
        assert code(e) == "ValidationException"


@pytest.mark.parametrize(
    "kwargs",
    [
        {"name": "x" * 101},
        {"description": "d" * 256},
        {"shortcutKey": "k" * 11},
        {"contentType": "text/plain"},
        {"language": "xx_XX"},
        {"channels": ["Voice"]},
        {"groupingConfiguration": {"criteria": "Queue", "values": [PROFILE]}},
        {"groupingConfiguration": {"criteria": "RoutingProfileArn", "values": ["not an arn"]}},
        {"groupingConfiguration": {"criteria": "RoutingProfileArn", "values": [PROFILE + str(i) for i in range(41)]}},
        {"groupingConfiguration": {"values": [PROFILE]}},
        {"tags": {f"k{i}": "v" for i in range(51)}},
        {"tags": {"aws:reserved": "v"}},
        {"content": "c" * 4001},  # the model (botocore 1.44) allows 4000
    ],
)
def test_validation(qconnect, quick_responses_kb, kwargs):
    params = {"name": "n", "content": {"content": "c"}, **kwargs}
    if isinstance(params["content"], str):
        params["content"] = {"content": params["content"]}
    with pytest.raises(ClientError) as e:
        qconnect.create_quick_response(knowledgeBaseId=quick_responses_kb["knowledgeBaseId"], **params)
    assert code(e) == "ValidationException"


def test_union_content_is_required(qconnect, quick_responses_kb):
    with pytest.raises(ParamValidationError):
        qconnect.create_quick_response(knowledgeBaseId=quick_responses_kb["knowledgeBaseId"], name="n", content={})


def test_client_token(qconnect, quick_responses_kb):
    kb_id = quick_responses_kb["knowledgeBaseId"]
    first = qconnect.create_quick_response(knowledgeBaseId=kb_id, name="a", content={"content": "x"}, clientToken="t1")
    again = qconnect.create_quick_response(knowledgeBaseId=kb_id, name="a", content={"content": "x"}, clientToken="t1")
    assert again["quickResponse"] == first["quickResponse"]
    with pytest.raises(ClientError) as e:
        qconnect.create_quick_response(knowledgeBaseId=kb_id, name="b", content={"content": "x"}, clientToken="t1")
    assert code(e) == "ConflictException"
    assert len(qconnect.list_quick_responses(knowledgeBaseId=kb_id)["quickResponseSummaries"]) == 1


# -- get / unknown ids / ARN forms -------------------------------------------------------------------


def test_arn_labels(qconnect, quick_responses_kb):
    qr = create(qconnect, quick_responses_kb)
    got = qconnect.get_quick_response(
        knowledgeBaseId=quick_responses_kb["knowledgeBaseArn"], quickResponseId=qr["quickResponseArn"]
    )["quickResponse"]
    assert got["quickResponseId"] == qr["quickResponseId"]
    other = qconnect.create_knowledge_base(name="other", knowledgeBaseType="QUICK_RESPONSES")["knowledgeBase"]
    # A quick-response ARN of another knowledge base does not resolve.
    with pytest.raises(ClientError) as e:
        qconnect.get_quick_response(knowledgeBaseId=other["knowledgeBaseId"], quickResponseId=qr["quickResponseArn"])
    assert code(e) == "ResourceNotFoundException"


def test_unknown_ids(qconnect, quick_responses_kb):
    kb_id = quick_responses_kb["knowledgeBaseId"]
    missing = "00000000-0000-4000-8000-000000000000"
    calls = [
        lambda: qconnect.get_quick_response(knowledgeBaseId=kb_id, quickResponseId=missing),
        lambda: qconnect.update_quick_response(knowledgeBaseId=kb_id, quickResponseId=missing, name="x"),
        lambda: qconnect.delete_quick_response(knowledgeBaseId=kb_id, quickResponseId=missing),
        lambda: qconnect.get_quick_response(knowledgeBaseId=missing, quickResponseId=missing),
        lambda: qconnect.list_quick_responses(knowledgeBaseId=missing),
        lambda: qconnect.search_quick_responses(knowledgeBaseId=missing, searchExpression={}),
    ]
    for call in calls:
        with pytest.raises(ClientError) as e:
            call()
        assert code(e) == "ResourceNotFoundException"
    with pytest.raises(ClientError) as e:
        qconnect.get_quick_response(knowledgeBaseId=kb_id, quickResponseId="NOT-A-UUID")
    assert code(e) == "ValidationException"


# -- update ------------------------------------------------------------------------------------------


def test_partial_update(qconnect, quick_responses_kb):
    kb_id = quick_responses_kb["knowledgeBaseId"]
    qr = create(
        qconnect,
        quick_responses_kb,
        description="d",
        shortcutKey="k",
        channels=["Chat"],
        groupingConfiguration={"criteria": "RoutingProfileArn", "values": [PROFILE]},
    )
    time.sleep(0.01)
    out = qconnect.update_quick_response(
        knowledgeBaseId=kb_id, quickResponseId=qr["quickResponseId"], name="Renamed", isActive=False
    )["quickResponse"]
    assert (out["name"], out["isActive"], out["description"], out["shortcutKey"]) == ("Renamed", False, "d", "k")
    assert out["channels"] == ["Chat"]
    assert out["lastModifiedTime"] > qr["lastModifiedTime"]
    assert out["createdTime"] == qr["createdTime"]
    kb_now = qconnect.get_knowledge_base(knowledgeBaseId=kb_id)["knowledgeBase"]
    assert kb_now["lastContentModificationTime"] == out["lastModifiedTime"]
    out = qconnect.update_quick_response(
        knowledgeBaseId=kb_id,
        quickResponseId=qr["quickResponseId"],
        removeDescription=True,
        removeShortcutKey=True,
        removeGroupingConfiguration=True,
    )["quickResponse"]
    assert "description" not in out and "shortcutKey" not in out and "groupingConfiguration" not in out
    assert (
        qconnect.get_quick_response(knowledgeBaseId=kb_id, quickResponseId=qr["quickResponseId"])["quickResponse"]
        == out
    )


def test_update_content_and_type(qconnect, quick_responses_kb):
    kb_id = quick_responses_kb["knowledgeBaseId"]
    qr = create(qconnect, quick_responses_kb, content="**bold** move")
    assert qr["contents"]["plainText"]["content"] == "**bold** move"
    out = qconnect.update_quick_response(
        knowledgeBaseId=kb_id, quickResponseId=qr["quickResponseId"], contentType=MARKDOWN
    )["quickResponse"]
    assert out["contents"] == {"plainText": {"content": "bold move"}, "markdown": {"content": "**bold** move"}}
    out = qconnect.update_quick_response(
        knowledgeBaseId=kb_id, quickResponseId=qr["quickResponseId"], content={"content": "_new_ text"}
    )["quickResponse"]
    assert out["contents"]["plainText"]["content"] == "new text"


@pytest.mark.parametrize(
    "member,value,remove",
    [
        ("description", "d", "removeDescription"),
        ("shortcutKey", "k", "removeShortcutKey"),
        (
            "groupingConfiguration",
            {"criteria": "RoutingProfileArn", "values": [PROFILE]},
            "removeGroupingConfiguration",
        ),
    ],
)
def test_set_and_remove_conflict(qconnect, quick_responses_kb, member, value, remove):
    qr = create(qconnect, quick_responses_kb)
    with pytest.raises(ClientError) as e:
        qconnect.update_quick_response(
            knowledgeBaseId=quick_responses_kb["knowledgeBaseId"],
            quickResponseId=qr["quickResponseId"],
            **{member: value, remove: True},
        )
    assert code(e) == "ValidationException"


def test_rename_keeps_uniqueness(qconnect, quick_responses_kb):
    kb_id = quick_responses_kb["knowledgeBaseId"]
    create(qconnect, quick_responses_kb, name="a", shortcutKey="a")
    b = create(qconnect, quick_responses_kb, name="b", shortcutKey="b")
    for kwargs, field in (({"name": "a"}, "name"), ({"shortcutKey": "a"}, "shortcutKey")):
        with pytest.raises(ClientError) as e:
            qconnect.update_quick_response(knowledgeBaseId=kb_id, quickResponseId=b["quickResponseId"], **kwargs)
        assert code(e) == "ConflictException" and field in e.value.response["Error"]["Message"]
    # Renaming to its own name is fine.
    qconnect.update_quick_response(knowledgeBaseId=kb_id, quickResponseId=b["quickResponseId"], name="b")


def test_update_validation(qconnect, quick_responses_kb):
    qr = create(qconnect, quick_responses_kb)
    with pytest.raises(ClientError) as e:
        qconnect.update_quick_response(
            knowledgeBaseId=quick_responses_kb["knowledgeBaseId"],
            quickResponseId=qr["quickResponseId"],
            language="en_GB",
        )
    assert code(e) == "ValidationException"


# -- delete ------------------------------------------------------------------------------------------


def test_delete(qconnect, quick_responses_kb):
    kb_id = quick_responses_kb["knowledgeBaseId"]
    qr = create(qconnect, quick_responses_kb, shortcutKey="k")
    resp = qconnect.delete_quick_response(knowledgeBaseId=kb_id, quickResponseId=qr["quickResponseArn"])
    assert resp["ResponseMetadata"]["HTTPStatusCode"] == 204
    with pytest.raises(ClientError) as e:
        qconnect.get_quick_response(knowledgeBaseId=kb_id, quickResponseId=qr["quickResponseId"])
    assert code(e) == "ResourceNotFoundException"
    with pytest.raises(ClientError) as e:
        qconnect.delete_quick_response(knowledgeBaseId=kb_id, quickResponseId=qr["quickResponseId"])
    assert code(e) == "ResourceNotFoundException"
    # The name and shortcut key are free again, and search no longer finds it.
    create(qconnect, quick_responses_kb, shortcutKey="k")
    found = qconnect.search_quick_responses(
        knowledgeBaseId=kb_id,
        searchExpression={"queries": [{"name": "content", "values": ["hello"], "operator": "CONTAINS"}]},
    )["results"]
    assert [r["quickResponseId"] for r in found] != [qr["quickResponseId"]] and len(found) == 1


def test_delete_knowledge_base_removes_quick_responses_and_index(qconnect, quick_responses_kb):
    kb_id = quick_responses_kb["knowledgeBaseId"]
    other = qconnect.create_knowledge_base(name="other", knowledgeBaseType="QUICK_RESPONSES")["knowledgeBase"]
    create(qconnect, quick_responses_kb, content="zebra crossing")
    kept = create(qconnect, other, content="zebra stripes")
    qconnect.delete_knowledge_base(knowledgeBaseId=kb_id)
    found = qconnect.search_quick_responses(
        knowledgeBaseId=other["knowledgeBaseId"],
        searchExpression={"queries": [{"name": "content", "values": ["zebra"], "operator": "CONTAINS"}]},
    )["results"]
    assert [r["quickResponseId"] for r in found] == [kept["quickResponseId"]]
    qconnect.delete_knowledge_base(knowledgeBaseId=other["knowledgeBaseId"])


@pytest.mark.skipif(EXPECTED_STORAGE != "sqlite", reason="looks inside SQLite's FTS5 index")
def test_delete_knowledge_base_cleans_the_search_index(tmp_path):
    """The FTS index has no entries left for a deleted knowledge base (checked in the database)."""
    import sqlite3

    server = ServerProcess(data_dir=tmp_path).start()
    try:
        client = server.client()
        kbs = [
            client.create_knowledge_base(name=f"kb{i}", knowledgeBaseType="QUICK_RESPONSES")["knowledgeBase"]
            for i in range(2)
        ]
        for kb in kbs:
            for i in range(3):
                create(client, kb, name=f"qr{i}", content=f"apple banana {i}")
        client.delete_knowledge_base(knowledgeBaseId=kbs[0]["knowledgeBaseId"])
        conn = sqlite3.connect(tmp_path / "state.sqlite3")
        count = conn.execute(
            "SELECT count(*) FROM quick_responses_fts WHERE quick_responses_fts MATCH 'apple'"
        ).fetchone()[0]
        assert count == 3
        assert conn.execute("SELECT count(*) FROM quick_responses").fetchone()[0] == 3
        client.delete_knowledge_base(knowledgeBaseId=kbs[1]["knowledgeBaseId"])
        count = conn.execute(
            "SELECT count(*) FROM quick_responses_fts WHERE quick_responses_fts MATCH 'apple'"
        ).fetchone()[0]
        assert count == 0
        conn.execute("INSERT INTO quick_responses_fts(quick_responses_fts) VALUES('integrity-check')")
        conn.close()
    finally:
        server.stop()


# -- list --------------------------------------------------------------------------------------------


def test_list_pages_in_name_order(qconnect, quick_responses_kb):
    kb_id = quick_responses_kb["knowledgeBaseId"]
    names = [f"qr-{i:02d}" for i in range(7)]
    for name in reversed(names):
        create(qconnect, quick_responses_kb, name=name)
    paginator = qconnect.get_paginator("list_quick_responses")
    pages = list(paginator.paginate(knowledgeBaseId=kb_id, PaginationConfig={"PageSize": 3}))
    assert [len(p["quickResponseSummaries"]) for p in pages] == [3, 3, 1]
    summaries = [s for p in pages for s in p["quickResponseSummaries"]]
    assert [s["name"] for s in summaries] == names
    assert "contents" not in summaries[0] and "shortcutKey" not in summaries[0]
    assert "nextToken" not in pages[-1]
    with pytest.raises(ClientError) as e:
        qconnect.list_quick_responses(knowledgeBaseId=kb_id, nextToken="garbage")
    assert code(e) == "ValidationException"
    with pytest.raises(ClientError) as e:
        qconnect.list_quick_responses(knowledgeBaseId=kb_id, maxResults=101)
    assert code(e) == "ValidationException"


def test_list_empty(qconnect, quick_responses_kb):
    assert (
        qconnect.list_quick_responses(knowledgeBaseId=quick_responses_kb["knowledgeBaseId"])["quickResponseSummaries"]
        == []
    )


# -- tags --------------------------------------------------------------------------------------------


def test_tags_on_quick_responses(qconnect, quick_responses_kb):
    qr = create(qconnect, quick_responses_kb, tags={"a": "1"})
    arn = qr["quickResponseArn"]
    qconnect.tag_resource(resourceArn=arn, tags={"b": "2", "a": "3"})
    assert qconnect.list_tags_for_resource(resourceArn=arn)["tags"] == {"a": "3", "b": "2"}
    qconnect.untag_resource(resourceArn=arn, tagKeys=["a", "missing"])
    assert qconnect.list_tags_for_resource(resourceArn=arn)["tags"] == {"b": "2"}
    got = qconnect.get_quick_response(
        knowledgeBaseId=quick_responses_kb["knowledgeBaseId"], quickResponseId=qr["quickResponseId"]
    )["quickResponse"]
    assert got["tags"] == {"b": "2"}
    with pytest.raises(ClientError) as e:
        qconnect.tag_resource(resourceArn=arn, tags={f"k{i}": "v" for i in range(50)})
    assert code(e) == "TooManyTagsException"
    missing = arn[:-36] + "00000000-0000-4000-8000-000000000000"
    with pytest.raises(ClientError) as e:
        qconnect.list_tags_for_resource(resourceArn=missing)
    assert code(e) == "ResourceNotFoundException"
