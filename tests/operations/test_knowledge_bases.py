"""CreateKnowledgeBase / Get / List / Delete through boto3 against the running server."""

from __future__ import annotations

import uuid

import pytest
from botocore.exceptions import ClientError

from support import ServerProcess, make_client


def create_kb(client, name="kb", kb_type="QUICK_RESPONSES", **extra):
    return client.create_knowledge_base(name=name, knowledgeBaseType=kb_type, **extra)["knowledgeBase"]


def error_of(excinfo) -> tuple[str, int, str]:
    response = excinfo.value.response
    return response["Error"]["Code"], response["ResponseMetadata"]["HTTPStatusCode"], response["Error"]["Message"]


def test_create_returns_the_full_knowledge_base(qconnect):
    kb = create_kb(qconnect, name="Support answers", description="For agents", tags={"team": "care"})
    assert set(kb) >= {"knowledgeBaseId", "knowledgeBaseArn", "name", "knowledgeBaseType", "status"}
    uuid.UUID(kb["knowledgeBaseId"], version=4)
    assert kb["knowledgeBaseId"] == kb["knowledgeBaseId"].lower()
    assert kb["knowledgeBaseArn"] == f"arn:aws:wisdom:us-east-1:000000000000:knowledge-base/{kb['knowledgeBaseId']}"
    assert (kb["name"], kb["knowledgeBaseType"], kb["status"]) == ("Support answers", "QUICK_RESPONSES", "ACTIVE")
    assert kb["description"] == "For agents"
    assert kb["tags"] == {"team": "care"}
    assert "lastContentModificationTime" not in kb  # no content yet


def test_get_by_id_and_by_arn(qconnect):
    kb = create_kb(qconnect)
    by_id = qconnect.get_knowledge_base(knowledgeBaseId=kb["knowledgeBaseId"])["knowledgeBase"]
    by_arn = qconnect.get_knowledge_base(knowledgeBaseId=kb["knowledgeBaseArn"])["knowledgeBase"]
    assert by_id == by_arn == kb


def test_custom_knowledge_base_echoes_its_configuration(qconnect):
    kb = create_kb(
        qconnect,
        kb_type="CUSTOM",
        renderingConfiguration={"templateUri": "https://example.com/{Id}"},
        serverSideEncryptionConfiguration={"kmsKeyId": "alias/mine"},
    )
    got = qconnect.get_knowledge_base(knowledgeBaseId=kb["knowledgeBaseId"])["knowledgeBase"]
    assert got["renderingConfiguration"] == {"templateUri": "https://example.com/{Id}"}
    assert got["serverSideEncryptionConfiguration"] == {"kmsKeyId": "alias/mine"}


def test_quick_responses_knowledge_base_rejects_source_configuration(qconnect):
    with pytest.raises(ClientError) as e:
        create_kb(
            qconnect,
            sourceConfiguration={
                "appIntegrations": {
                    "appIntegrationArn": "arn:aws:app-integrations:us-east-1:000000000000:data-integration/x"
                }
            },
        )
    code, status, message = error_of(e)
    assert (code, status) == ("ValidationException", 400)
    assert "sourceConfiguration" in message
    assert qconnect.list_knowledge_bases()["knowledgeBaseSummaries"] == []


def test_unknown_knowledge_base_is_404_with_resource_name(qconnect):
    missing = str(uuid.uuid4())
    with pytest.raises(qconnect.exceptions.ResourceNotFoundException) as e:
        qconnect.get_knowledge_base(knowledgeBaseId=missing)
    assert e.value.response["resourceName"] == missing
    assert e.value.response["ResponseMetadata"]["HTTPStatusCode"] == 404


def test_arn_of_another_account_or_region_is_not_found(qconnect):
    kb = create_kb(qconnect)
    other_account = kb["knowledgeBaseArn"].replace(":000000000000:", ":111111111111:")
    other_region = kb["knowledgeBaseArn"].replace(":us-east-1:", ":eu-west-1:")
    for arn in (other_account, other_region):
        with pytest.raises(qconnect.exceptions.ResourceNotFoundException):
            qconnect.get_knowledge_base(knowledgeBaseId=arn)


@pytest.mark.parametrize(
    "label, fragment",
    [
        ("NOT-A-UUID", "Member must satisfy regular expression pattern"),
        ("A1B2C3D4-0000-4000-8000-000000000000", "Member must satisfy regular expression pattern"),
        ("", "Member must satisfy regular expression pattern"),
    ],
)
def test_bad_id_label_is_a_validation_error(qconnect, label, fragment):
    with pytest.raises(ClientError) as e:
        qconnect.get_knowledge_base(knowledgeBaseId=label)
    code, status, message = error_of(e)
    assert (code, status) == ("ValidationException", 400)
    assert message.startswith("1 validation error detected: ")
    assert f"at 'knowledgeBaseId' failed to satisfy constraint: {fragment}" in message


def test_name_too_long_and_bad_enum_are_counted_together(qconnect):
    with pytest.raises(ClientError) as e:
        create_kb(qconnect, name="x" * 256, kb_type="SOMETHING")
    code, status, message = error_of(e)
    assert (code, status) == ("ValidationException", 400)
    assert message.startswith("2 validation errors detected: ")
    assert (
        "Value '" + "x" * 256 + "' at 'name' failed to satisfy constraint: "
        "Member must have length less than or equal to 255"
    ) in message
    assert "at 'knowledgeBaseType' failed to satisfy constraint: Member must satisfy enum value set: [" in message
    assert "; " in message
    assert qconnect.list_knowledge_bases()["knowledgeBaseSummaries"] == []


def test_name_pattern_constrains_the_first_character(qconnect):
    with pytest.raises(ClientError) as e:
        create_kb(qconnect, name="!bang")
    assert error_of(e)[0] == "ValidationException"
    assert create_kb(qconnect, name="ok! anything after the first character")["name"].startswith("ok!")


def test_max_results_out_of_range(qconnect):
    with pytest.raises(ClientError) as e:
        qconnect.list_knowledge_bases(maxResults=101)
    code, _, message = error_of(e)
    assert code == "ValidationException"
    assert (
        "Value '101' at 'maxResults' failed to satisfy constraint: Member must have value less than or equal to 100"
        in message
    )


def test_pagination_across_pages_with_the_paginator(server, endpoint):
    extra = ServerProcess("--max-knowledge-bases", "25").start()
    try:
        client = extra.client()
        created = [create_kb(client, name=f"kb-{i:02d}")["knowledgeBaseId"] for i in range(23)]
        pages = list(client.get_paginator("list_knowledge_bases").paginate(PaginationConfig={"PageSize": 5}))
        assert [len(p["knowledgeBaseSummaries"]) for p in pages] == [5, 5, 5, 5, 3]
        listed = [s["knowledgeBaseId"] for p in pages for s in p["knowledgeBaseSummaries"]]
        assert listed == created  # creation order, each exactly once
        assert "nextToken" not in pages[-1]
    finally:
        extra.stop()


def test_page_token_stays_valid_while_items_change(qconnect):
    ids = [create_kb(qconnect, name=f"kb-{i}")["knowledgeBaseId"] for i in range(6)]
    first = qconnect.list_knowledge_bases(maxResults=3)
    assert [s["knowledgeBaseId"] for s in first["knowledgeBaseSummaries"]] == ids[:3]
    qconnect.delete_knowledge_base(knowledgeBaseId=ids[1])  # before the cursor
    qconnect.delete_knowledge_base(knowledgeBaseId=ids[4])  # after the cursor
    create_kb(qconnect, name="late")
    second = qconnect.list_knowledge_bases(maxResults=3, nextToken=first["nextToken"])
    names = [s["name"] for s in second["knowledgeBaseSummaries"]]
    assert names == ["kb-3", "kb-5", "late"]


@pytest.mark.parametrize("token", ["garbage!!", "eyJub3QiOiAiYSB0b2tlbiJ9"])
def test_invalid_page_token(qconnect, token):
    with pytest.raises(ClientError) as e:
        qconnect.list_knowledge_bases(nextToken=token)
    assert error_of(e)[:2] == ("ValidationException", 400)


def test_idempotent_create_with_the_same_token_and_body(qconnect):
    first = create_kb(qconnect, name="kb", clientToken="token-1")
    again = create_kb(qconnect, name="kb", clientToken="token-1")
    assert again == first
    assert len(qconnect.list_knowledge_bases()["knowledgeBaseSummaries"]) == 1


def test_same_token_with_another_body_is_a_conflict(qconnect):
    create_kb(qconnect, name="kb", clientToken="token-1")
    with pytest.raises(qconnect.exceptions.ConflictException) as e:
        create_kb(qconnect, name="other", clientToken="token-1")
    assert e.value.response["ResponseMetadata"]["HTTPStatusCode"] == 409
    assert len(qconnect.list_knowledge_bases()["knowledgeBaseSummaries"]) == 1


def test_token_of_a_deleted_knowledge_base_creates_nothing(qconnect):
    kb = create_kb(qconnect, name="kb", clientToken="token-1")
    qconnect.delete_knowledge_base(knowledgeBaseId=kb["knowledgeBaseId"])
    with pytest.raises(qconnect.exceptions.ConflictException):
        create_kb(qconnect, name="kb", clientToken="token-1")
    assert qconnect.list_knowledge_bases()["knowledgeBaseSummaries"] == []


def test_quota_of_ten_knowledge_bases(qconnect):
    for i in range(10):
        create_kb(qconnect, name=f"kb-{i}")
    with pytest.raises(qconnect.exceptions.ServiceQuotaExceededException) as e:
        create_kb(qconnect, name="one-too-many")
    assert e.value.response["ResponseMetadata"]["HTTPStatusCode"] == 402
    assert len(qconnect.list_knowledge_bases(maxResults=100)["knowledgeBaseSummaries"]) == 10


def test_quota_is_per_account_and_region(server, endpoint):
    mine = server.client(access_key="111111111111")
    for i in range(10):
        create_kb(mine, name=f"kb-{i}")
    other_account = server.client(access_key="222222222222")
    other_region = server.client(access_key="111111111111", region="eu-west-1")
    assert create_kb(other_account)["knowledgeBaseArn"].split(":")[4] == "222222222222"
    assert create_kb(other_region)["knowledgeBaseArn"].split(":")[3] == "eu-west-1"
    assert len(other_account.list_knowledge_bases()["knowledgeBaseSummaries"]) == 1


def test_delete_then_get_and_delete_again_are_404(qconnect):
    kb = create_kb(qconnect)
    response = qconnect.delete_knowledge_base(knowledgeBaseId=kb["knowledgeBaseArn"])
    assert response["ResponseMetadata"]["HTTPStatusCode"] == 204
    for call in (qconnect.get_knowledge_base, qconnect.delete_knowledge_base):
        with pytest.raises(qconnect.exceptions.ResourceNotFoundException):
            call(knowledgeBaseId=kb["knowledgeBaseId"])


def test_legacy_wisdom_client(wisdom, qconnect):
    kb = wisdom.create_knowledge_base(name="legacy", knowledgeBaseType="QUICK_RESPONSES")["knowledgeBase"]
    assert qconnect.get_knowledge_base(knowledgeBaseId=kb["knowledgeBaseId"])["knowledgeBase"]["name"] == "legacy"
    with pytest.raises(wisdom.exceptions.ResourceNotFoundException):
        wisdom.get_knowledge_base(knowledgeBaseId=str(uuid.uuid4()))


@pytest.mark.slow
def test_state_survives_a_restart_with_a_data_dir(tmp_path):
    first = ServerProcess(data_dir=tmp_path).start()
    try:
        kb = create_kb(first.client(), name="durable", tags={"k": "v"})
    finally:
        assert first.stop() == 0
    second = ServerProcess(data_dir=tmp_path).start()
    try:
        got = second.client().get_knowledge_base(knowledgeBaseId=kb["knowledgeBaseId"])["knowledgeBase"]
        assert got == kb
    finally:
        second.stop()


@pytest.mark.slow
def test_in_memory_state_does_not_survive(tmp_path):
    first = ServerProcess().start()
    create_kb(first.client())
    first.stop()
    second = ServerProcess().start()
    try:
        assert second.client().list_knowledge_bases()["knowledgeBaseSummaries"] == []
    finally:
        second.stop()


def test_client_endpoint_from_the_environment(server, endpoint, monkeypatch):
    import boto3

    monkeypatch.setenv("AWS_ENDPOINT_URL_QCONNECT", endpoint)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    client = boto3.client("qconnect", region_name="us-east-1")
    kb = create_kb(client)
    assert make_client(endpoint).get_knowledge_base(knowledgeBaseId=kb["knowledgeBaseId"])
