"""The scheme://host[:port] that presigned upload and download URLs are built on and checked
against.

With `--public-base-url` it is that, whatever the request says. Otherwise it is the request's
`Host` (what the client used to reach this server: right for port 0 and for Docker port
mappings), checked to be a bare host[:port]; `X-Forwarded-Proto` and `X-Forwarded-Host` count only
with `--trust-forwarded-headers`, since any client can send them.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any
from urllib.parse import urlsplit

# A host name, IPv4 address or [IPv6] literal, and an optional port.
_HOST = re.compile(r"(?:[A-Za-z0-9](?:[A-Za-z0-9.-]{0,252})|\[[0-9A-Fa-f:.]{2,45}\])(?::\d{1,5})?")


def _fallback_host(settings: Any) -> str:
    host = f"[{settings.host}]" if ":" in settings.host else settings.host
    return f"{host}:{settings.port}"


def _valid_host(value: str | None) -> str | None:
    if value and _HOST.fullmatch(value.strip()):
        return value.strip()
    return None


def public_endpoint(settings: Any, headers: Mapping[str, str]) -> str:
    h = settings.hardening
    if h.public_base_url:
        return h.public_base_url
    scheme = "http"
    host = _valid_host(headers.get("host"))
    if h.trust_forwarded_headers:
        proto = (headers.get("x-forwarded-proto") or "").split(",")[0].strip().lower()
        if proto in ("http", "https"):
            scheme = proto
        host = _valid_host((headers.get("x-forwarded-host") or "").split(",")[0]) or host
    return f"{scheme}://{host or _fallback_host(settings)}"


def signing_host(settings: Any, headers: Mapping[str, str]) -> str:
    """The host[:port] a presigned request is checked against: the one its URL was built on."""
    return urlsplit(public_endpoint(settings, headers)).netloc
