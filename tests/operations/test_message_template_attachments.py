"""Message template attachments (issue 18 item 4): upload in the request, download through the
signed link, limits, idempotency, versions keep theirs, checksum covers them."""

from __future__ import annotations

import base64
import urllib.error
import urllib.request
from typing import Any

import pytest
from botocore.exceptions import ClientError

from support import ServerProcess

SMS = {"sms": {"body": {"plainText": {"content": "Hi"}}}}
PDF = b"%PDF-1.4 \x00\x01\x02 \xff binary"


def code(exc: pytest.ExceptionInfo) -> str:
    return exc.value.response["Error"]["Code"]


def fetch(url: str) -> tuple[int, Any, bytes]:
    try:
        with urllib.request.urlopen(url, timeout=30) as r:
            return r.status, r.headers, r.read()
    except urllib.error.HTTPError as e:
        return e.code, e.headers, e.read()


@pytest.fixture
def template(qconnect) -> dict:
    kb = qconnect.create_knowledge_base(name="mt", knowledgeBaseType="MESSAGE_TEMPLATES")["knowledgeBase"]
    mt = qconnect.create_message_template(
        knowledgeBaseId=kb["knowledgeBaseId"], name="With files", channelSubtype="SMS", content=SMS
    )["messageTemplate"]
    return {"knowledgeBaseId": kb["knowledgeBaseId"], "messageTemplateId": mt["messageTemplateId"], "mt": mt}


def ids(template: dict) -> dict:
    return {"knowledgeBaseId": template["knowledgeBaseId"], "messageTemplateId": template["messageTemplateId"]}


def attach(client, template: dict, name: str = "terms.pdf", data: bytes = PDF, **kwargs) -> dict:
    return client.create_message_template_attachment(
        **ids(template), contentDisposition="ATTACHMENT", name=name, body=base64.b64encode(data).decode(), **kwargs
    )["attachment"]


def test_upload_and_download_round_trip(qconnect, template):
    attachment = attach(qconnect, template)
    assert attachment["name"] == "terms.pdf" and attachment["contentDisposition"] == "ATTACHMENT"
    status, headers, body = fetch(attachment["url"])
    assert status == 200 and body == PDF
    assert headers["Content-Type"] == "application/pdf"
    assert "terms.pdf" in headers["Content-Disposition"]
    got = qconnect.get_message_template(**ids(template))["messageTemplate"]
    assert [a["attachmentId"] for a in got["attachments"]] == [attachment["attachmentId"]]
    assert fetch(got["attachments"][0]["url"])[2] == PDF
    # The checksum covers attachments.
    assert got["messageTemplateContentSha256"] != template["mt"]["messageTemplateContentSha256"]
    rendered = qconnect.render_message_template(**ids(template), attributes={})
    assert [a["name"] for a in rendered["attachments"]] == ["terms.pdf"]


def test_tampered_link_is_refused(qconnect, template):
    attachment = attach(qconnect, template)
    status, _, body = fetch(attachment["url"].replace("Signature=", "Signature=0"))
    assert status == 403 and b"SignatureDoesNotMatch" in body


def test_limits_and_rules(qconnect, template):
    with pytest.raises(ClientError) as e:
        qconnect.create_message_template_attachment(
            **ids(template), contentDisposition="ATTACHMENT", name="x.txt", body="not base64!"
        )
    assert code(e) == "ValidationException"
    attach(qconnect, template, name="a.txt", data=b"a")
    with pytest.raises(ClientError) as e:
        attach(qconnect, template, name="a.txt", data=b"b")
    assert code(e) == "ConflictException"
    with pytest.raises(ClientError) as e:
        qconnect.create_message_template_attachment(
            knowledgeBaseId=template["knowledgeBaseId"],
            messageTemplateId=template["messageTemplateId"] + ":1",
            contentDisposition="ATTACHMENT",
            name="b.txt",
            body="YQ==",
        )
    assert code(e) == "ValidationException"


def test_count_and_size_limits_are_settings():
    server = ServerProcess("--max-template-attachments", "2", "--max-template-attachment-bytes", "10").start()
    try:
        client = server.client()
        kb = client.create_knowledge_base(name="mt", knowledgeBaseType="MESSAGE_TEMPLATES")["knowledgeBase"]
        mt = client.create_message_template(
            knowledgeBaseId=kb["knowledgeBaseId"], name="t", channelSubtype="SMS", content=SMS
        )["messageTemplate"]
        template = {"knowledgeBaseId": kb["knowledgeBaseId"], "messageTemplateId": mt["messageTemplateId"]}
        with pytest.raises(ClientError) as e:
            attach(client, template, name="big.bin", data=b"x" * 11)
        assert code(e) == "ValidationException" and "10 bytes" in e.value.response["Error"]["Message"]
        attach(client, template, name="1.bin", data=b"x" * 10)
        attach(client, template, name="2.bin", data=b"y")
        with pytest.raises(ClientError) as e:
            attach(client, template, name="3.bin", data=b"z")
        assert code(e) == "ServiceQuotaExceededException"
    finally:
        server.stop()


def test_idempotent_upload(qconnect, template):
    first = attach(qconnect, template, clientToken="t1")
    again = attach(qconnect, template, clientToken="t1")
    assert again["attachmentId"] == first["attachmentId"]
    with pytest.raises(ClientError) as e:
        attach(qconnect, template, name="other.pdf", clientToken="t1")
    assert code(e) == "ConflictException"


def test_delete_and_versions_keep_theirs(qconnect, template):
    attachment = attach(qconnect, template)
    qconnect.create_message_template_version(**ids(template))
    qconnect.delete_message_template_attachment(**ids(template), attachmentId=attachment["attachmentId"])
    latest = qconnect.get_message_template(**ids(template))["messageTemplate"]
    assert "attachments" not in latest
    assert latest["messageTemplateContentSha256"] == template["mt"]["messageTemplateContentSha256"]
    version = qconnect.get_message_template(
        knowledgeBaseId=template["knowledgeBaseId"], messageTemplateId=template["messageTemplateId"] + ":1"
    )["messageTemplate"]
    assert [a["attachmentId"] for a in version["attachments"]] == [attachment["attachmentId"]]
    assert fetch(version["attachments"][0]["url"])[2] == PDF
    with pytest.raises(ClientError) as e:
        qconnect.delete_message_template_attachment(**ids(template), attachmentId=attachment["attachmentId"])
    assert code(e) == "ResourceNotFoundException"
    assert e.value.response["resourceName"] == attachment["attachmentId"]
