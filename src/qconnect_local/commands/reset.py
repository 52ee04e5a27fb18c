"""`qconnect-local reset`: wipe every knowledge base, quick response, upload and import job of a
running qconnect-local server (POST /_qconnect/reset). Refused against AWS itself."""

from __future__ import annotations

import argparse
import json
import urllib.error
import urllib.request
from typing import Any

from qconnect_local.commands.common import (
    EXIT_OK,
    EXIT_USAGE,
    CommandError,
    add_connection_args,
    resolve_endpoint,
)


def register(sub: Any) -> None:
    parser = sub.add_parser("reset", help="wipe all state of a running qconnect-local server")
    add_connection_args(parser)
    parser.set_defaults(handler=reset)


def internal_call(endpoint: str, method: str, path: str, timeout: float = 60.0) -> Any:
    """One call to an internal endpoint (`/_qconnect/...`); errors become one line."""
    request = urllib.request.Request(endpoint.rstrip("/") + path, method=method, data=b"" if method != "GET" else None)
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            body = response.read()
    except urllib.error.HTTPError as exc:
        detail = exc.read().decode("utf-8", "replace")
        try:
            doc = json.loads(detail)
            detail = f"{exc.headers.get('x-amzn-errortype') or doc.get('__type', '')}: {doc.get('message', '')}"
        except ValueError:
            detail = detail.strip().splitlines()[0] if detail.strip() else ""
        raise CommandError(f"{method} {path} refused ({exc.code}) {detail}".strip()) from None
    except urllib.error.URLError as exc:
        raise CommandError(
            f"cannot reach {endpoint}: {exc.reason} (is the server running? start it with `qconnect-local serve`)"
        ) from None
    return json.loads(body) if body else None


def reset(args: argparse.Namespace) -> int:
    endpoint = resolve_endpoint(args)
    if endpoint is None:
        raise CommandError("reset works on a qconnect-local server, not on AWS", EXIT_USAGE)
    internal_call(endpoint, "POST", "/_qconnect/reset")
    print(f"reset {endpoint}: all knowledge bases, quick responses and import jobs deleted")
    return EXIT_OK
