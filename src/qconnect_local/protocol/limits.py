"""Connection limits uvicorn's httptools protocol does not have: a bound on the request head's
size, a time limit for receiving it, and a cap on open connections.

Without them one client can hold 64 MiB of header per connection, or open connections that send
nothing (uvicorn's keep-alive timer only starts after a first response) until the process runs
out of file descriptors and every other client is locked out.
"""

from __future__ import annotations

import asyncio
from typing import Any

from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

from qconnect_local.hardening import HardeningSettings


def _raw_response(status: int, reason: str, message: str) -> bytes:
    body = message.encode("ascii")
    return (
        f"HTTP/1.1 {status} {reason}\r\ncontent-type: text/plain; charset=utf-8\r\n"
        f"content-length: {len(body)}\r\nconnection: close\r\n\r\n"
    ).encode("ascii") + body


class LimitedHttpToolsProtocol(HttpToolsProtocol):
    limits = HardeningSettings()  # replaced per server by protocol_class()

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]  # uvicorn's own signature
        self._head_bytes = 0
        self._head_done = False
        self._head_timer: asyncio.TimerHandle | None = None
        if len(self.server_state.connections) >= self.limits.max_connections:
            # Refused before it is counted: its file descriptor is freed at once.
            self.transport = transport
            transport.write(_raw_response(503, "Service Unavailable", "Too many open connections"))
            transport.close()
            self._refused = True
            return
        self._refused = False
        super().connection_made(transport)
        self._start_head_timer()

    def connection_lost(self, exc: Exception | None) -> None:
        self._cancel_head_timer()
        if getattr(self, "_refused", False):
            return
        super().connection_lost(exc)

    def data_received(self, data: bytes) -> None:
        if self._refused:
            return
        if not self._head_done:
            self._head_bytes += len(data)
            if self._head_timer is None:
                self._start_head_timer()
            if self._head_bytes > self.limits.max_header_bytes and not self._head_complete_in(data):
                self._reject(431, "Request Header Fields Too Large", "The request head is too large")
                return
        super().data_received(data)

    def _head_complete_in(self, data: bytes) -> bool:
        """True when the head ends in this chunk within the limit (its body may follow)."""
        end = data.find(b"\r\n\r\n")
        return end >= 0 and self._head_bytes - len(data) + end + 4 <= self.limits.max_header_bytes

    def on_headers_complete(self) -> None:
        self._head_done = True
        self._cancel_head_timer()
        super().on_headers_complete()

    def on_message_complete(self) -> None:
        super().on_message_complete()
        self._head_done = False
        self._head_bytes = 0

    def _start_head_timer(self) -> None:
        self._head_timer = self.loop.call_later(self.limits.header_timeout_seconds, self._head_timed_out)

    def _cancel_head_timer(self) -> None:
        if self._head_timer is not None:
            self._head_timer.cancel()
            self._head_timer = None

    def _head_timed_out(self) -> None:
        self._head_timer = None
        if self._head_done or self.transport.is_closing():
            return
        self._reject(408, "Request Timeout", "The request head was not received in time")

    def _reject(self, status: int, reason: str, message: str) -> None:
        self._cancel_head_timer()
        if not self.transport.is_closing():
            self.transport.write(_raw_response(status, reason, message))
            self.transport.close()


def protocol_class(limits: HardeningSettings) -> type[Any]:
    """The protocol class for one server's uvicorn.Config(http=...)."""
    return type("QconnectHttpProtocol", (LimitedHttpToolsProtocol,), {"limits": limits})


def uvicorn_options(limits: HardeningSettings) -> dict[str, Any]:
    return {"http": protocol_class(limits), "timeout_keep_alive": limits.keep_alive_seconds}
