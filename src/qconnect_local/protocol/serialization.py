"""Turns an operation's output dict into the rest-json response, and errors into the wire form.

Output is walked along the output shape: members the shape does not have are dropped, absent
members are omitted, required lists are always present (`[]`), timestamps go out as epoch seconds.
Errors carry `x-amzn-ErrorType` (the code botocore maps to its exception class) and a JSON body
`{"message": ...}` plus the modeled members (`resourceName`).
"""

from __future__ import annotations

import datetime as dt
import functools
from typing import Any

import orjson
from botocore.model import OperationModel, Shape

from qconnect_local.errors import ServiceError
from qconnect_local.protocol.model import error_statuses

JSON = "application/json"


def serialize_output(op: OperationModel, output: dict[str, Any] | None) -> tuple[int, bytes]:
    status = int(op.http.get("responseCode", 200))
    shape = op.output_shape
    if status == 204:
        return status, b""
    if shape is None:
        return status, b"{}"
    body = _structure(shape, output or {})
    return status, orjson.dumps(body)


def _value(shape: Shape, value: Any) -> Any:
    kind = shape.type_name
    if kind == "structure":
        return _structure(shape, value)
    if kind == "list":
        return [_value(shape.member, v) for v in value]
    if kind == "map":
        return {k: _value(shape.value, v) for k, v in value.items()}
    if kind == "timestamp" and isinstance(value, dt.datetime):
        return value.timestamp()
    return value


# Member kinds whose values go out as they are (no walk needed).
_SCALARS = frozenset({"string", "integer", "long", "boolean", "float", "double", "timestamp"})


def _plain_collection(shape: Shape) -> bool:
    """A list or map of strings, numbers or booleans: it goes out as it is (nothing to drop)."""
    if shape.type_name == "list":
        element = shape.member
    elif shape.type_name == "map":
        element = shape.value
    else:
        return False
    return element.type_name in _SCALARS and element.type_name != "timestamp"


@functools.cache
def _plan(shape: Shape) -> tuple[tuple[str, str, Shape | None, bool], ...]:
    """Per body member: (name, wire name, shape to walk or None for scalars, required list)."""
    required = set(shape.required_members)
    plan = []
    for name, member in shape.members.items():
        if member.serialization.get("location"):
            continue  # headers/URI members are not part of the JSON body
        walk = None if member.type_name in _SCALARS or _plain_collection(member) else member
        if member.type_name == "timestamp":
            walk = member  # may be a datetime
        plan.append(
            (name, member.serialization.get("name", name), walk, name in required and member.type_name == "list")
        )
    return tuple(plan)


def _structure(shape: Shape, value: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for name, wire, walk, required_list in _plan(shape):
        v = value.get(name)
        if v is None:
            if required_list:
                out[wire] = []
            continue
        out[wire] = v if walk is None else _value(walk, v)
    return out


_STATUS = error_statuses()


def serialize_error(error: ServiceError) -> tuple[int, dict[str, str], bytes]:
    status = error.status if getattr(error, "exact_status", False) else _STATUS.get(error.code, error.status)
    body = {"message": error.message, **error.members}
    headers = {"x-amzn-errortype": error.code}
    return status, headers, orjson.dumps(body)
