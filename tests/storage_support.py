"""Shared by the in-process storage tests (both stores): a knowledge base to work in, and the
records whose members the stores must give back exactly."""

from __future__ import annotations

from typing import Any

from qconnect_local import ids
from qconnect_local.config import Settings
from qconnect_local.operations.context import RequestContext

ACCOUNT, REGION = "123456789012", "us-east-1"

# CreateQuickResponse inputs (beyond name and content) whose records must read back as written.
ROUND_TRIPS: list[dict[str, Any]] = [
    {},
    {"description": "d", "shortcutKey": "s", "language": "en_US", "channels": ["Chat", "Email"], "isActive": False},
    {"channels": []},
    {"groupingConfiguration": {"criteria": "RoutingProfileArn"}},
    {"groupingConfiguration": {"criteria": "RoutingProfileArn", "values": []}},
    {
        "groupingConfiguration": {
            "criteria": "RoutingProfileArn",
            "values": [f"arn:aws:connect:us-east-1:123456789012:instance/i/routing-profile/{p}" for p in "ab"],
        }
    },
    {"tags": {"team": "billing"}, "contentType": "application/x.quickresponse;format=markdown"},
]


def new_knowledge_base(store: Any, settings: Settings) -> tuple[RequestContext, dict[str, Any]]:
    """(a caller's context, a new QUICK_RESPONSES knowledge base in `store`)."""
    ctx = RequestContext(ACCOUNT, REGION, f"arn:aws:iam::{ACCOUNT}:root", store, settings)
    kb_id = ids.new_id()
    kb = {
        "knowledgeBaseId": kb_id,
        "knowledgeBaseArn": ids.knowledge_base_arn(REGION, ACCOUNT, kb_id),
        "name": "kb",
        "knowledgeBaseType": "QUICK_RESPONSES",
        "status": "ACTIVE",
        "tags": {},
        "createdTime": 1.0,
    }
    with store.write() as session:
        session.insert_knowledge_base(ACCOUNT, REGION, kb)
    return ctx, kb


WRITE_PATHS = ["insert", "bulk", "loader", "update"]


def assert_reads_back_as_written(
    store: Any, ctx: RequestContext, kb: dict[str, Any], params: dict[str, Any], path: str, check_stored: Any = None
) -> None:
    """A record written one of the WRITE_PATHS reads back exactly through get, list and search.
    `check_stored(session, record)` looks at the stored row itself, in the write session."""
    from qconnect_local.operations.quick_responses import prepare_quick_response
    from qconnect_local.search.plan import compile_search

    kb_id = kb["knowledgeBaseId"]
    record = prepare_quick_response(ctx, kb, {"name": "n", "content": {"content": "*word*"}, **params})
    record["status"] = "CREATED" if path != "update" else "UPDATED"
    with store.write() as session:
        if path == "bulk":
            session.insert_quick_responses_bulk(ACCOUNT, REGION, kb_id, [record])
        elif path == "loader":
            with session.quick_response_loader(ACCOUNT, REGION, kb_id) as loader:
                loader.add([loader.build(record)])
                assert loader.finish() == 1
        else:
            first = prepare_quick_response(ctx, kb, {"name": "n", "content": {"content": "x"}})
            first["quickResponseId"], first["quickResponseArn"] = record["quickResponseId"], record["quickResponseArn"]
            session.insert_quick_response(ACCOUNT, REGION, kb_id, first if path == "update" else record)
            if path == "update":
                session.update_quick_response(ACCOUNT, REGION, kb_id, record)
        if check_stored is not None:
            check_stored(session, record)
    with store.read() as session:
        assert session.get_quick_response(ACCOUNT, REGION, kb_id, record["quickResponseId"]) == record
        assert session.list_quick_responses(ACCOUNT, REGION, kb_id, None, 10) == [record]
        plan = compile_search(
            {"queries": [{"name": "content", "values": ["word"], "operator": "CONTAINS"}]}, limit=10, after=None
        )
        assert [r for _, r in session.search_quick_responses(ACCOUNT, REGION, kb_id, plan)] == [record]


def assert_quick_response_and_knowledge_base_in_one_read(store: Any, ctx: RequestContext, kb: dict[str, Any]) -> None:
    """GetQuickResponse's one statement: both rows, the knowledge base alone, or neither."""
    from qconnect_local.operations.quick_responses import prepare_quick_response

    kb_id = kb["knowledgeBaseId"]
    record = prepare_quick_response(ctx, kb, {"name": "one read", "content": {"content": "c"}})
    with store.write() as session:
        session.insert_quick_response(ACCOUNT, REGION, kb_id, record)
    qr_id, unknown = record["quickResponseId"], ids.new_id()
    with store.read_one() as session:
        read = session.get_quick_response_and_knowledge_base
        assert read(ACCOUNT, REGION, kb_id, qr_id) == (session.get_knowledge_base(ACCOUNT, REGION, kb_id), record)
        assert read(ACCOUNT, REGION, kb_id, unknown) == (session.get_knowledge_base(ACCOUNT, REGION, kb_id), None)
        assert read(ACCOUNT, REGION, unknown, qr_id) == (None, None)
        assert read("111111111111", REGION, kb_id, qr_id) == (None, None)
