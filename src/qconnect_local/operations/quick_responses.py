"""CreateQuickResponse, GetQuickResponse, UpdateQuickResponse, DeleteQuickResponse,
ListQuickResponses and SearchQuickResponses.

The rules of a quick response that need no database live in one place, `check_rules` (used by
`prepare_quick_response` for creates and imports, and by UpdateQuickResponse on the merged
record), so an imported row, a created and an updated quick response obey the same rules.
"""

from __future__ import annotations

import hashlib
import re
from typing import Any

import orjson
from markdown_it import MarkdownIt

from qconnect_local import ids
from qconnect_local.errors import ResourceNotFoundException, ServiceQuotaExceededException, ValidationException
from qconnect_local.operations import idempotency, pagination
from qconnect_local.operations.context import RequestContext
from qconnect_local.operations.knowledge_bases import (
    check_tag_count,
    found_knowledge_base,
    knowledge_base_id,
    load_knowledge_base,
)
from qconnect_local.search.interpolation import interpolate
from qconnect_local.search.plan import SortKey, compile_search
from qconnect_local.storage.base import Record, Session

PLAIN = "application/x.quickresponse;format=plain"
MARKDOWN = "application/x.quickresponse;format=markdown"
_CONTENT_TYPE_RE = re.compile(r"application/x\.quickresponse;format=(plain|markdown)")
# The locales the model documents for LanguageCode.
LANGUAGES = frozenset(
    ["de_DE", "en_US", "es_ES", "fr_FR", "id_ID", "it_IT", "ja_JP", "ko_KR", "pt_BR", "zh_CN", "zh_TW"]
)
# Channel values AWS accepts (CloudFormation enum, AmazonConnectSDK types).
CHANNELS = ("Chat", "Email")
GROUPING_CRITERIA = ("RoutingProfileArn",)
MAX_GROUPING_VALUES = 40  # "Assigned routing profiles per quick response"
_GENERIC_ARN_RE = re.compile(r"arn:[a-z-]+?:[a-z-]+?:[a-z0-9-]*?:([0-9]{12})?:[a-zA-Z0-9-:/]+")

_MD = MarkdownIt("commonmark").enable(["table", "strikethrough"])


# -- markdown -> plain text ---------------------------------------------------------------------


def markdown_to_text(source: str) -> str:
    """The text of a markdown document with the markup stripped: one line per paragraph, heading,
    list item, table row or code line; link and image text kept, their targets dropped; raw HTML
    dropped. Parsing is markdown-it-py's CommonMark parser (plus tables and strikethrough)."""
    lines: list[str] = []
    row: list[str] | None = None
    for token in _MD.parse(source):
        if token.type == "tr_open":
            row = []
        elif token.type == "tr_close":
            lines.append(" | ".join(cell for cell in (row or []) if cell))
            row = None
        elif token.type == "inline":
            text = _inline_text(token.children or [])
            if row is not None:
                row.append(text)
            elif text:
                lines.append(text)
        elif token.type in ("fence", "code_block"):
            lines.extend(token.content.rstrip("\n").split("\n"))
    return "\n".join(line.rstrip() for line in lines).strip()


def _inline_text(children: list[Any]) -> str:
    out: list[str] = []
    for child in children:
        if child.type in ("text", "code_inline"):
            out.append(child.content)
        elif child.type in ("softbreak", "hardbreak"):
            out.append("\n")
        elif child.type == "image":
            out.append(_inline_text(child.children or []))
    return "".join(out)


def render_contents(raw: str, content_type: str) -> dict[str, Any]:
    """`contents` with both members: plainText is the text itself for the plain
    format and the rendered text for markdown; markdown is the raw text in both cases."""
    plain = raw
    if content_type == MARKDOWN:
        # A document that is markup only ("---") renders to nothing: keep the raw text then,
        # since plainText must not be empty.
        plain = markdown_to_text(raw) or raw
    return {"plainText": {"content": plain}, "markdown": {"content": raw}}


# -- the rules ----------------------------------------------------------------------------------


def check_knowledge_base_type(kb: Record) -> None:
    if kb.get("knowledgeBaseType") != "QUICK_RESPONSES":
        raise ValidationException(
            f"Quick responses can only be used with a knowledge base of type QUICK_RESPONSES; "
            f"knowledge base {kb['knowledgeBaseId']} is of type {kb.get('knowledgeBaseType')}"
        )


def check_rules(ctx: RequestContext, values: dict[str, Any]) -> None:
    """Every rule of a quick response's members that needs no database (the model's own
    constraints are checked by the protocol layer before this)."""
    content_type = values.get("contentType", PLAIN)
    if not _CONTENT_TYPE_RE.fullmatch(content_type):
        raise ValidationException(f"contentType must be {PLAIN} or {MARKDOWN}, not '{content_type}'")
    language = values.get("language")
    if language is not None and language not in LANGUAGES:
        raise ValidationException(
            f"language '{language}' is not supported; supported values: {', '.join(sorted(LANGUAGES))}"
        )
    for channel in values.get("channels") or ():
        if channel not in CHANNELS:
            raise ValidationException(f"channel '{channel}' is not supported; supported values: {', '.join(CHANNELS)}")
    grouping = values.get("groupingConfiguration")
    if grouping is not None:
        criteria = grouping.get("criteria")
        group_values = grouping.get("values") or []
        if criteria is None and group_values:
            raise ValidationException("groupingConfiguration.criteria is required when values are given")
        if criteria is not None and criteria not in GROUPING_CRITERIA:
            raise ValidationException(f"groupingConfiguration.criteria must be one of: {', '.join(GROUPING_CRITERIA)}")
        if len(group_values) > MAX_GROUPING_VALUES:
            raise ValidationException(
                f"groupingConfiguration.values can have at most {MAX_GROUPING_VALUES} values, not {len(group_values)}"
            )
        for value in group_values:
            if not _GENERIC_ARN_RE.fullmatch(value):
                raise ValidationException(
                    f"groupingConfiguration.values must be ARNs (routing profile ARNs for criteria {criteria})"
                )
    check_tag_count(ctx, values.get("tags") or {})


def _dedupe(values: list[str]) -> list[str]:
    return list(dict.fromkeys(values))


def _normalize(values: dict[str, Any]) -> None:
    """In place: duplicates dropped from list members, an empty groupingConfiguration dropped."""
    if "channels" in values:
        values["channels"] = _dedupe(values["channels"])
    grouping = values.get("groupingConfiguration")
    if grouping is not None:
        if not grouping.get("criteria") and not grouping.get("values"):
            del values["groupingConfiguration"]
        elif "values" in grouping:
            values["groupingConfiguration"] = {**grouping, "values": _dedupe(grouping["values"])}


_OPTIONAL = ("description", "shortcutKey", "groupingConfiguration", "channels", "language")


def prepare_quick_response(ctx: RequestContext, kb: Record, params: dict[str, Any]) -> Record:
    """The full stored record of a new quick response, from CreateQuickResponse input.

    No database access. `params` has already passed the protocol layer's validation of the
    CreateQuickResponse input shape; this applies every other rule that needs no database
    (knowledge base type, contentType, language, channels, groupingConfiguration, tag count),
    renders `contents`, fills the defaults (contentType plain, isActive true, status CREATED) and
    sets ids, ARNs, createdTime/lastModifiedTime (`ctx.now()`) and lastModifiedBy (the caller).
    Raises ValidationException with a message naming the member otherwise. Uniqueness and the
    quota need the database and are the caller's (see `create_quick_response`).
    """
    check_knowledge_base_type(kb)
    check_rules(ctx, params)
    content_type = params.get("contentType", PLAIN)
    now = ctx.now()
    qr_id = ids.new_id()
    kb_id = kb["knowledgeBaseId"]
    record: Record = {
        "quickResponseId": qr_id,
        "quickResponseArn": ids.quick_response_arn(ctx.region, ctx.account_id, kb_id, qr_id),
        "knowledgeBaseId": kb_id,
        "knowledgeBaseArn": kb["knowledgeBaseArn"],
        "name": params["name"],
        "contentType": content_type,
        "status": "CREATED",
        "contents": render_contents(params["content"]["content"], content_type),
        "isActive": params.get("isActive", True),
        "createdTime": now,
        "lastModifiedTime": now,
        "lastModifiedBy": ctx.caller_arn,
        "tags": params.get("tags") or {},
    }
    record.update({k: params[k] for k in _OPTIONAL if params.get(k) is not None})
    _normalize(record)
    return record


# -- loading ------------------------------------------------------------------------------------


def _load_kb(session: Session, ctx: RequestContext, label: str) -> Record:
    kb = load_knowledge_base(session, ctx, label)
    check_knowledge_base_type(kb)
    return kb


def _quick_response_id(ctx: RequestContext, label: str, kb_id: str) -> str:
    """The ID a quick response's ID-or-ARN label names in knowledge base `kb_id`, or
    ResourceNotFoundException for an ARN of anything else."""
    if label.startswith("arn:"):
        parsed = ids.parse_arn(label)
        if (
            parsed is None
            or parsed.resource_type != "quick-response"
            or (parsed.account, parsed.region) != (ctx.account_id, ctx.region)
            or len(parsed.ids) != 2
            or parsed.ids[0] != kb_id
        ):
            raise ResourceNotFoundException("Quick response not found", resource_name=label)
    return ids.id_from_label(label)


def _found(record: Record | None, qr_id: str) -> Record:
    if record is None:
        raise ResourceNotFoundException("Quick response not found", resource_name=qr_id)
    return record


def _load(session: Session, ctx: RequestContext, params: dict[str, Any]) -> tuple[Record, Record]:
    """(knowledge base, quick response) named by the path labels (IDs or ARNs)."""
    kb = _load_kb(session, ctx, params["knowledgeBaseId"])
    kb_id = kb["knowledgeBaseId"]
    qr_id = _quick_response_id(ctx, params["quickResponseId"], kb_id)
    return kb, _found(session.get_quick_response(ctx.account_id, ctx.region, kb_id, qr_id), qr_id)


# -- operations ---------------------------------------------------------------------------------


def create_quick_response(ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
    with ctx.store.write() as session:
        kb = load_knowledge_base(session, ctx, params["knowledgeBaseId"])
        record = prepare_quick_response(ctx, kb, params)
        kb_id = kb["knowledgeBaseId"]
        token_params = {k: v for k, v in params.items() if k != "knowledgeBaseId"}
        replayed = idempotency.replay(
            session,
            ctx,
            "CreateQuickResponse",
            kb_id,
            token_params,
            lambda qr_id: session.get_quick_response(ctx.account_id, ctx.region, kb_id, qr_id),
        )
        if replayed is not None:
            return {"quickResponse": replayed}
        limit = ctx.settings.quotas.quick_responses_per_knowledge_base
        if session.count_quick_responses(ctx.account_id, ctx.region, kb_id, at_most=limit) >= limit:
            raise ServiceQuotaExceededException(
                f"The knowledge base {kb_id} has reached the limit of {limit} quick responses"
            )
        session.insert_quick_response(ctx.account_id, ctx.region, kb_id, record)
        session.touch_knowledge_base_content(ctx.account_id, ctx.region, kb_id, record["createdTime"])
        idempotency.remember(session, ctx, "CreateQuickResponse", kb_id, token_params, record["quickResponseId"])
    return {"quickResponse": record}


def get_quick_response(ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
    # `_load`'s checks in its order, on one statement that reads both rows (one snapshot).
    kb_id = knowledge_base_id(ctx, params["knowledgeBaseId"])
    label = params["quickResponseId"]
    with ctx.store.read_one() as session:
        kb, record = session.get_quick_response_and_knowledge_base(
            ctx.account_id, ctx.region, kb_id, ids.id_from_label(label)
        )
    check_knowledge_base_type(found_knowledge_base(kb, kb_id))
    qr_id = _quick_response_id(ctx, label, kb_id)
    return {"quickResponse": _found(record, qr_id)}


_REMOVABLE = {
    "description": "removeDescription",
    "shortcutKey": "removeShortcutKey",
    "groupingConfiguration": "removeGroupingConfiguration",
}
_REPLACEABLE = ("name", "contentType", "isActive", "channels", "language", *_REMOVABLE)


def update_quick_response(ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
    for member, remove in _REMOVABLE.items():
        if params.get(remove) and member in params:
            raise ValidationException(f"{member} and {remove} cannot both be set")
    with ctx.store.write() as session:
        kb, record = _load(session, ctx, params)
        updated = dict(record)
        for member in _REPLACEABLE:
            if member in params:
                updated[member] = params[member]
        for member, remove in _REMOVABLE.items():
            if params.get(remove):
                updated.pop(member, None)
        check_rules(ctx, updated)
        _normalize(updated)
        if "content" in params or updated["contentType"] != record["contentType"]:
            raw = params["content"]["content"] if "content" in params else record["contents"]["markdown"]["content"]
            updated["contents"] = render_contents(raw, updated["contentType"])
        now = max(ctx.now(), record["lastModifiedTime"])
        updated["lastModifiedTime"] = now
        updated["lastModifiedBy"] = ctx.caller_arn
        session.update_quick_response(ctx.account_id, ctx.region, kb["knowledgeBaseId"], updated)
        session.touch_knowledge_base_content(ctx.account_id, ctx.region, kb["knowledgeBaseId"], now)
    return {"quickResponse": updated}


def delete_quick_response(ctx: RequestContext, params: dict[str, Any]) -> None:
    with ctx.store.write() as session:
        kb, record = _load(session, ctx, params)
        session.delete_quick_response(ctx.account_id, ctx.region, kb["knowledgeBaseId"], record["quickResponseId"])
        session.touch_knowledge_base_content(ctx.account_id, ctx.region, kb["knowledgeBaseId"], ctx.now())
    return None


def list_quick_responses(ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
    after = pagination.decode_token("ListQuickResponses", params.get("nextToken"), ctx.settings.secret_key())
    if after is not None and not isinstance(after, str):
        raise ValidationException("Invalid pagination token")
    limit = pagination.page_size(params)
    with ctx.store.read() as session:
        kb = _load_kb(session, ctx, params["knowledgeBaseId"])
        records = session.list_quick_responses(ctx.account_id, ctx.region, kb["knowledgeBaseId"], after, limit + 1)
    out: dict[str, Any] = {"quickResponseSummaries": records[:limit]}
    if len(records) > limit:
        out["nextToken"] = pagination.encode_token(
            "ListQuickResponses", records[limit - 1]["name"], ctx.settings.secret_key()
        )
    return out


def _expression_hash(expression: dict[str, Any]) -> str:
    return hashlib.sha256(orjson.dumps(expression, option=orjson.OPT_SORT_KEYS)).hexdigest()[:16]


def search_quick_responses(ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
    """Compiles the expression to a plan (search/plan.py has the rules), runs it in the store,
    interpolates attributes into the page. The token is the last result's sort key, bound to
    the expression it came from."""
    expression = params["searchExpression"]
    digest = _expression_hash(expression)
    after = None
    token = pagination.decode_token("SearchQuickResponses", params.get("nextToken"), ctx.settings.secret_key())
    if token is not None:
        if not isinstance(token, dict) or token.get("h") != digest:
            raise ValidationException("Invalid pagination token: it belongs to another search expression")
        after = SortKey.from_json(token.get("k"))
    plan = compile_search(expression, pagination.page_size(params), after)
    with ctx.store.read() as session:
        kb = _load_kb(session, ctx, params["knowledgeBaseId"])
        hits = session.search_quick_responses(ctx.account_id, ctx.region, kb["knowledgeBaseId"], plan)
    attributes = params.get("attributes")
    out: dict[str, Any] = {"results": [interpolate(record, attributes) for _, record in hits[: plan.limit]]}
    if len(hits) > plan.limit:
        out["nextToken"] = pagination.encode_token(
            "SearchQuickResponses", {"h": digest, "k": hits[plan.limit - 1][0].to_json()}, ctx.settings.secret_key()
        )
    return out


OPERATIONS = {
    "CreateQuickResponse": create_quick_response,
    "GetQuickResponse": get_quick_response,
    "UpdateQuickResponse": update_quick_response,
    "DeleteQuickResponse": delete_quick_response,
    "ListQuickResponses": list_quick_responses,
    "SearchQuickResponses": search_quick_responses,
}
