"""TagResource / UntagResource / ListTagsForResource on knowledge-base ARNs."""

from __future__ import annotations

import uuid

import pytest
from botocore.exceptions import ClientError


@pytest.fixture
def kb(qconnect):
    return qconnect.create_knowledge_base(name="kb", knowledgeBaseType="QUICK_RESPONSES", tags={"a": "1"})[
        "knowledgeBase"
    ]


def tags_of(qconnect, arn):
    return qconnect.list_tags_for_resource(resourceArn=arn)["tags"]


def test_tag_merges_and_overwrites(qconnect, kb):
    qconnect.tag_resource(resourceArn=kb["knowledgeBaseArn"], tags={"a": "2", "b": "3"})
    assert tags_of(qconnect, kb["knowledgeBaseArn"]) == {"a": "2", "b": "3"}
    # The resource's own tags member agrees.
    got = qconnect.get_knowledge_base(knowledgeBaseId=kb["knowledgeBaseId"])["knowledgeBase"]
    assert got["tags"] == {"a": "2", "b": "3"}
    assert qconnect.list_knowledge_bases()["knowledgeBaseSummaries"][0]["tags"] == {"a": "2", "b": "3"}


def test_untag_removes_keys_and_ignores_absent_ones(qconnect, kb):
    qconnect.tag_resource(resourceArn=kb["knowledgeBaseArn"], tags={"b": "x", "c:d": "y"})
    response = qconnect.untag_resource(resourceArn=kb["knowledgeBaseArn"], tagKeys=["a", "c:d", "never-there"])
    assert response["ResponseMetadata"]["HTTPStatusCode"] == 200
    assert tags_of(qconnect, kb["knowledgeBaseArn"]) == {"b": "x"}


def test_no_tags_is_an_empty_map(qconnect):
    kb = qconnect.create_knowledge_base(name="bare", knowledgeBaseType="QUICK_RESPONSES")["knowledgeBase"]
    assert tags_of(qconnect, kb["knowledgeBaseArn"]) == {}


def test_more_than_fifty_tags(qconnect, kb):
    qconnect.tag_resource(resourceArn=kb["knowledgeBaseArn"], tags={f"k{i}": "v" for i in range(49)})
    with pytest.raises(qconnect.exceptions.TooManyTagsException) as e:
        qconnect.tag_resource(resourceArn=kb["knowledgeBaseArn"], tags={"x": "1", "y": "2"})
    assert e.value.response["resourceName"] == kb["knowledgeBaseArn"]
    assert e.value.response["ResponseMetadata"]["HTTPStatusCode"] == 400
    assert len(tags_of(qconnect, kb["knowledgeBaseArn"])) == 50  # unchanged: a, k0..k48


def test_create_with_too_many_tags(qconnect):
    with pytest.raises(ClientError) as e:
        qconnect.create_knowledge_base(
            name="kb", knowledgeBaseType="QUICK_RESPONSES", tags={f"k{i}": "v" for i in range(51)}
        )
    assert e.value.response["Error"]["Code"] == "ValidationException"


@pytest.mark.parametrize("key", ["aws:reserved", "AWS:fine-actually", "bad key with spaces", "x" * 129])
def test_tag_key_rules(qconnect, kb, key):
    def call():
        return qconnect.tag_resource(resourceArn=kb["knowledgeBaseArn"], tags={key: "v"})

    if key.startswith("AWS:"):
        call()  # the reserved prefix is lower-case 'aws:' only (pattern is case-sensitive)
        assert key in tags_of(qconnect, kb["knowledgeBaseArn"])
        return
    with pytest.raises(ClientError) as e:
        call()
    assert e.value.response["Error"]["Code"] == "ValidationException"
    assert "Map keys must satisfy constraint" in e.value.response["Error"]["Message"]
    assert tags_of(qconnect, kb["knowledgeBaseArn"]) == {"a": "1"}


def test_unknown_resource(qconnect, kb):
    missing = f"arn:aws:wisdom:us-east-1:000000000000:knowledge-base/{uuid.uuid4()}"
    for call in (
        lambda: qconnect.tag_resource(resourceArn=missing, tags={"a": "b"}),
        lambda: qconnect.untag_resource(resourceArn=missing, tagKeys=["a"]),
        lambda: qconnect.list_tags_for_resource(resourceArn=missing),
    ):
        with pytest.raises(qconnect.exceptions.ResourceNotFoundException) as e:
            call()
        assert e.value.response["resourceName"] == missing


def test_arn_pattern_is_checked(qconnect):
    with pytest.raises(ClientError) as e:
        qconnect.list_tags_for_resource(resourceArn="arn:aws:s3:::bucket")
    assert e.value.response["Error"]["Code"] == "ValidationException"


def test_tags_are_isolated_by_account(server, endpoint, kb):
    other = server.client(access_key="123456789012")
    with pytest.raises(other.exceptions.ResourceNotFoundException):
        other.list_tags_for_resource(resourceArn=kb["knowledgeBaseArn"])
