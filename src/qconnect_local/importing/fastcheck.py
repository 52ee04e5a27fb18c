"""A fast yes/no version of `protocol.validation.validate` for one input shape.

The import checks every row against CreateQuickResponse's input shape. The API's validator
walks the botocore shape and builds messages; this compiles the same constraints once into
closures that only answer "would validate() find nothing wrong?", several times faster
(docs/performance.md). A row it
passes cannot fail validate(); a row it refuses is handed to validate() itself, so every message
a user sees is still the API's own. Keep the two in step: tests/importing/test_import_format.py checks them
against each other on generated rows.
"""

from __future__ import annotations

import re
import sys
from collections.abc import Callable
from typing import Any

from botocore.model import Shape

Check = Callable[[Any], bool]


def compile_shape(shape: Shape, top: bool = True) -> Check:
    kind = shape.type_name
    meta = shape.metadata
    if kind == "structure":
        return _structure(shape, top)
    if kind == "list":
        item = compile_shape(shape.member, top=False)
        size = _size(meta)
        return lambda v: isinstance(v, list) and size(len(v)) and all(x is not None and item(x) for x in v)
    if kind == "map":
        key, value = compile_shape(shape.key, top=False), compile_shape(shape.value, top=False)
        size = _size(meta)
        return lambda v: (
            isinstance(v, dict) and size(len(v)) and all(key(k) and x is not None and value(x) for k, x in v.items())
        )
    if kind == "string":
        return _string(meta)
    if kind in ("integer", "long"):
        lo, hi = meta.get("min"), meta.get("max")
        return lambda v: (
            isinstance(v, int) and not isinstance(v, bool) and (lo is None or v >= lo) and (hi is None or v <= hi)
        )
    if kind in ("float", "double"):
        return lambda v: isinstance(v, (int, float)) and not isinstance(v, bool)
    if kind == "boolean":
        return lambda v: isinstance(v, bool)
    if kind == "timestamp":
        return lambda v: isinstance(v, (int, float, str)) and not isinstance(v, bool)
    if kind == "blob":
        return lambda v: isinstance(v, str)
    return lambda v: True  # validate() checks no other kinds either


def _size(meta: dict[str, Any]) -> Callable[[int], bool]:
    lo, hi = meta.get("min"), meta.get("max")
    return lambda n: (lo is None or n >= lo) and (hi is None or n <= hi)


def _string(meta: dict[str, Any]) -> Check:
    size = _size(meta)
    enum = frozenset(meta["enum"]) if meta.get("enum") else None
    pattern = re.compile(meta["pattern"]).fullmatch if meta.get("pattern") else None

    if pattern is None:
        # The common case (names, contents, descriptions), with the bounds inlined.
        lo = meta.get("min") or 0
        hi = meta["max"] if meta.get("max") is not None else sys.maxsize
        if enum is None:
            return lambda v: isinstance(v, str) and lo <= len(v) <= hi and "\x00" not in v

        def check(v: Any) -> bool:
            return isinstance(v, str) and lo <= len(v) <= hi and v in enum and "\x00" not in v

        return check
    # A pattern costs a regex match; an import repeats the same few values (the knowledge base
    # id, content types, languages) row after row, so the last value that passed is remembered
    # (the answer depends on the value only).
    passed = [None]

    def check_pattern(v: Any) -> bool:
        if v == passed[0] and isinstance(v, str):
            return True
        ok = (
            isinstance(v, str)
            and size(len(v))
            and (enum is None or v in enum)
            and pattern(v) is not None
            and "\x00" not in v  # validate() refuses U+0000 everywhere
        )
        if ok:
            passed[0] = v
        return ok

    return check_pattern


def _structure(shape: Any, top: bool) -> Check:
    required = tuple(shape.required_members)
    members = {name: compile_shape(member, top=False) for name, member in shape.members.items()}
    union = shape.is_tagged_union and not top

    def check(v: Any) -> bool:
        if not isinstance(v, dict):
            return False
        for name in required:
            if v.get(name) is None:
                return False
        present = 0
        for name, value in v.items():
            member = members.get(name)
            if member is None or value is None:
                continue
            present += 1
            if not member(value):
                return False
        return not union or present == 1

    return check
