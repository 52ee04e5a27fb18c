"""CreateContentAssociation, GetContentAssociation, ListContentAssociations and
DeleteContentAssociation (issue 17): content associated with an Amazon Connect step-by-step
guide (`AMAZON_CONNECT_GUIDE`, the guide's flow ARN). docs/assistants.md has the behaviour choices."""

from __future__ import annotations

import re
from typing import Any

from qconnect_local import ids
from qconnect_local.errors import ConflictException, ResourceNotFoundException, ValidationException
from qconnect_local.operations import idempotency, pagination, tags
from qconnect_local.operations.assistants import arn, label_id
from qconnect_local.operations.contents import load_content
from qconnect_local.operations.context import RequestContext
from qconnect_local.operations.knowledge_bases import check_tag_count
from qconnect_local.storage.base import Record, Session

RESOURCE_TYPE = "content-association"
# An Amazon Connect flow: arn:aws:connect:{region}:{account}:instance/{instanceId}/contact-flow/{flowId}
_FLOW_ARN = re.compile(r"arn:[a-z-]+:connect:[a-z0-9-]+:[0-9]{12}:instance/[A-Za-z0-9-]+/contact-flow/[A-Za-z0-9-]+")


def _flow_arn(params: dict[str, Any]) -> str:
    """The guide's flow ARN of a create request (the model checks the type and the ARN's form)."""
    flow = (params["association"].get("amazonConnectGuideAssociation") or {}).get("flowId")
    if flow is None:
        raise ValidationException(
            "An association of type AMAZON_CONNECT_GUIDE takes association.amazonConnectGuideAssociation.flowId"
        )
    if not _FLOW_ARN.fullmatch(flow):
        raise ValidationException(
            f"flowId '{flow}' is not the ARN of an Amazon Connect flow "
            "(arn:aws:connect:{region}:{account}:instance/{instanceId}/contact-flow/{flowId})"
        )
    return str(flow)


def create_content_association(ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
    flow = _flow_arn(params)
    check_tag_count(ctx, params.get("tags") or {})
    with ctx.store.write() as session:
        content = load_content(session, ctx, params)
        content_id = content["contentId"]
        association = idempotency.create_once(
            session,
            ctx,
            "CreateContentAssociation",
            content_id,
            params,
            lambda association_id: session.get_content_association(
                ctx.account_id, ctx.region, content_id, association_id
            ),
            lambda: _insert_association(session, ctx, params, content, flow),
        )
    return {"contentAssociation": association}


def _insert_association(
    session: Session, ctx: RequestContext, params: dict[str, Any], content: Record, flow: str
) -> tuple[str, Record]:
    content_id = content["contentId"]
    association_id = ids.new_id()
    association: Record = {
        "knowledgeBaseId": content["knowledgeBaseId"],
        "knowledgeBaseArn": content["knowledgeBaseArn"],
        "contentId": content_id,
        "contentArn": content["contentArn"],
        "contentAssociationId": association_id,
        "contentAssociationArn": arn(ctx, RESOURCE_TYPE, content["knowledgeBaseId"], content_id, association_id),
        "associationType": params["associationType"],
        "associationData": {"amazonConnectGuideAssociation": {"flowId": flow}},
        "tags": params.get("tags") or {},
    }
    if not session.insert_content_association(ctx.account_id, ctx.region, association, flow):
        raise ConflictException(f"Content {content_id} is already associated with flow {flow}")
    return association_id, association


def _load_association(session: Session, ctx: RequestContext, params: dict[str, Any]) -> Record:
    content = load_content(session, ctx, params)
    parents = (content["knowledgeBaseId"], content["contentId"])
    association_id = label_id(ctx, params["contentAssociationId"], RESOURCE_TYPE, "Content association", parents)
    association = session.get_content_association(ctx.account_id, ctx.region, content["contentId"], association_id)
    if association is None:
        raise ResourceNotFoundException("Content association not found", resource_name=association_id)
    return association


def get_content_association(ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
    with ctx.store.read() as session:
        return {"contentAssociation": _load_association(session, ctx, params)}


def list_content_associations(ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
    with ctx.store.read() as session:
        content_id = load_content(session, ctx, params)["contentId"]
        return pagination.seq_page(
            ctx,
            "ListContentAssociations",
            "contentAssociationSummaries",
            params,
            lambda after, limit: session.list_content_associations(
                ctx.account_id, ctx.region, content_id, after, limit
            ),
        )


def delete_content_association(ctx: RequestContext, params: dict[str, Any]) -> None:
    with ctx.store.write() as session:
        association = _load_association(session, ctx, params)
        session.delete_content_association(
            ctx.account_id, ctx.region, association["contentId"], association["contentAssociationId"]
        )
    return None


def _load_by_arn(session: Session, ctx: RequestContext, resource_ids: list[str]) -> Record | None:
    if len(resource_ids) != 3:
        return None
    association = session.get_content_association(ctx.account_id, ctx.region, resource_ids[1], resource_ids[2])
    return association if association is not None and association["knowledgeBaseId"] == resource_ids[0] else None


def _save(session: Session, ctx: RequestContext, record: Record) -> None:
    session.update_content_association(ctx.account_id, ctx.region, record)


tags.TAGGABLE[RESOURCE_TYPE] = (_load_by_arn, _save)

OPERATIONS = {
    "CreateContentAssociation": create_content_association,
    "GetContentAssociation": get_content_association,
    "ListContentAssociations": list_content_associations,
    "DeleteContentAssociation": delete_content_association,
}
