"""TagResource, UntagResource, ListTagsForResource.

Tags live in the tagged resource's own record, so the resource's `tags` member and
ListTagsForResource can never disagree. Each taggable resource type registers how to load and
save its record by ARN in `TAGGABLE`.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from qconnect_local import ids
from qconnect_local.errors import ResourceNotFoundException, TooManyTagsException
from qconnect_local.operations.context import RequestContext
from qconnect_local.storage.base import Record, Session

Loader = Callable[[Any, RequestContext, list[str]], Record | None]
Saver = Callable[[Any, RequestContext, Record], None]


def _load_kb(session: Session, ctx: RequestContext, resource_ids: list[str]) -> Record | None:
    if len(resource_ids) != 1:
        return None
    return session.get_knowledge_base(ctx.account_id, ctx.region, resource_ids[0])


def _save_kb(session: Session, ctx: RequestContext, record: Record) -> None:
    session.update_knowledge_base(ctx.account_id, ctx.region, record)


def _load_qr(session: Session, ctx: RequestContext, resource_ids: list[str]) -> Record | None:
    if len(resource_ids) != 2:
        return None
    return session.get_quick_response(ctx.account_id, ctx.region, resource_ids[0], resource_ids[1])


def _save_qr(session: Session, ctx: RequestContext, record: Record) -> None:
    session.update_quick_response(ctx.account_id, ctx.region, record["knowledgeBaseId"], record)


# ARN resource type -> (load, save)
TAGGABLE: dict[str, tuple[Loader, Saver]] = {
    "knowledge-base": (_load_kb, _save_kb),
    "quick-response": (_load_qr, _save_qr),
}


def _resolve(session: Session, ctx: RequestContext, arn: str) -> tuple[Record, Saver]:
    parsed = ids.parse_arn(arn)
    if (
        parsed is not None
        and (parsed.account, parsed.region) == (ctx.account_id, ctx.region)
        and parsed.resource_type in TAGGABLE
    ):
        load, save = TAGGABLE[parsed.resource_type]
        record = load(session, ctx, parsed.ids)
        if record is not None:
            return record, save
    raise ResourceNotFoundException(f"Resource not found: {arn}", resource_name=arn)


def tag_resource(ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
    arn = params["resourceArn"]
    with ctx.store.write() as session:
        record, save = _resolve(session, ctx, arn)
        merged = {**(record.get("tags") or {}), **params["tags"]}
        limit = ctx.settings.quotas.tags_per_resource
        if len(merged) > limit:
            raise TooManyTagsException(
                f"A resource can have at most {limit} tags; this request would give it {len(merged)}",
                resource_name=arn,
            )
        record["tags"] = merged
        save(session, ctx, record)
    return {}


def untag_resource(ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
    arn = params["resourceArn"]
    with ctx.store.write() as session:
        record, save = _resolve(session, ctx, arn)
        tags = dict(record.get("tags") or {})
        for key in params["tagKeys"]:
            tags.pop(key, None)  # removing an absent key is not an error
        record["tags"] = tags
        save(session, ctx, record)
    return {}


def list_tags_for_resource(ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
    with ctx.store.read() as session:
        record, _ = _resolve(session, ctx, params["resourceArn"])
    return {"tags": record.get("tags") or {}}


OPERATIONS = {
    "TagResource": tag_resource,
    "UntagResource": untag_resource,
    "ListTagsForResource": list_tags_for_resource,
}
