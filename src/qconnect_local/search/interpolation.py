"""Attribute interpolation in search results (reference §8.7; the rules are inferred).

`{{Attributes.KEY}}` (spaces allowed inside the braces) in `contents.plainText` and
`contents.markdown` is replaced by `attributes[KEY]` when the request gives KEY, and left verbatim
otherwise. `attributesInterpolated` / `attributesNotInterpolated` list the bare KEYs, each once,
in order of first appearance (plain text first, then markdown); both are always present.
Matching never looks at interpolated text: search runs on the stored contents.
"""

from __future__ import annotations

import re
from typing import Any

_PLACEHOLDER = re.compile(r"\{\{\s*Attributes\.([^{}\s]+)\s*\}\}")


def interpolate(record: dict[str, Any], attributes: dict[str, str] | None) -> dict[str, Any]:
    """A copy of the record with contents interpolated and the two attribute lists set."""
    attributes = attributes or {}
    seen: dict[str, bool] = {}

    def replace(match: re.Match[str]) -> str:
        key = match.group(1)
        found = key in attributes
        seen.setdefault(key, found)
        return attributes[key] if found else match.group(0)

    contents = {
        member: {"content": _PLACEHOLDER.sub(replace, provider["content"])}
        for member, provider in record["contents"].items()
    }
    out = {**record, "contents": contents}
    out["attributesInterpolated"] = [k for k, found in seen.items() if found]
    out["attributesNotInterpolated"] = [k for k, found in seen.items() if not found]
    return out
