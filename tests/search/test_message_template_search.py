"""SearchMessageTemplates (issue 18 item 5) through boto3 against the running server: queries,
filters, ordering, the qualifier filter, pagination bound to its expression."""

from __future__ import annotations

import pytest
from botocore.exceptions import ClientError

PROFILE = "arn:aws:connect:us-east-1:123456789012:instance/abc/routing-profile/def"


def content(subtype: str) -> dict:
    if subtype == "EMAIL":
        return {"email": {"subject": "s", "body": {"plainText": {"content": "x"}}}}
    return {"sms": {"body": {"plainText": {"content": "x"}}}}


@pytest.fixture
def kb(qconnect) -> str:
    kb_id = qconnect.create_knowledge_base(name="mt", knowledgeBaseType="MESSAGE_TEMPLATES")["knowledgeBase"][
        "knowledgeBaseId"
    ]
    rows = [
        ("Welcome email", "Greets new customers", "EMAIL", "en_US", True),
        ("Welcome sms", "Short greeting", "SMS", "fr_FR", False),
        ("Refund notice", "Refund is done", "EMAIL", None, False),
        ("Password reset", "Security code", "SMS", "en_US", True),
    ]
    for name, description, subtype, language, grouped in rows:
        extra = {"language": language} if language else {}
        if grouped:
            extra["groupingConfiguration"] = {"criteria": "RoutingProfileArn", "values": [PROFILE]}
        qconnect.create_message_template(
            knowledgeBaseId=kb_id,
            name=name,
            description=description,
            channelSubtype=subtype,
            content=content(subtype),
            **extra,
        )
    return kb_id


def search(client, kb: str, **expression) -> list[str]:
    results = client.search_message_templates(knowledgeBaseId=kb, searchExpression=expression)["results"]
    return [r["name"] for r in results]


def query(name: str, *values: str, operator: str = "CONTAINS", **kwargs) -> dict:
    return {"name": name, "values": list(values), "operator": operator, **kwargs}


def flt(name: str, *values: str, operator: str = "EQUALS", **kwargs) -> dict:
    out = {"name": name, "operator": operator, **kwargs}
    if values:
        out["values"] = list(values)
    return out


def test_queries(qconnect, kb):
    assert search(qconnect, kb, queries=[query("name", "welcome")]) == ["Welcome email", "Welcome sms"]
    assert search(qconnect, kb, queries=[query("description", "refund")]) == ["Refund notice"]
    assert search(qconnect, kb, queries=[query("name", "pass", operator="CONTAINS_AND_PREFIX")]) == ["Password reset"]
    assert search(qconnect, kb, queries=[query("name", "pass")]) == []
    assert search(qconnect, kb, queries=[query("name", "welcom", allowFuzziness=True)]) == [
        "Welcome email",
        "Welcome sms",
    ]
    # An exact whole-field match with a higher priority scores first.
    assert search(
        qconnect,
        kb,
        queries=[query("name", "welcome sms", priority="HIGH"), query("description", "greets")],
    ) == ["Welcome sms", "Welcome email"]


def test_filters(qconnect, kb):
    assert search(qconnect, kb, filters=[flt("channelSubtype", "SMS")]) == ["Password reset", "Welcome sms"]
    assert search(qconnect, kb, filters=[flt("language", "en_US")]) == ["Password reset", "Welcome email"]
    assert search(qconnect, kb, filters=[flt("language", "fr", operator="PREFIX")]) == ["Welcome sms"]
    assert search(qconnect, kb, filters=[flt("language", "en_US", includeNoExistence=True)]) == [
        "Password reset",
        "Refund notice",
        "Welcome email",
    ]
    assert search(qconnect, kb, filters=[flt("groupingConfiguration.values", PROFILE)]) == [
        "Password reset",
        "Welcome email",
    ]
    assert search(qconnect, kb, filters=[flt("qualifier", "$LATEST")]) == [
        "Password reset",
        "Refund notice",
        "Welcome email",
        "Welcome sms",
    ]
    assert search(qconnect, kb, filters=[flt("qualifier", "$ACTIVE_VERSION")]) == []
    with pytest.raises(ClientError) as e:
        search(qconnect, kb, filters=[flt("createdTime", "1", operator="PREFIX")])
    assert e.value.response["Error"]["Code"] == "ValidationException"
    with pytest.raises(ClientError) as e:
        search(qconnect, kb, queries=[query("content", "x")])
    assert e.value.response["Error"]["Code"] == "ValidationException"


def test_active_versions_and_order(qconnect, kb):
    first = qconnect.list_message_templates(knowledgeBaseId=kb)["messageTemplateSummaries"][0]
    ids = {"knowledgeBaseId": kb, "messageTemplateId": first["messageTemplateId"]}
    qconnect.create_message_template_version(**ids)
    qconnect.activate_message_template(**ids, versionNumber=1)
    results = qconnect.search_message_templates(
        knowledgeBaseId=kb, searchExpression={"filters": [flt("qualifier", "$ACTIVE_VERSION")]}
    )["results"]
    assert [(r["name"], r["isActive"], r["versionNumber"]) for r in results] == [(first["name"], True, 1)]
    assert search(qconnect, kb, orderOnField={"name": "language", "order": "DESC"}) == [
        "Welcome sms",
        "Password reset",
        "Welcome email",
        "Refund notice",
    ]


def test_pagination_is_bound_to_its_expression(qconnect, kb):
    expression = {"orderOnField": {"name": "createdTime"}}
    pages = qconnect.get_paginator("search_message_templates").paginate(
        knowledgeBaseId=kb, searchExpression=expression, PaginationConfig={"PageSize": 1}
    )
    names = [r["name"] for page in pages for r in page["results"]]
    assert names == ["Welcome email", "Welcome sms", "Refund notice", "Password reset"]
    token = qconnect.search_message_templates(knowledgeBaseId=kb, searchExpression=expression, maxResults=1)[
        "nextToken"
    ]
    with pytest.raises(ClientError) as e:
        qconnect.search_message_templates(
            knowledgeBaseId=kb, searchExpression={"filters": [flt("channelSubtype", "SMS")]}, nextToken=token
        )
    assert e.value.response["Error"]["Code"] == "ValidationException"


def test_unknown_and_wrong_knowledge_base(qconnect, kb):
    qr = qconnect.create_knowledge_base(name="qr", knowledgeBaseType="QUICK_RESPONSES")["knowledgeBase"]
    with pytest.raises(ClientError) as e:
        search(qconnect, qr["knowledgeBaseId"])
    assert e.value.response["Error"]["Code"] == "ValidationException"
    with pytest.raises(ClientError) as e:
        search(qconnect, "3f0b7a52-1c1e-4f6e-9d8a-2b1f0c3e4d5a")
    assert e.value.response["Error"]["Code"] == "ResourceNotFoundException"
