"""SearchMessageTemplates (issue 18 item 5): the quick responses' search expression semantics
(search/plan.py compiles the expression over the templates' fields), run by the store's own
search engine, the one quick responses use (storage/sqlite/search/, storage/postgres/search.py).
search/reference.py is the specification both are tested against. docs/message-templates.md
has the fields and the choices.
"""

from __future__ import annotations

import hashlib
from typing import Any

import orjson

from qconnect_local.errors import ValidationException
from qconnect_local.operations import message_templates as mt
from qconnect_local.operations import pagination
from qconnect_local.operations.context import RequestContext
from qconnect_local.search.plan import (
    MESSAGE_TEMPLATE_FILTER_FIELDS,
    MESSAGE_TEMPLATE_QUERY_FIELDS,
    SortKey,
    compile_search,
)
from qconnect_local.storage.base import Record


def _result(template: Record) -> Record:
    out = dict(template)
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
        expression,
        pagination.page_size(params),
        after,
        filter_fields=MESSAGE_TEMPLATE_FILTER_FIELDS,
        query_fields=MESSAGE_TEMPLATE_QUERY_FIELDS,
    )
    with ctx.store.read() as session:
        kb = mt.load_kb(session, ctx, params["knowledgeBaseId"])
        hits = session.search_message_templates(ctx.account_id, ctx.region, kb["knowledgeBaseId"], plan)
    out: dict[str, Any] = {"results": [_result(record) for _, record in hits[: plan.limit]]}
    if len(hits) > plan.limit:
        out["nextToken"] = pagination.encode_token(
            "SearchMessageTemplates", {"h": digest, "k": hits[plan.limit - 1][0].to_json()}, ctx.settings.secret_key()
        )
    return out


OPERATIONS = {"SearchMessageTemplates": search_message_templates}
