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
                    params[name] = document[wire]
    return params


def parse_json(body: bytes) -> Any:
    try:
        return orjson.loads(body)
    except orjson.JSONDecodeError as exc:
        raise SerializationException(f"Could not parse the request body as JSON: {exc}") from None


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
