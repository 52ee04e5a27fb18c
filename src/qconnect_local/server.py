"""The ASGI application: wires the protocol layer, the operations and storage together.

API requests go: route -> parse -> validate -> operation (in a worker thread, so a slow write
never stalls the event loop) -> serialize. Internal endpoints live under `/_qconnect/`.
Nothing here knows an operation's rules, and nothing below here knows HTTP.
"""

from __future__ import annotations

import asyncio
import logging
import re
import time
import uuid
from collections.abc import Awaitable, Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qs

import orjson

from qconnect_local.config import Settings
from qconnect_local.errors import (
    InternalServerException,
    NotImplementedOperation,
    RequestEntityTooLargeException,
    ServiceError,
    UnknownOperationException,
)
from qconnect_local.operations import OPERATIONS, RequestContext
from qconnect_local.protocol.auth import caller_from_headers
from qconnect_local.protocol.model import service_model
from qconnect_local.protocol.parsing import parse_input
from qconnect_local.protocol.routing import Router
from qconnect_local.protocol.serialization import JSON, serialize_error, serialize_output
from qconnect_local.protocol.validation import validate
from qconnect_local.storage import Store, open_store

log = logging.getLogger("qconnect_local")

Scope = dict[str, Any]
Receive = Callable[[], Awaitable[dict[str, Any]]]
Send = Callable[[dict[str, Any]], Awaitable[None]]


@dataclass
class HttpRequest:
    """What an internal endpoint handler gets."""

    app: App
    scope: Scope
    receive: Receive
    send: Send
    method: str
    path: str
    match: re.Match[str]
    headers: dict[str, str]
    query: dict[str, list[str]]
    request_id: str


InternalHandler = Callable[[HttpRequest], Awaitable[None]]


class App:
    def __init__(self, settings: Settings, store: Store | None = None) -> None:
        self.settings = settings
        settings.prepare()
        self.store = store or open_store(settings.database)
        self.model = service_model()
        self.router = Router(self.model)
        self.started = time.time()
        self.executor = ThreadPoolExecutor(max_workers=4, thread_name_prefix="qconnect-op")
        # Shared services for operations (blob store, URL signer, ...), by name.
        self.services: dict[str, Any] = {}
        self.internal_routes: list[tuple[str, re.Pattern[str], InternalHandler]] = []
        self.reset_hooks: list[Callable[[], None]] = [self.store.reset]
        self.shutdown_hooks: list[Callable[[], None]] = []
        self._add_internal_routes()
        shared_secret = self.store.shared_secret("url-signing-key")
        if shared_secret is not None:  # every server and worker of a shared store signs alike
            settings.shared_key = shared_secret
        from qconnect_local.importing.endpoints import install as install_import_pipeline

        install_import_pipeline(self)  # uploads, downloads, the import runner
        from qconnect_local.message_template_downloads import install as install_attachment_downloads

        install_attachment_downloads(self)  # message template attachments' signed links

    # -- internal endpoints ----------------------------------------------------------------

    def add_internal_route(self, method: str, pattern: str, handler: InternalHandler) -> None:
        self.internal_routes.append((method, re.compile(pattern), handler))

    def _add_internal_routes(self) -> None:
        self.add_internal_route("GET", r"/_qconnect/health", self._health)
        self.add_internal_route("POST", r"/_qconnect/reset", self._reset)

    async def _health(self, req: HttpRequest) -> None:
        from qconnect_local.health import health_report  # database, blob store, import queue

        status, body = await self.run_sync(health_report, self)
        await send_json(req.send, status, body, req.request_id)

    async def _reset(self, req: HttpRequest) -> None:
        await self.run_sync(self.reset)
        await send_json(req.send, 200, {"reset": True}, req.request_id)

    def reset(self) -> None:
        for hook in self.reset_hooks:
            hook()

    # -- ASGI -------------------------------------------------------------------------------

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":
            await self._lifespan(receive, send)
            return
        if scope["type"] != "http":
            return
        request_id = str(uuid.uuid4())
        path = scope.get("raw_path") or scope["path"].encode()
        path = path.decode("latin-1").split("?", 1)[0]
        try:
            if path.startswith("/_qconnect/"):
                await self._internal(scope, receive, send, path, request_id)
            else:
                await self._api(scope, receive, send, path, request_id)
        except ServiceError as exc:
            await send_error(send, exc, request_id)
        except Exception:
            log.exception("unexpected error in request %s", request_id)
            await send_error(
                send, InternalServerException("An internal error occurred. Request id: " + request_id), request_id
            )

    async def _lifespan(self, receive: Receive, send: Send) -> None:
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                self.close()
                await send({"type": "lifespan.shutdown.complete"})
                return

    def close(self) -> None:
        for hook in self.shutdown_hooks:
            hook()
        # Background work of the store that requests may wait on (the SQLite store's search
        # vocabulary load) stops first, so that waiting for the requests cannot hang.
        self.store.stop_background_work()
        self.executor.shutdown(wait=True)
        self.store.close()

    async def run_sync(self, fn: Callable[..., Any], *args: Any) -> Any:
        return await asyncio.get_running_loop().run_in_executor(self.executor, fn, *args)

    async def _internal(self, scope: Scope, receive: Receive, send: Send, path: str, request_id: str) -> None:
        method = scope["method"]
        for route_method, pattern, handler in self.internal_routes:
            m = pattern.fullmatch(path)
            if m and route_method == method:
                req = HttpRequest(
                    self,
                    scope,
                    receive,
                    send,
                    method,
                    path,
                    m,
                    _headers(scope),
                    parse_qs(scope.get("query_string", b"").decode("latin-1"), keep_blank_values=True),
                    request_id,
                )
                await handler(req)
                return
        raise UnknownOperationException(f"No internal endpoint {method} {path}")

    async def _api(self, scope: Scope, receive: Receive, send: Send, path: str, request_id: str) -> None:
        headers = _headers(scope)
        body = await read_body(receive, headers, self.settings.max_request_bytes)
        query = scope.get("query_string", b"").decode("latin-1")
        method = scope["method"]
        if method == "GET" and self.store.reads_on_event_loop:
            # Reads never wait on a lock (WAL): answering them on the event loop saves the thread
            # hop, which is most of a GetKnowledgeBase's cost. Writes may wait for the store's
            # write lock, so they run in a worker thread. (A networked store such as PostgreSQL
            # waits on every read, so its reads go to the threads too, and overlap.)
            status, extra, payload = self.dispatch(method, path, query, headers, body, request_id)
        else:
            status, extra, payload = await self.run_sync(self.dispatch, method, path, query, headers, body, request_id)
        await send_response(send, status, payload, request_id, JSON if payload else None, extra)

    def dispatch(
        self,
        method: str,
        path: str,
        query_string: str,
        headers: dict[str, str],
        body: bytes,
        request_id: str,
    ) -> tuple[int, dict[str, str], bytes]:
        """One API call, start to end, without HTTP: (status, extra headers, body).

        The ASGI server runs it in a worker thread; the in-process mock calls it directly.
        """
        try:
            status, payload = self._call(method, path, query_string, headers, body, request_id)
            return status, {}, payload
        except ServiceError as exc:
            return serialize_error(exc)
        except Exception:
            log.exception("unexpected error in request %s", request_id)
            return serialize_error(InternalServerException("An internal error occurred. Request id: " + request_id))

    def _call(
        self,
        method: str,
        path: str,
        query_string: str,
        headers: dict[str, str],
        body: bytes,
        request_id: str,
    ) -> tuple[int, bytes]:
        query = parse_qs(query_string, keep_blank_values=True)
        matched = self.router.match(method, path, set(query))
        if matched is None:
            raise UnknownOperationException(f"No operation of the qconnect API matches {method} {path}")
        op, labels = matched
        handler = OPERATIONS.get(op.name)
        if handler is None:
            raise NotImplementedOperation(f"The operation {op.name} is not implemented by qconnect-local yet")
        params = parse_input(op, labels, query, headers, body)
        validate(op.input_shape, params)
        caller = caller_from_headers(headers.get("authorization"), self.settings.account_id, self.settings.region)
        ctx = RequestContext(
            account_id=caller.account_id,
            region=caller.region,
            caller_arn=caller.arn,
            store=self.store,
            settings=self.settings,
            request_id=request_id,
            services=self.services,
            endpoint=self._endpoint_of(headers),
        )
        return serialize_output(op, handler(ctx, params))

    def _endpoint_of(self, headers: dict[str, str]) -> str:
        host = headers.get("host") or f"{self.settings.host}:{self.settings.port}"
        return f"{headers.get('x-forwarded-proto', 'http')}://{host}"


def _headers(scope: Scope) -> dict[str, str]:
    return {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope.get("headers", [])}


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
