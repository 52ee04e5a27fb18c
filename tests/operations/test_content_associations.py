"""Content associations (issue 17): content associated with an Amazon Connect step-by-step
guide, through boto3 against the running server and the in-process mock."""

from __future__ import annotations

import uuid

import boto3
import pytest
from botocore.exceptions import ClientError
from test_assistants import associate as associate_kb
from test_assistants import create_assistant, create_kb, error_of
from test_contents import create_content

from support import ServerProcess

GUIDE = "AMAZON_CONNECT_GUIDE"


def flow(n: int = 1) -> str:
    return f"arn:aws:connect:us-east-1:000000000000:instance/{uuid.UUID(int=7)}/contact-flow/{uuid.UUID(int=n)}"


def associate(client, kb_id, content_id, flow_arn=None, **extra):
    return client.create_content_association(
        knowledgeBaseId=kb_id,
        contentId=content_id,
        associationType=GUIDE,
        association={"amazonConnectGuideAssociation": {"flowId": flow_arn or flow()}},
        **extra,
    )["contentAssociation"]


@pytest.fixture
def content(qconnect):
    kb = create_kb(qconnect, name="guides", kb_type="CUSTOM")
    return create_content(qconnect, kb["knowledgeBaseId"], name="step-by-step")


def test_the_association_flow(qconnect, content):
    kb_id, content_id = content["knowledgeBaseId"], content["contentId"]
    made = associate(qconnect, content["knowledgeBaseArn"], content["contentArn"], tags={"team": "care"})
    association_id = made["contentAssociationId"]
    uuid.UUID(association_id, version=4)
    assert made == {
        "knowledgeBaseId": kb_id,
        "knowledgeBaseArn": content["knowledgeBaseArn"],
        "contentId": content_id,
        "contentArn": content["contentArn"],
        "contentAssociationId": association_id,
        "contentAssociationArn": (
            f"arn:aws:wisdom:us-east-1:000000000000:content-association/{kb_id}/{content_id}/{association_id}"
        ),
        "associationType": GUIDE,
        "associationData": {"amazonConnectGuideAssociation": {"flowId": flow()}},
        "tags": {"team": "care"},
    }
    for kb_label in (kb_id, content["knowledgeBaseArn"]):
        for content_label in (content_id, content["contentArn"]):
            for label in (association_id, made["contentAssociationArn"]):
                got = qconnect.get_content_association(
                    knowledgeBaseId=kb_label, contentId=content_label, contentAssociationId=label
                )["contentAssociation"]
                assert got == made
    listed = qconnect.list_content_associations(knowledgeBaseId=kb_id, contentId=content_id)
    assert listed["contentAssociationSummaries"] == [made] and "nextToken" not in listed

    arn = made["contentAssociationArn"]
    qconnect.tag_resource(resourceArn=arn, tags={"b": "2"})
    qconnect.untag_resource(resourceArn=arn, tagKeys=["team"])
    assert qconnect.list_tags_for_resource(resourceArn=arn)["tags"] == {"b": "2"}

    response = qconnect.delete_content_association(
        knowledgeBaseId=kb_id, contentId=content_id, contentAssociationId=arn
    )
    assert response["ResponseMetadata"]["HTTPStatusCode"] == 204
    for call in (qconnect.get_content_association, qconnect.delete_content_association):
        with pytest.raises(qconnect.exceptions.ResourceNotFoundException) as e:
            call(knowledgeBaseId=kb_id, contentId=content_id, contentAssociationId=association_id)
        assert e.value.response["resourceName"] == association_id
    assert (
        qconnect.list_content_associations(knowledgeBaseId=kb_id, contentId=content_id)["contentAssociationSummaries"]
        == []
    )


def unchecked(server):
    """A boto3 client that sends what botocore's own checks would stop (the server must answer)."""
    from botocore.config import Config

    return boto3.client(
        "qconnect",
        endpoint_url=server.endpoint_url,
        region_name="us-east-1",
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
        config=Config(retries={"max_attempts": 1}, parameter_validation=False),
    )


def test_validation_failures(server, qconnect, content):
    kb_id, content_id = content["knowledgeBaseId"], content["contentId"]
    raw = unchecked(server)
    cases = [
        (
            {"associationType": "SOMETHING", "association": {"amazonConnectGuideAssociation": {"flowId": flow()}}},
            "Member must satisfy enum value set",
        ),
        ({"associationType": GUIDE, "association": {}}, "Member must have exactly one of the following members set"),
        ({"associationType": GUIDE, "association": {"amazonConnectGuideAssociation": {}}}, "flowId"),
        (
            {"associationType": GUIDE, "association": {"amazonConnectGuideAssociation": {"flowId": "not-an-arn"}}},
            "Member must satisfy regular expression pattern",
        ),
        (
            {
                "associationType": GUIDE,
                "association": {
                    "amazonConnectGuideAssociation": {"flowId": "arn:aws:lambda:us-east-1:000000000000:function/f"}
                },
            },
            "is not the ARN of an Amazon Connect flow",
        ),
    ]
    for params, fragment in cases:
        with pytest.raises(ClientError) as e:
            raw.create_content_association(knowledgeBaseId=kb_id, contentId=content_id, **params)
        code, status, message = error_of(e)
        assert (code, status) == ("ValidationException", 400), message
        assert fragment in message
    with pytest.raises(ClientError) as e:
        associate(qconnect, kb_id, content_id, tags={f"k{i}": "v" for i in range(51)})
    assert error_of(e)[:2] == ("ValidationException", 400)
    with pytest.raises(ClientError) as e:
        raw.list_content_associations(knowledgeBaseId=kb_id, contentId=content_id, maxResults=0)
    assert error_of(e)[:2] == ("ValidationException", 400)
    assert (
        qconnect.list_content_associations(knowledgeBaseId=kb_id, contentId=content_id)["contentAssociationSummaries"]
        == []
    )


def test_unknown_resources_are_404_with_their_name(qconnect, content):
    kb_id, content_id = content["knowledgeBaseId"], content["contentId"]
    made = associate(qconnect, kb_id, content_id)
    other = create_content(qconnect, kb_id, name="other")
    missing = str(uuid.uuid4())
    calls = [
        (lambda: associate(qconnect, missing, content_id), missing),
        (lambda: associate(qconnect, kb_id, missing), missing),
        (lambda: qconnect.list_content_associations(knowledgeBaseId=kb_id, contentId=missing), missing),
        (
            lambda: qconnect.get_content_association(
                knowledgeBaseId=kb_id, contentId=content_id, contentAssociationId=missing
            ),
            missing,
        ),
        # the association's ARN names another content than the path
        (
            lambda: qconnect.get_content_association(
                knowledgeBaseId=kb_id, contentId=other["contentId"], contentAssociationId=made["contentAssociationArn"]
            ),
            made["contentAssociationArn"],
        ),
        # its id under another content
        (
            lambda: qconnect.delete_content_association(
                knowledgeBaseId=kb_id, contentId=other["contentId"], contentAssociationId=made["contentAssociationId"]
            ),
            made["contentAssociationId"],
        ),
        (lambda: qconnect.list_tags_for_resource(resourceArn=made["contentAssociationArn"][:-36] + missing), None),
    ]
    for call, name in calls:
        with pytest.raises(qconnect.exceptions.ResourceNotFoundException) as e:
            call()
        assert e.value.response["ResponseMetadata"]["HTTPStatusCode"] == 404
        if name is not None:
            assert e.value.response["resourceName"] == name


def test_one_association_per_flow_and_idempotency(qconnect, content):
    kb_id, content_id = content["knowledgeBaseId"], content["contentId"]
    first = associate(qconnect, kb_id, content_id, clientToken="t1")
    again = associate(qconnect, kb_id, content_id, clientToken="t1")
    assert again == first
    with pytest.raises(qconnect.exceptions.ConflictException):
        associate(qconnect, kb_id, content_id, flow(2), clientToken="t1")  # the token, another request
    with pytest.raises(qconnect.exceptions.ConflictException) as e:
        associate(qconnect, kb_id, content_id)  # the same flow again
    assert "already associated" in error_of(e)[2]
    associate(qconnect, kb_id, content_id, flow(2))
    other = create_content(qconnect, kb_id, name="other")
    associate(qconnect, kb_id, other["contentId"])  # one flow may guide several contents
    listed = qconnect.list_content_associations(knowledgeBaseId=kb_id, contentId=content_id)
    assert len(listed["contentAssociationSummaries"]) == 2


def test_pages_and_deleting_content_deletes_its_associations(qconnect, content):
    kb_id, content_id = content["knowledgeBaseId"], content["contentId"]
    made = [associate(qconnect, kb_id, content_id, flow(n))["contentAssociationId"] for n in range(1, 6)]
    pages = list(
        qconnect.get_paginator("list_content_associations").paginate(
            knowledgeBaseId=kb_id, contentId=content_id, PaginationConfig={"PageSize": 2}
        )
    )
    assert [len(p["contentAssociationSummaries"]) for p in pages] == [2, 2, 1]
    assert [s["contentAssociationId"] for p in pages for s in p["contentAssociationSummaries"]] == made
    with pytest.raises(ClientError) as e:
        qconnect.list_contents(knowledgeBaseId=kb_id, nextToken=pages[0]["nextToken"])
    assert error_of(e)[:2] == ("ValidationException", 400)  # a token is bound to its listing
    arn = f"arn:aws:wisdom:us-east-1:000000000000:content-association/{kb_id}/{content_id}/{made[0]}"
    qconnect.delete_content(knowledgeBaseId=kb_id, contentId=content_id)
    with pytest.raises(qconnect.exceptions.ResourceNotFoundException):
        qconnect.list_tags_for_resource(resourceArn=arn)
    again = create_content(qconnect, kb_id, name="step-by-step")
    assert (
        qconnect.list_content_associations(knowledgeBaseId=kb_id, contentId=again["contentId"])[
            "contentAssociationSummaries"
        ]
        == []
    )


@pytest.fixture(params=["server", "mock"])
def qconnect_mode(request: pytest.FixtureRequest) -> str:
    return request.param


def test_associations_in_every_mode(qconnect_client) -> None:
    kb = create_kb(qconnect_client, kb_type="CUSTOM")
    made_content = create_content(qconnect_client, kb["knowledgeBaseId"])
    made = associate(qconnect_client, kb["knowledgeBaseId"], made_content["contentId"])
    got = qconnect_client.get_content_association(
        knowledgeBaseId=kb["knowledgeBaseId"],
        contentId=made_content["contentId"],
        contentAssociationId=made["contentAssociationArn"],
    )["contentAssociation"]
    assert got == made


def test_associations_and_retrieval_survive_a_restart(tmp_path):
    """A content association, its tags and the content text index are on disk: a restarted
    server gives them back unchanged, and QueryAssistant still finds the content."""
    first = ServerProcess(data_dir=tmp_path).start()
    try:
        client = first.client()
        kb = create_kb(client, name="guides", kb_type="CUSTOM")
        content = create_content(client, kb["knowledgeBaseId"], body=b"Escalate a billing dispute.")
        made = associate(client, kb["knowledgeBaseId"], content["contentId"], tags={"team": "care"})
        assistant_id = create_assistant(client)["assistantId"]
        associate_kb(client, assistant_id, kb["knowledgeBaseId"])
    finally:
        assert first.stop() == 0
    second = ServerProcess(data_dir=tmp_path).start()
    try:
        client = second.client()
        got = client.get_content_association(
            knowledgeBaseId=kb["knowledgeBaseId"],
            contentId=content["contentId"],
            contentAssociationId=made["contentAssociationId"],
        )["contentAssociation"]
        assert got == made
        results = client.query_assistant(assistantId=assistant_id, queryText="billing dispute")["results"]
        assert [r["document"]["contentReference"]["contentId"] for r in results] == [content["contentId"]]
    finally:
        second.stop()
