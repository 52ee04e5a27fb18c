"""Opaque pagination tokens (reference §9).

A token is the sort key of the last item returned (keyset pagination), so it stays valid while
items are added or removed. It is bound to the listing it came from: a token from another
listing, or one that was tampered with, is a ValidationException.
"""

from __future__ import annotations

import base64
import binascii
from typing import Any

import orjson

from qconnect_local.errors import ValidationException

DEFAULT_PAGE_SIZE = 100


def encode_token(listing: str, key: Any) -> str:
    raw = orjson.dumps({"l": listing, "k": key})
    return base64.urlsafe_b64encode(raw).decode("ascii").rstrip("=")


def decode_token(listing: str, token: str | None) -> Any:
    """The key of a token (None when there is no token)."""
    if token is None:
        return None
    try:
        padded = token + "=" * (-len(token) % 4)
        data = orjson.loads(base64.urlsafe_b64decode(padded.encode("ascii")))
    except (binascii.Error, ValueError, UnicodeEncodeError):
        raise ValidationException("Invalid pagination token") from None
    if not isinstance(data, dict) or data.get("l") != listing or "k" not in data:
        raise ValidationException("Invalid pagination token")
    return data["k"]


def page_size(params: dict[str, Any]) -> int:
    return params.get("maxResults") or DEFAULT_PAGE_SIZE
