"""Attribute interpolation in search results (reference §8.7; the rules are inferred).

`{{Attributes.KEY}}` (spaces allowed inside the braces) in `contents.plainText` and
`contents.markdown` is replaced by `attributes[KEY]` when the request gives KEY, and left verbatim
otherwise. `attributesInterpolated` / `attributesNotInterpolated` list the bare KEYs, each once,
in order of first appearance (plain text first, then markdown); both are always present.
Matching never looks at interpolated text: search runs on the stored contents.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from typing import Any

_PLACEHOLDER = re.compile(r"\{\{\s*Attributes\.([^{}\s]+)\s*\}\}")


def interpolate_text(
    text: str,
    attributes: Mapping[str, str],
    seen: dict[str, bool],
    escape: Callable[[str], str] | None = None,
) -> str:
    """`text` with every placeholder whose KEY `attributes` has replaced by its value (passed
    through `escape` when given, e.g. for HTML), others left verbatim; records each KEY met in
    `seen` (KEY -> interpolated) in order of first appearance."""

    def replace(match: re.Match[str]) -> str:
        key = match.group(1)
        found = key in attributes
        seen.setdefault(key, found)
        if not found:
            return match.group(0)
        value = attributes[key]
        return escape(value) if escape is not None else value

    return _PLACEHOLDER.sub(replace, text)


def placeholder_keys(text: str) -> list[str]:
    """The KEYs of the placeholders in `text`, in order (repeats kept)."""
    return _PLACEHOLDER.findall(text)


def interpolate(record: dict[str, Any], attributes: dict[str, str] | None) -> dict[str, Any]:
    """A copy of the record with contents interpolated and the two attribute lists set."""
    attributes = attributes or {}
    seen: dict[str, bool] = {}
    contents = {
        member: {"content": interpolate_text(provider["content"], attributes, seen)}
        for member, provider in record["contents"].items()
    }
    out = {**record, "contents": contents}
    out["attributesInterpolated"] = [k for k, found in seen.items() if found]
    out["attributesNotInterpolated"] = [k for k, found in seen.items() if not found]
    return out
