"""Assistants and assistant associations (issue 17) through boto3 against the running server."""

from __future__ import annotations

import uuid

import pytest
from botocore.exceptions import ClientError

from support import ServerProcess

ACCOUNT_ARN = "arn:aws:wisdom:us-east-1:000000000000"


def create_assistant(client, name="assistant", **extra):
    return client.create_assistant(name=name, type="AGENT", **extra)["assistant"]


def create_kb(client, name="kb", kb_type="CUSTOM"):
    return client.create_knowledge_base(name=name, knowledgeBaseType=kb_type)["knowledgeBase"]


def associate(client, assistant_id, kb_id, **extra):
    return client.create_assistant_association(
        assistantId=assistant_id, associationType="KNOWLEDGE_BASE", association={"knowledgeBaseId": kb_id}, **extra
    )["assistantAssociation"]


def error_of(excinfo) -> tuple[str, int, str]:
    response = excinfo.value.response
    return response["Error"]["Code"], response["ResponseMetadata"]["HTTPStatusCode"], response["Error"]["Message"]


# -- assistants ---------------------------------------------------------------------------


def test_create_returns_the_full_assistant(qconnect):
    a = create_assistant(
        qconnect,
        name="Agent assist",
        description="For the care team",
        tags={"team": "care"},
        serverSideEncryptionConfiguration={"kmsKeyId": "arn:aws:kms:us-east-1:000000000000:key/abc"},
    )
    uuid.UUID(a["assistantId"], version=4)
    assert a["assistantArn"] == f"{ACCOUNT_ARN}:assistant/{a['assistantId']}"
    assert (a["name"], a["type"], a["status"], a["description"]) == (
        "Agent assist",
        "AGENT",
        "ACTIVE",
        "For the care team",
    )
    assert a["tags"] == {"team": "care"}
    assert a["serverSideEncryptionConfiguration"] == {"kmsKeyId": "arn:aws:kms:us-east-1:000000000000:key/abc"}


def test_get_by_id_and_by_arn(qconnect):
    a = create_assistant(qconnect, serverSideEncryptionConfiguration={"kmsKeyId": "alias/mine"})
    by_id = qconnect.get_assistant(assistantId=a["assistantId"])["assistant"]
    by_arn = qconnect.get_assistant(assistantId=a["assistantArn"])["assistant"]
    assert by_id == by_arn == a


def test_unknown_assistant_is_404_with_resource_name(qconnect):
    missing = str(uuid.uuid4())
    for call in (qconnect.get_assistant, qconnect.delete_assistant, qconnect.list_assistant_associations):
        with pytest.raises(qconnect.exceptions.ResourceNotFoundException) as e:
            call(assistantId=missing)
        assert e.value.response["resourceName"] == missing
        assert e.value.response["ResponseMetadata"]["HTTPStatusCode"] == 404


def test_arn_of_another_account_region_or_type_is_not_found(qconnect):
    a = create_assistant(qconnect)
    kb = create_kb(qconnect)
    for label in (
        a["assistantArn"].replace(":000000000000:", ":111111111111:"),
        a["assistantArn"].replace(":us-east-1:", ":eu-west-1:"),
        kb["knowledgeBaseArn"],
        a["assistantArn"].replace(":assistant/", ":knowledge-base/"),
    ):
        with pytest.raises(qconnect.exceptions.ResourceNotFoundException) as e:
            qconnect.get_assistant(assistantId=label)
        assert e.value.response["resourceName"] == label


def test_validation_failures_are_counted_together(qconnect):
    with pytest.raises(ClientError) as e:
        qconnect.create_assistant(name="x" * 256, type="ROBOT", description="!bad")
    code, status, message = error_of(e)
    assert (code, status) == ("ValidationException", 400)
    assert message.startswith("3 validation errors detected: ")
    assert "at 'name' failed to satisfy constraint: Member must have length less than or equal to 255" in message
    assert (
        "Value 'ROBOT' at 'type' failed to satisfy constraint: Member must satisfy enum value set: [AGENT]" in message
    )
    assert "at 'description' failed to satisfy constraint: Member must satisfy regular expression pattern" in message
    assert qconnect.list_assistants()["assistantSummaries"] == []


@pytest.mark.parametrize("label", ["NOT-A-UUID", "A1B2C3D4-0000-4000-8000-000000000000"])
def test_bad_id_label_is_a_validation_error(qconnect, label):
    with pytest.raises(ClientError) as e:
        qconnect.get_assistant(assistantId=label)
    code, status, message = error_of(e)
    assert (code, status) == ("ValidationException", 400)
    assert "at 'assistantId' failed to satisfy constraint: Member must satisfy regular expression pattern" in message


def test_tags_on_create_are_capped(qconnect):
    with pytest.raises(ClientError) as e:
        create_assistant(qconnect, tags={f"k{i}": "v" for i in range(51)})
    assert error_of(e)[:2] == ("ValidationException", 400)
    with pytest.raises(ClientError) as e:
        create_assistant(qconnect, tags={"aws:reserved": "v"})
    assert error_of(e)[0] == "ValidationException"


def test_pagination_across_pages_with_the_paginator(qconnect):
    created = [create_assistant(qconnect, name=f"a-{i}")["assistantId"] for i in range(5)]
    pages = list(qconnect.get_paginator("list_assistants").paginate(PaginationConfig={"PageSize": 2}))
    assert [len(p["assistantSummaries"]) for p in pages] == [2, 2, 1]
    assert [s["assistantId"] for p in pages for s in p["assistantSummaries"]] == created
    assert "nextToken" not in pages[-1]
    summary = pages[0]["assistantSummaries"][0]
    assert set(summary) >= {"assistantId", "assistantArn", "name", "type", "status"}


def test_page_token_stays_valid_while_items_change(qconnect):
    ids = [create_assistant(qconnect, name=f"a-{i}")["assistantId"] for i in range(4)]
    first = qconnect.list_assistants(maxResults=2)
    qconnect.delete_assistant(assistantId=ids[0])
    qconnect.delete_assistant(assistantId=ids[2])
    create_assistant(qconnect, name="late")
    second = qconnect.list_assistants(maxResults=2, nextToken=first["nextToken"])
    assert [s["name"] for s in second["assistantSummaries"]] == ["a-3", "late"]


def test_foreign_or_tampered_page_tokens_are_rejected(qconnect):
    for i in range(3):
        create_kb(qconnect, name=f"kb-{i}")
        create_assistant(qconnect, name=f"a-{i}")
    kb_token = qconnect.list_knowledge_bases(maxResults=1)["nextToken"]
    own_token = qconnect.list_assistants(maxResults=1)["nextToken"]
    for token in (kb_token, "garbage!!", own_token[:-2] + "xx"):
        with pytest.raises(ClientError) as e:
            qconnect.list_assistants(nextToken=token)
        assert error_of(e)[:2] == ("ValidationException", 400)
    with pytest.raises(ClientError) as e:
        qconnect.list_assistants(maxResults=101)
    assert error_of(e)[0] == "ValidationException"


def test_idempotent_create_both_ways(qconnect):
    first = create_assistant(qconnect, name="a", clientToken="token-1")
    assert create_assistant(qconnect, name="a", clientToken="token-1") == first
    with pytest.raises(qconnect.exceptions.ConflictException) as e:
        create_assistant(qconnect, name="other", clientToken="token-1")
    assert e.value.response["ResponseMetadata"]["HTTPStatusCode"] == 409
    assert len(qconnect.list_assistants()["assistantSummaries"]) == 1
    qconnect.delete_assistant(assistantId=first["assistantId"])
    with pytest.raises(qconnect.exceptions.ConflictException):
        create_assistant(qconnect, name="a", clientToken="token-1")
    assert qconnect.list_assistants()["assistantSummaries"] == []


def test_quota_of_five_assistants_per_account_and_region(server, endpoint):
    mine = server.client(access_key="111111111111")
    for i in range(5):
        create_assistant(mine, name=f"a-{i}")
    with pytest.raises(mine.exceptions.ServiceQuotaExceededException) as e:
        create_assistant(mine, name="one-too-many")
    assert e.value.response["ResponseMetadata"]["HTTPStatusCode"] == 402
    other_account = server.client(access_key="222222222222")
    other_region = server.client(access_key="111111111111", region="eu-west-1")
    assert create_assistant(other_account)["assistantArn"].split(":")[4] == "222222222222"
    assert create_assistant(other_region)["assistantArn"].split(":")[3] == "eu-west-1"
    assert len(other_account.list_assistants()["assistantSummaries"]) == 1
    assert len(mine.list_assistants()["assistantSummaries"]) == 5


def test_delete_then_get_and_delete_again_are_404(qconnect):
    a = create_assistant(qconnect)
    response = qconnect.delete_assistant(assistantId=a["assistantArn"])
    assert response["ResponseMetadata"]["HTTPStatusCode"] == 204
    for call in (qconnect.get_assistant, qconnect.delete_assistant):
        with pytest.raises(qconnect.exceptions.ResourceNotFoundException):
            call(assistantId=a["assistantId"])


def test_tags_of_an_assistant(qconnect):
    a = create_assistant(qconnect, tags={"a": "1"})
    qconnect.tag_resource(resourceArn=a["assistantArn"], tags={"b": "2"})
    qconnect.untag_resource(resourceArn=a["assistantArn"], tagKeys=["a"])
    assert qconnect.list_tags_for_resource(resourceArn=a["assistantArn"])["tags"] == {"b": "2"}
    assert qconnect.get_assistant(assistantId=a["assistantId"])["assistant"]["tags"] == {"b": "2"}
    with pytest.raises(qconnect.exceptions.TooManyTagsException) as e:
        qconnect.tag_resource(resourceArn=a["assistantArn"], tags={f"k{i}": "v" for i in range(50)})
    assert e.value.response["resourceName"] == a["assistantArn"]
    qconnect.delete_assistant(assistantId=a["assistantId"])
    with pytest.raises(qconnect.exceptions.ResourceNotFoundException):
        qconnect.list_tags_for_resource(resourceArn=a["assistantArn"])


def test_legacy_wisdom_client(wisdom, qconnect):
    a = wisdom.create_assistant(name="legacy", type="AGENT")["assistant"]
    assert qconnect.get_assistant(assistantId=a["assistantId"])["assistant"]["name"] == "legacy"


# -- assistant associations ---------------------------------------------------------------


def test_association_fills_in_the_knowledge_base(qconnect):
    a = create_assistant(qconnect)
    kb = create_kb(qconnect, kb_type="QUICK_RESPONSES")
    assoc = associate(qconnect, a["assistantArn"], kb["knowledgeBaseId"], tags={"t": "1"})
    uuid.UUID(assoc["assistantAssociationId"], version=4)
    assert assoc["assistantAssociationArn"] == (
        f"{ACCOUNT_ARN}:association/{a['assistantId']}/{assoc['assistantAssociationId']}"
    )
    assert (assoc["assistantId"], assoc["assistantArn"]) == (a["assistantId"], a["assistantArn"])
    assert assoc["associationType"] == "KNOWLEDGE_BASE"
    assert assoc["associationData"] == {
        "knowledgeBaseAssociation": {
            "knowledgeBaseId": kb["knowledgeBaseId"],
            "knowledgeBaseArn": kb["knowledgeBaseArn"],
        }
    }
    assert assoc["tags"] == {"t": "1"}
    for assistant_label in (a["assistantId"], a["assistantArn"]):
        for label in (assoc["assistantAssociationId"], assoc["assistantAssociationArn"]):
            got = qconnect.get_assistant_association(assistantId=assistant_label, assistantAssociationId=label)
            assert got["assistantAssociation"] == assoc
    listed = qconnect.list_assistant_associations(assistantId=a["assistantId"])["assistantAssociationSummaries"]
    assert listed == [assoc]


def test_an_assistant_with_several_knowledge_bases_but_each_once(qconnect):
    a = create_assistant(qconnect)
    qr_kb, custom_kb = create_kb(qconnect, "qr", "QUICK_RESPONSES"), create_kb(qconnect, "content")
    associate(qconnect, a["assistantId"], qr_kb["knowledgeBaseId"])
    associate(qconnect, a["assistantId"], custom_kb["knowledgeBaseId"])
    with pytest.raises(qconnect.exceptions.ConflictException) as e:
        associate(qconnect, a["assistantId"], qr_kb["knowledgeBaseId"])
    assert e.value.response["ResponseMetadata"]["HTTPStatusCode"] == 409
    other = create_assistant(qconnect, name="other")
    associate(qconnect, other["assistantId"], qr_kb["knowledgeBaseId"])  # shared by two assistants
    listed = qconnect.list_assistant_associations(assistantId=a["assistantId"])["assistantAssociationSummaries"]
    kb_ids = [s["associationData"]["knowledgeBaseAssociation"]["knowledgeBaseId"] for s in listed]
    assert kb_ids == [qr_kb["knowledgeBaseId"], custom_kb["knowledgeBaseId"]]


def test_association_of_unknown_things_is_404(qconnect):
    a = create_assistant(qconnect)
    missing = str(uuid.uuid4())
    with pytest.raises(qconnect.exceptions.ResourceNotFoundException) as e:
        associate(qconnect, a["assistantId"], missing)
    assert e.value.response["resourceName"] == missing
    kb = create_kb(qconnect)
    with pytest.raises(qconnect.exceptions.ResourceNotFoundException) as e:
        associate(qconnect, missing, kb["knowledgeBaseId"])
    assert e.value.response["resourceName"] == missing
    for call in (qconnect.get_assistant_association, qconnect.delete_assistant_association):
        with pytest.raises(qconnect.exceptions.ResourceNotFoundException) as e:
            call(assistantId=a["assistantId"], assistantAssociationId=missing)
        assert e.value.response["resourceName"] == missing


def test_association_is_found_only_under_its_own_assistant(qconnect):
    a, b = create_assistant(qconnect, name="a"), create_assistant(qconnect, name="b")
    assoc = associate(qconnect, a["assistantId"], create_kb(qconnect)["knowledgeBaseId"])
    for label in (assoc["assistantAssociationId"], assoc["assistantAssociationArn"]):
        with pytest.raises(qconnect.exceptions.ResourceNotFoundException):
            qconnect.get_assistant_association(assistantId=b["assistantId"], assistantAssociationId=label)
    with pytest.raises(qconnect.exceptions.ResourceNotFoundException):
        qconnect.delete_assistant_association(
            assistantId=b["assistantId"], assistantAssociationId=assoc["assistantAssociationId"]
        )
    assert qconnect.get_assistant_association(
        assistantId=a["assistantId"], assistantAssociationId=assoc["assistantAssociationId"]
    )


def test_association_validation(qconnect):
    a = create_assistant(qconnect)
    kb = create_kb(qconnect)
    bedrock = {
        "bedrockKnowledgeBaseArn": "arn:aws:bedrock:us-east-1:000000000000:knowledge-base/ABCDEFGHIJ",
        "accessRoleArn": "arn:aws:iam::000000000000:role/bedrock-access",
    }
    bad = [
        ("KNOWLEDGE_BASE", {"externalBedrockKnowledgeBaseConfig": bedrock}),
        ("EXTERNAL_BEDROCK_KNOWLEDGE_BASE", {"knowledgeBaseId": kb["knowledgeBaseId"]}),
        ("KNOWLEDGE_BASE", {"knowledgeBaseId": kb["knowledgeBaseArn"]}),  # the model wants a bare id here
        ("SOMETHING", {"knowledgeBaseId": kb["knowledgeBaseId"]}),
    ]
    for kind, data in bad:
        with pytest.raises(ClientError) as e:
            qconnect.create_assistant_association(assistantId=a["assistantId"], associationType=kind, association=data)
        assert error_of(e)[:2] == ("ValidationException", 400), (kind, data)
    assert qconnect.list_assistant_associations(assistantId=a["assistantId"])["assistantAssociationSummaries"] == []
    external = qconnect.create_assistant_association(
        assistantId=a["assistantId"],
        associationType="EXTERNAL_BEDROCK_KNOWLEDGE_BASE",
        association={"externalBedrockKnowledgeBaseConfig": bedrock},
    )["assistantAssociation"]
    assert external["associationData"] == {"externalBedrockKnowledgeBaseConfig": bedrock}


def test_association_pagination_and_idempotency(qconnect):
    a = create_assistant(qconnect)
    kbs = [create_kb(qconnect, name=f"kb-{i}")["knowledgeBaseId"] for i in range(5)]
    created = [associate(qconnect, a["assistantId"], kb)["assistantAssociationId"] for kb in kbs[:4]]
    first = associate(qconnect, a["assistantId"], kbs[4], clientToken="tok")
    assert associate(qconnect, a["assistantId"], kbs[4], clientToken="tok") == first
    with pytest.raises(qconnect.exceptions.ConflictException):
        associate(qconnect, a["assistantId"], kbs[0], clientToken="tok")
    created.append(first["assistantAssociationId"])
    pages = list(
        qconnect.get_paginator("list_assistant_associations").paginate(
            assistantId=a["assistantId"], PaginationConfig={"PageSize": 2}
        )
    )
    assert [len(p["assistantAssociationSummaries"]) for p in pages] == [2, 2, 1]
    assert [s["assistantAssociationId"] for p in pages for s in p["assistantAssociationSummaries"]] == created


def test_association_quota(server, endpoint):
    extra = ServerProcess("--max-assistant-associations", "2").start()
    try:
        client = extra.client()
        a = create_assistant(client)
        associate(client, a["assistantId"], create_kb(client, "one")["knowledgeBaseId"])
        b = create_assistant(client, name="b")
        associate(client, b["assistantId"], create_kb(client, "two")["knowledgeBaseId"])
        with pytest.raises(client.exceptions.ServiceQuotaExceededException) as e:
            associate(client, a["assistantId"], create_kb(client, "three")["knowledgeBaseId"])
        assert e.value.response["ResponseMetadata"]["HTTPStatusCode"] == 402
        other = extra.client(access_key="222222222222")
        c = create_assistant(other)
        associate(other, c["assistantId"], create_kb(other, "four")["knowledgeBaseId"])
    finally:
        extra.stop()


def test_delete_association_keeps_both_ends(qconnect):
    a = create_assistant(qconnect)
    kb = create_kb(qconnect)
    assoc = associate(qconnect, a["assistantId"], kb["knowledgeBaseId"])
    response = qconnect.delete_assistant_association(
        assistantId=a["assistantId"], assistantAssociationId=assoc["assistantAssociationArn"]
    )
    assert response["ResponseMetadata"]["HTTPStatusCode"] == 204
    with pytest.raises(qconnect.exceptions.ResourceNotFoundException):
        qconnect.get_assistant_association(
            assistantId=a["assistantId"], assistantAssociationId=assoc["assistantAssociationId"]
        )
    assert qconnect.get_assistant(assistantId=a["assistantId"])
    assert qconnect.get_knowledge_base(knowledgeBaseId=kb["knowledgeBaseId"])
    associate(qconnect, a["assistantId"], kb["knowledgeBaseId"])  # may be associated again


def test_deleting_a_knowledge_base_deletes_its_associations(qconnect):
    a = create_assistant(qconnect)
    kept, deleted = create_kb(qconnect, "kept"), create_kb(qconnect, "deleted")
    associate(qconnect, a["assistantId"], kept["knowledgeBaseId"])
    gone = associate(qconnect, a["assistantId"], deleted["knowledgeBaseId"])
    qconnect.delete_knowledge_base(knowledgeBaseId=deleted["knowledgeBaseId"])
    listed = qconnect.list_assistant_associations(assistantId=a["assistantId"])["assistantAssociationSummaries"]
    assert [s["associationData"]["knowledgeBaseAssociation"]["knowledgeBaseId"] for s in listed] == [
        kept["knowledgeBaseId"]
    ]
    with pytest.raises(qconnect.exceptions.ResourceNotFoundException):
        qconnect.get_assistant_association(
            assistantId=a["assistantId"], assistantAssociationId=gone["assistantAssociationId"]
        )


def test_deleting_an_assistant_keeps_its_knowledge_bases(qconnect):
    a = create_assistant(qconnect)
    kb = create_kb(qconnect)
    assoc = associate(qconnect, a["assistantId"], kb["knowledgeBaseId"])
    qconnect.delete_assistant(assistantId=a["assistantId"])
    assert qconnect.get_knowledge_base(knowledgeBaseId=kb["knowledgeBaseId"])["knowledgeBase"] == kb
    with pytest.raises(qconnect.exceptions.ResourceNotFoundException):
        qconnect.list_tags_for_resource(resourceArn=assoc["assistantAssociationArn"])
    b = create_assistant(qconnect, name="b")
    associate(qconnect, b["assistantId"], kb["knowledgeBaseId"])


def test_tags_of_an_association(qconnect):
    a = create_assistant(qconnect)
    assoc = associate(qconnect, a["assistantId"], create_kb(qconnect)["knowledgeBaseId"])
    qconnect.tag_resource(resourceArn=assoc["assistantAssociationArn"], tags={"env": "test"})
    assert qconnect.list_tags_for_resource(resourceArn=assoc["assistantAssociationArn"])["tags"] == {"env": "test"}
    got = qconnect.get_assistant_association(
        assistantId=a["assistantId"], assistantAssociationId=assoc["assistantAssociationId"]
    )
    assert got["assistantAssociation"]["tags"] == {"env": "test"}
