"""Builds an operation's input dict from path labels, query string, headers and JSON body.

Types of query and header members are converted from text here; anything that does not convert
is left as text so that validation reports it in AWS's words.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import orjson
from botocore.model import OperationModel, Shape

from qconnect_local.errors import SerializationException


def parse_input(
    op: OperationModel,
    labels: Mapping[str, str],
    query: Mapping[str, list[str]],
    headers: Mapping[str, str],
    body: bytes,
) -> dict[str, Any]:
    shape = op.input_shape
    if shape is None:
        return {}
    params: dict[str, Any] = {}
    has_body_members = False
    for name, member in shape.members.items():
        location = member.serialization.get("location")
        wire = member.serialization.get("name", name)
        if location == "uri":
            if wire in labels:
                params[name] = labels[wire]
        elif location == "querystring":
            if member.type_name == "map":
                params[name] = {k: v[-1] for k, v in query.items()}
            elif wire in query:
                values = query[wire]
                params[name] = (
                    [_convert(member.member, v) for v in values]
                    if member.type_name == "list"
                    else _convert(member, values[-1])
                )
        elif location == "header":
            if wire.lower() in headers:
                params[name] = _convert(member, headers[wire.lower()])
        else:
            has_body_members = True
    if has_body_members and body.strip():
        document = parse_json(body)
        if not isinstance(document, dict):
            raise SerializationException("Expected a JSON object as the request body")
        for name, member in shape.members.items():
            if member.serialization.get("location") is None:
                wire = member.serialization.get("name", name)
                if wire in document and document[wire] is not None:
                    params[name] = _prune(member, document[wire])
    return params


# Deeper than any input shape of the model needs; a bound keeps every later walk (validation,
# logging, orjson's 254-level limit when dumping) away from hostile nesting.
MAX_JSON_DEPTH = 64


def parse_json(body: bytes) -> Any:
    try:
        document = orjson.loads(body)
    except orjson.JSONDecodeError as exc:
        raise SerializationException(f"Could not parse the request body as JSON: {exc}") from None
    if _too_deep(document, MAX_JSON_DEPTH):
        raise SerializationException(f"The request body is nested more than {MAX_JSON_DEPTH} levels deep")
    return document


def _too_deep(document: Any, limit: int) -> bool:
    stack = [(document, 1)]
    while stack:
        value, depth = stack.pop()
        if isinstance(value, dict):
            children: Any = value.values()
        elif isinstance(value, list):
            children = value
        else:
            continue
        if depth > limit:
            return True
        stack.extend((child, depth + 1) for child in children if isinstance(child, (dict, list)))
    return False


def _prune(shape: Shape, value: Any) -> Any:
    """The value with the members the model does not have dropped, at every level (AWS ignores
    them; they must not be stored). Values of the wrong type are left for validation to report."""
    kind = shape.type_name
    if kind == "structure" and isinstance(value, dict) and not shape.metadata.get("document"):
        out = {}
        for name, member in shape.members.items():
            wire = member.serialization.get("name", name)
            if wire in value:
                out[name] = _prune(member, value[wire])
        return out
    if kind == "list" and isinstance(value, list):
        member = shape.member
        if member.type_name in ("structure", "list", "map"):
            return [_prune(member, item) for item in value]
        return value
    if kind == "map" and isinstance(value, dict):
        item_shape = shape.value
        if item_shape.type_name in ("structure", "list", "map"):
            return {k: _prune(item_shape, v) for k, v in value.items()}
        return value
    return value


def _convert(shape: Shape, text: str) -> Any:
    kind = shape.type_name
    if kind in ("integer", "long"):
        try:
            return int(text)
        except ValueError:
            return text
    if kind == "boolean":
        lowered = text.lower()
        if lowered in ("true", "false"):
            return lowered == "true"
        return text
    return text
