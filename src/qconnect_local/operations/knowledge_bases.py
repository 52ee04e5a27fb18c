"""CreateKnowledgeBase, GetKnowledgeBase, ListKnowledgeBases, DeleteKnowledgeBase."""

from __future__ import annotations

from typing import Any

from qconnect_local import ids
from qconnect_local.errors import (
    ConflictException,
    ResourceNotFoundException,
    ServiceQuotaExceededException,
    ValidationException,
)
from qconnect_local.operations import idempotency, pagination
from qconnect_local.operations.context import RequestContext
from qconnect_local.storage.base import Record, Session

# Members of CreateKnowledgeBase that are stored and echoed back as given.
_ECHOED = (
    "description",
    "sourceConfiguration",
    "renderingConfiguration",
    "vectorIngestionConfiguration",
    "serverSideEncryptionConfiguration",
)
# Only EXTERNAL and MANAGED knowledge bases take a sourceConfiguration (model doc).
_TYPES_WITH_SOURCE = {"EXTERNAL", "MANAGED"}


def check_account_quota(ctx: RequestContext, count: int, limit: int, what: str) -> None:
    """ServiceQuotaExceededException when the account already has `limit` of `what` in the region."""
    if count >= limit:
        raise ServiceQuotaExceededException(
            f"You have reached the limit of {limit} {what} for this account in {ctx.region}"
        )


def check_tag_count(ctx: RequestContext, tags: dict[str, str]) -> None:
    limit = ctx.settings.quotas.tags_per_resource
    if len(tags) > limit:
        raise ValidationException(
            f"1 validation error detected: Value at 'tags' failed to satisfy constraint: "
            f"Member must have length less than or equal to {limit}"
        )


def create_knowledge_base(ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
    kb_type = params["knowledgeBaseType"]
    if "sourceConfiguration" in params and kb_type not in _TYPES_WITH_SOURCE:
        raise ValidationException(
            f"sourceConfiguration can only be set for EXTERNAL or MANAGED knowledge bases, not {kb_type}"
        )
    if kb_type in _TYPES_WITH_SOURCE and "sourceConfiguration" not in params:
        raise ValidationException(f"sourceConfiguration is required for {kb_type} knowledge bases")
    check_tag_count(ctx, params.get("tags") or {})
    with ctx.store.write() as session:
        replayed = idempotency.replay(
            session,
            ctx,
            "CreateKnowledgeBase",
            "",
            params,
            lambda kb_id: session.get_knowledge_base(ctx.account_id, ctx.region, kb_id),
        )
        if replayed is not None:
            return {"knowledgeBase": replayed}
        count = session.count_knowledge_bases(ctx.account_id, ctx.region)
        check_account_quota(ctx, count, ctx.settings.quotas.knowledge_bases, "knowledge bases")
        kb_id = ids.new_id()
        kb: Record = {
            "knowledgeBaseId": kb_id,
            "knowledgeBaseArn": ids.knowledge_base_arn(ctx.region, ctx.account_id, kb_id),
            "name": params["name"],
            "knowledgeBaseType": kb_type,
            # A knowledge base is usable at once here (AWS shows CREATE_IN_PROGRESS briefly).
            "status": "ACTIVE",
            "tags": params.get("tags") or {},
            "createdTime": ctx.now(),
        }
        kb.update({k: params[k] for k in _ECHOED if k in params})
        session.insert_knowledge_base(ctx.account_id, ctx.region, kb)
        idempotency.remember(session, ctx, "CreateKnowledgeBase", "", params, kb_id)
    return {"knowledgeBase": kb}


def knowledge_base_id(ctx: RequestContext, label: str) -> str:
    """The ID an ID-or-ARN label names, or ResourceNotFoundException for another account's,
    region's or resource type's ARN."""
    if label.startswith("arn:"):
        parsed = ids.parse_arn(label)
        if (
            parsed is None
            or parsed.resource_type != "knowledge-base"
            or (parsed.account, parsed.region) != (ctx.account_id, ctx.region)
        ):
            raise ResourceNotFoundException("Knowledge base not found", resource_name=label)
    return ids.id_from_label(label)


def found_knowledge_base(kb: Record | None, kb_id: str) -> Record:
    if kb is None:
        raise ResourceNotFoundException("Knowledge base not found", resource_name=kb_id)
    return kb


def load_knowledge_base(session: Session, ctx: RequestContext, label: str) -> Record:
    """The knowledge base named by an ID-or-ARN label, or ResourceNotFoundException."""
    kb_id = knowledge_base_id(ctx, label)
    return found_knowledge_base(session.get_knowledge_base(ctx.account_id, ctx.region, kb_id), kb_id)


def get_knowledge_base(ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
    with ctx.store.read_one() as session:
        return {"knowledgeBase": load_knowledge_base(session, ctx, params["knowledgeBaseId"])}


def list_knowledge_bases(ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
    with ctx.store.read() as session:
        return pagination.seq_page(
            ctx,
            "ListKnowledgeBases",
            "knowledgeBaseSummaries",
            params,
            lambda after, limit: session.list_knowledge_bases(ctx.account_id, ctx.region, after, limit),
        )


def _check_no_import_in_progress(session: Any, ctx: RequestContext, kb: Record) -> None:
    """Not while an import job is landing rows in it."""
    if session.count_import_jobs_in_progress(ctx.account_id, ctx.region, kb["knowledgeBaseId"]):
        raise ConflictException(
            f"Knowledge base {kb['knowledgeBaseId']} has an import job in progress (START_IN_PROGRESS); "
            "delete it when the job has finished"
        )


def delete_knowledge_base(ctx: RequestContext, params: dict[str, Any]) -> None:
    with ctx.store.write() as session:
        kb = load_knowledge_base(session, ctx, params["knowledgeBaseId"])
        _check_no_import_in_progress(session, ctx, kb)
        session.delete_knowledge_base(ctx.account_id, ctx.region, kb["knowledgeBaseId"])
    return None


OPERATIONS = {
    "CreateKnowledgeBase": create_knowledge_base,
    "GetKnowledgeBase": get_knowledge_base,
    "ListKnowledgeBases": list_knowledge_bases,
    "DeleteKnowledgeBase": delete_knowledge_base,
}
