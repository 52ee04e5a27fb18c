"""StartContentUpload, and what the upload endpoint (importing/endpoints.py) asks of the store.

Returns an opaque uploadId and a presigned PUT URL made by the blob store: one served by this
server (`/_qconnect/uploads/{uploadId}`, which behaves like S3's), or an S3 presigned URL.

Choices where AWS documents nothing:
- CUSTOM and QUICK_RESPONSES knowledge bases take uploads; QUICK_RESPONSES ones only `text/csv`
  (the files StartImportJob reads). Other types → ValidationException.
- `presignedUrlTimeToLive` defaults to 60 minutes. `headersToInclude` is `{"content-type": ...}`:
  the PUT must send that Content-Type, as with an S3 URL presigned with its content type.
"""

from __future__ import annotations

import datetime as dt
import time
from typing import Any

from qconnect_local import ids
from qconnect_local.blobs import Link
from qconnect_local.errors import ValidationException
from qconnect_local.operations.context import RequestContext
from qconnect_local.operations.knowledge_bases import load_knowledge_base
from qconnect_local.storage.base import Session, Store

DEFAULT_TTL_MINUTES = 60
UPLOAD_TYPES = ("CUSTOM", "QUICK_RESPONSES")
QUICK_RESPONSES_CONTENT_TYPE = "text/csv"


def upload_path(upload_id: str) -> str:
    return f"/_qconnect/uploads/{upload_id}"


def report_path(import_job_id: str) -> str:
    return f"/_qconnect/import-jobs/{import_job_id}/failed-record-report"


def url_lifetime(ctx: RequestContext, seconds: int) -> int:
    """A URL's life in seconds, shortened by --url-ttl-cap (for tests of expiry)."""
    cap = ctx.settings.imports.url_ttl_cap_seconds
    return min(seconds, cap) if cap is not None else seconds


def start_content_upload(ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
    content_type = params["contentType"]
    ttl = url_lifetime(ctx, params.get("presignedUrlTimeToLive", DEFAULT_TTL_MINUTES) * 60)
    now = ctx.now()
    expires = int(now + ttl)
    with ctx.store.write() as session:
        kb = load_knowledge_base(session, ctx, params["knowledgeBaseId"])
        kb_type = kb["knowledgeBaseType"]
        if kb_type not in UPLOAD_TYPES:
            raise ValidationException(
                f"StartContentUpload is supported only for CUSTOM and QUICK_RESPONSES knowledge bases; "
                f"knowledge base {kb['knowledgeBaseId']} is of type {kb_type}"
            )
        if kb_type == "QUICK_RESPONSES" and content_type != QUICK_RESPONSES_CONTENT_TYPE:
            raise ValidationException(
                f"A QUICK_RESPONSES knowledge base accepts only {QUICK_RESPONSES_CONTENT_TYPE} uploads, "
                f"not '{content_type}'"
            )
        upload_id = ids.new_id()
        session.insert_upload(
            ctx.account_id,
            ctx.region,
            {
                "uploadId": upload_id,
                "knowledgeBaseId": kb["knowledgeBaseId"],
                "contentType": content_type,
                "created": now,
                "expires": expires,
            },
        )
    link = Link(ctx.endpoint, upload_path(upload_id), expires, ttl)
    url = ctx.require_services().blobs.upload_url(upload_key(upload_id), content_type, link)
    return {"uploadId": upload_id, "url": url, "urlExpiry": expires, "headersToInclude": {"content-type": content_type}}


def upload_key(upload_id: str) -> str:
    """The blob of an upload."""
    return f"uploads/{upload_id}"


def get_upload_by_id(store: Store, upload_id: str) -> dict[str, Any] | None:
    """An upload of any account (its id is in a URL signed for it); None when there is none."""
    with store.read() as session:
        return session.get_upload_by_id(upload_id)


def mark_uploaded(store: Store, upload_id: str, size: int, etag: str) -> None:
    """The upload endpoint received the whole file."""
    with store.write() as session:
        session.mark_uploaded(upload_id, size, etag, time.time())


def check_direct_upload_size(ctx: RequestContext, size: int) -> None:
    """A presigned S3 PUT cannot limit what is sent, so the upload limit is checked when the file
    is first used: a ValidationException naming both sizes."""
    limit = ctx.settings.imports.max_upload_bytes
    if size > limit:
        raise ValidationException(
            f"The uploaded file is {size} bytes, larger than the limit of {limit} bytes for one upload"
        )


OPERATIONS = {"StartContentUpload": start_content_upload}


def direct_upload(ctx: RequestContext, upload_id: str) -> tuple[int, str] | None:
    """A file PUT straight into the blob store (S3) reached no server, so nothing marked its
    upload: look for it before the write transaction, which must not wait on the network."""
    with ctx.store.read() as session:
        upload = session.get_upload(ctx.account_id, ctx.region, upload_id)
    if upload is None or upload["uploaded"] is not None:
        return None
    return ctx.require_services().blobs.direct_upload(upload_key(upload_id))


def check_upload(
    session: Session, ctx: RequestContext, kb_id: str, upload_id: str, direct: tuple[int, str] | None
) -> None:
    upload = session.get_upload(ctx.account_id, ctx.region, upload_id)
    if upload is None:
        raise ValidationException(
            f"The uploadId '{upload_id}' does not match any upload; get one from StartContentUpload"
        )
    if upload["knowledgeBaseId"] != kb_id:
        raise ValidationException(
            f"The uploadId '{upload_id}' belongs to another knowledge base ({upload['knowledgeBaseId']})"
        )
    if upload["uploaded"] is None and direct is not None:
        size, etag = direct
        check_direct_upload_size(ctx, size)
        session.mark_uploaded(upload_id, size, etag, ctx.now())
    elif upload["uploaded"] is None:
        raise ValidationException(
            f"No file has been uploaded for uploadId '{upload_id}': PUT the file to the url that "
            "StartContentUpload returned first"
        )
    usable_until = upload["expires"] + ctx.settings.imports.upload_grace_seconds
    if ctx.now() > usable_until:
        when = dt.datetime.fromtimestamp(usable_until, dt.UTC).isoformat(timespec="seconds")
        raise ValidationException(f"The upload '{upload_id}' expired at {when}; upload the file again")
