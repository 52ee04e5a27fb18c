"""StartContentUpload (reference §3, §8.2).

Returns an opaque uploadId and a presigned PUT URL served by this server
(`/_qconnect/uploads/{uploadId}`, see importing/endpoints.py), which behaves like S3's.

Choices where AWS documents nothing [I]:
- CUSTOM and QUICK_RESPONSES knowledge bases take uploads; QUICK_RESPONSES ones only `text/csv`
  (the files StartImportJob reads). Other types → ValidationException.
- `presignedUrlTimeToLive` defaults to 60 minutes. `headersToInclude` is `{"content-type": ...}`:
  the PUT must send that Content-Type, as with an S3 URL presigned with its content type.
"""

from __future__ import annotations

from typing import Any

from qconnect_local import ids
from qconnect_local.blobs.s3 import presigned_upload_url
from qconnect_local.errors import ValidationException
from qconnect_local.operations.context import RequestContext
from qconnect_local.operations.knowledge_bases import load_knowledge_base

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
    headers = {"content-type": content_type}
    url = presigned_upload_url(ctx, upload_id, content_type, ttl) or ctx.services["url_signer"].sign(
        "PUT", ctx.endpoint, upload_path(upload_id), expires, headers
    )
    return {"uploadId": upload_id, "url": url, "urlExpiry": expires, "headersToInclude": headers}


OPERATIONS = {"StartContentUpload": start_content_upload}
