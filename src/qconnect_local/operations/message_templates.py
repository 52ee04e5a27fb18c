"""Message templates in a MESSAGE_TEMPLATES knowledge base: Create/Get/Update/
UpdateMessageTemplateMetadata/Delete/ListMessageTemplates, versions (CreateMessageTemplateVersion,
ListMessageTemplateVersions, Activate/DeactivateMessageTemplate) and RenderMessageTemplate.

A template's stored record is its `$LATEST` draft plus two bookkeeping members (`_lastVersion`,
`_lastVersionSha`) that no response shows: responses are cut to the model's output shapes. A
version is an immutable snapshot of the draft's content members; its metadata (name,
description, grouping, tags) is the template's, as AWS applies metadata to every version.
docs/message-templates.md has the rules and the choices where AWS documents nothing.
"""

from __future__ import annotations

import functools
import re
from typing import Any

from qconnect_local import ids
from qconnect_local.errors import (
    ConflictException,
    ResourceNotFoundException,
    ServiceQuotaExceededException,
    ValidationException,
)
from qconnect_local.operations import idempotency, pagination, tags
from qconnect_local.operations.context import RequestContext
from qconnect_local.operations.knowledge_bases import check_tag_count, load_knowledge_base
from qconnect_local.operations.message_template_content import attribute_types, content_sha256, render
from qconnect_local.operations.message_template_urls import with_urls
from qconnect_local.operations.quick_responses import check_rules as check_quick_response_rules
from qconnect_local.protocol.model import service_model
from qconnect_local.storage.base import Record, Session

LATEST = "$LATEST"
ACTIVE = "$ACTIVE_VERSION"
# channelSubtype -> the content member it takes.
CONTENT_MEMBER = {"EMAIL": "email", "SMS": "sms", "WHATSAPP": "whatsApp", "PUSH": "push"}
_LANGUAGE_RE = re.compile(r"[a-z]{2}(_[A-Z]{2})?")
_QUALIFIED_RE = re.compile(r"(.*[a-f0-9]{12}):([A-Z0-9_$]+)")
# The members a version snapshots (the checksum's members and what follows from them).
_SNAPSHOT = (
    "content",
    "language",
    "defaultAttributes",
    "attributeTypes",
    "messageTemplateContentSha256",
    "sourceConfigurationSummary",
    "lastModifiedTime",
    "lastModifiedBy",
    "attachments",
)


@functools.cache
def _members(shape: str) -> tuple[str, ...]:
    return tuple(service_model().shape_for(shape).members)


def view(record: Record, shape: str) -> Record:
    """The record cut to an output shape of the model."""
    return {k: record[k] for k in _members(shape) if record.get(k) is not None}


def template_arn(region: str, account: str, kb_id: str, mt_id: str) -> str:
    return f"arn:aws:wisdom:{region}:{account}:message-template/{kb_id}/{mt_id}"


# -- the rules ----------------------------------------------------------------------------------


def _check_kb_type(kb: Record) -> None:
    if kb.get("knowledgeBaseType") != "MESSAGE_TEMPLATES":
        raise ValidationException(
            f"Message templates can only be used with a knowledge base of type MESSAGE_TEMPLATES; "
            f"knowledge base {kb['knowledgeBaseId']} is of type {kb.get('knowledgeBaseType')}"
        )


def _check_content(record: Record) -> None:
    """The content and sourceConfiguration members must fit the channel subtype."""
    subtype = record["channelSubtype"]
    member = CONTENT_MEMBER[subtype]
    content = record.get("content")
    if content is not None and set(content) != {member}:
        raise ValidationException(f"content of a {subtype} message template must be content.{member}")
    if subtype == "WHATSAPP":
        if "whatsApp" not in (record.get("sourceConfiguration") or {}):
            raise ValidationException("sourceConfiguration.whatsApp is required for a WHATSAPP message template")
        return
    if record.get("sourceConfiguration") is not None:
        raise ValidationException("sourceConfiguration can only be set for a WHATSAPP message template")
    if content is None:
        raise ValidationException(f"content is required for a {subtype} message template")
    if subtype == "EMAIL":
        email = content["email"]
        if not email.get("subject"):
            raise ValidationException("content.email.subject is required")
        if not (email.get("body") or {}).get("plainText") and not (email.get("body") or {}).get("html"):
            raise ValidationException("content.email.body needs plainText, html or both")
    elif subtype == "SMS" and not (content["sms"].get("body") or {}).get("plainText"):
        raise ValidationException("content.sms.body.plainText is required")


def _check_metadata(ctx: RequestContext, values: dict[str, Any]) -> None:
    language = values.get("language")
    if language is not None and not _LANGUAGE_RE.fullmatch(language):
        raise ValidationException(f"language must be a locale such as en_US, not '{language}'")
    grouping = values.get("groupingConfiguration")
    if grouping is not None:
        # The same grouping rules as quick responses (routing profile ARNs, at most 40).
        check_quick_response_rules(ctx, {"groupingConfiguration": grouping})
    check_tag_count(ctx, values.get("tags") or {})


def _normalize_grouping(record: Record) -> None:
    grouping = record.get("groupingConfiguration")
    if grouping is None:
        return
    if not grouping.get("criteria") and not grouping.get("values"):
        del record["groupingConfiguration"]
    elif "values" in grouping:
        record["groupingConfiguration"] = {**grouping, "values": list(dict.fromkeys(grouping["values"]))}


def derive(record: Record) -> None:
    """In place: the members computed from the content."""
    record["attributeTypes"] = attribute_types(record.get("content"))
    record["messageTemplateContentSha256"] = content_sha256(record)
    source = (record.get("sourceConfiguration") or {}).get("whatsApp")
    if source is not None:
        record["sourceConfigurationSummary"] = {"whatsApp": {**source, "status": "VALID"}}
    else:
        record.pop("sourceConfigurationSummary", None)


_CREATE_OPTIONAL = ("content", "description", "language", "sourceConfiguration", "defaultAttributes")


def prepare_message_template(ctx: RequestContext, kb: Record, params: dict[str, Any]) -> Record:
    """A new template record as CreateMessageTemplate makes it (benchmarks and tests load records so)."""
    if not params.get("name"):
        raise ValidationException("name is required")
    _check_metadata(ctx, params)
    now = ctx.now()
    mt_id = ids.new_id()
    record: Record = {
        "messageTemplateArn": template_arn(ctx.region, ctx.account_id, kb["knowledgeBaseId"], mt_id),
        "messageTemplateId": mt_id,
        "knowledgeBaseArn": kb["knowledgeBaseArn"],
        "knowledgeBaseId": kb["knowledgeBaseId"],
        "name": params["name"],
        "channelSubtype": params["channelSubtype"],
        "createdTime": now,
        "lastModifiedTime": now,
        "lastModifiedBy": ctx.caller_arn,
        "tags": params.get("tags") or {},
        "_lastVersion": 0,
    }
    record.update({k: params[k] for k in _CREATE_OPTIONAL if params.get(k) is not None})
    if params.get("groupingConfiguration") is not None:
        record["groupingConfiguration"] = params["groupingConfiguration"]
    _normalize_grouping(record)
    _check_content(record)
    derive(record)
    return record


# -- loading ------------------------------------------------------------------------------------


def load_kb(session: Session, ctx: RequestContext, label: str) -> Record:
    kb = load_knowledge_base(session, ctx, label)
    _check_kb_type(kb)
    return kb


def _qualifier(label: str) -> tuple[str, str | int | None]:
    """(the unqualified label, None | "$ACTIVE_VERSION" | a version number)."""
    m = _QUALIFIED_RE.fullmatch(label)
    if m is None:
        return label, None
    base, qualifier = m.group(1), m.group(2)
    if qualifier == LATEST:
        return base, None
    if qualifier == ACTIVE:
        return base, ACTIVE
    if qualifier.isdigit() and int(qualifier) >= 1:
        return base, int(qualifier)
    raise ValidationException(
        f"'{qualifier}' is not a message template qualifier: use a version number, {LATEST} or {ACTIVE}"
    )


def load(
    session: Session, ctx: RequestContext, params: dict[str, Any], qualified: bool = True
) -> tuple[Record, Record, str | int | None]:
    """(knowledge base, template, qualifier) named by the path labels (IDs or ARNs)."""
    kb = load_kb(session, ctx, params["knowledgeBaseId"])
    label = params["messageTemplateId"]
    base, qualifier = _qualifier(label)
    if not qualified and (qualifier is not None or label.endswith(":" + LATEST)):
        raise ValidationException("messageTemplateId cannot contain a qualifier for this operation")
    mt_id = ids.id_from_label(base)
    if base.startswith("arn:"):
        parsed = ids.parse_arn(base)
        if (
            parsed is None
            or parsed.resource_type != "message-template"
            or (parsed.account, parsed.region) != (ctx.account_id, ctx.region)
            or len(parsed.ids) != 2
            or parsed.ids[0] != kb["knowledgeBaseId"]
        ):
            raise ResourceNotFoundException("Message template not found", resource_name=label)
    template = session.get_message_template(ctx.account_id, ctx.region, kb["knowledgeBaseId"], mt_id)
    if template is None:
        raise ResourceNotFoundException("Message template not found", resource_name=mt_id)
    return kb, template, qualifier


def _version(session: Session, ctx: RequestContext, template: Record, number: int) -> Record:
    snapshot = session.get_message_template_version(
        ctx.account_id, ctx.region, template["knowledgeBaseId"], template["messageTemplateId"], number
    )
    if snapshot is None:
        raise ResourceNotFoundException(
            f"Message template version {number} not found",
            resource_name=f"{template['messageTemplateId']}:{number}",
        )
    return _version_record(template, snapshot)


def _version_record(template: Record, snapshot: Record) -> Record:
    """A version as ExtendedMessageTemplateData: the template's metadata, the snapshot's content."""
    number = snapshot["versionNumber"]
    out = {k: v for k, v in template.items() if k not in _SNAPSHOT and k != "activeVersionNumber"}
    out.update(snapshot)
    out["messageTemplateArn"] = f"{template['messageTemplateArn']}:{number}"
    out["isActive"] = template.get("activeVersionNumber") == number
    return out


def _resolve(session: Session, ctx: RequestContext, template: Record, qualifier: str | int | None) -> Record:
    """The draft, or the version the qualifier names."""
    if qualifier is None:
        return template
    if qualifier == ACTIVE:
        active = template.get("activeVersionNumber")
        if active is None:
            raise ResourceNotFoundException(
                "The message template has no active version",
                resource_name=f"{template['messageTemplateId']}:{ACTIVE}",
            )
        qualifier = active
    assert isinstance(qualifier, int)
    return _version(session, ctx, template, qualifier)


# -- templates ----------------------------------------------------------------------------------


def create_message_template(ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
    with ctx.store.write() as session:
        kb = load_kb(session, ctx, params["knowledgeBaseId"])
        record = prepare_message_template(ctx, kb, params)
        kb_id = kb["knowledgeBaseId"]
        token_params = {k: v for k, v in params.items() if k != "knowledgeBaseId"}
        replayed = idempotency.replay(
            session,
            ctx,
            "CreateMessageTemplate",
            kb_id,
            token_params,
            lambda mt_id: session.get_message_template(ctx.account_id, ctx.region, kb_id, mt_id),
        )
        if replayed is not None:
            return {"messageTemplate": view(replayed, "MessageTemplateData")}
        if session.message_template_name_taken(ctx.account_id, ctx.region, kb_id, record["name"]):
            raise ConflictException(f"A message template named '{record['name']}' already exists")
        limit = ctx.settings.quotas.message_templates_per_knowledge_base
        if session.count_message_templates(ctx.account_id, ctx.region, kb_id) >= limit:
            raise ServiceQuotaExceededException(
                f"The knowledge base {kb_id} has reached the limit of {limit} message templates"
            )
        session.insert_message_template(ctx.account_id, ctx.region, kb_id, record)
        session.touch_knowledge_base_content(ctx.account_id, ctx.region, kb_id, record["createdTime"])
        idempotency.remember(session, ctx, "CreateMessageTemplate", kb_id, token_params, record["messageTemplateId"])
    return {"messageTemplate": view(record, "MessageTemplateData")}


def get_message_template(ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
    with ctx.store.read() as session:
        _, template, qualifier = load(session, ctx, params)
        record = _resolve(session, ctx, template, qualifier)
    return {"messageTemplate": view(with_urls(ctx, record), "ExtendedMessageTemplateData")}


def save(session: Session, ctx: RequestContext, template: Record) -> Record:
    template["lastModifiedTime"] = max(ctx.now(), template["lastModifiedTime"])
    template["lastModifiedBy"] = ctx.caller_arn
    session.update_message_template(ctx.account_id, ctx.region, template["knowledgeBaseId"], template)
    session.touch_knowledge_base_content(
        ctx.account_id, ctx.region, template["knowledgeBaseId"], template["lastModifiedTime"]
    )
    return {"messageTemplate": view(template, "MessageTemplateData")}


def _only_latest(qualifier: str | int | None) -> None:
    if qualifier is not None:
        raise ValidationException(f"Only the {LATEST} message template can be changed: versions are immutable")


def update_message_template(ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
    _check_metadata(ctx, params)
    with ctx.store.write() as session:
        _, template, qualifier = load(session, ctx, params)
        _only_latest(qualifier)
        for member in ("content", "language", "sourceConfiguration", "defaultAttributes"):
            if member in params:
                template[member] = params[member]
        _check_content(template)
        derive(template)
        return save(session, ctx, template)


def update_message_template_metadata(ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
    _check_metadata(ctx, params)
    with ctx.store.write() as session:
        kb, template, qualifier = load(session, ctx, params)
        _only_latest(qualifier)
        name = params.get("name")
        if name is not None and name != template["name"]:
            if session.message_template_name_taken(ctx.account_id, ctx.region, kb["knowledgeBaseId"], name):
                raise ConflictException(f"A message template named '{name}' already exists")
            template["name"] = name
        for member in ("description", "groupingConfiguration"):
            if member in params:
                template[member] = params[member]
        _normalize_grouping(template)
        return save(session, ctx, template)


def delete_message_template(ctx: RequestContext, params: dict[str, Any]) -> None:
    with ctx.store.write() as session:
        kb, template, qualifier = load(session, ctx, params)
        kb_id, mt_id = kb["knowledgeBaseId"], template["messageTemplateId"]
        if qualifier == ACTIVE:
            raise ValidationException(f"Name the version to delete by its number, not {ACTIVE}")
        if isinstance(qualifier, int):
            _version(session, ctx, template, qualifier)  # 404 when there is no such version
            if template.get("activeVersionNumber") == qualifier:
                raise ConflictException(f"Version {qualifier} is the active version: deactivate it before deleting it")
            session.delete_message_template_version(ctx.account_id, ctx.region, kb_id, mt_id, qualifier)
        else:
            session.delete_message_template(ctx.account_id, ctx.region, kb_id, mt_id)
        session.touch_knowledge_base_content(ctx.account_id, ctx.region, kb_id, ctx.now())
    return None


def list_message_templates(ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
    with ctx.store.read() as session:
        kb_id = load_kb(session, ctx, params["knowledgeBaseId"])["knowledgeBaseId"]
        return pagination.seq_page(
            ctx,
            "ListMessageTemplates",
            "messageTemplateSummaries",
            params,
            lambda after, limit: session.list_message_templates(ctx.account_id, ctx.region, kb_id, after, limit),
            lambda record: view(record, "MessageTemplateSummary"),
        )


# -- versions -----------------------------------------------------------------------------------


def create_message_template_version(ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
    with ctx.store.write() as session:
        kb, template, _ = load(session, ctx, params, qualified=False)
        expected = params.get("messageTemplateContentSha256")
        current = template["messageTemplateContentSha256"]
        if expected is not None and expected != current:
            raise ConflictException(
                f"messageTemplateContentSha256 {expected} does not match the {LATEST} content ({current})"
            )
        last = int(template.get("_lastVersion") or 0)
        if last and template.get("_lastVersionSha") == current:
            # Unchanged since the last version: that version again, not a new one (AWS documents this).
            previous = session.get_message_template_version(
                ctx.account_id, ctx.region, kb["knowledgeBaseId"], template["messageTemplateId"], last
            )
            if previous is not None:
                return {"messageTemplate": view(_version_record(template, previous), "ExtendedMessageTemplateData")}
        number = last + 1
        snapshot = {k: template[k] for k in _SNAPSHOT if template.get(k) is not None}
        snapshot["versionNumber"] = number
        session.insert_message_template_version(
            ctx.account_id, ctx.region, kb["knowledgeBaseId"], template["messageTemplateId"], number, snapshot
        )
        template["_lastVersion"] = number
        template["_lastVersionSha"] = current
        session.update_message_template(ctx.account_id, ctx.region, kb["knowledgeBaseId"], template)
    return {"messageTemplate": view(_version_record(template, snapshot), "ExtendedMessageTemplateData")}


def list_message_template_versions(ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
    after = (
        pagination.decode_token("ListMessageTemplateVersions", params.get("nextToken"), ctx.settings.secret_key()) or 0
    )
    if not isinstance(after, int) or isinstance(after, bool):
        raise ValidationException("Invalid pagination token")
    limit = pagination.page_size(params)
    with ctx.store.read() as session:
        kb, template, _ = load(session, ctx, params, qualified=False)
        snapshots = session.list_message_template_versions(
            ctx.account_id, ctx.region, kb["knowledgeBaseId"], template["messageTemplateId"], after, limit + 1
        )
    summaries = [view(_version_record(template, s), "MessageTemplateVersionSummary") for s in snapshots[:limit]]
    out: dict[str, Any] = {"messageTemplateVersionSummaries": summaries}
    if len(snapshots) > limit:
        out["nextToken"] = pagination.encode_token(
            "ListMessageTemplateVersions", snapshots[limit - 1]["versionNumber"], ctx.settings.secret_key()
        )
    return out


def activate_message_template(ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
    number = params["versionNumber"]
    with ctx.store.write() as session:
        kb, template, _ = load(session, ctx, params, qualified=False)
        _version(session, ctx, template, number)
        if template.get("activeVersionNumber") != number:
            # The previously active version, if any, is deactivated by the same change.
            template["activeVersionNumber"] = number
            session.update_message_template(ctx.account_id, ctx.region, kb["knowledgeBaseId"], template)
    return _activation(template, number)


def deactivate_message_template(ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
    number = params["versionNumber"]
    with ctx.store.write() as session:
        kb, template, _ = load(session, ctx, params, qualified=False)
        _version(session, ctx, template, number)
        if template.get("activeVersionNumber") != number:
            raise ConflictException(f"Version {number} of the message template is not the active version")
        del template["activeVersionNumber"]
        session.update_message_template(ctx.account_id, ctx.region, kb["knowledgeBaseId"], template)
    return _activation(template, number)


def _activation(template: Record, number: int) -> dict[str, Any]:
    return {
        "messageTemplateArn": template["messageTemplateArn"],
        "messageTemplateId": template["messageTemplateId"],
        "versionNumber": number,
    }


# -- rendering ----------------------------------------------------------------------------------


def render_message_template(ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
    with ctx.store.read() as session:
        _, template, qualifier = load(session, ctx, params)
        record = _resolve(session, ctx, template, qualifier)
    out: dict[str, Any] = {"attributesNotInterpolated": []}
    if record.get("content") is not None:
        content, missing = render(record["content"], record.get("defaultAttributes"), params.get("attributes"))
        out["content"] = content
        out["attributesNotInterpolated"] = missing
    if record.get("sourceConfigurationSummary") is not None:
        out["sourceConfigurationSummary"] = record["sourceConfigurationSummary"]
    if record.get("attachments"):
        out["attachments"] = with_urls(ctx, record)["attachments"]
    return out


# -- tags ---------------------------------------------------------------------------------------


def _tag_load(session: Session, ctx: RequestContext, resource_ids: list[str]) -> Record | None:
    if len(resource_ids) != 2:
        return None
    return session.get_message_template(ctx.account_id, ctx.region, resource_ids[0], resource_ids[1])


def _tag_save(session: Session, ctx: RequestContext, record: Record) -> None:
    session.update_message_template(ctx.account_id, ctx.region, record["knowledgeBaseId"], record)


tags.TAGGABLE["message-template"] = (_tag_load, _tag_save)

OPERATIONS = {
    "CreateMessageTemplate": create_message_template,
    "GetMessageTemplate": get_message_template,
    "UpdateMessageTemplate": update_message_template,
    "UpdateMessageTemplateMetadata": update_message_template_metadata,
    "DeleteMessageTemplate": delete_message_template,
    "ListMessageTemplates": list_message_templates,
    "CreateMessageTemplateVersion": create_message_template_version,
    "ListMessageTemplateVersions": list_message_template_versions,
    "ActivateMessageTemplate": activate_message_template,
    "DeactivateMessageTemplate": deactivate_message_template,
    "RenderMessageTemplate": render_message_template,
}
