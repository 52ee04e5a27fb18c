"""The ASGI plumbing every HTTP handler shares: reading a bounded body, sending JSON and errors."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

import orjson

from qconnect_local.errors import RequestEntityTooLargeException, ServiceError
from qconnect_local.protocol.serialization import JSON, serialize_error

Scope = dict[str, Any]
Receive = Callable[[], Awaitable[dict[str, Any]]]
Send = Callable[[dict[str, Any]], Awaitable[None]]


async def read_body(receive: Receive, headers: dict[str, str], limit: int) -> bytes:
    declared = headers.get("content-length")
    if declared and declared.isdigit() and int(declared) > limit:
        raise RequestEntityTooLargeException(
            f"The request body of {declared} bytes is larger than the limit of {limit} bytes"
        )
    chunks: list[bytes] = []
    size = 0
    while True:
        message = await receive()
        chunk = message.get("body", b"")
        size += len(chunk)
        if size > limit:
            raise RequestEntityTooLargeException(f"The request body is larger than the limit of {limit} bytes")
        chunks.append(chunk)
        if not message.get("more_body"):
            return b"".join(chunks)


async def send_response(
    send: Send,
    status: int,
    body: bytes,
    request_id: str,
    content_type: str | None = JSON,
    extra_headers: dict[str, str] | None = None,
) -> None:
    headers = [(b"x-amzn-requestid", request_id.encode()), (b"content-length", str(len(body)).encode())]
    if content_type:
        headers.append((b"content-type", content_type.encode()))
    for k, v in (extra_headers or {}).items():
        headers.append((k.encode("latin-1"), v.encode("latin-1")))
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})


async def send_json(send: Send, status: int, body: Any, request_id: str) -> None:
    await send_response(send, status, orjson.dumps(body), request_id)


async def send_error(send: Send, error: ServiceError, request_id: str) -> None:
    status, headers, body = serialize_error(error)
    await send_response(send, status, body, request_id, JSON, headers)
