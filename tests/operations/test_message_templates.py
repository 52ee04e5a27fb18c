"""Message templates (issue 18, items 1-3) through boto3 against the running server: templates,
versions and activation, rendering, tags, idempotency and pagination."""

from __future__ import annotations

import pytest
from botocore.exceptions import ClientError, ParamValidationError

PROFILE = "arn:aws:connect:us-east-1:123456789012:instance/abc/routing-profile/def"
OTHER_UUID = "3f0b7a52-1c1e-4f6e-9d8a-2b1f0c3e4d5a"

EMAIL = {
    "email": {
        "subject": "Hello {{Attributes.Customer.FirstName}}",
        "body": {
            "plainText": {"content": "Dear {{Attributes.Customer.FirstName}}, from {{Attributes.Agent.FirstName}}"},
            "html": {"content": "<p>Dear {{Attributes.Customer.FirstName}}</p><p>{{Attributes.Custom.Note}}</p>"},
        },
    }
}
SMS = {"sms": {"body": {"plainText": {"content": "Code {{ Attributes.Custom.Code }} for {{Attributes.System.Name}}"}}}}


def code(exc: pytest.ExceptionInfo) -> str:
    return exc.value.response["Error"]["Code"]


@pytest.fixture
def kb(qconnect) -> str:
    return qconnect.create_knowledge_base(name="templates", knowledgeBaseType="MESSAGE_TEMPLATES")["knowledgeBase"][
        "knowledgeBaseId"
    ]


def create(client, kb: str, name: str = "Welcome", subtype: str = "EMAIL", content=None, **kwargs) -> dict:
    content = content if content is not None else (EMAIL if subtype == "EMAIL" else SMS)
    return client.create_message_template(
        knowledgeBaseId=kb, name=name, channelSubtype=subtype, content=content, **kwargs
    )["messageTemplate"]


# -- templates --------------------------------------------------------------------------------------


def test_create_email_and_get_latest(qconnect, kb):
    mt = create(
        qconnect,
        kb,
        description="First contact",
        language="en_US",
        defaultAttributes={"customerProfileAttributes": {"firstName": "customer"}},
        groupingConfiguration={"criteria": "RoutingProfileArn", "values": [PROFILE, PROFILE]},
        tags={"team": "care"},
    )
    assert mt["messageTemplateArn"] == (
        f"arn:aws:wisdom:us-east-1:000000000000:message-template/{kb}/{mt['messageTemplateId']}"
    )
    assert mt["knowledgeBaseId"] == kb and mt["channelSubtype"] == "EMAIL"
    assert mt["content"] == EMAIL
    assert mt["attributeTypes"] == ["AGENT", "CUSTOMER_PROFILE", "CUSTOM"]
    assert len(mt["messageTemplateContentSha256"]) == 64
    assert mt["groupingConfiguration"] == {"criteria": "RoutingProfileArn", "values": [PROFILE]}
    assert mt["tags"] == {"team": "care"}
    assert mt["lastModifiedBy"] == "arn:aws:iam::000000000000:root"
    assert "isActive" not in mt and "versionNumber" not in mt
    for label in (mt["messageTemplateId"], mt["messageTemplateArn"], mt["messageTemplateId"] + ":$LATEST"):
        got = qconnect.get_message_template(knowledgeBaseId=kb, messageTemplateId=label)["messageTemplate"]
        assert got == mt
    by_kb_arn = qconnect.get_message_template(
        knowledgeBaseId=mt["knowledgeBaseArn"], messageTemplateId=mt["messageTemplateId"]
    )["messageTemplate"]
    assert by_kb_arn == mt


def test_create_sms(qconnect, kb):
    mt = create(qconnect, kb, name="Code", subtype="SMS")
    assert mt["content"] == SMS
    assert mt["attributeTypes"] == ["SYSTEM", "CUSTOM"]


def test_sha256_covers_content_language_and_defaults(qconnect, kb):
    a = create(qconnect, kb, name="A")
    b = create(qconnect, kb, name="B", description="metadata is not covered")
    c = create(qconnect, kb, name="C", language="fr_FR")
    d = create(qconnect, kb, name="D", defaultAttributes={"customAttributes": {"Note": "x"}})
    assert a["messageTemplateContentSha256"] == b["messageTemplateContentSha256"]
    assert (
        len({a["messageTemplateContentSha256"], c["messageTemplateContentSha256"], d["messageTemplateContentSha256"]})
        == 3
    )


@pytest.mark.parametrize(
    ("kwargs", "needle"),
    [
        ({"channelSubtype": "EMAIL", "content": SMS}, "content.email"),
        ({"channelSubtype": "SMS", "content": EMAIL}, "content.sms"),
        ({"channelSubtype": "EMAIL", "content": {"email": {"body": {"plainText": {"content": "x"}}}}}, "subject"),
        ({"channelSubtype": "EMAIL", "content": {"email": {"subject": "s"}}}, "body"),
        ({"channelSubtype": "SMS", "content": {"sms": {}}}, "plainText"),
        ({"channelSubtype": "EMAIL"}, "content is required"),
        ({"channelSubtype": "EMAIL", "content": EMAIL, "language": "english"}, "language"),
        (
            {
                "channelSubtype": "EMAIL",
                "content": EMAIL,
                "sourceConfiguration": {"whatsApp": {"businessAccountId": "waba-1", "templateId": "1"}},
            },
            "WHATSAPP",
        ),
        ({"channelSubtype": "WHATSAPP"}, "sourceConfiguration.whatsApp"),
        (
            {
                "channelSubtype": "EMAIL",
                "content": EMAIL,
                "groupingConfiguration": {"criteria": "Team", "values": [PROFILE]},
            },
            "criteria",
        ),
        ({"channelSubtype": "EMAIL", "content": EMAIL, "tags": {f"k{i}": "v" for i in range(51)}}, "tags"),
    ],
)
def test_create_validation(qconnect, kb, kwargs, needle):
    with pytest.raises(ClientError) as e:
        qconnect.create_message_template(knowledgeBaseId=kb, name="Bad", **kwargs)
    assert code(e) == "ValidationException"
    assert needle in e.value.response["Error"]["Message"]


def test_model_validation_and_missing_name(qconnect, kb):
    with pytest.raises(ClientError) as e:
        qconnect.create_message_template(knowledgeBaseId=kb, channelSubtype="EMAIL", content=EMAIL)
    assert code(e) == "ValidationException" and "name" in e.value.response["Error"]["Message"]
    with pytest.raises(ClientError) as e:  # the model's enum, checked by the server
        qconnect.create_message_template(knowledgeBaseId=kb, name="x", channelSubtype="FAX", content=EMAIL)
    assert code(e) == "ValidationException" and "channelSubtype" in e.value.response["Error"]["Message"]
    with pytest.raises(ParamValidationError):
        qconnect.create_message_template(knowledgeBaseId=kb, name="", channelSubtype="SMS", content=SMS)


def test_whatsapp_source_configuration(qconnect, kb):
    source = {"whatsApp": {"businessAccountId": "waba-12ab", "templateId": "42", "components": ["BODY"]}}
    mt = qconnect.create_message_template(
        knowledgeBaseId=kb, name="Wa", channelSubtype="WHATSAPP", sourceConfiguration=source
    )["messageTemplate"]
    assert mt["sourceConfigurationSummary"] == {"whatsApp": {**source["whatsApp"], "status": "VALID"}}
    summary = qconnect.list_message_templates(knowledgeBaseId=kb)["messageTemplateSummaries"][0]
    assert summary["sourceConfiguration"] == source


def test_wrong_knowledge_base_type_and_unknown_ids(qconnect, kb):
    qr_kb = qconnect.create_knowledge_base(name="qr", knowledgeBaseType="QUICK_RESPONSES")["knowledgeBase"]
    with pytest.raises(ClientError) as e:
        create(qconnect, qr_kb["knowledgeBaseId"])
    assert code(e) == "ValidationException" and "MESSAGE_TEMPLATES" in e.value.response["Error"]["Message"]
    with pytest.raises(ClientError) as e:
        qconnect.get_message_template(knowledgeBaseId=kb, messageTemplateId=OTHER_UUID)
    assert code(e) == "ResourceNotFoundException"
    assert e.value.response["resourceName"] == OTHER_UUID
    assert e.value.response["ResponseMetadata"]["HTTPStatusCode"] == 404
    with pytest.raises(ClientError) as e:
        qconnect.list_message_templates(knowledgeBaseId=OTHER_UUID)
    assert code(e) == "ResourceNotFoundException"
    mt = create(qconnect, kb)
    other_kb = qconnect.create_knowledge_base(name="other", knowledgeBaseType="MESSAGE_TEMPLATES")["knowledgeBase"]
    with pytest.raises(ClientError) as e:  # the template's ARN names another knowledge base
        qconnect.get_message_template(
            knowledgeBaseId=other_kb["knowledgeBaseId"], messageTemplateId=mt["messageTemplateArn"]
        )
    assert code(e) == "ResourceNotFoundException"
    assert e.value.response["resourceName"] == mt["messageTemplateArn"]
    with pytest.raises(ClientError) as e:
        qconnect.get_message_template(knowledgeBaseId=kb, messageTemplateId=mt["messageTemplateId"] + ":BETA")
    assert code(e) == "ValidationException"


def test_names_are_unique_per_knowledge_base(qconnect, kb):
    create(qconnect, kb, name="Same")
    with pytest.raises(ClientError) as e:
        create(qconnect, kb, name="Same")
    assert code(e) == "ConflictException"
    other = qconnect.create_knowledge_base(name="other", knowledgeBaseType="MESSAGE_TEMPLATES")["knowledgeBase"]
    create(qconnect, other["knowledgeBaseId"], name="Same")


def test_client_token_idempotency(qconnect, kb):
    first = create(qconnect, kb, clientToken="tok-1")
    again = create(qconnect, kb, clientToken="tok-1")
    assert again == first
    with pytest.raises(ClientError) as e:
        create(qconnect, kb, name="Different", clientToken="tok-1")
    assert code(e) == "ConflictException"
    assert len(qconnect.list_message_templates(knowledgeBaseId=kb)["messageTemplateSummaries"]) == 1


def test_update_content_and_metadata(qconnect, kb):
    mt = create(
        qconnect, kb, description="old", groupingConfiguration={"criteria": "RoutingProfileArn", "values": [PROFILE]}
    )
    ids = {"knowledgeBaseId": kb, "messageTemplateId": mt["messageTemplateId"]}
    new_content = {"email": {"subject": "New", "body": {"plainText": {"content": "Case {{Attributes.Case.Id}}"}}}}
    updated = qconnect.update_message_template(**ids, content=new_content, language="de_DE")["messageTemplate"]
    assert updated["content"] == new_content and updated["language"] == "de_DE"
    assert updated["attributeTypes"] == ["CASE"]
    assert updated["messageTemplateContentSha256"] != mt["messageTemplateContentSha256"]
    assert updated["description"] == "old" and updated["lastModifiedTime"] >= mt["lastModifiedTime"]
    with pytest.raises(ClientError) as e:
        qconnect.update_message_template(**ids, content=SMS)
    assert code(e) == "ValidationException"
    meta = qconnect.update_message_template_metadata(
        **ids, name="Renamed", description="new", groupingConfiguration={}
    )["messageTemplate"]
    assert (meta["name"], meta["description"]) == ("Renamed", "new")
    assert "groupingConfiguration" not in meta
    assert meta["messageTemplateContentSha256"] == updated["messageTemplateContentSha256"]
    create(qconnect, kb, name="Taken")
    with pytest.raises(ClientError) as e:
        qconnect.update_message_template_metadata(**ids, name="Taken")
    assert code(e) == "ConflictException"
    with pytest.raises(ClientError) as e:
        qconnect.update_message_template(knowledgeBaseId=kb, messageTemplateId=OTHER_UUID, language="en_US")
    assert code(e) == "ResourceNotFoundException"


def test_delete_whole_template(qconnect, kb):
    mt = create(qconnect, kb)
    ids = {"knowledgeBaseId": kb, "messageTemplateId": mt["messageTemplateId"]}
    qconnect.create_message_template_version(**ids)
    response = qconnect.delete_message_template(**ids)
    assert response["ResponseMetadata"]["HTTPStatusCode"] == 204
    for label in (mt["messageTemplateId"], mt["messageTemplateId"] + ":1"):
        with pytest.raises(ClientError) as e:
            qconnect.get_message_template(knowledgeBaseId=kb, messageTemplateId=label)
        assert code(e) == "ResourceNotFoundException"
    with pytest.raises(ClientError) as e:
        qconnect.delete_message_template(**ids)
    assert code(e) == "ResourceNotFoundException"
    # The name is free again.
    create(qconnect, kb)


def test_list_pagination(qconnect, kb):
    made = [create(qconnect, kb, name=f"T{i:02d}")["messageTemplateId"] for i in range(7)]
    pages = qconnect.get_paginator("list_message_templates").paginate(
        knowledgeBaseId=kb, PaginationConfig={"PageSize": 3}
    )
    listed = [s["messageTemplateId"] for page in pages for s in page["messageTemplateSummaries"]]
    assert listed == made
    first = qconnect.list_message_templates(knowledgeBaseId=kb, maxResults=3)
    with pytest.raises(ClientError) as e:
        qconnect.list_message_templates(knowledgeBaseId=kb, nextToken=first["nextToken"][:-2] + "xx")
    assert code(e) == "ValidationException"
    # A token of another listing is refused.
    qconnect.create_knowledge_base(name="second", knowledgeBaseType="MESSAGE_TEMPLATES")
    foreign = qconnect.list_knowledge_bases(maxResults=1)["nextToken"]
    with pytest.raises(ClientError) as e:
        qconnect.list_message_templates(knowledgeBaseId=kb, nextToken=foreign)
    assert code(e) == "ValidationException"


def test_per_account_and_region(server, qconnect, kb):
    mt = create(qconnect, kb)
    other_region = server.client("qconnect", region="eu-west-1")
    with pytest.raises(ClientError) as e:
        other_region.get_message_template(knowledgeBaseId=kb, messageTemplateId=mt["messageTemplateId"])
    assert code(e) == "ResourceNotFoundException"


def test_tags(qconnect, kb):
    mt = create(qconnect, kb, tags={"a": "1"})
    arn = mt["messageTemplateArn"]
    qconnect.tag_resource(resourceArn=arn, tags={"b": "2"})
    qconnect.untag_resource(resourceArn=arn, tagKeys=["a"])
    assert qconnect.list_tags_for_resource(resourceArn=arn)["tags"] == {"b": "2"}
    got = qconnect.get_message_template(knowledgeBaseId=kb, messageTemplateId=mt["messageTemplateId"])
    assert got["messageTemplate"]["tags"] == {"b": "2"}
    with pytest.raises(ClientError) as e:
        qconnect.tag_resource(resourceArn=arn.replace(mt["messageTemplateId"], OTHER_UUID), tags={"c": "3"})
    assert code(e) == "ResourceNotFoundException"


# -- versions -------------------------------------------------------------------------------------


def test_versions_numbering_and_reuse(qconnect, kb):
    mt = create(qconnect, kb)
    ids = {"knowledgeBaseId": kb, "messageTemplateId": mt["messageTemplateId"]}
    v1 = qconnect.create_message_template_version(**ids)["messageTemplate"]
    assert (v1["versionNumber"], v1["isActive"]) == (1, False)
    assert v1["messageTemplateArn"] == mt["messageTemplateArn"] + ":1"
    assert v1["content"] == EMAIL
    # Unchanged since version 1: the same version again.
    assert qconnect.create_message_template_version(**ids)["messageTemplate"]["versionNumber"] == 1
    qconnect.update_message_template(**ids, language="fr_FR")
    v2 = qconnect.create_message_template_version(**ids)["messageTemplate"]
    assert v2["versionNumber"] == 2 and v2["language"] == "fr_FR"
    # Versions are immutable: version 1 keeps its content.
    got1 = qconnect.get_message_template(knowledgeBaseId=kb, messageTemplateId=mt["messageTemplateId"] + ":1")
    assert "language" not in got1["messageTemplate"]
    # Numbers are never reused after a delete.
    qconnect.delete_message_template(knowledgeBaseId=kb, messageTemplateId=mt["messageTemplateId"] + ":2")
    qconnect.update_message_template(**ids, language="de_DE")
    assert qconnect.create_message_template_version(**ids)["messageTemplate"]["versionNumber"] == 3
    listed = qconnect.list_message_template_versions(**ids)["messageTemplateVersionSummaries"]
    assert [(v["versionNumber"], v["isActive"]) for v in listed] == [(1, False), (3, False)]
    # Metadata applies to every version.
    qconnect.update_message_template_metadata(**ids, name="Renamed")
    assert (
        qconnect.get_message_template(knowledgeBaseId=kb, messageTemplateId=mt["messageTemplateId"] + ":1")[
            "messageTemplate"
        ]["name"]
        == "Renamed"
    )
    with pytest.raises(ClientError) as e:
        qconnect.get_message_template(knowledgeBaseId=kb, messageTemplateId=mt["messageTemplateId"] + ":2")
    assert code(e) == "ResourceNotFoundException"
    assert e.value.response["resourceName"] == mt["messageTemplateId"] + ":2"


def test_version_sha256_precondition(qconnect, kb):
    mt = create(qconnect, kb)
    ids = {"knowledgeBaseId": kb, "messageTemplateId": mt["messageTemplateId"]}
    with pytest.raises(ClientError) as e:
        qconnect.create_message_template_version(**ids, messageTemplateContentSha256="0" * 64)
    assert code(e) == "ConflictException"
    assert qconnect.list_message_template_versions(**ids)["messageTemplateVersionSummaries"] == []
    v = qconnect.create_message_template_version(**ids, messageTemplateContentSha256=mt["messageTemplateContentSha256"])
    assert v["messageTemplate"]["versionNumber"] == 1
    assert v["messageTemplate"]["messageTemplateContentSha256"] == mt["messageTemplateContentSha256"]
    with pytest.raises(ClientError) as e:  # no qualifier allowed
        qconnect.create_message_template_version(knowledgeBaseId=kb, messageTemplateId=mt["messageTemplateId"] + ":1")
    assert code(e) == "ValidationException"


def test_activation_rules(qconnect, kb):
    mt = create(qconnect, kb)
    mt_id = mt["messageTemplateId"]
    ids = {"knowledgeBaseId": kb, "messageTemplateId": mt_id}
    with pytest.raises(ClientError) as e:
        qconnect.activate_message_template(**ids, versionNumber=1)
    assert code(e) == "ResourceNotFoundException"
    qconnect.create_message_template_version(**ids)
    qconnect.update_message_template(**ids, language="fr_FR")
    qconnect.create_message_template_version(**ids)
    with pytest.raises(ClientError) as e:
        qconnect.get_message_template(knowledgeBaseId=kb, messageTemplateId=mt_id + ":$ACTIVE_VERSION")
    assert code(e) == "ResourceNotFoundException"
    out = qconnect.activate_message_template(**ids, versionNumber=1)
    assert (out["messageTemplateId"], out["versionNumber"]) == (mt_id, 1)
    assert out["messageTemplateArn"] == mt["messageTemplateArn"]
    active = qconnect.get_message_template(knowledgeBaseId=kb, messageTemplateId=mt_id + ":$ACTIVE_VERSION")
    assert (active["messageTemplate"]["versionNumber"], active["messageTemplate"]["isActive"]) == (1, True)
    # Activating version 2 deactivates version 1.
    qconnect.activate_message_template(**ids, versionNumber=2)
    listed = qconnect.list_message_template_versions(**ids)["messageTemplateVersionSummaries"]
    assert [(v["versionNumber"], v["isActive"]) for v in listed] == [(1, False), (2, True)]
    summary = qconnect.list_message_templates(knowledgeBaseId=kb)["messageTemplateSummaries"][0]
    assert summary["activeVersionNumber"] == 2
    # Activating the active version again is harmless.
    qconnect.activate_message_template(**ids, versionNumber=2)
    # The active version cannot be deleted; an inactive one can.
    with pytest.raises(ClientError) as e:
        qconnect.delete_message_template(knowledgeBaseId=kb, messageTemplateId=mt_id + ":2")
    assert code(e) == "ConflictException"
    with pytest.raises(ClientError) as e:
        qconnect.deactivate_message_template(**ids, versionNumber=1)
    assert code(e) == "ConflictException"
    with pytest.raises(ClientError) as e:
        qconnect.activate_message_template(knowledgeBaseId=kb, messageTemplateId=mt_id + ":1", versionNumber=1)
    assert code(e) == "ValidationException"
    out = qconnect.deactivate_message_template(**ids, versionNumber=2)
    assert out["versionNumber"] == 2
    summary = qconnect.list_message_templates(knowledgeBaseId=kb)["messageTemplateSummaries"][0]
    assert "activeVersionNumber" not in summary
    qconnect.delete_message_template(knowledgeBaseId=kb, messageTemplateId=mt_id + ":2")
    with pytest.raises(ClientError) as e:
        qconnect.deactivate_message_template(**ids, versionNumber=2)
    assert code(e) == "ResourceNotFoundException"


def test_versions_pagination(qconnect, kb):
    mt = create(qconnect, kb)
    ids = {"knowledgeBaseId": kb, "messageTemplateId": mt["messageTemplateId"]}
    for i in range(5):
        qconnect.update_message_template(**ids, defaultAttributes={"customAttributes": {"Note": str(i)}})
        qconnect.create_message_template_version(**ids)
    pages = qconnect.get_paginator("list_message_template_versions").paginate(**ids, PaginationConfig={"PageSize": 2})
    numbers = [v["versionNumber"] for page in pages for v in page["messageTemplateVersionSummaries"]]
    assert numbers == [1, 2, 3, 4, 5]


# -- rendering ------------------------------------------------------------------------------------


def test_render_defaults_overrides_missing_and_html_escaping(qconnect, kb):
    mt = create(
        qconnect,
        kb,
        defaultAttributes={
            "customerProfileAttributes": {"firstName": "customer"},
            "customAttributes": {"Note": "Thanks & goodbye"},
        },
    )
    out = qconnect.render_message_template(
        knowledgeBaseId=kb,
        messageTemplateId=mt["messageTemplateId"],
        attributes={"customerProfileAttributes": {"firstName": "<Ana>"}},
    )
    email = out["content"]["email"]
    assert email["subject"] == "Hello <Ana>"
    assert email["body"]["plainText"]["content"] == "Dear <Ana>, from {{Attributes.Agent.FirstName}}"
    assert email["body"]["html"]["content"] == "<p>Dear &lt;Ana&gt;</p><p>Thanks &amp; goodbye</p>"
    assert out["attributesNotInterpolated"] == ["Agent.FirstName"]
    # Defaults only.
    out = qconnect.render_message_template(knowledgeBaseId=kb, messageTemplateId=mt["messageTemplateId"], attributes={})
    assert out["content"]["email"]["subject"] == "Hello customer"


def test_render_namespaces_and_versions(qconnect, kb):
    mt = create(qconnect, kb, name="Code", subtype="SMS")
    ids = {"knowledgeBaseId": kb, "messageTemplateId": mt["messageTemplateId"]}
    attributes = {"systemAttributes": {"name": "Acme"}, "customAttributes": {"Code": "1234"}}
    out = qconnect.render_message_template(**ids, attributes=attributes)
    assert out["content"] == {"sms": {"body": {"plainText": {"content": "Code 1234 for Acme"}}}}
    assert out["attributesNotInterpolated"] == []
    qconnect.create_message_template_version(**ids)
    qconnect.activate_message_template(**ids, versionNumber=1)
    qconnect.update_message_template(
        **ids, content={"sms": {"body": {"plainText": {"content": "New {{Attributes.Agent.LastName}}"}}}}
    )
    active = qconnect.render_message_template(
        knowledgeBaseId=kb, messageTemplateId=mt["messageTemplateId"] + ":$ACTIVE_VERSION", attributes=attributes
    )
    assert active["content"]["sms"]["body"]["plainText"]["content"] == "Code 1234 for Acme"
    latest = qconnect.render_message_template(**ids, attributes={"agentAttributes": {"lastName": "Li"}})
    assert latest["content"]["sms"]["body"]["plainText"]["content"] == "New Li"
    with pytest.raises(ClientError) as e:
        qconnect.render_message_template(
            knowledgeBaseId=kb, messageTemplateId=mt["messageTemplateId"] + ":9", attributes={}
        )
    assert code(e) == "ResourceNotFoundException"
