"""A quick-response record and the columns both stores keep it in (SQLite and PostgreSQL).

The columns hold every member that search filters, orders or matches on, and `data` holds only
what the columns cannot give back (`data_extras`): the record is rebuilt from the columns and the
knowledge base's ids (`record_from_columns`). List members are '\\x1f'-delimited text
('\\x1fChat\\x1fEmail\\x1f'), so that EQUALS/PREFIX filters on them are one `instr`/`strpos`, and
an empty list is NULL like an absent one (`data` then keeps the empty list).

Rows written before `data` was slimmed hold the whole record (without `contents`) there: laid
over the rebuilt record, it gives the same one, so old databases need no rewrite.
"""

from __future__ import annotations

from typing import Any

from qconnect_local import ids

Record = dict[str, Any]

SEP = "\x1f"

# Members that `record_from_columns` rebuilds from a row's columns and its knowledge base.
REBUILT = frozenset(
    {
        "quickResponseId",
        "quickResponseArn",
        "knowledgeBaseId",
        "knowledgeBaseArn",
        "name",
        "contentType",
        "contents",
        "isActive",
        "createdTime",
        "lastModifiedTime",
        "lastModifiedBy",
        "description",
        "shortcutKey",
        "channels",
        "language",
        "groupingConfiguration",
    }
)


def encode_list(values: list[str] | None) -> str | None:
    return SEP + SEP.join(values) + SEP if values else None


def decode_list(text: str) -> list[str]:
    return text[1:-1].split(SEP)


def grouping_from(criteria: str | None, values: str | None) -> dict[str, Any] | None:
    """groupingConfiguration from its two columns (None when both are NULL)."""
    if criteria is None and values is None:
        return None
    grouping: dict[str, Any] = {}
    if criteria is not None:
        grouping["criteria"] = criteria
    if values is not None:
        grouping["values"] = decode_list(values)
    return grouping


def data_extras(record: Record, channels: str | None, criteria: str | None, values: str | None) -> Record:
    """What `data` keeps of a record whose list columns are `channels`, `criteria`, `values`:
    the members the columns do not give back, defaults left out (status CREATED, no tags)."""
    extras = {k: record[k] for k in record.keys() - REBUILT}
    if extras.get("status") == "CREATED":
        del extras["status"]
    if not extras.get("tags", True):
        del extras["tags"]
    # Empty lists are stored as NULL: keep such members here, as they were.
    if "channels" in record and channels is None:
        extras["channels"] = record["channels"]
    grouping = record.get("groupingConfiguration")
    if grouping is not None and grouping_from(criteria, values) != grouping:
        extras["groupingConfiguration"] = grouping
    return extras


def record_from_columns(
    account: str,
    region: str,
    kb_id: str,
    qr_id: str,
    name: str,
    shortcut: str | None,
    description: str | None,
    content: str,
    markdown: str | None,
    content_type: str,
    is_active: int,
    language: str | None,
    channels: str | None,
    criteria: str | None,
    values: str | None,
    created: float,
    modified: float,
    modified_by: str | None,
    extras: Record | None,
) -> Record:
    """The QuickResponseData record of a row (`extras`: its `data`, parsed)."""
    record: Record = {
        "quickResponseId": qr_id,
        "quickResponseArn": ids.quick_response_arn(region, account, kb_id, qr_id),
        "knowledgeBaseId": kb_id,
        "knowledgeBaseArn": ids.knowledge_base_arn(region, account, kb_id),
        "name": name,
        "contentType": content_type,
        "status": "CREATED",
        "contents": {
            "plainText": {"content": content},
            "markdown": {"content": content if markdown is None else markdown},
        },
        "isActive": bool(is_active),
        "createdTime": created,
        "lastModifiedTime": modified,
        "tags": {},
    }
    if modified_by is not None:
        record["lastModifiedBy"] = modified_by
    if description is not None:
        record["description"] = description
    if shortcut is not None:
        record["shortcutKey"] = shortcut
    if channels is not None:
        record["channels"] = decode_list(channels)
    if language is not None:
        record["language"] = language
    grouping = grouping_from(criteria, values)
    if grouping is not None:
        record["groupingConfiguration"] = grouping
    if extras:
        record.update(extras)
    return record


# The columns `record_columns` gives, in order; a store's row adds `data` and its search columns.
COLUMNS = (
    "kb",
    "id",
    "name",
    "shortcut_key",
    "description",
    "content",
    "markdown",
    "content_type",
    "is_active",
    "language",
    "channels",
    "grouping_criteria",
    "grouping_values",
    "created_time",
    "modified_time",
    "modified_by",
)


def record_columns(kb_seq: int, record: Record) -> tuple[Any, ...]:
    """The values of COLUMNS for a record of the knowledge base whose row is `kb_seq`: the
    searchable fields are [2:6] (name, shortcut key, description, content), the list columns
    [10:13] (what `data_extras` takes)."""
    get = record.get
    contents = record["contents"]
    plain = contents["plainText"]["content"]
    markdown = contents["markdown"]["content"]
    grouping = get("groupingConfiguration") or {}
    return (
        kb_seq,
        record["quickResponseId"],
        record["name"],
        get("shortcutKey"),
        get("description"),
        plain,
        None if markdown == plain else markdown,
        record["contentType"],
        1 if get("isActive", True) else 0,
        get("language"),
        encode_list(get("channels")),
        grouping.get("criteria"),
        encode_list(grouping.get("values")),
        record["createdTime"],
        record["lastModifiedTime"],
        get("lastModifiedBy"),
    )
