"""CreateAssistant, GetAssistant, ListAssistants, DeleteAssistant and the assistant
associations (issue 17). docs/assistants.md has the behaviour choices."""

from __future__ import annotations

from typing import Any

from qconnect_local import ids
from qconnect_local.errors import (
    ConflictException,
    ResourceNotFoundException,
    ValidationException,
)
from qconnect_local.operations import idempotency, pagination, tags
from qconnect_local.operations.context import RequestContext
from qconnect_local.operations.knowledge_bases import check_account_quota, check_tag_count, load_knowledge_base
from qconnect_local.storage.base import Record, Session

# Members of CreateAssistant that are stored and echoed back as given.
_ECHOED = ("description", "serverSideEncryptionConfiguration")


def arn(ctx: RequestContext, resource_type: str, *resource_ids: str) -> str:
    return f"arn:aws:wisdom:{ctx.region}:{ctx.account_id}:{resource_type}/{'/'.join(resource_ids)}"


def label_id(ctx: RequestContext, label: str, resource_type: str, what: str, parents: tuple[str, ...] = ()) -> str:
    """The bare id of an ID-or-ARN label. An ARN must name this account, region and resource
    type (and, for a child, its parents), else the resource is not found."""
    if not label.startswith("arn:"):
        return label
    parsed = ids.parse_arn(label)
    if (
        parsed is None
        or parsed.resource_type != resource_type
        or (parsed.account, parsed.region) != (ctx.account_id, ctx.region)
        or tuple(parsed.ids[:-1]) != parents
    ):
        raise ResourceNotFoundException(f"{what} not found", resource_name=label)
    return parsed.ids[-1]


def load_assistant(session: Session, ctx: RequestContext, label: str) -> Record:
    """The assistant named by an ID-or-ARN label, or ResourceNotFoundException."""
    assistant_id = label_id(ctx, label, "assistant", "Assistant")
    assistant = session.get_assistant(ctx.account_id, ctx.region, assistant_id)
    if assistant is None:
        raise ResourceNotFoundException("Assistant not found", resource_name=assistant_id)
    return assistant


# -- assistants ---------------------------------------------------------------------------


def create_assistant(ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
    check_tag_count(ctx, params.get("tags") or {})
    with ctx.store.write() as session:
        assistant = idempotency.create_once(
            session,
            ctx,
            "CreateAssistant",
            "",
            params,
            lambda assistant_id: session.get_assistant(ctx.account_id, ctx.region, assistant_id),
            lambda: _insert_assistant(session, ctx, params),
        )
    return {"assistant": assistant}


def _insert_assistant(session: Session, ctx: RequestContext, params: dict[str, Any]) -> tuple[str, Record]:
    count = session.count_assistants(ctx.account_id, ctx.region)
    check_account_quota(ctx, count, ctx.settings.quotas.assistants, "assistants")
    assistant_id = ids.new_id()
    assistant: Record = {
        "assistantId": assistant_id,
        "assistantArn": arn(ctx, "assistant", assistant_id),
        "name": params["name"],
        "type": params["type"],
        # Usable at once here (AWS shows CREATE_IN_PROGRESS briefly).
        "status": "ACTIVE",
        "tags": params.get("tags") or {},
    }
    assistant.update({k: params[k] for k in _ECHOED if k in params})
    session.insert_assistant(ctx.account_id, ctx.region, assistant)
    return assistant_id, assistant


def get_assistant(ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
    with ctx.store.read() as session:
        return {"assistant": load_assistant(session, ctx, params["assistantId"])}


def list_assistants(ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
    with ctx.store.read() as session:
        return pagination.seq_page(
            ctx,
            "ListAssistants",
            "assistantSummaries",
            params,
            lambda after, limit: session.list_assistants(ctx.account_id, ctx.region, after, limit),
        )


def delete_assistant(ctx: RequestContext, params: dict[str, Any]) -> None:
    with ctx.store.write() as session:
        assistant = load_assistant(session, ctx, params["assistantId"])
        # Its associations and sessions go with it; the knowledge bases stay.
        session.delete_assistant(ctx.account_id, ctx.region, assistant["assistantId"])
    return None


# -- assistant associations ---------------------------------------------------------------


def _association_input(params: dict[str, Any]) -> tuple[str | None, Record]:
    """(the knowledge base id, associationData without the ARN) of a create request."""
    kind, given = params["associationType"], params["association"]
    if kind == "KNOWLEDGE_BASE":
        if "knowledgeBaseId" not in given or "externalBedrockKnowledgeBaseConfig" in given:
            raise ValidationException(
                "An association of type KNOWLEDGE_BASE takes association.knowledgeBaseId and nothing else"
            )
        return given["knowledgeBaseId"], {}
    if "externalBedrockKnowledgeBaseConfig" not in given or "knowledgeBaseId" in given:
        raise ValidationException(
            "An association of type EXTERNAL_BEDROCK_KNOWLEDGE_BASE takes "
            "association.externalBedrockKnowledgeBaseConfig and nothing else"
        )
    return None, {"externalBedrockKnowledgeBaseConfig": given["externalBedrockKnowledgeBaseConfig"]}


def create_assistant_association(ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
    kb_id, association_data = _association_input(params)
    check_tag_count(ctx, params.get("tags") or {})
    with ctx.store.write() as session:
        assistant = load_assistant(session, ctx, params["assistantId"])
        assistant_id = assistant["assistantId"]
        association = idempotency.create_once(
            session,
            ctx,
            "CreateAssistantAssociation",
            assistant_id,
            params,
            lambda association_id: session.get_assistant_association(
                ctx.account_id, ctx.region, assistant_id, association_id
            ),
            lambda: _insert_association(session, ctx, params, assistant, kb_id, association_data),
        )
    return {"assistantAssociation": association}


def _insert_association(
    session: Session,
    ctx: RequestContext,
    params: dict[str, Any],
    assistant: Record,
    kb_id: str | None,
    association_data: Record | None,
) -> tuple[str, Record]:
    assistant_id = assistant["assistantId"]
    if kb_id is not None:
        kb = load_knowledge_base(session, ctx, kb_id)
        association_data = {
            "knowledgeBaseAssociation": {
                "knowledgeBaseId": kb["knowledgeBaseId"],
                "knowledgeBaseArn": kb["knowledgeBaseArn"],
            }
        }
    count = session.count_assistant_associations(ctx.account_id, ctx.region)
    check_account_quota(ctx, count, ctx.settings.quotas.assistant_associations, "assistant associations")
    association_id = ids.new_id()
    association: Record = {
        "assistantAssociationId": association_id,
        "assistantAssociationArn": arn(ctx, "association", assistant_id, association_id),
        "assistantId": assistant_id,
        "assistantArn": assistant["assistantArn"],
        "associationType": params["associationType"],
        "associationData": association_data,
        "tags": params.get("tags") or {},
    }
    if not session.insert_assistant_association(ctx.account_id, ctx.region, association, kb_id):
        raise ConflictException(f"Knowledge base {kb_id} is already associated with assistant {assistant_id}")
    return association_id, association


def load_association(session: Session, ctx: RequestContext, params: dict[str, Any]) -> Record:
    assistant = load_assistant(session, ctx, params["assistantId"])
    assistant_id = assistant["assistantId"]
    association_id = label_id(
        ctx, params["assistantAssociationId"], "association", "Assistant association", (assistant_id,)
    )
    association = session.get_assistant_association(ctx.account_id, ctx.region, assistant_id, association_id)
    if association is None:
        raise ResourceNotFoundException("Assistant association not found", resource_name=association_id)
    return association


def get_assistant_association(ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
    with ctx.store.read() as session:
        return {"assistantAssociation": load_association(session, ctx, params)}


def list_assistant_associations(ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
    with ctx.store.read() as session:
        assistant_id = load_assistant(session, ctx, params["assistantId"])["assistantId"]
        return pagination.seq_page(
            ctx,
            "ListAssistantAssociations",
            "assistantAssociationSummaries",
            params,
            lambda after, limit: session.list_assistant_associations(
                ctx.account_id, ctx.region, assistant_id, after, limit
            ),
        )


def delete_assistant_association(ctx: RequestContext, params: dict[str, Any]) -> None:
    with ctx.store.write() as session:
        association = load_association(session, ctx, params)
        session.delete_assistant_association(
            ctx.account_id, ctx.region, association["assistantId"], association["assistantAssociationId"]
        )
    return None


# -- tags ---------------------------------------------------------------------------------


def _load_assistant_by_arn(session: Session, ctx: RequestContext, resource_ids: list[str]) -> Record | None:
    if len(resource_ids) != 1:
        return None
    return session.get_assistant(ctx.account_id, ctx.region, resource_ids[0])


def _save_assistant(session: Session, ctx: RequestContext, record: Record) -> None:
    session.update_assistant(ctx.account_id, ctx.region, record)


def _load_association_by_arn(session: Session, ctx: RequestContext, resource_ids: list[str]) -> Record | None:
    if len(resource_ids) != 2:
        return None
    return session.get_assistant_association(ctx.account_id, ctx.region, resource_ids[0], resource_ids[1])


def _save_association(session: Session, ctx: RequestContext, record: Record) -> None:
    session.update_assistant_association(ctx.account_id, ctx.region, record)


tags.TAGGABLE["assistant"] = (_load_assistant_by_arn, _save_assistant)
tags.TAGGABLE["association"] = (_load_association_by_arn, _save_association)

OPERATIONS = {
    "CreateAssistant": create_assistant,
    "GetAssistant": get_assistant,
    "ListAssistants": list_assistants,
    "DeleteAssistant": delete_assistant,
    "CreateAssistantAssociation": create_assistant_association,
    "GetAssistantAssociation": get_assistant_association,
    "ListAssistantAssociations": list_assistant_associations,
    "DeleteAssistantAssociation": delete_assistant_association,
}
