"""Sessions of an assistant (issue 17) through boto3 against the running server, plus
persistence across a restart and the in-process mock."""

from __future__ import annotations

import uuid

import pytest
from botocore.exceptions import ClientError
from test_assistants import associate, create_assistant, create_kb, error_of

from support import ServerProcess

AGENT = "6b1f0e52-1c1e-4f6e-9d8a-2b1f0c3e4d5a"


def create_session(client, assistant_id, name="contact-1", **extra):
    return client.create_session(assistantId=assistant_id, name=name, **extra)["session"]


def name_filter(*names):
    return {"filters": [{"field": "NAME", "operator": "EQUALS", "value": n} for n in names]}


@pytest.fixture
def assistant(qconnect):
    return create_assistant(qconnect)


def test_create_and_get_a_session(qconnect, assistant):
    s = create_session(
        qconnect,
        assistant["assistantArn"],
        description="Call from Ann",
        tags={"channel": "voice"},
        tagFilter={"tagCondition": {"key": "team", "value": "care"}},
        aiAgentConfiguration={"ANSWER_RECOMMENDATION": {"aiAgentId": AGENT}},
        contactArn="arn:aws:connect:us-east-1:000000000000:instance/abc/contact/def",
    )
    uuid.UUID(s["sessionId"], version=4)
    assert s["sessionArn"] == (
        f"arn:aws:wisdom:us-east-1:000000000000:session/{assistant['assistantId']}/{s['sessionId']}"
    )
    assert (s["name"], s["description"], s["origin"]) == ("contact-1", "Call from Ann", "CUSTOMER")
    assert s["tags"] == {"channel": "voice"}
    assert s["tagFilter"] == {"tagCondition": {"key": "team", "value": "care"}}
    assert s["aiAgentConfiguration"] == {"ANSWER_RECOMMENDATION": {"aiAgentId": AGENT}}
    assert "contactArn" not in s and "assistantId" not in s
    for assistant_label in (assistant["assistantId"], assistant["assistantArn"]):
        for label in (s["sessionId"], s["sessionArn"]):
            assert qconnect.get_session(assistantId=assistant_label, sessionId=label)["session"] == s


def test_unknown_session_or_assistant_is_404(qconnect, assistant):
    missing = str(uuid.uuid4())
    with pytest.raises(qconnect.exceptions.ResourceNotFoundException) as e:
        qconnect.get_session(assistantId=assistant["assistantId"], sessionId=missing)
    assert e.value.response["resourceName"] == missing
    with pytest.raises(qconnect.exceptions.ResourceNotFoundException) as e:
        create_session(qconnect, missing)
    assert e.value.response["resourceName"] == missing
    with pytest.raises(qconnect.exceptions.ResourceNotFoundException):
        qconnect.search_sessions(assistantId=missing, searchExpression=name_filter())
    for call, extra in (
        (qconnect.update_session, {"description": "x"}),
        (qconnect.update_session_data, {"data": []}),
    ):
        with pytest.raises(qconnect.exceptions.ResourceNotFoundException) as e:
            call(assistantId=assistant["assistantId"], sessionId=missing, **extra)
        assert e.value.response["resourceName"] == missing


def test_a_session_is_found_only_under_its_assistant(qconnect, assistant):
    s = create_session(qconnect, assistant["assistantId"])
    other = create_assistant(qconnect, name="other")
    for label in (s["sessionId"], s["sessionArn"]):
        with pytest.raises(qconnect.exceptions.ResourceNotFoundException):
            qconnect.get_session(assistantId=other["assistantId"], sessionId=label)
    foreign = s["sessionArn"].replace(":000000000000:", ":111111111111:")
    with pytest.raises(qconnect.exceptions.ResourceNotFoundException) as e:
        qconnect.get_session(assistantId=assistant["assistantId"], sessionId=foreign)
    assert e.value.response["resourceName"] == foreign


def test_session_validation(qconnect, assistant):
    with pytest.raises(ClientError) as e:
        qconnect.create_session(
            assistantId=assistant["assistantId"],
            name="x" * 256,
            aiAgentConfiguration={"NOT_A_TYPE": {"aiAgentId": AGENT}},
        )
    code, status, message = error_of(e)
    assert (code, status) == ("ValidationException", 400)
    assert message.startswith("2 validation errors detected: ")
    with pytest.raises(ClientError) as e:
        create_session(
            qconnect,
            assistant["assistantId"],
            orchestratorConfigurationList=[{"orchestratorUseCase": "Connect.SelfService"}],
            removeOrchestratorConfigurationList=True,
        )
    assert error_of(e)[:2] == ("ValidationException", 400)
    with pytest.raises(ClientError) as e:
        qconnect.search_sessions(
            assistantId=assistant["assistantId"],
            searchExpression={"filters": [{"field": "DESCRIPTION", "operator": "EQUALS", "value": "x"}]},
        )
    assert "Member must satisfy enum value set: [NAME]" in error_of(e)[2]
    assert (
        qconnect.search_sessions(assistantId=assistant["assistantId"], searchExpression=name_filter())[
            "sessionSummaries"
        ]
        == []
    )


def test_update_session(qconnect, assistant):
    s = create_session(
        qconnect,
        assistant["assistantId"],
        description="before",
        orchestratorConfigurationList=[{"orchestratorUseCase": "Connect.SelfService", "aiAgentId": AGENT}],
    )
    updated = qconnect.update_session(
        assistantId=assistant["assistantArn"],
        sessionId=s["sessionArn"],
        description="after",
        tagFilter={"andConditions": [{"key": "a", "value": "1"}, {"key": "b"}]},
    )["session"]
    assert updated["description"] == "after"
    assert updated["tagFilter"] == {"andConditions": [{"key": "a", "value": "1"}, {"key": "b"}]}
    assert updated["orchestratorConfigurationList"] == s["orchestratorConfigurationList"]
    assert (updated["name"], updated["sessionId"]) == (s["name"], s["sessionId"])
    removed = qconnect.update_session(
        assistantId=assistant["assistantId"], sessionId=s["sessionId"], removeOrchestratorConfigurationList=True
    )["session"]
    assert "orchestratorConfigurationList" not in removed
    assert qconnect.get_session(assistantId=assistant["assistantId"], sessionId=s["sessionId"])["session"] == removed
    with pytest.raises(ClientError) as e:
        qconnect.update_session(assistantId=assistant["assistantId"], sessionId=s["sessionId"], description="!no")
    assert error_of(e)[0] == "ValidationException"


def test_update_session_data_merges_by_key(qconnect, assistant):
    s = create_session(qconnect, assistant["assistantId"])

    def put(*pairs, **extra):
        data = [{"key": k, "value": {"stringValue": v}} for k, v in pairs]
        return qconnect.update_session_data(
            assistantId=assistant["assistantId"], sessionId=s["sessionId"], data=data, **extra
        )

    first = put(("customer", "Ann"), ("tier", "gold"))
    assert (first["sessionId"], first["sessionArn"], first["namespace"]) == (s["sessionId"], s["sessionArn"], "Custom")
    assert first["data"] == [
        {"key": "customer", "value": {"stringValue": "Ann"}},
        {"key": "tier", "value": {"stringValue": "gold"}},
    ]
    second = put(("tier", "platinum"), ("order", "42"), namespace="Custom")
    assert [(d["key"], d["value"]["stringValue"]) for d in second["data"]] == [
        ("customer", "Ann"),
        ("tier", "platinum"),
        ("order", "42"),
    ]
    assert put()["data"] == second["data"]  # an empty list changes nothing
    for bad in ({"namespace": "Other"},):
        with pytest.raises(ClientError) as e:
            put(("k", "v"), **bad)
        assert error_of(e)[:2] == ("ValidationException", 400)
    with pytest.raises(ClientError) as e:
        put(*[(f"k{i}", "v") for i in range(51)])
    assert "Member must have length less than or equal to 50" in error_of(e)[2]
    with pytest.raises(ClientError) as e:
        put(("k", "secret-value" * 400))
    message = error_of(e)[2]
    assert "secret-value" not in message  # a sensitive member's value is never echoed


def test_search_sessions_by_name_with_pages(qconnect, assistant):
    other = create_assistant(qconnect, name="other")
    wanted = [create_session(qconnect, assistant["assistantId"], name="contact-7")["sessionId"] for _ in range(5)]
    create_session(qconnect, assistant["assistantId"], name="contact-8")
    create_session(qconnect, other["assistantId"], name="contact-7")
    pages = list(
        qconnect.get_paginator("search_sessions").paginate(
            assistantId=assistant["assistantArn"],
            searchExpression=name_filter("contact-7"),
            PaginationConfig={"PageSize": 2},
        )
    )
    assert [len(p["sessionSummaries"]) for p in pages] == [2, 2, 1]
    summaries = [s for p in pages for s in p["sessionSummaries"]]
    assert [s["sessionId"] for s in summaries] == wanted
    assert summaries[0] == {
        "sessionId": wanted[0],
        "sessionArn": f"{assistant['assistantArn'].replace(':assistant/', ':session/')}/{wanted[0]}",
        "assistantId": assistant["assistantId"],
        "assistantArn": assistant["assistantArn"],
    }
    everything = qconnect.search_sessions(assistantId=assistant["assistantId"], searchExpression=name_filter())
    assert len(everything["sessionSummaries"]) == 6
    both = name_filter("contact-7", "contact-8")
    assert (
        qconnect.search_sessions(assistantId=assistant["assistantId"], searchExpression=both)["sessionSummaries"] == []
    )
    same_twice = name_filter("contact-8", "contact-8")
    found = qconnect.search_sessions(assistantId=assistant["assistantId"], searchExpression=same_twice)
    assert len(found["sessionSummaries"]) == 1
    token = qconnect.list_assistants(maxResults=1)["nextToken"]
    with pytest.raises(ClientError) as e:
        qconnect.search_sessions(assistantId=assistant["assistantId"], searchExpression=name_filter(), nextToken=token)
    assert error_of(e)[:2] == ("ValidationException", 400)


def test_create_session_is_idempotent_both_ways(qconnect, assistant):
    first = create_session(qconnect, assistant["assistantId"], clientToken="tok")
    assert create_session(qconnect, assistant["assistantId"], clientToken="tok") == first
    with pytest.raises(qconnect.exceptions.ConflictException):
        create_session(qconnect, assistant["assistantId"], name="other", clientToken="tok")
    other = create_assistant(qconnect, name="other")
    assert create_session(qconnect, other["assistantId"], clientToken="tok")["sessionId"] != first["sessionId"]
    found = qconnect.search_sessions(assistantId=assistant["assistantId"], searchExpression=name_filter())
    assert len(found["sessionSummaries"]) == 1


def test_tags_of_a_session(qconnect, assistant):
    s = create_session(qconnect, assistant["assistantId"], tags={"a": "1"})
    qconnect.tag_resource(resourceArn=s["sessionArn"], tags={"b": "2"})
    qconnect.untag_resource(resourceArn=s["sessionArn"], tagKeys=["a"])
    assert qconnect.list_tags_for_resource(resourceArn=s["sessionArn"])["tags"] == {"b": "2"}
    got = qconnect.get_session(assistantId=assistant["assistantId"], sessionId=s["sessionId"])["session"]
    assert got["tags"] == {"b": "2"}
    with pytest.raises(ClientError) as e:
        create_session(qconnect, assistant["assistantId"], tags={f"k{i}": "v" for i in range(51)})
    assert error_of(e)[0] == "ValidationException"


def test_deleting_the_assistant_deletes_its_sessions(qconnect, assistant):
    s = create_session(qconnect, assistant["assistantId"])
    qconnect.delete_assistant(assistantId=assistant["assistantId"])
    with pytest.raises(qconnect.exceptions.ResourceNotFoundException):
        qconnect.list_tags_for_resource(resourceArn=s["sessionArn"])
    with pytest.raises(qconnect.exceptions.ResourceNotFoundException) as e:
        qconnect.get_session(assistantId=assistant["assistantId"], sessionId=s["sessionId"])
    assert e.value.response["resourceName"] == assistant["assistantId"]


def test_state_survives_a_restart(tmp_path):
    first = ServerProcess(data_dir=tmp_path).start()
    try:
        client = first.client()
        a = create_assistant(client, tags={"k": "v"}, serverSideEncryptionConfiguration={"kmsKeyId": "alias/k"})
        assoc = associate(client, a["assistantId"], create_kb(client)["knowledgeBaseId"])
        s = create_session(client, a["assistantId"], description="kept")
        client.update_session_data(
            assistantId=a["assistantId"], sessionId=s["sessionId"], data=[{"key": "k", "value": {"stringValue": "v"}}]
        )
    finally:
        assert first.stop() == 0
    second = ServerProcess(data_dir=tmp_path).start()
    try:
        client = second.client()
        assert client.get_assistant(assistantId=a["assistantId"])["assistant"] == a
        got = client.get_assistant_association(
            assistantId=a["assistantId"], assistantAssociationId=assoc["assistantAssociationId"]
        )
        assert got["assistantAssociation"] == assoc
        assert client.get_session(assistantId=a["assistantId"], sessionId=s["sessionId"])["session"] == s
        data = client.update_session_data(assistantId=a["assistantId"], sessionId=s["sessionId"], data=[])["data"]
        assert data == [{"key": "k", "value": {"stringValue": "v"}}]
    finally:
        second.stop()


# -- the same flow through the pytest plugin's server and the in-process mock -------------


@pytest.fixture(params=["server", "mock"])
def qconnect_mode(request: pytest.FixtureRequest) -> str:
    return request.param


def test_assistant_flow_in_every_mode(qconnect_client) -> None:
    client = qconnect_client
    a = create_assistant(client, tags={"t": "1"})
    kb = create_kb(client)
    assoc = associate(client, a["assistantArn"], kb["knowledgeBaseId"])
    assert assoc["associationData"]["knowledgeBaseAssociation"]["knowledgeBaseArn"] == kb["knowledgeBaseArn"]
    s = create_session(client, a["assistantId"], name="c-1")
    found = client.search_sessions(assistantId=a["assistantId"], searchExpression=name_filter("c-1"))
    assert [x["sessionId"] for x in found["sessionSummaries"]] == [s["sessionId"]]
    with pytest.raises(client.exceptions.ResourceNotFoundException) as e:
        client.get_assistant(assistantId=str(uuid.UUID(int=1)))
    assert e.value.response["resourceName"] == str(uuid.UUID(int=1))
    client.delete_assistant(assistantId=a["assistantId"])
    assert client.list_assistants()["assistantSummaries"] == []
