"""Server-side validation of what botocore does not check on the client.

botocore checks required members, types and `min` before sending; it does not check `max`,
`pattern` or `enum`. A raw HTTP client checks nothing, so everything is checked
here and reported the way AWS's services report it:

    1 validation error detected: Value 'x' at 'name' failed to satisfy constraint:
    Member must have length less than or equal to 100

Patterns are matched against the whole value, except the Name pattern
`[a-zA-Z0-9\\s_.,-]+.*` where only the first character is constrained, which `fullmatch` of the
model's pattern already expresses. A `sensitive` member's value is never echoed.
"""

from __future__ import annotations

import functools
import re
from typing import Any

from botocore.model import Shape, StructureShape

from qconnect_local.errors import ValidationException

# How much of an invalid value an error message quotes.
MAX_ECHOED_CHARS = 256


# Java's Unicode classes, which Python's re lacks (AttachmentFileName uses them inside a class;
# \w is wider than \p{L} but that class allows digits and "_" anyway).
_UNICODE_CLASSES = {r"\p{L}": r"\w", r"\p{N}": r"\d", r"\p{M}": r"\u0300-\u036f\u1ab0-\u1aff\u20d0-\u20ff\ufe20-\ufe2f"}


@functools.cache
def _regex(pattern: str) -> re.Pattern[str]:
    for java, python in _UNICODE_CLASSES.items():
        pattern = pattern.replace(java, python)
    return re.compile(pattern)


def validate(shape: StructureShape | None, params: dict[str, Any]) -> None:
    if shape is None:
        return
    failures: list[str] = []
    _check_structure(shape, params, "", failures, top=True)
    if failures:
        raise ValidationException.from_failures(failures)


def _describe(value: Any, path: str, sensitive: bool) -> str:
    where = f" at '{path}'" if path else ""
    if value is None:
        return f"Value null{where}"
    if sensitive or isinstance(value, (dict, list)):
        return f"Value{where}"
    shown = str(value).lower() if isinstance(value, bool) else str(value)
    if len(shown) > MAX_ECHOED_CHARS:  # a 9 MB invalid value must not make a 9 MB error
        shown = f"{shown[:MAX_ECHOED_CHARS]}... ({len(shown)} characters)"
    return f"Value '{shown}'{where}"


def _fail(failures: list[str], value: Any, path: str, shape: Shape, constraint: str) -> None:
    sensitive = bool(shape.metadata.get("sensitive"))
    failures.append(f"{_describe(value, path, sensitive)} failed to satisfy constraint: {constraint}")


def _join(parent: str, name: str) -> str:
    return f"{parent}.{name}" if parent else name


def _check(shape: Shape, value: Any, path: str, failures: list[str]) -> None:
    kind = shape.type_name
    if kind == "structure":
        if shape.is_document_type:
            return  # a document member takes any JSON value
        if not isinstance(value, dict):
            _fail(failures, value, path, shape, "Member must be a structure")
            return
        _check_structure(shape, value, path, failures)
    elif kind == "list":
        if not isinstance(value, list):
            _fail(failures, value, path, shape, "Member must be a list")
            return
        _check_size(shape, len(value), value, path, failures, "length")
        for i, item in enumerate(value, start=1):
            item_path = f"{path}.{i}.member"
            if item is None:
                _fail(failures, item, item_path, shape.member, "Member must not be null")
            else:
                _check(shape.member, item, item_path, failures)
    elif kind == "map":
        if not isinstance(value, dict):
            _fail(failures, value, path, shape, "Member must be a map")
            return
        _check_size(shape, len(value), value, path, failures, "length")
        for key, item in value.items():
            key_failures: list[str] = []
            _check(shape.key, key, "", key_failures)
            for f in key_failures:
                failures.append(
                    f"Value at '{path}' failed to satisfy constraint: Map keys must satisfy constraint: [{f.split('constraint: ', 1)[1]}]"
                )
            if item is None:
                _fail(failures, item, path, shape.value, "Map value must not be null")
            else:
                value_failures: list[str] = []
                _check(shape.value, item, "", value_failures)
                for f in value_failures:
                    failures.append(
                        f"Value at '{path}' failed to satisfy constraint: Map value must satisfy constraint: [{f.split('constraint: ', 1)[1]}]"
                    )
    elif kind == "string":
        if not isinstance(value, str):
            _fail(failures, value, path, shape, "Member must be of type string")
            return
        _check_size(shape, len(value), value, path, failures, "length")
        if "\x00" in value:  # PostgreSQL cannot store it: refused on both stores alike
            _fail(failures, value, path, shape, "Member must not contain the null character (U+0000)")
        enum = shape.metadata.get("enum")
        if enum and value not in enum:
            _fail(failures, value, path, shape, f"Member must satisfy enum value set: [{', '.join(enum)}]")
        pattern = shape.metadata.get("pattern")
        if pattern and not _regex(pattern).fullmatch(value):
            _fail(failures, value, path, shape, f"Member must satisfy regular expression pattern: {pattern}")
    elif kind in ("integer", "long"):
        if isinstance(value, bool) or not isinstance(value, int):
            _fail(failures, value, path, shape, "Member must be of type integer")
            return
        minimum, maximum = shape.metadata.get("min"), shape.metadata.get("max")
        if minimum is not None and value < minimum:
            _fail(failures, value, path, shape, f"Member must have value greater than or equal to {minimum}")
        if maximum is not None and value > maximum:
            _fail(failures, value, path, shape, f"Member must have value less than or equal to {maximum}")
    elif kind in ("float", "double"):
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            _fail(failures, value, path, shape, "Member must be of type number")
    elif kind == "boolean":
        if not isinstance(value, bool):
            _fail(failures, value, path, shape, "Member must be of type boolean")
    elif kind == "timestamp":
        if isinstance(value, bool) or not isinstance(value, (int, float, str)):
            _fail(failures, value, path, shape, "Member must be a timestamp")
    elif kind == "blob":
        if not isinstance(value, str):
            _fail(failures, value, path, shape, "Member must be a base64 string")


def _check_size(shape: Shape, size: int, value: Any, path: str, failures: list[str], what: str) -> None:
    minimum, maximum = shape.metadata.get("min"), shape.metadata.get("max")
    if minimum is not None and size < minimum:
        _fail(failures, value, path, shape, f"Member must have {what} greater than or equal to {minimum}")
    if maximum is not None and size > maximum:
        _fail(failures, value, path, shape, f"Member must have {what} less than or equal to {maximum}")


def _check_structure(
    shape: StructureShape, value: dict[str, Any], path: str, failures: list[str], top: bool = False
) -> None:
    for name in shape.required_members:
        if value.get(name) is None:
            failures.append(
                f"Value null at '{_join(path, name)}' failed to satisfy constraint: Member must not be null"
            )
    members = shape.members
    present = [name for name in value if name in members and value[name] is not None]
    if shape.is_tagged_union and not top and len(present) != 1:
        failures.append(
            f"Value at '{path}' failed to satisfy constraint: Member must have exactly one of the "
            f"following members set: [{', '.join(members)}]"
        )
    for name in present:
        _check(members[name], value[name], _join(path, name), failures)
