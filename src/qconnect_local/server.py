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
from collections.abc import Awaitable, Callable
from concurrent.futures import Executor
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qs

from qconnect_local.asgi import Receive, Scope, Send, read_body, send_error, send_json, send_response
from qconnect_local.config import Settings
from qconnect_local.errors import (
    InternalServerException,
    NotImplementedOperation,
    ServiceError,
    UnknownOperationException,
)
from qconnect_local.ids import new_id
from qconnect_local.internal_guard import check_internal_access
from qconnect_local.lanes import Lanes
from qconnect_local.leftovers import claim_scratch_directories
from qconnect_local.operations import OPERATIONS, RequestContext
from qconnect_local.protocol.model import service_model
from qconnect_local.protocol.parsing import parse_input
from qconnect_local.protocol.retryable import as_retryable
from qconnect_local.protocol.routing import Router
from qconnect_local.protocol.serialization import JSON, serialize_error, serialize_output
from qconnect_local.protocol.validation import validate
from qconnect_local.public_urls import public_endpoint
from qconnect_local.request_log import log_call
from qconnect_local.services import Services, build_services
from qconnect_local.storage import Store

log = logging.getLogger("qconnect_local")


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
    def __init__(self, settings: Settings, store: Store | None = None, services: Services | None = None) -> None:
        self.settings = settings
        # Built by build_app in every way of running; `App(settings)` does the same.
        self.services = services or build_services(settings, store)
        self.store = self.services.store
        self.model = service_model()
        self.router = Router(self.model)
        self.started = time.time()
        self.lanes = Lanes(self.router, settings.hardening)  # reads never queue behind blocked writes
        self.executor = self.lanes.writes
        self.internal_routes: list[tuple[str, re.Pattern[str], InternalHandler]] = []
        self.reset_hooks: list[Callable[[], None]] = [self.store.reset, self.services.reset]
        self.shutdown_hooks: list[Callable[[], None]] = [self.services.stop]
        # Answers `GET /` instead of the API when it returns True (the web console's redirect).
        self.html_root: Callable[[Scope, Send], Awaitable[bool]] | None = None
        self._add_internal_routes()
        from qconnect_local import cors, request_log

        self.request_log = request_log.install(self)  # GET /_qconnect/requests
        self.cors = cors.install(self)
        from qconnect_local.importing.endpoints import add_routes as add_import_routes

        add_import_routes(self)  # uploads, downloads, manual jobs, the routing-profile directory
        self.services.seed_directory()
        if settings.run_import_runner:  # `serve --no-worker` leaves jobs to `qconnect-local worker`
            self.services.runner.start()
        if settings.in_memory:  # tmpfs directories: this server's held, killed servers' removed
            scratch = [self.store.scratch_directory(), self.services.blobs.scratch_directory()]
            self.shutdown_hooks.append(claim_scratch_directories(scratch))
        from qconnect_local.unhappy.gate import install as install_gate

        self.gate = install_gate(self)  # signature checking, throttling, fault injection
        if settings.console:
            from qconnect_local.webui import install as install_console

            install_console(self)  # /_qconnect/ui/ and its endpoints
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

        status, body = await self.run_sync(health_report, self, executor=self.lanes.reads)
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
        if self.cors is not None:
            answered, send = await self.cors.handle(scope, send)
            if answered:
                return
        request_id = new_id()  # a version 4 UUID, from a batch of random bytes
        path = scope.get("raw_path") or scope["path"].encode()
        path = path.decode("latin-1").split("?", 1)[0]
        try:
            if path.startswith("/_qconnect/"):
                await self._internal(scope, receive, send, path, request_id)
            elif not (path == "/" and self.html_root is not None and await self.html_root(scope, send)):
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
        self.lanes.shutdown()
        self.store.close()

    async def run_sync(self, fn: Callable[..., Any], *args: Any, executor: Executor | None = None) -> Any:
        return await asyncio.get_running_loop().run_in_executor(executor or self.executor, fn, *args)

    async def _internal(self, scope: Scope, receive: Receive, send: Send, path: str, request_id: str) -> None:
        method = scope["method"]
        for route_method, pattern, handler in self.internal_routes:
            m = pattern.fullmatch(path)
            if m and route_method == method:
                check_internal_access(self, method, path, _headers(scope))
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
        try:
            body = await read_body(receive, headers, self.settings.max_request_bytes)
        except ServiceError as exc:
            log_call(
                self,
                request_id,
                time.time(),
                time.perf_counter(),
                [None, None],
                scope["method"],
                path,
                headers,
                b"",
                serialize_error(exc),
            )
            raise
        query = scope.get("query_string", b"").decode("latin-1")
        method = scope["method"]
        if method == "GET" and self.store.reads_on_event_loop and not self.gate.delays:
            # Reads never wait on a lock (WAL): answering them on the event loop saves the thread
            # hop, which is most of a GetKnowledgeBase's cost. Writes may wait for the store's
            # write lock, so they run in a worker thread. (A networked store such as PostgreSQL
            # waits on every read, so its reads go to the threads too, and overlap.)
            status, extra, payload = self.dispatch(method, path, query, headers, body, request_id)
        else:
            lane = self.lanes.for_request(method, path, query)
            status, extra, payload = await self.run_sync(
                self.dispatch, method, path, query, headers, body, request_id, executor=lane
            )
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
        started, clock = time.time(), time.perf_counter()
        seen: list[Any] = [None, None]  # the operation and the caller, once known (for the request log)
        try:
            status, payload = self._call(method, path, query_string, headers, body, request_id, seen)
            result: tuple[int, dict[str, str], bytes] = (status, {}, payload)
        except ServiceError as exc:
            result = serialize_error(exc)
        except Exception as exc:
            retry = as_retryable(exc)  # a lock wait that ran out: rolled back, retryable
            if retry is not None:
                result = serialize_error(retry)
            else:
                log.exception("unexpected error in request %s", request_id)
                message = "An internal error occurred. Request id: " + request_id
                result = serialize_error(InternalServerException(message))
        if self.request_log.enabled:
            log_call(self, request_id, started, clock, seen, method, path, headers, body, result)
        return result

    def _call(
        self,
        method: str,
        path: str,
        query_string: str,
        headers: dict[str, str],
        body: bytes,
        request_id: str,
        seen: list[Any] | None = None,
    ) -> tuple[int, bytes]:
        caller = self.gate.authenticate(method, path, query_string, headers, body)
        query = parse_qs(query_string, keep_blank_values=True) if query_string else {}
        matched = self.router.match(method, path, set(query))
        if matched is None:
            raise UnknownOperationException(f"No operation of the qconnect API matches {method} {path}")
        op, labels = matched
        if seen is not None:
            seen[0] = op
        handler = OPERATIONS.get(op.name)
        if handler is None:
            raise NotImplementedOperation(f"The operation {op.name} is not implemented by qconnect-local yet")
        self.gate.admit(caller, op.name)
        params = parse_input(op, labels, query, headers, body)
        validate(op.input_shape, params)
        if seen is not None:
            seen[1] = caller
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
        return serialize_output(op, self.gate.call(caller.account_id, op.name, lambda: handler(ctx, params)))

    def _endpoint_of(self, headers: dict[str, str]) -> str:
        return public_endpoint(self.settings, headers)


def build_app(settings: Settings) -> App:
    """The HTTP application of `serve`, the mock and the pytest plugin."""
    return App(settings, services=build_services(settings))


def _headers(scope: Scope) -> dict[str, str]:
    return {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope.get("headers", [])}
