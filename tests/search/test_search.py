"""SearchQuickResponses through boto3 against the running server: each rule of search/plan.py."""

from __future__ import annotations

import pytest
from botocore.exceptions import ClientError

PROFILE_A = "arn:aws:connect:us-east-1:123456789012:instance/i/routing-profile/a"
PROFILE_B = "arn:aws:connect:us-east-1:123456789012:instance/i/routing-profile/b"


@pytest.fixture
def kb(qconnect, quick_responses_kb):
    """A knowledge base with a small, varied set of quick responses."""
    kb_id = quick_responses_kb["knowledgeBaseId"]

    def create(name, content, **kw):
        return qconnect.create_quick_response(knowledgeBaseId=kb_id, name=name, content={"content": content}, **kw)

    create(
        "Refund policy",
        "Refunds are issued within 5 days.",
        shortcutKey="refund",
        description="Billing refunds",
        channels=["Chat", "Email"],
        language="en_US",
        groupingConfiguration={"criteria": "RoutingProfileArn", "values": [PROFILE_A]},
    )
    create(
        "Greeting",
        "Hello {{Attributes.Customer}}, how can I help? Order {{ Attributes.Order }}.",
        shortcutKey="hi",
        channels=["Chat"],
        language="en_US",
    )
    create(
        "Goodbye",
        "Thanks for contacting us, goodbye!",
        shortcutKey="bye",
        channels=["Email"],
        groupingConfiguration={"criteria": "RoutingProfileArn", "values": [PROFILE_B]},
        isActive=False,
    )
    create(
        "Shipping delay",
        "Your parcel is delayed; shipping takes longer this week.",
        description="Shipping",
        language="fr_FR",
        groupingConfiguration={"criteria": "RoutingProfileArn", "values": [PROFILE_A, PROFILE_B]},
    )
    create("refund", "refund")  # an exact whole-field match for "refund" in name and content
    return quick_responses_kb


def search(qconnect, kb, **expression):
    out = qconnect.search_quick_responses(knowledgeBaseId=kb["knowledgeBaseId"], searchExpression=expression)
    return out["results"]


def names(results):
    return [r["name"] for r in results]


def q(field, *values, op="CONTAINS", **kw):
    return {"name": field, "values": list(values), "operator": op, **kw}


def f(field, *values, op="EQUALS", **kw):
    out = {"name": field, "operator": op, **kw}
    if values:
        out["values"] = list(values)
    return out


def test_no_expression_returns_everything_by_name(qconnect, kb):
    assert names(search(qconnect, kb)) == ["Goodbye", "Greeting", "Refund policy", "Shipping delay", "refund"]


def test_contains_is_whole_words_any_case(qconnect, kb):
    assert names(search(qconnect, kb, queries=[q("content", "REFUNDS issued")])) == ["Refund policy"]
    assert names(search(qconnect, kb, queries=[q("content", "refun")])) == []
    assert names(search(qconnect, kb, queries=[q("content", "days refunds")])) == ["Refund policy"]


def test_contains_and_prefix(qconnect, kb):
    assert names(search(qconnect, kb, queries=[q("content", "ship", op="CONTAINS_AND_PREFIX")])) == ["Shipping delay"]
    assert names(search(qconnect, kb, queries=[q("content", "parcel is del", op="CONTAINS_AND_PREFIX")])) == [
        "Shipping delay"
    ]
    # Only the last word is a prefix.
    assert names(search(qconnect, kb, queries=[q("content", "par is", op="CONTAINS_AND_PREFIX")])) == []


@pytest.mark.parametrize(
    "field,value,expected",
    [
        ("name", "greet", ["Greeting"]),
        ("shortcutKey", "by", ["Goodbye"]),
        ("description", "bill", ["Refund policy"]),
        ("content", "contact", ["Goodbye"]),
    ],
)
def test_each_query_field(qconnect, kb, field, value, expected):
    assert names(search(qconnect, kb, queries=[q(field, value, op="CONTAINS_AND_PREFIX")])) == expected


def test_fuzziness(qconnect, kb):
    assert names(search(qconnect, kb, queries=[q("content", "parsel")])) == []
    assert names(search(qconnect, kb, queries=[q("content", "parsel", allowFuzziness=True)])) == ["Shipping delay"]
    # Two edits only for words of 8 characters or more.
    assert names(search(qconnect, kb, queries=[q("content", "contectink", allowFuzziness=True)])) == ["Goodbye"]
    assert names(search(qconnect, kb, queries=[q("content", "pxrsxl", allowFuzziness=True)])) == []


def test_priority_and_exact_matches_order_results(qconnect, kb):
    # "refund" is a whole-field match of the quick response named "refund": weight x 2 (6 > 3).
    assert names(search(qconnect, kb, queries=[q("name", "refund", priority="HIGH")])) == ["refund", "Refund policy"]
    # Refund policy: 2 (name) + 3 (content) = 5; refund: 2 x 2 (exact name) = 4.
    results = search(qconnect, kb, queries=[q("name", "refund"), q("content", "refunds", priority="HIGH")])
    assert names(results) == ["Refund policy", "refund"]
    # With LOW content the exact name wins: 2 + 1 = 3 < 4.
    results = search(qconnect, kb, queries=[q("name", "refund"), q("content", "refunds", priority="LOW")])
    assert names(results) == ["refund", "Refund policy"]
    # Several queries: any may match, the scores add up.
    results = search(qconnect, kb, queries=[q("content", "hello"), q("shortcutKey", "bye", priority="HIGH")])
    assert names(results) == ["Goodbye", "Greeting"]


def test_values_of_a_query_are_ored(qconnect, kb):
    assert names(search(qconnect, kb, queries=[q("content", "hello", "goodbye")])) == ["Goodbye", "Greeting"]


@pytest.mark.parametrize(
    "flt,expected",
    [
        (f("channels", "Chat"), ["Greeting", "Refund policy"]),
        (f("channels", "Em", op="PREFIX"), ["Goodbye", "Refund policy"]),
        (f("channels", "Chat", includeNoExistence=True), ["Greeting", "Refund policy", "Shipping delay", "refund"]),
        (f("groupingConfiguration.values", PROFILE_B), ["Goodbye", "Shipping delay"]),
        (
            f("groupingConfiguration.values", PROFILE_B, includeNoExistence=True),
            ["Goodbye", "Greeting", "Shipping delay", "refund"],
        ),
        (f("groupingConfiguration.criteria", "RoutingProfileArn"), ["Goodbye", "Refund policy", "Shipping delay"]),
        (f("language", "fr_FR"), ["Shipping delay"]),
        (f("language", "en", op="PREFIX"), ["Greeting", "Refund policy"]),
        (f("isActive", "false"), ["Goodbye"]),
        (f("isActive", "true"), ["Greeting", "Refund policy", "Shipping delay", "refund"]),
        (f("name", "Greeting", "Goodbye"), ["Goodbye", "Greeting"]),
        (f("name", "G", op="PREFIX"), ["Goodbye", "Greeting"]),
        (f("shortcutKey", "hi"), ["Greeting"]),
        (f("description", "Ship", op="PREFIX"), ["Shipping delay"]),
        (f("description"), ["Refund policy", "Shipping delay"]),
        (f("description", includeNoExistence=True), ["Goodbye", "Greeting", "refund"]),
        (
            f("contentType", "application/x.quickresponse;format=plain"),
            ["Goodbye", "Greeting", "Refund policy", "Shipping delay", "refund"],
        ),
        (
            f("lastModifiedBy", "arn:aws:iam::000000000000:root"),
            ["Goodbye", "Greeting", "Refund policy", "Shipping delay", "refund"],
        ),
    ],
)
def test_filters(qconnect, kb, flt, expected):
    assert names(search(qconnect, kb, filters=[flt])) == expected


def test_filters_are_anded_and_combine_with_queries(qconnect, kb):
    filters = [f("channels", "Chat"), f("language", "en_US")]
    assert names(search(qconnect, kb, filters=filters)) == ["Greeting", "Refund policy"]
    assert names(search(qconnect, kb, filters=filters, queries=[q("content", "hello")])) == ["Greeting"]


def test_time_filters(qconnect, kb):
    everything = search(qconnect, kb)
    first = everything[0]
    when = first["createdTime"]
    found = search(qconnect, kb, filters=[f("createdTime", str(when.timestamp()))])
    assert first["quickResponseId"] in [r["quickResponseId"] for r in found]
    found = search(qconnect, kb, filters=[f("lastModifiedTime", when.isoformat())])
    assert first["quickResponseId"] in [r["quickResponseId"] for r in found]
    with pytest.raises(ClientError) as e:
        search(qconnect, kb, filters=[f("createdTime", "17", op="PREFIX")])
    assert e.value.response["Error"]["Code"] == "ValidationException"


def test_order_on_field(qconnect, kb):
    asc = search(qconnect, kb, orderOnField={"name": "shortcutKey"})
    assert names(asc) == [
        "Goodbye",
        "Greeting",
        "Refund policy",
        "Shipping delay",
        "refund",
    ]  # bye, hi, refund, then missing
    desc = search(qconnect, kb, orderOnField={"name": "shortcutKey", "order": "DESC"})
    assert names(desc) == ["Refund policy", "Greeting", "Goodbye", "Shipping delay", "refund"]  # missing still last
    by_language = search(
        qconnect,
        kb,
        orderOnField={"name": "language", "order": "DESC"},
        queries=[q("content", "refunds", "hello", "parcel")],
    )
    assert names(by_language) == ["Shipping delay", "Greeting", "Refund policy"]


def test_inactive_quick_responses_are_found(qconnect, kb):
    results = search(qconnect, kb, queries=[q("content", "goodbye")])
    assert [(r["name"], r["isActive"]) for r in results] == [("Goodbye", False)]


def test_interpolation(qconnect, kb):
    out = qconnect.search_quick_responses(
        knowledgeBaseId=kb["knowledgeBaseId"],
        searchExpression={"queries": [q("content", "hello")]},
        attributes={"Customer": "Ana"},
    )["results"][0]
    assert out["contents"]["plainText"]["content"] == "Hello Ana, how can I help? Order {{ Attributes.Order }}."
    assert out["contents"]["markdown"]["content"] == out["contents"]["plainText"]["content"]
    assert out["attributesInterpolated"] == ["Customer"]
    assert out["attributesNotInterpolated"] == ["Order"]
    plain = search(qconnect, kb, queries=[q("content", "refunds")])[0]
    assert plain["attributesInterpolated"] == [] and plain["attributesNotInterpolated"] == []
    # Get is never interpolated.
    got = qconnect.get_quick_response(knowledgeBaseId=kb["knowledgeBaseId"], quickResponseId=out["quickResponseId"])
    assert "{{Attributes.Customer}}" in got["quickResponse"]["contents"]["plainText"]["content"]


def test_result_shape(qconnect, kb):
    result = search(qconnect, kb, queries=[q("name", "refund policy")])[0]
    for member in (
        "quickResponseArn",
        "quickResponseId",
        "knowledgeBaseArn",
        "knowledgeBaseId",
        "name",
        "contentType",
        "status",
        "contents",
        "createdTime",
        "lastModifiedTime",
        "isActive",
        "groupingConfiguration",
        "shortcutKey",
        "channels",
        "language",
        "description",
    ):
        assert member in result


def test_pagination_with_the_paginator(qconnect, quick_responses_kb):
    kb_id = quick_responses_kb["knowledgeBaseId"]
    for i in range(12):
        qconnect.create_quick_response(
            knowledgeBaseId=kb_id, name=f"qr {i:02d}", content={"content": f"common word {i}"}, shortcutKey=f"k{i}"
        )
    expression = {
        "queries": [q("content", "common"), q("shortcutKey", "k1", op="CONTAINS_AND_PREFIX", priority="HIGH")]
    }
    pages = list(
        qconnect.get_paginator("search_quick_responses").paginate(
            knowledgeBaseId=kb_id, searchExpression=expression, PaginationConfig={"PageSize": 5}
        )
    )
    assert [len(p["results"]) for p in pages] == [5, 5, 2]
    got = [r["name"] for p in pages for r in p["results"]]
    # k1, k10, k11 match both queries (3*1 + 2*1); then the rest by name.
    assert got == [
        "qr 01",
        "qr 10",
        "qr 11",
        "qr 00",
        "qr 02",
        "qr 03",
        "qr 04",
        "qr 05",
        "qr 06",
        "qr 07",
        "qr 08",
        "qr 09",
    ]
    # A token belongs to its expression.
    token = pages[0]["nextToken"]
    with pytest.raises(ClientError) as e:
        qconnect.search_quick_responses(knowledgeBaseId=kb_id, searchExpression={}, nextToken=token)
    assert e.value.response["Error"]["Code"] == "ValidationException"


@pytest.mark.parametrize(
    "expression",
    [
        {"queries": [q("channels", "Chat")]},
        {"queries": [q("title", "x")]},
        {"filters": [f("content", "x")]},
        {"filters": [f("isActive", "true", op="PREFIX")]},
        {"orderOnField": {"name": "score"}},
        {"queries": [q("content", "a")] * 5},
    ],
)
def test_invalid_expressions(qconnect, kb, expression):
    with pytest.raises(ClientError) as e:
        search(qconnect, kb, **expression)
    assert e.value.response["Error"]["Code"] == "ValidationException"


def test_max_results_bounds(qconnect, kb):
    with pytest.raises(ClientError) as e:
        qconnect.search_quick_responses(knowledgeBaseId=kb["knowledgeBaseId"], searchExpression={}, maxResults=101)
    assert e.value.response["Error"]["Code"] == "ValidationException"
    out = qconnect.search_quick_responses(knowledgeBaseId=kb["knowledgeBaseId"], searchExpression={}, maxResults=2)
    assert len(out["results"]) == 2 and "nextToken" in out


def test_search_follows_updates(qconnect, kb):
    kb_id = kb["knowledgeBaseId"]
    target = search(qconnect, kb, queries=[q("name", "greeting")])[0]
    qconnect.update_quick_response(
        knowledgeBaseId=kb_id,
        quickResponseId=target["quickResponseId"],
        name="Welcome",
        content={"content": "Welcome aboard"},
    )
    assert names(search(qconnect, kb, queries=[q("name", "greeting")])) == []
    assert names(search(qconnect, kb, queries=[q("content", "aboard")])) == ["Welcome"]
    assert names(search(qconnect, kb, queries=[q("content", "abo", op="CONTAINS_AND_PREFIX")])) == ["Welcome"]
