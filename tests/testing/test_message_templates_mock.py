"""Message templates through `mock_qconnect()` in-process (and the plugin's in-thread server):
the same lifecycle, the same answers as the `serve` process of test_message_templates.py."""

from __future__ import annotations

import base64
import urllib.request

import pytest


@pytest.mark.parametrize("qconnect_mode", ["mock", "server"])
def test_message_template_lifecycle(qconnect_client) -> None:
    client = qconnect_client
    kb = client.create_knowledge_base(name="mt", knowledgeBaseType="MESSAGE_TEMPLATES")["knowledgeBase"][
        "knowledgeBaseId"
    ]
    mt = client.create_message_template(
        knowledgeBaseId=kb,
        name="Reminder",
        channelSubtype="SMS",
        content={"sms": {"body": {"plainText": {"content": "Hi {{Attributes.Customer.FirstName}}"}}}},
        defaultAttributes={"customerProfileAttributes": {"firstName": "there"}},
        tags={"team": "care"},
        clientToken="once",
    )["messageTemplate"]
    ids = {"knowledgeBaseId": kb, "messageTemplateId": mt["messageTemplateId"]}
    assert mt["attributeTypes"] == ["CUSTOMER_PROFILE"]
    with pytest.raises(client.exceptions.ConflictException):
        client.create_message_template(
            knowledgeBaseId=kb,
            name="Reminder",
            channelSubtype="SMS",
            content={"sms": {"body": {"plainText": {"content": "again"}}}},
        )
    version = client.create_message_template_version(
        **ids, messageTemplateContentSha256=mt["messageTemplateContentSha256"]
    )["messageTemplate"]
    assert version["versionNumber"] == 1
    client.activate_message_template(**ids, versionNumber=1)
    attachment = client.create_message_template_attachment(
        **ids, contentDisposition="ATTACHMENT", name="note.txt", body=base64.b64encode(b"file body").decode()
    )["attachment"]
    with urllib.request.urlopen(attachment["url"], timeout=30) as r:
        assert r.read() == b"file body"
    rendered = client.render_message_template(
        knowledgeBaseId=kb, messageTemplateId=mt["messageTemplateId"] + ":$ACTIVE_VERSION", attributes={}
    )
    assert rendered["content"]["sms"]["body"]["plainText"]["content"] == "Hi there"
    assert rendered["attributesNotInterpolated"] == []
    pages = client.get_paginator("list_message_templates").paginate(knowledgeBaseId=kb)
    assert [s["name"] for page in pages for s in page["messageTemplateSummaries"]] == ["Reminder"]
    found = client.search_message_templates(
        knowledgeBaseId=kb,
        searchExpression={"queries": [{"name": "name", "values": ["remind"], "operator": "CONTAINS_AND_PREFIX"}]},
    )["results"]
    assert [(r["name"], r["isActive"], r["versionNumber"]) for r in found] == [("Reminder", True, 1)]
    assert client.list_tags_for_resource(resourceArn=mt["messageTemplateArn"])["tags"] == {"team": "care"}
    with pytest.raises(client.exceptions.ConflictException):
        client.delete_message_template(knowledgeBaseId=kb, messageTemplateId=mt["messageTemplateId"] + ":1")
    client.delete_message_template(**ids)
    with pytest.raises(client.exceptions.ResourceNotFoundException) as missing:
        client.get_message_template(**ids)
    assert missing.value.response["ResponseMetadata"]["HTTPStatusCode"] == 404
    assert missing.value.response["resourceName"] == mt["messageTemplateId"]
