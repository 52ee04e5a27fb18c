"""Settings of the server's hardening (docs/security.md): thread lanes, the guard of the
internal endpoints, the public base URL of presigned URLs, the connection limits and the bound on
an API write's lock waits.

One dataclass hung from `Settings.hardening`, and the `serve` options that fill it (kept here so
cli.py needs only two calls).
"""

from __future__ import annotations

import argparse
from dataclasses import dataclass


@dataclass
class HardeningSettings:
    # Thread lanes (lanes.py): reads, searches and health never wait behind blocked writes.
    read_threads: int = 4
    write_threads: int = 4
    # Internal endpoints that change state (internal_guard.py). Open on loopback + SQLite; else
    # they need `X-Qc-Admin-Token: <admin_token>`, or `allow_internal_endpoints`.
    admin_token: str | None = None
    allow_internal_endpoints: bool = False
    # Presigned URLs: scheme://host[:port] clients reach the server at; None: the request's Host
    # (X-Forwarded-Proto/-Host are trusted only with trust_forwarded_headers).
    public_base_url: str | None = None
    trust_forwarded_headers: bool = False
    # Connections (protocol/limits.py).
    max_header_bytes: int = 64 * 1024
    header_timeout_seconds: float = 10.0
    max_connections: int = 512
    keep_alive_seconds: int = 5
    # Every lock wait of an API write (docs/security.md): past it, 408 and nothing committed.
    lock_timeout_seconds: float = 10.0


def add_arguments(parser: argparse.ArgumentParser) -> None:
    d = HardeningSettings()
    group = parser.add_argument_group("security and limits (docs/security.md)")
    group.add_argument(
        "--read-threads", type=int, default=d.read_threads, help="threads for reads, searches and health"
    )
    group.add_argument(
        "--write-threads", type=int, default=d.write_threads, help="threads for API calls that change state"
    )
    group.add_argument(
        "--admin-token",
        default=d.admin_token,
        help="internal endpoints that change state (/_qconnect/reset, ...) need the header "
        "X-Qc-Admin-Token with this value when the server is not on loopback or runs on PostgreSQL",
    )
    group.add_argument(
        "--allow-internal-endpoints",
        action="store_true",
        help="leave the internal endpoints that change state open without a token, whatever the host and store",
    )
    group.add_argument(
        "--public-base-url",
        default=d.public_base_url,
        metavar="URL",
        help="scheme://host[:port] put in presigned upload/download URLs (default: the request's Host)",
    )
    group.add_argument(
        "--trust-forwarded-headers",
        action="store_true",
        help="build presigned URLs from X-Forwarded-Proto/X-Forwarded-Host (behind a proxy you trust)",
    )
    group.add_argument(
        "--max-header-bytes", type=int, default=d.max_header_bytes, help="largest request line + headers (431 past it)"
    )
    group.add_argument(
        "--header-timeout",
        type=float,
        default=d.header_timeout_seconds,
        metavar="SECONDS",
        help="a connection that has not sent a whole request head in this time is closed",
    )
    group.add_argument(
        "--max-connections",
        type=int,
        default=d.max_connections,
        help="open connections at most; more are answered 503 and closed at once",
    )
    group.add_argument(
        "--keep-alive-timeout",
        type=int,
        default=d.keep_alive_seconds,
        metavar="SECONDS",
        help="an idle keep-alive connection is closed after this long",
    )
    add_lock_timeout_argument(group)


def add_lock_timeout_argument(group: argparse._ArgumentGroup | argparse.ArgumentParser) -> None:
    """`--lock-timeout`, for `serve` and `worker` alike (a worker's claims and renewals are writes too)."""
    group.add_argument(
        "--lock-timeout",
        type=float,
        default=HardeningSettings().lock_timeout_seconds,
        metavar="SECONDS",
        help="a write that waits this long for a lock (an import holds it) gives up and rolls back (an API "
        "write answers 408); an import job's own transaction waits as long as it takes",
    )


def apply_lock_timeout(args: argparse.Namespace, settings: object) -> None:
    h: HardeningSettings = settings.hardening  # type: ignore[attr-defined]
    h.lock_timeout_seconds = max(0.05, args.lock_timeout)


def apply_arguments(args: argparse.Namespace, settings: object) -> None:
    h: HardeningSettings = settings.hardening  # type: ignore[attr-defined]
    h.read_threads = max(1, args.read_threads)
    h.write_threads = max(1, args.write_threads)
    h.admin_token = args.admin_token or None
    h.allow_internal_endpoints = bool(args.allow_internal_endpoints)
    if args.public_base_url:
        base = args.public_base_url.rstrip("/")
        if not base.startswith(("http://", "https://")):
            raise SystemExit(f"qconnect-local: --public-base-url must be http(s)://host[:port], not {base!r}")
        h.public_base_url = base
    h.trust_forwarded_headers = bool(args.trust_forwarded_headers)
    h.max_header_bytes = max(1024, args.max_header_bytes)
    h.header_timeout_seconds = max(0.1, args.header_timeout)
    h.max_connections = max(1, args.max_connections)
    h.keep_alive_seconds = max(1, args.keep_alive_timeout)
    apply_lock_timeout(args, settings)
