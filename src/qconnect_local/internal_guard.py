"""Who may call the internal endpoints (`/_qconnect/...`) that change state.

On loopback with the embedded SQLite store (one developer's machine: the default and every test)
they are open. Otherwise (a server other machines can reach, or a team's shared PostgreSQL
database, which `POST /_qconnect/reset` would wipe for everybody) they answer 403
AccessDeniedException unless the request carries `X-Qc-Admin-Token` equal to `--admin-token`, or
the server runs with `--allow-internal-endpoints`. A token, once set, is required everywhere.

Reads stay open (health, the console's files), except the request log, which holds other
accounts' requests, and the routing-profile directory (scoped to the caller's account, but it
names instances and ARNs). The presigned upload URL carries its own signature and is not guarded.
"""

from __future__ import annotations

import hmac
import ipaddress
from collections.abc import Mapping
from typing import Any

from qconnect_local.errors import AccessDeniedException

ADMIN_TOKEN_HEADER = "x-qc-admin-token"
_READ_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
_SIGNED = ("/_qconnect/uploads/",)
# The request log holds every account's calls; the directory names accounts' routing profiles.
_GUARDED_READS = ("/_qconnect/requests", "/_qconnect/connect-instances")


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def needs_token(settings: Any, store_kind: str) -> bool:
    """True when state-changing internal endpoints are not open to anyone who can connect."""
    h = settings.hardening
    if h.allow_internal_endpoints:
        return False
    if h.admin_token:
        return True
    return not (is_loopback(settings.host) and store_kind == "sqlite")


def is_guarded(method: str, path: str) -> bool:
    if path.startswith(_SIGNED):
        return False
    if method in _READ_METHODS:
        return path.startswith(_GUARDED_READS)
    return True


def check_internal_access(app: Any, method: str, path: str, headers: Mapping[str, str]) -> None:
    """Raises AccessDeniedException when this internal call is not allowed."""
    if not is_guarded(method, path) or not needs_token(app.settings, app.store.kind):
        return
    token = app.settings.hardening.admin_token
    sent = headers.get(ADMIN_TOKEN_HEADER, "")
    if token and hmac.compare_digest(sent.encode("utf-8", "surrogateescape"), token.encode("utf-8")):
        return
    if token:
        raise AccessDeniedException(f"{method} {path} needs the header X-Qc-Admin-Token with the server's admin token")
    raise AccessDeniedException(
        f"{method} {path} is disabled: this server is not on loopback or runs on PostgreSQL. "
        "Start it with --admin-token (then send X-Qc-Admin-Token) or --allow-internal-endpoints"
    )
