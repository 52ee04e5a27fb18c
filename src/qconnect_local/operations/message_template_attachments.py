"""CreateMessageTemplateAttachment and DeleteMessageTemplateAttachment, and the signed download
links every response that lists attachments carries (issue 18 item 4).

An attachment's file is kept in the database (base64, as given) under its template; the draft
and each version list the attachments they had as {attachmentId, name, contentDisposition,
uploadedTime}, and a response adds a freshly signed `url` and its `urlExpiry` to each. The
files of a template go with the template: a version keeps its attachments downloadable after
they left the draft.
"""

from __future__ import annotations

import base64
import binascii
from typing import Any

from qconnect_local import ids
from qconnect_local.errors import (
    ConflictException,
    ResourceNotFoundException,
    ServiceQuotaExceededException,
    ValidationException,
)
from qconnect_local.operations import idempotency
from qconnect_local.operations import message_templates as mt
from qconnect_local.operations.context import RequestContext
from qconnect_local.operations.message_template_urls import with_urls
from qconnect_local.storage.base import Record


def _decoded_size(body: str) -> int:
    try:
        return len(base64.b64decode(body, validate=True))
    except (binascii.Error, ValueError):
        raise ValidationException("body must be the attachment file encoded in base64") from None


def create_message_template_attachment(ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
    quotas = ctx.settings.quotas
    size = _decoded_size(params["body"])
    if size > quotas.message_template_attachment_bytes:
        raise ValidationException(
            f"The attachment is {size} bytes; an attachment can be at most {quotas.message_template_attachment_bytes} bytes"
        )
    with ctx.store.write() as session:
        kb, template, _ = mt.load(session, ctx, params, qualified=False)
        kb_id, mt_id = kb["knowledgeBaseId"], template["messageTemplateId"]
        token_params = {k: v for k, v in params.items() if k not in ("knowledgeBaseId", "messageTemplateId")}

        def find(attachment_id: str) -> Record | None:
            return next((a for a in template.get("attachments") or () if a["attachmentId"] == attachment_id), None)

        replayed = idempotency.replay(session, ctx, "CreateMessageTemplateAttachment", mt_id, token_params, find)
        if replayed is not None:
            return {"attachment": with_urls(ctx, {"attachments": [replayed]})["attachments"][0]}
        attachments = list(template.get("attachments") or ())
        if any(a["name"] == params["name"] for a in attachments):
            raise ConflictException(f"The message template already has an attachment named '{params['name']}'")
        if len(attachments) >= quotas.attachments_per_message_template:
            raise ServiceQuotaExceededException(
                f"A message template can have at most {quotas.attachments_per_message_template} attachments"
            )
        attachment = {
            "attachmentId": ids.new_id(),
            "name": params["name"],
            "contentDisposition": params["contentDisposition"],
            "uploadedTime": ctx.now(),
        }
        session.insert_message_template_attachment(
            ctx.account_id, ctx.region, kb_id, mt_id, attachment["attachmentId"], params["name"], params["body"]
        )
        template["attachments"] = [*attachments, attachment]
        mt.derive(template)
        mt.save(session, ctx, template)
        idempotency.remember(
            session, ctx, "CreateMessageTemplateAttachment", mt_id, token_params, attachment["attachmentId"]
        )
    return {"attachment": with_urls(ctx, {"attachments": [attachment]})["attachments"][0]}


def delete_message_template_attachment(ctx: RequestContext, params: dict[str, Any]) -> None:
    attachment_id = params["attachmentId"]
    with ctx.store.write() as session:
        _, template, _ = mt.load(session, ctx, params, qualified=False)
        attachments = template.get("attachments") or []
        kept = [a for a in attachments if a["attachmentId"] != attachment_id]
        if len(kept) == len(attachments):
            raise ResourceNotFoundException("Message template attachment not found", resource_name=attachment_id)
        if kept:
            template["attachments"] = kept
        else:
            template.pop("attachments", None)
        mt.derive(template)
        mt.save(session, ctx, template)
    return None


OPERATIONS = {
    "CreateMessageTemplateAttachment": create_message_template_attachment,
    "DeleteMessageTemplateAttachment": delete_message_template_attachment,
}
