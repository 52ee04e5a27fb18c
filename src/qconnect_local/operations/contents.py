"""CreateContent, GetContent, GetContentSummary, ListContents, UpdateContent, DeleteContent and
SearchContent for CUSTOM knowledge bases (issue 17). A content's file is the blob of the
StartContentUpload upload it was made from. docs/assistants.md has the behaviour choices."""

from __future__ import annotations

from typing import Any

from qconnect_local import ids
from qconnect_local.blobs.common import Link
from qconnect_local.errors import (
    ConflictException,
    PreconditionFailedException,
    ResourceNotFoundException,
    ServiceQuotaExceededException,
    ValidationException,
)
from qconnect_local.operations import idempotency, pagination, tags
from qconnect_local.operations.assistants import label_id
from qconnect_local.operations.context import RequestContext
from qconnect_local.operations.knowledge_bases import check_tag_count, load_knowledge_base
from qconnect_local.operations.name_filter import by_name
from qconnect_local.operations.uploads import check_upload, direct_upload, upload_key, upload_path, url_lifetime
from qconnect_local.storage.base import Record, Session

_SUMMARY_LEAVES_OUT = ("linkOutUri",)


def _check_custom(kb: Record) -> None:
    if kb["knowledgeBaseType"] != "CUSTOM":
        raise ValidationException(
            f"Only CUSTOM knowledge bases take content; knowledge base {kb['knowledgeBaseId']} is of type "
            f"{kb['knowledgeBaseType']}"
        )


def _check_link_members(params: dict[str, Any]) -> None:
    if params.get("removeOverrideLinkOutUri") and "overrideLinkOutUri" in params:
        raise ValidationException("overrideLinkOutUri and removeOverrideLinkOutUri cannot be used together")


def _content_type(
    session: Session, ctx: RequestContext, kb_id: str, upload_id: str, direct: tuple[int, str] | None
) -> str:
    check_upload(session, ctx, kb_id, upload_id, direct)
    upload = session.get_upload(ctx.account_id, ctx.region, upload_id)
    assert upload is not None  # check_upload found it
    return str(upload["contentType"])


def _extract_later(session: Session, ctx: RequestContext, content: Record, kind: str) -> None:
    """Leaves the reading of the content's file to the runner (importing/content_tasks.py),
    held or delayed as import jobs are (`--import-mode`, `--import-delay`)."""
    imports = ctx.settings.imports
    run_after = None if imports.mode == "manual" else ctx.now() + imports.delay_seconds
    content["status"] = "CREATE_IN_PROGRESS"  # the model's ContentStatus has no UPDATE_IN_PROGRESS
    session.set_content_task(
        ctx.account_id, ctx.region, content["contentId"], content["_uploadId"], ids.new_id(), kind, run_after
    )


def data_view(ctx: RequestContext, content: Record) -> Record:
    """ContentData with a freshly signed download link to its file."""
    out = summary_view(content)
    if "linkOutUri" in content:
        out["linkOutUri"] = content["linkOutUri"]
    lifetime = url_lifetime(ctx, ctx.settings.imports.download_url_seconds)
    expires = int(ctx.now() + lifetime)
    upload_id = content["_uploadId"]
    link = Link(ctx.endpoint, upload_path(upload_id), expires, lifetime)
    out["url"] = ctx.require_services().blobs.download_url(upload_key(upload_id), link)
    out["urlExpiry"] = expires
    return out


def summary_view(content: Record) -> Record:
    return {k: v for k, v in content.items() if not k.startswith("_") and k not in _SUMMARY_LEAVES_OUT}


def create_content(ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
    check_tag_count(ctx, params.get("tags") or {})
    direct = direct_upload(ctx, params["uploadId"])  # an S3 PUT no server saw: looked for outside the transaction
    with ctx.store.write() as session:
        kb = load_knowledge_base(session, ctx, params["knowledgeBaseId"])
        kb_id = kb["knowledgeBaseId"]
        content = idempotency.create_once(
            session,
            ctx,
            "CreateContent",
            kb_id,
            params,
            lambda content_id: session.get_content(ctx.account_id, ctx.region, kb_id, content_id),
            lambda: _insert_content(session, ctx, params, kb, direct),
        )
    ctx.require_services().runner.wake()
    return {"content": data_view(ctx, content)}


def _insert_content(
    session: Session, ctx: RequestContext, params: dict[str, Any], kb: Record, direct: tuple[int, str] | None
) -> tuple[str, Record]:
    kb_id = kb["knowledgeBaseId"]
    _check_custom(kb)
    content_type = _content_type(session, ctx, kb_id, params["uploadId"], direct)
    limit = ctx.settings.quotas.contents_per_knowledge_base
    if session.count_contents(ctx.account_id, ctx.region, kb_id) >= limit:
        raise ServiceQuotaExceededException(f"Knowledge base {kb_id} has reached its limit of {limit} contents")
    content_id = ids.new_id()
    content: Record = {
        "contentId": content_id,
        "contentArn": f"arn:aws:wisdom:{ctx.region}:{ctx.account_id}:content/{kb_id}/{content_id}",
        "knowledgeBaseId": kb_id,
        "knowledgeBaseArn": kb["knowledgeBaseArn"],
        "name": params["name"],
        "revisionId": ids.new_id(),
        "title": params.get("title") or params["name"],
        "contentType": content_type,
        "status": "CREATE_IN_PROGRESS",
        "metadata": params.get("metadata") or {},
        "tags": params.get("tags") or {},
        "_uploadId": params["uploadId"],
    }
    if "overrideLinkOutUri" in params:
        content["linkOutUri"] = params["overrideLinkOutUri"]
    if not session.insert_content(ctx.account_id, ctx.region, content, ""):
        raise ConflictException(f"Knowledge base {kb_id} already has content named '{params['name']}'")
    _extract_later(session, ctx, content, "CREATE")
    session.touch_knowledge_base_content(ctx.account_id, ctx.region, kb_id, ctx.now())
    return content_id, content


def load_content(session: Session, ctx: RequestContext, params: dict[str, Any]) -> Record:
    kb_id = load_knowledge_base(session, ctx, params["knowledgeBaseId"])["knowledgeBaseId"]
    content_id = label_id(ctx, params["contentId"], "content", "Content", (kb_id,))
    content = session.get_content(ctx.account_id, ctx.region, kb_id, content_id)
    if content is None:
        raise ResourceNotFoundException("Content not found", resource_name=content_id)
    return content


def get_content(ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
    with ctx.store.read() as session:
        content = load_content(session, ctx, params)
    return {"content": data_view(ctx, content)}


def get_content_summary(ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
    with ctx.store.read() as session:
        return {"contentSummary": summary_view(load_content(session, ctx, params))}


def _listing(ctx: RequestContext, params: dict[str, Any], listing: str, names: set[str] | None) -> dict[str, Any]:
    with ctx.store.read() as session:
        kb_id = load_knowledge_base(session, ctx, params["knowledgeBaseId"])["knowledgeBaseId"]
        fetch = by_name(
            names,
            lambda name, after, limit: session.list_contents(ctx.account_id, ctx.region, kb_id, name, after, limit),
        )
        return pagination.seq_page(ctx, listing, "contentSummaries", params, fetch, summary_view)


def list_contents(ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
    return _listing(ctx, params, "ListContents", None)


def search_content(ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
    # The model's only filter is NAME EQUALS.
    return _listing(ctx, params, "SearchContent", {f["value"] for f in params["searchExpression"]["filters"]})


def update_content(ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
    _check_link_members(params)
    direct = direct_upload(ctx, params["uploadId"]) if "uploadId" in params else None
    with ctx.store.write() as session:
        content = load_content(session, ctx, params)
        if "revisionId" in params and params["revisionId"] != content["revisionId"]:
            raise PreconditionFailedException(
                f"The revisionId '{params['revisionId']}' is not the content's current revision "
                f"('{content['revisionId']}')"
            )
        old_upload = content["_uploadId"]
        if "uploadId" in params:
            content["contentType"] = _content_type(session, ctx, content["knowledgeBaseId"], params["uploadId"], direct)
            content["_uploadId"] = params["uploadId"]
        for member in ("title", "metadata"):
            if member in params:
                content[member] = params[member]
        if "overrideLinkOutUri" in params:
            content["linkOutUri"] = params["overrideLinkOutUri"]
        if params.get("removeOverrideLinkOutUri"):
            content.pop("linkOutUri", None)
        content["revisionId"] = ids.new_id()
        if "uploadId" in params:
            _extract_later(session, ctx, content, "UPDATE")
        session.update_content(ctx.account_id, ctx.region, content)
        session.touch_knowledge_base_content(ctx.account_id, ctx.region, content["knowledgeBaseId"], ctx.now())
        old_gone = old_upload != content["_uploadId"] and _drop_upload(session, ctx, old_upload)
    if "uploadId" in params:
        ctx.require_services().runner.wake()
    if old_gone:
        ctx.require_services().blobs.delete(upload_key(old_upload))
    return {"content": data_view(ctx, content)}


def _drop_upload(session: Session, ctx: RequestContext, upload_id: str) -> bool:
    """Deletes an upload no content or import job uses any more; True when its file must go too."""
    return session.delete_upload_unless_used(ctx.account_id, ctx.region, upload_id)


def delete_content(ctx: RequestContext, params: dict[str, Any]) -> None:
    with ctx.store.write() as session:
        content = load_content(session, ctx, params)
        # Its associations go with it (ON DELETE CASCADE).
        session.delete_content(ctx.account_id, ctx.region, content["knowledgeBaseId"], content["contentId"])
        session.touch_knowledge_base_content(ctx.account_id, ctx.region, content["knowledgeBaseId"], ctx.now())
        upload_gone = _drop_upload(session, ctx, content["_uploadId"])
    if upload_gone:  # files go after the commit: a failed transaction must not lose them
        ctx.require_services().blobs.delete(upload_key(content["_uploadId"]))
    return None


def _load_content_by_arn(session: Session, ctx: RequestContext, resource_ids: list[str]) -> Record | None:
    if len(resource_ids) != 2:
        return None
    return session.get_content(ctx.account_id, ctx.region, resource_ids[0], resource_ids[1])


def _save_content(session: Session, ctx: RequestContext, record: Record) -> None:
    session.update_content(ctx.account_id, ctx.region, record)


tags.TAGGABLE["content"] = (_load_content_by_arn, _save_content)

OPERATIONS = {
    "CreateContent": create_content,
    "GetContent": get_content,
    "GetContentSummary": get_content_summary,
    "ListContents": list_contents,
    "SearchContent": search_content,
    "UpdateContent": update_content,
    "DeleteContent": delete_content,
}
