"""SearchMessageTemplates (issue 18 item 5): the quick responses' search expression semantics
(search/plan.py compiles the expression, search/reference.py evaluates it), over the message
templates' own fields.

The candidates are the knowledge base's templates, read in one go and evaluated in Python:
a knowledge base holds at most `message_templates_per_knowledge_base` of them (200 by default),
so no search index is needed. docs/message-templates.md has the fields and the choices.
"""

from __future__ import annotations

import hashlib
from typing import Any

import orjson

from qconnect_local.errors import ValidationException
from qconnect_local.operations import message_templates as mt
from qconnect_local.operations import pagination
from qconnect_local.operations.context import RequestContext
from qconnect_local.search.plan import SortKey, compile_search
from qconnect_local.search.reference import evaluate
from qconnect_local.storage.base import Record

# API field -> (column, kind) as search/plan.py wants them; the column is unused here.
FILTER_FIELDS: dict[str, tuple[str, str]] = {
    "name": ("name", "text"),
    "description": ("description", "text"),
    "channel": ("channel", "text"),
    "channelSubtype": ("channelSubtype", "text"),
    "language": ("language", "text"),
    "qualifier": ("qualifier", "list"),
    "createdTime": ("createdTime", "time"),
    "lastModifiedTime": ("lastModifiedTime", "time"),
    "lastModifiedBy": ("lastModifiedBy", "text"),
    "groupingConfiguration.criteria": ("grouping_criteria", "text"),
    "groupingConfiguration.values": ("grouping_values", "list"),
}
QUERY_FIELDS: dict[str, str] = {"name": "name", "description": "description"}
_PAGE = 1000  # templates read per store call


def _candidate(template: Record) -> Record:
    """The template as the search sees it: its draft, with the qualifiers that reach it."""
    qualifiers = [mt.LATEST] + ([mt.ACTIVE] if template.get("activeVersionNumber") else [])
    return {**template, "qualifier": qualifiers}


def _result(template: Record) -> Record:
    out = {k: v for k, v in template.items() if k != "qualifier"}
    active = template.get("activeVersionNumber")
    out["isActive"] = active is not None
    if active is not None:
        out["versionNumber"] = active
    return mt.view(out, "MessageTemplateSearchResultData")


def search_message_templates(ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
    expression = params["searchExpression"]
    digest = hashlib.sha256(orjson.dumps(expression, option=orjson.OPT_SORT_KEYS)).hexdigest()[:16]
    after = None
    token = pagination.decode_token("SearchMessageTemplates", params.get("nextToken"), ctx.settings.secret_key())
    if token is not None:
        if not isinstance(token, dict) or token.get("h") != digest:
            raise ValidationException("Invalid pagination token: it belongs to another search expression")
        after = SortKey.from_json(token.get("k"))
    plan = compile_search(
        expression, pagination.page_size(params), after, filter_fields=FILTER_FIELDS, query_fields=QUERY_FIELDS
    )
    templates: list[Record] = []
    with ctx.store.read() as session:
        kb = mt.load_kb(session, ctx, params["knowledgeBaseId"])
        seq = 0
        while True:
            rows = session.list_message_templates(ctx.account_id, ctx.region, kb["knowledgeBaseId"], seq, _PAGE)
            templates.extend(_candidate(r) for _, r in rows)
            if len(rows) < _PAGE:
                break
            seq = rows[-1][0]
    hits = evaluate(plan, templates)
    out: dict[str, Any] = {"results": [_result(record) for _, record in hits[: plan.limit]]}
    if len(hits) > plan.limit:
        out["nextToken"] = pagination.encode_token(
            "SearchMessageTemplates", {"h": digest, "k": hits[plan.limit - 1][0].to_json()}, ctx.settings.secret_key()
        )
    return out


OPERATIONS = {"SearchMessageTemplates": search_message_templates}
