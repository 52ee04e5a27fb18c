"""An `App` served over HTTP by uvicorn in a background thread of the current process.

Used by the pytest plugin's `qconnect_server` fixture and by the in-process mock (which needs a
real socket only for the upload and download URLs it hands out), with `serve`'s connection limits
(the App's `settings.hardening`). Like moto's `ThreadedMotoServer`,
but start-up never hangs: the socket is bound in the caller's thread (a bad host or a taken port
raises `OSError` at once), and `start()` returns only when uvicorn is accepting connections, or
raises the error that stopped it, or raises after `timeout` seconds.
"""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Callable
from typing import Any


class ServerStartError(RuntimeError):
    """The background server could not start."""


class ThreadedServer:
    def __init__(
        self, app: Any, host: str = "127.0.0.1", port: int = 0, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.app = app
        self.host = host
        self.port = port
        self.clock = clock  # start-up's deadline (tests pass one that records whether it was read)
        self._server: Any = None
        self._thread: threading.Thread | None = None
        self._error: BaseException | None = None

    @property
    def endpoint_url(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{self.port}"

    @property
    def running(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    def start(self, timeout: float = 15.0) -> ThreadedServer:
        import uvicorn

        from qconnect_local.hardening import HardeningSettings
        from qconnect_local.protocol.limits import uvicorn_options

        # The same header, header-time, connection and keep-alive limits as `serve`.
        limits = getattr(getattr(self.app, "settings", None), "hardening", None) or HardeningSettings()
        sock = _bind(self.host, self.port)
        self.port = sock.getsockname()[1]
        # lifespan "off": the App belongs to whoever made it; stopping this server must not close it.
        # The asyncio loop (not uvloop) leaves the host process's loop policy alone.
        config = uvicorn.Config(
            self.app,
            lifespan="off",
            log_level="warning",
            access_log=False,
            loop="asyncio",
            timeout_graceful_shutdown=2,
            **uvicorn_options(limits),
        )
        self._server = uvicorn.Server(config)
        self._thread = threading.Thread(
            target=self._run, args=(sock,), name=f"qconnect-local-server-{self.port}", daemon=True
        )
        self._thread.start()
        self._wait_started(timeout, sock)
        return self

    def _run(self, sock: socket.socket) -> None:
        try:
            self._server.run(sockets=[sock])
        except BaseException as exc:  # SystemExit from uvicorn included: report it, never lose it
            self._error = exc
        finally:
            sock.close()

    def _wait_started(self, timeout: float, sock: socket.socket) -> None:
        deadline = self.clock() + timeout
        thread = self._thread
        assert thread is not None  # start() made it
        while not self._server.started:
            if not thread.is_alive():
                raise ServerStartError(
                    f"qconnect-local server on {self.endpoint_url} stopped during start-up: {self._error!r}"
                ) from self._error
            if self.clock() > deadline:
                self.stop()
                raise ServerStartError(f"qconnect-local server on {self.endpoint_url} did not start in {timeout} s")
            time.sleep(0.005)

    def stop(self, timeout: float = 5.0) -> None:
        if self._server is not None:
            self._server.should_exit = True
        if self._thread is not None:
            self._thread.join(timeout)
        self._thread = None


def _bind(host: str, port: int) -> socket.socket:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    try:
        sock.bind((host, port))
    except OSError as exc:
        sock.close()
        raise ServerStartError(f"qconnect-local server cannot listen on {host}:{port}: {exc}") from exc
    return sock
