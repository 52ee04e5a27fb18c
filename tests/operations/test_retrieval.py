"""Retrieve and QueryAssistant without a language model (issue 17 item 6), through boto3 against
the running server (`serve`, on the suite's store) and through mock_qconnect() in-process."""

from __future__ import annotations

import boto3
import pytest
import requests
from test_assistants import associate, create_assistant, create_kb, error_of

from content_files import docx_bytes, pdf_bytes
from import_support import settle
from qconnect_local import mock_qconnect

DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"


@pytest.fixture(params=["serve", "mock"])
def client(request: pytest.FixtureRequest):
    if request.param == "serve":
        yield request.getfixturevalue("qconnect")
        return
    with mock_qconnect():
        yield boto3.client(
            "qconnect", region_name="us-east-1", aws_access_key_id="testing", aws_secret_access_key="testing"
        )


def other_account(client):
    return boto3.client(
        "qconnect",
        endpoint_url=client.meta.endpoint_url,
        region_name="us-east-1",
        aws_access_key_id="222222222222",
        aws_secret_access_key="testing",
    )


def add_content(client, kb_id, name, body, content_type="text/plain", **extra):
    started = client.start_content_upload(knowledgeBaseId=kb_id, contentType=content_type)
    put = requests.put(started["url"], data=body, headers=started["headersToInclude"], timeout=30)
    assert put.status_code == 200
    content = client.create_content(knowledgeBaseId=kb_id, name=name, uploadId=started["uploadId"], **extra)["content"]
    return settle(client, kb_id, content["contentId"])


def new_upload(client, kb_id, body, content_type="text/plain"):
    started = client.start_content_upload(knowledgeBaseId=kb_id, contentType=content_type)
    requests.put(started["url"], data=body, headers=started["headersToInclude"], timeout=30).raise_for_status()
    return started["uploadId"]


def query(client, assistant_id, text, **extra):
    return client.query_assistant(assistantId=assistant_id, queryText=text, **extra)["results"]


def found_ids(results):
    return [r["document"]["contentReference"]["contentId"] for r in results]


@pytest.fixture
def world(client):
    """An assistant with a CUSTOM and a QUICK_RESPONSES knowledge base associated; beside them an
    unassociated knowledge base and another account, both holding the same words."""
    assistant = create_assistant(client)
    docs = create_kb(client, "docs", "CUSTOM")
    answers = create_kb(client, "answers", "QUICK_RESPONSES")
    docs_association = associate(client, assistant["assistantId"], docs["knowledgeBaseId"])
    answers_association = associate(client, assistant["assistantId"], answers["knowledgeBaseId"])
    pdf = add_content(
        client,
        docs["knowledgeBaseId"],
        "refunds-pdf",
        pdf_bytes("Refunds reach your card within five days."),
        "application/pdf",
        title="Refund policy",
        overrideLinkOutUri="https://example.com/refunds",
    )
    docx = add_content(
        client, docs["knowledgeBaseId"], "passwords-docx", docx_bytes("Reset a password from the sign-in page."), DOCX
    )
    qr = client.create_quick_response(
        knowledgeBaseId=answers["knowledgeBaseId"],
        name="Refund sent",
        content={"content": "Your refund is on its way."},
    )["quickResponse"]
    client.create_quick_response(
        knowledgeBaseId=answers["knowledgeBaseId"],
        name="Old refund text",
        content={"content": "refund"},
        isActive=False,
    )
    lonely = create_kb(client, "unassociated", "CUSTOM")
    add_content(client, lonely["knowledgeBaseId"], "stray", b"refund card password five")
    stranger = other_account(client)
    their_kb = create_kb(stranger, "theirs", "CUSTOM")
    their_assistant = create_assistant(stranger)
    associate(stranger, their_assistant["assistantId"], their_kb["knowledgeBaseId"])
    add_content(stranger, their_kb["knowledgeBaseId"], "theirs", b"refund card password five", title="Refund")
    return {
        "assistant": assistant,
        "docs": docs,
        "answers": answers,
        "docs_association": docs_association,
        "answers_association": answers_association,
        "pdf": pdf,
        "docx": docx,
        "qr": qr,
        "stranger": stranger,
    }


def test_query_assistant_answers_from_associated_knowledge_bases_only(client, world):
    pdf, qr, docs = world["pdf"], world["qr"], world["docs"]
    results = query(client, world["assistant"]["assistantId"], "refund card")
    # The PDF: "refund" in its title (2) and "card" in its text (1); the quick response: "refund"
    # in its name (2) and content (1); same score, so by title. The inactive one is left out.
    assert found_ids(results) == [pdf["contentId"], qr["quickResponseId"]]
    first = results[0]
    reference = {
        "knowledgeBaseArn": docs["knowledgeBaseArn"],
        "knowledgeBaseId": docs["knowledgeBaseId"],
        "contentArn": pdf["contentArn"],
        "contentId": pdf["contentId"],
        "sourceURL": "https://example.com/refunds",
        "referenceType": "KNOWLEDGE_BASE",
    }
    title = {"text": "Refund policy", "highlights": [{"beginOffsetInclusive": 0, "endOffsetExclusive": 6}]}
    passage = {
        "text": "Refunds reach your card within five days.",
        "highlights": [{"beginOffsetInclusive": 19, "endOffsetExclusive": 23}],
    }
    assert first["document"] == {"contentReference": reference, "title": title, "excerpt": passage}
    assert first["relevanceScore"] == 3.0 and first["type"] == "KNOWLEDGE_CONTENT"
    assert first["data"] == {
        "reference": {"contentReference": reference},
        "details": {
            "contentData": {
                "textData": {"title": title, "excerpt": passage},
                "rankingData": {"relevanceScore": 3.0, "relevanceLevel": "HIGH"},
            }
        },
    }
    second = results[1]["document"]
    assert second["contentReference"]["contentArn"] == qr["quickResponseArn"]
    assert second["contentReference"]["knowledgeBaseId"] == world["answers"]["knowledgeBaseId"]
    assert second["title"]["text"] == "Refund sent"
    assert second["excerpt"] == {
        "text": "Your refund is on its way.",
        "highlights": [{"beginOffsetInclusive": 5, "endOffsetExclusive": 11}],
    }
    assert results[1]["data"]["details"]["contentData"]["rankingData"]["relevanceLevel"] == "MEDIUM"
    # Deterministic: the same query gives the same answer, result ids included.
    assert query(client, world["assistant"]["assistantArn"], "refund card") == results


def test_pdf_and_docx_are_found_by_words_of_their_text(client, world):
    assistant_id = world["assistant"]["assistantId"]
    assert found_ids(query(client, assistant_id, "within FIVE days")) == [world["pdf"]["contentId"]]
    found = query(client, assistant_id, "sign-in")
    assert found_ids(found) == [world["docx"]["contentId"]]
    assert found[0]["document"]["excerpt"]["highlights"] == [
        {"beginOffsetInclusive": 26, "endOffsetExclusive": 30},
        {"beginOffsetInclusive": 31, "endOffsetExclusive": 33},
    ]
    assert query(client, assistant_id, "nothing-matches-this") == []
    assert query(client, assistant_id, "   ") == []


def test_retrieve_searches_the_given_association(client, world):
    assistant_id = world["assistant"]["assistantId"]

    def retrieve(association, text, **config):
        return client.retrieve(
            assistantId=assistant_id,
            retrievalQuery=text,
            retrievalConfiguration={"knowledgeSource": {"assistantAssociationIds": [association]}, **config},
        )["results"]

    docs_association = world["docs_association"]["assistantAssociationId"]
    assert retrieve(docs_association, "password reset") == [
        {
            "associationId": docs_association,
            "sourceId": world["docx"]["contentId"],
            "referenceType": "KNOWLEDGE_BASE",
            "contentText": "Reset a password from the sign-in page.",
        }
    ]
    answers = world["answers_association"]
    by_arn = retrieve(answers["assistantAssociationArn"], "refund")
    assert [(r["associationId"], r["sourceId"]) for r in by_arn] == [
        (answers["assistantAssociationId"], world["qr"]["quickResponseId"])
    ]
    assert len(retrieve(docs_association, "refund password", numberOfResults=1)) == 1
    assert len(retrieve(docs_association, "refund password", overrideKnowledgeBaseSearchType="SEMANTIC")) == 2


def test_update_and_delete_change_what_is_found(client, world):
    assistant_id, docs_id = world["assistant"]["assistantId"], world["docs"]["knowledgeBaseId"]
    pdf = world["pdf"]
    client.update_content(
        knowledgeBaseId=docs_id,
        contentId=pdf["contentId"],
        uploadId=new_upload(client, docs_id, docx_bytes("Chargebacks are handled by the bank."), DOCX),
    )
    settle(client, docs_id, pdf["contentId"])
    assert query(client, assistant_id, "card five") == []
    assert found_ids(query(client, assistant_id, "chargebacks")) == [pdf["contentId"]]
    client.update_content(knowledgeBaseId=docs_id, contentId=pdf["contentId"], title="Disputes")
    assert found_ids(query(client, assistant_id, "disputes")) == [pdf["contentId"]]
    assert found_ids(query(client, assistant_id, "refund")) == [world["qr"]["quickResponseId"]]
    client.delete_content(knowledgeBaseId=docs_id, contentId=pdf["contentId"])
    assert query(client, assistant_id, "chargebacks disputes") == []
    client.delete_assistant_association(
        assistantId=assistant_id, assistantAssociationId=world["answers_association"]["assistantAssociationId"]
    )
    assert query(client, assistant_id, "refund") == []
    client.delete_knowledge_base(knowledgeBaseId=docs_id)
    assert query(client, assistant_id, "password") == []


def test_query_assistant_pages(client):
    assistant = create_assistant(client)
    kb = create_kb(client, "docs", "CUSTOM")
    associate(client, assistant["assistantId"], kb["knowledgeBaseId"])
    for i in range(5):
        add_content(client, kb["knowledgeBaseId"], f"doc{i}", f"billing note {i}".encode(), title=f"Note {i}")
    whole = query(client, assistant["assistantId"], "billing")
    assert [r["document"]["title"]["text"] for r in whole] == [f"Note {i}" for i in range(5)]
    pages = list(
        client.get_paginator("query_assistant").paginate(
            assistantId=assistant["assistantId"], queryText="billing", PaginationConfig={"PageSize": 2}
        )
    )
    assert [len(p["results"]) for p in pages] == [2, 2, 1]
    assert [r for p in pages for r in p["results"]] == whole
    token = pages[0]["nextToken"]
    with pytest.raises(client.exceptions.ValidationException):
        client.query_assistant(assistantId=assistant["assistantId"], queryText="note", nextToken=token)
    with pytest.raises(client.exceptions.ValidationException):
        client.query_assistant(assistantId=assistant["assistantId"], queryText="billing", nextToken=token + "x")
    by_input = client.query_assistant(
        assistantId=assistant["assistantId"], queryInputData={"queryTextInputData": {"text": "billing"}}, maxResults=1
    )
    assert found_ids(by_input["results"]) == found_ids(whole[:1]) and "nextToken" in by_input


def test_query_condition_and_session(client, world):
    assistant_id = world["assistant"]["assistantId"]

    def condition(value):
        return [{"single": {"field": "RESULT_TYPE", "comparator": "EQUALS", "value": value}}]

    assert len(query(client, assistant_id, "refund", queryCondition=condition("KNOWLEDGE_CONTENT"))) == 2
    assert query(client, assistant_id, "refund", queryCondition=condition("GENERATIVE_ANSWER")) == []
    session = client.create_session(assistantId=assistant_id, name="contact")["session"]
    for label in (session["sessionId"], session["sessionArn"]):
        assert len(query(client, assistant_id, "refund", sessionId=label)) == 2


def test_failures(client, world):
    assistant_id = world["assistant"]["assistantId"]
    docs_association = world["docs_association"]["assistantAssociationId"]
    source = {"knowledgeSource": {"assistantAssociationIds": [docs_association]}}
    unknown = "11111111-2222-4333-8444-555555555555"
    bad = [
        (lambda: client.query_assistant(assistantId=assistant_id), "queryText or queryInputData"),
        (
            lambda: client.query_assistant(
                assistantId=assistant_id, queryText="a", queryInputData={"queryTextInputData": {"text": "a"}}
            ),
            "not both",
        ),
        (
            lambda: client.query_assistant(
                assistantId=assistant_id, queryInputData={"intentInputData": {"intentId": unknown}}
            ),
            "intentInputData is not supported",
        ),
        (
            lambda: query(
                client,
                assistant_id,
                "a",
                queryCondition=[{"single": {"field": "RESULT_TYPE", "comparator": "EQUALS", "value": "NOPE"}}],
            ),
            "is not a result type",
        ),
        (
            lambda: client.retrieve(
                assistantId=assistant_id,
                retrievalQuery="a",
                retrievalConfiguration={**source, "filter": {"equals": {"key": "team", "value": "x"}}},
            ),
            "filter is not supported",
        ),
        (
            lambda: client.retrieve(
                assistantId=assistant_id, retrievalQuery="a", retrievalConfiguration={**source, "numberOfResults": 0}
            ),
            "numberOfResults must be between 1 and 100",
        ),
        (
            lambda: client.retrieve(
                assistantId=assistant_id, retrievalQuery="a", retrievalConfiguration={**source, "numberOfResults": 101}
            ),
            "numberOfResults must be between 1 and 100",
        ),
    ]
    for call, message in bad:
        with pytest.raises(client.exceptions.ValidationException) as e:
            call()
        code, status, text = error_of(e)
        assert (code, status) == ("ValidationException", 400) and message in text, text

    missing = [
        (lambda: query(client, unknown, "a"), unknown),
        (lambda: client.retrieve(assistantId=unknown, retrievalQuery="a", retrievalConfiguration=source), unknown),
        (lambda: query(client, assistant_id, "a", sessionId=unknown), unknown),
        (
            lambda: client.retrieve(
                assistantId=assistant_id,
                retrievalQuery="a",
                retrievalConfiguration={"knowledgeSource": {"assistantAssociationIds": [unknown]}},
            ),
            unknown,
        ),
    ]
    other = create_assistant(client, name="other")
    other_association = associate(client, other["assistantId"], world["docs"]["knowledgeBaseId"])
    missing.append(
        (
            lambda: client.retrieve(
                assistantId=assistant_id,
                retrievalQuery="a",
                retrievalConfiguration={
                    "knowledgeSource": {"assistantAssociationIds": [other_association["assistantAssociationArn"]]}
                },
            ),
            other_association["assistantAssociationArn"],
        )
    )
    # Another account cannot reach the assistant, by id or by ARN.
    stranger = world["stranger"]
    missing.append((lambda: query(stranger, assistant_id, "refund"), assistant_id))
    for call, name in missing:
        with pytest.raises(client.exceptions.ResourceNotFoundException) as e:
            call()
        assert e.value.response["ResponseMetadata"]["HTTPStatusCode"] == 404
        assert e.value.response["resourceName"] == name


def test_external_bedrock_association_is_not_searched(client):
    assistant = create_assistant(client)
    association = client.create_assistant_association(
        assistantId=assistant["assistantId"],
        associationType="EXTERNAL_BEDROCK_KNOWLEDGE_BASE",
        association={
            "externalBedrockKnowledgeBaseConfig": {
                "bedrockKnowledgeBaseArn": "arn:aws:bedrock:us-east-1:000000000000:knowledge-base/ABCDEFGHIJ",
                "accessRoleArn": "arn:aws:iam::000000000000:role/bedrock",
            }
        },
    )["assistantAssociation"]
    assert query(client, assistant["assistantId"], "anything") == []
    with pytest.raises(client.exceptions.ValidationException) as e:
        client.retrieve(
            assistantId=assistant["assistantId"],
            retrievalQuery="anything",
            retrievalConfiguration={
                "knowledgeSource": {"assistantAssociationIds": [association["assistantAssociationId"]]}
            },
        )
    assert "only KNOWLEDGE_BASE associations" in error_of(e)[2]


def test_words_in_too_many_items_of_a_knowledge_base_are_skipped_there(monkeypatch):
    """The common-word rule, in-process so the threshold can be made small: a word in more than
    COMMON_WORD_ITEMS items of a knowledge base neither finds nor scores there, unless every word
    of the query is that common."""
    from qconnect_local.operations import retrieval

    monkeypatch.setattr(retrieval, "COMMON_WORD_ITEMS", 2)
    with mock_qconnect():
        client = boto3.client(
            "qconnect", region_name="us-east-1", aws_access_key_id="testing", aws_secret_access_key="testing"
        )
        assistant_id = create_assistant(client)["assistantId"]
        docs = create_kb(client, "docs", "CUSTOM")["knowledgeBaseId"]
        answers = create_kb(client, "answers", "QUICK_RESPONSES")["knowledgeBaseId"]
        for kb_id in (docs, answers):
            associate(client, assistant_id, kb_id)
        ids = [add_content(client, docs, f"doc{i}", f"card note {i}".encode())["contentId"] for i in range(3)]
        refund = add_content(client, docs, "refund", b"refund by card", title="Refund")["contentId"]
        for i in range(2):  # "card" is in 2 quick responses: not common there
            client.create_quick_response(knowledgeBaseId=answers, name=f"Card {i}", content={"content": "card"})
        results = query(client, assistant_id, "refund card")
        # In docs "card" is in 4 contents: only "refund" finds and scores there (title 2 + text 1),
        # and the three other contents are not found. The quick responses score "card" (name 2,
        # whole content 1 doubled).
        assert [(r["document"]["title"]["text"], r["relevanceScore"]) for r in results] == [
            ("Card 0", 4.0),
            ("Card 1", 4.0),
            ("Refund", 3.0),
        ]
        assert results[2]["document"]["contentReference"]["contentId"] == refund
        # Highlights still mark every query word.
        assert [h["beginOffsetInclusive"] for h in results[2]["document"]["excerpt"]["highlights"]] == [0, 10]
        # Every word common in docs: all of them are searched there.
        assert set(found_ids(query(client, assistant_id, "card note"))) >= {*ids, refund}
