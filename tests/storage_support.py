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
    {"groupingConfiguration": {"criteria": "RoutingProfileArn", "values": [
        f"arn:aws:connect:us-east-1:123456789012:instance/i/routing-profile/{p}" for p in "ab"]}},
    {"tags": {"team": "billing"}, "contentType": "application/x.quickresponse;format=markdown"},
]


def new_knowledge_base(store: Any, settings: Settings) -> tuple[RequestContext, dict[str, Any]]:
    """(a caller's context, a new QUICK_RESPONSES knowledge base in `store`)."""
    ctx = RequestContext(ACCOUNT, REGION, f"arn:aws:iam::{ACCOUNT}:root", store, settings)
    kb_id = ids.new_id()
    kb = {"knowledgeBaseId": kb_id, "knowledgeBaseArn": ids.knowledge_base_arn(REGION, ACCOUNT, kb_id),
          "name": "kb", "knowledgeBaseType": "QUICK_RESPONSES", "status": "ACTIVE", "tags": {}, "createdTime": 1.0}
    with store.write() as session:
        session.insert_knowledge_base(ACCOUNT, REGION, kb)
    return ctx, kb
