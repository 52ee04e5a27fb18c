"""Opaque, tamper-proof pagination tokens (reference §9).

A token is the sort key of the last item returned (keyset pagination), so it stays valid while
items are added or removed. It is bound to the listing it came from and signed with the store's
secret (HMAC-SHA256, `Settings.secret_key()`): a token from another listing, or one that was
forged, truncated or tampered with, is a ValidationException, and the operations never see a key
they did not make.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import orjson

from qconnect_local.errors import ValidationException

if TYPE_CHECKING:
    from qconnect_local.operations.context import RequestContext

DEFAULT_PAGE_SIZE = 100
_MAC_BYTES = 16


def _b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).decode("ascii").rstrip("=")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode((text + "=" * (-len(text) % 4)).encode("ascii"))


def _mac(secret: bytes, listing: str, payload: bytes) -> bytes:
    return hmac.new(secret, listing.encode() + b"\0" + payload, hashlib.sha256).digest()[:_MAC_BYTES]


def encode_token(listing: str, key: Any, secret: bytes) -> str:
    payload = orjson.dumps(key)
    return f"{_b64(payload)}.{_b64(_mac(secret, listing, payload))}"


def decode_token(listing: str, token: str | None, secret: bytes) -> Any:
    """The key of a token (None when there is no token)."""
    if token is None:
        return None
    try:
        encoded, _, mac = token.partition(".")
        payload = _unb64(encoded)
        if not hmac.compare_digest(_unb64(mac), _mac(secret, listing, payload)):
            raise ValueError("bad signature")
        return orjson.loads(payload)
    except (ValueError, UnicodeError, TypeError):  # binascii.Error is a ValueError
        raise ValidationException("Invalid pagination token") from None


def page_size(params: dict[str, Any]) -> int:
    return params.get("maxResults") or DEFAULT_PAGE_SIZE


def seq_page(
    ctx: RequestContext,
    listing: str,
    member: str,
    params: dict[str, Any],
    fetch: Callable[[int, int], list[tuple[int, Any]]],
    view: Callable[[Any], Any] | None = None,
) -> dict[str, Any]:
    """One page of a listing in creation order: `fetch(after, limit)` returns (seq, record) rows
    after the token's seq; the token carries the last seq of the page."""
    after = decode_token(listing, params.get("nextToken"), ctx.settings.secret_key()) or 0
    if not isinstance(after, int) or isinstance(after, bool):
        raise ValidationException("Invalid pagination token")
    limit = page_size(params)
    rows = fetch(after, limit + 1)
    out: dict[str, Any] = {member: [view(r) if view else r for _, r in rows[:limit]]}
    if len(rows) > limit:
        out["nextToken"] = encode_token(listing, rows[limit - 1][0], ctx.settings.secret_key())
    return out
