"""Signed download links for message template attachments (served by
message_template_downloads.py)."""

from __future__ import annotations

from qconnect_local.operations.context import RequestContext
from qconnect_local.operations.uploads import url_lifetime
from qconnect_local.storage.base import Record

# How long a download link lives (AWS's presigned S3 URLs; the length is not documented).
DOWNLOAD_URL_SECONDS = 3600


def attachment_path(attachment_id: str) -> str:
    return f"/_qconnect/message-template-attachments/{attachment_id}"


def with_urls(ctx: RequestContext, record: Record) -> Record:
    """The record with a signed download link on each of its attachments."""
    if not record.get("attachments"):
        return record
    lifetime = url_lifetime(ctx, DOWNLOAD_URL_SECONDS)
    expires = int(ctx.now() + lifetime)
    signer = ctx.require_services().signer
    attachments = [
        {
            **a,
            "url": signer.sign("GET", ctx.endpoint, attachment_path(a["attachmentId"]), expires),
            "urlExpiry": expires,
        }
        for a in record["attachments"]
    ]
    return {**record, "attachments": attachments}
