"""CORS, so browser code (the AWS SDK for JavaScript, an upload to a presigned URL) can call the
server from another origin: preflight `OPTIONS` requests are answered on every route, and every
response to a request with an allowed `Origin` carries `Access-Control-*` headers.

Any origin is allowed by default, as local emulators do; `--cors-allowed-origins` restricts it to
a comma-separated list, and `off` turns CORS off (browsers then refuse cross-origin calls).
"""

from __future__ import annotations

import argparse
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

ANY = "*"
OFF = "off"
_METHODS = b"GET, PUT, POST, DELETE, PATCH, HEAD, OPTIONS"
# What the SDK reads from responses: request id, error type, the upload's ETag, S3-style headers.
_EXPOSE = b"x-amzn-requestid, x-amzn-errortype, x-amz-request-id, x-amz-id-2, etag, content-length, date"
_MAX_AGE = b"600"

Send = Callable[[dict[str, Any]], Awaitable[None]]


@dataclass
class CorsSettings:
    allowed_origins: list[str] = field(default_factory=lambda: [ANY])  # [] = CORS off


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--cors-allowed-origins",
        default=ANY,
        metavar="ORIGINS",
        help="origins browsers may call from: '*' (any, the default), a comma-separated list "
        "(https://app.example.com,http://localhost:3000), or 'off'",
    )


def apply_arguments(args: argparse.Namespace, settings: Any) -> None:
    raw = (getattr(args, "cors_allowed_origins", ANY) or "").strip()
    origins = [] if raw.lower() == OFF else [o.strip().rstrip("/") for o in raw.split(",") if o.strip()]
    settings.cors = CorsSettings(origins)


class Cors:
    def __init__(self, settings: CorsSettings) -> None:
        self.any = ANY in settings.allowed_origins
        self.origins = {o.encode("latin-1") for o in settings.allowed_origins if o != ANY}
        self.enabled = self.any or bool(self.origins)

    def allowed(self, origin: bytes) -> bool:
        return self.any or origin in self.origins

    async def handle(self, scope: dict[str, Any], send: Send) -> tuple[bool, Send]:
        """(answered, send): a preflight is answered here; otherwise `send` adds the headers to
        the response when the request's origin is allowed."""
        origin = None
        preflight_headers = None
        is_preflight = False
        for key, value in scope.get("headers", ()):
            if key == b"origin":
                origin = value
            elif key == b"access-control-request-method":
                is_preflight = True
            elif key == b"access-control-request-headers":
                preflight_headers = value
        if origin is None:
            return False, send
        allowed = self.allowed(origin)
        if is_preflight and scope["method"] == "OPTIONS":
            headers = [(b"content-length", b"0"), (b"vary", b"Origin")]
            if allowed:
                headers += [
                    (b"access-control-allow-origin", origin),
                    (b"access-control-allow-methods", _METHODS),
                    (b"access-control-allow-headers", preflight_headers or b"*"),
                    (b"access-control-max-age", _MAX_AGE),
                ]
            await send({"type": "http.response.start", "status": 204 if allowed else 403, "headers": headers})
            await send({"type": "http.response.body", "body": b""})
            return True, send
        if not allowed:
            return False, send
        extra = [
            (b"access-control-allow-origin", origin),
            (b"access-control-expose-headers", _EXPOSE),
            (b"vary", b"Origin"),
        ]

        async def send_with_cors(message: dict[str, Any]) -> None:
            if message["type"] == "http.response.start":
                message = {**message, "headers": [*message.get("headers", ()), *extra]}
            await send(message)

        return False, send_with_cors


def install(app: Any) -> Cors | None:
    cors = Cors(app.settings.cors)
    return cors if cors.enabled else None
