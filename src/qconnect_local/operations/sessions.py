"""CreateSession, GetSession, UpdateSession, UpdateSessionData, SearchSessions.
docs/assistants.md has the behaviour choices."""

from __future__ import annotations

from typing import Any

from qconnect_local import ids
from qconnect_local.errors import ResourceNotFoundException, ValidationException
from qconnect_local.operations import idempotency, pagination, tags
from qconnect_local.operations.assistants import arn, label_id, load_assistant
from qconnect_local.operations.context import RequestContext
from qconnect_local.operations.knowledge_bases import check_tag_count
from qconnect_local.operations.name_filter import by_name
from qconnect_local.storage.base import Record, Session

# Members of CreateSession/UpdateSession that are stored and echoed back as given.
_ECHOED = ("description", "tagFilter", "aiAgentConfiguration", "orchestratorConfigurationList")
DEFAULT_NAMESPACE = "Custom"


def _check_orchestrator_members(params: dict[str, Any]) -> None:
    if params.get("removeOrchestratorConfigurationList") and "orchestratorConfigurationList" in params:
        raise ValidationException(
            "orchestratorConfigurationList and removeOrchestratorConfigurationList cannot be used together"
        )


def create_session(ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
    _check_orchestrator_members(params)
    check_tag_count(ctx, params.get("tags") or {})
    with ctx.store.write() as session:
        assistant = load_assistant(session, ctx, params["assistantId"])
        assistant_id = assistant["assistantId"]
        record = idempotency.create_once(
            session,
            ctx,
            "CreateSession",
            assistant_id,
            params,
            lambda session_id: session.get_session(ctx.account_id, ctx.region, assistant_id, session_id),
            lambda: _insert_session(session, ctx, params, assistant),
        )
    return {"session": _public(record)}


def _insert_session(
    session: Session, ctx: RequestContext, params: dict[str, Any], assistant: Record
) -> tuple[str, Record]:
    assistant_id = assistant["assistantId"]
    session_id = ids.new_id()
    record: Record = {
        "sessionId": session_id,
        "sessionArn": arn(ctx, "session", assistant_id, session_id),
        "name": params["name"],
        "tags": params.get("tags") or {},
        # Created through the API (Amazon Connect's own sessions say SYSTEM).
        "origin": "CUSTOMER",
        # Kept for SearchSessions' summaries; not a member of SessionData.
        "assistantId": assistant_id,
        "assistantArn": assistant["assistantArn"],
    }
    record.update({k: params[k] for k in _ECHOED if k in params})
    if "contactArn" in params:
        record["contactArn"] = params["contactArn"]
    session.insert_session(ctx.account_id, ctx.region, assistant_id, record)
    return session_id, record


def _public(record: Record) -> Record:
    """SessionData: the stored record without what only this server keeps."""
    return {k: v for k, v in record.items() if k not in ("assistantId", "assistantArn", "contactArn")}


def load_session(session: Session, ctx: RequestContext, params: dict[str, Any]) -> Record:
    assistant_id = load_assistant(session, ctx, params["assistantId"])["assistantId"]
    session_id = label_id(ctx, params["sessionId"], "session", "Session", (assistant_id,))
    record = session.get_session(ctx.account_id, ctx.region, assistant_id, session_id)
    if record is None:
        raise ResourceNotFoundException("Session not found", resource_name=session_id)
    return record


def get_session(ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
    with ctx.store.read() as session:
        return {"session": _public(load_session(session, ctx, params))}


def update_session(ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
    _check_orchestrator_members(params)
    with ctx.store.write() as session:
        record = load_session(session, ctx, params)
        record.update({k: params[k] for k in _ECHOED if k in params})
        if params.get("removeOrchestratorConfigurationList"):
            record.pop("orchestratorConfigurationList", None)
        session.update_session(ctx.account_id, ctx.region, record)
    return {"session": _public(record)}


def update_session_data(ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
    namespace = params.get("namespace") or DEFAULT_NAMESPACE
    with ctx.store.write() as session:
        record = load_session(session, ctx, params)
        stored = session.get_session_data(ctx.account_id, ctx.region, record["sessionId"])
        # A key set again keeps its place and takes the new value; other keys stay.
        merged = {item["key"]: item["value"] for item in stored.get(namespace, [])}
        for item in params["data"]:
            merged[item["key"]] = item["value"]
        stored[namespace] = [{"key": k, "value": v} for k, v in merged.items()]
        session.put_session_data(ctx.account_id, ctx.region, record["sessionId"], stored)
    return {
        "sessionArn": record["sessionArn"],
        "sessionId": record["sessionId"],
        "namespace": namespace,
        "data": stored[namespace],
    }


def search_sessions(ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
    names = [f["value"] for f in params["searchExpression"]["filters"]]
    with ctx.store.read() as session:
        assistant_id = load_assistant(session, ctx, params["assistantId"])["assistantId"]
        fetch = by_name(
            names,
            lambda name, after, limit: session.search_sessions(
                ctx.account_id, ctx.region, assistant_id, name, after, limit
            ),
        )
        return pagination.seq_page(ctx, "SearchSessions", "sessionSummaries", params, fetch, _summary)


def _summary(record: Record) -> Record:
    return {k: record[k] for k in ("sessionId", "sessionArn", "assistantId", "assistantArn")}


def _load_session_by_arn(session: Session, ctx: RequestContext, resource_ids: list[str]) -> Record | None:
    if len(resource_ids) != 2:
        return None
    return session.get_session(ctx.account_id, ctx.region, resource_ids[0], resource_ids[1])


def _save_session(session: Session, ctx: RequestContext, record: Record) -> None:
    session.update_session(ctx.account_id, ctx.region, record)


tags.TAGGABLE["session"] = (_load_session_by_arn, _save_session)

OPERATIONS = {
    "CreateSession": create_session,
    "GetSession": get_session,
    "UpdateSession": update_session,
    "UpdateSessionData": update_session_data,
    "SearchSessions": search_sessions,
}
