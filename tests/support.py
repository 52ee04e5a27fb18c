"""Test support: a real `qconnect-local serve` process on a free port, and boto3 clients for it."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
import urllib.request
from pathlib import Path
from typing import Any

import boto3
from botocore.config import Config

import postgres_support

# The store test servers run on: "postgresql" when QCONNECT_TEST_DATABASE_URL is set.
EXPECTED_STORAGE = "postgresql" if postgres_support.TEST_DATABASE_URL else "sqlite"

_LISTENING = re.compile(r"listening on (http://[\d.]+:\d+)")


class ServerProcess:
    """`qconnect-local serve --port 0 ...` in a child process."""

    def __init__(self, *args: str, data_dir: Path | None = None, env: dict[str, str] | None = None) -> None:
        self.args = list(args)
        self.data_dir = data_dir
        self.env = env
        self.proc: subprocess.Popen[str] | None = None
        self.endpoint_url = ""

    def start(self, timeout: float = 30.0) -> ServerProcess:
        storage = ["--data-dir", str(self.data_dir)] if self.data_dir else ["--in-memory"]
        storage += self._test_database_args()
        storage += self._guard_args(storage)
        cmd = [sys.executable, "-m", "qconnect_local", "serve", "--port", "0", *storage, *self.args]
        self.proc = subprocess.Popen(
            cmd,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            env={**os.environ, **(self.env or {})},
        )
        deadline = time.monotonic() + timeout
        assert self.proc.stdout is not None
        while time.monotonic() < deadline:
            line = self.proc.stdout.readline()
            if not line:
                raise RuntimeError(f"server exited with {self.proc.wait()} before listening")
            m = _LISTENING.search(line)
            if m:
                self.endpoint_url = m.group(1)
                break
        else:
            self.kill()
            raise RuntimeError("server did not start in time")
        # Drain the rest of the output so the pipe never fills up.
        import threading

        self.output: list[str] = []
        threading.Thread(target=self._drain, daemon=True).start()
        self.wait_healthy()
        return self

    def _test_database_args(self) -> list[str]:
        """With QCONNECT_TEST_DATABASE_URL set, the server runs on a PostgreSQL database of its
        own: one per data dir (so state survives a restart), a fresh one per in-memory start."""
        if not postgres_support.TEST_DATABASE_URL or "--database-url" in self.args:
            return []
        if self.data_dir is None:
            return ["--database-url", postgres_support.new_database()]
        return ["--database-url", postgres_support.database_for(str(self.data_dir))]

    def _guard_args(self, storage: list[str]) -> list[str]:
        """On PostgreSQL the internal endpoints (reset, ...) are guarded; the tests use them
        (tests of the guard itself pass their own --admin-token)."""
        args = [*storage, *self.args]
        if "--database-url" not in args or "--admin-token" in args or "--allow-internal-endpoints" in args:
            return []
        return ["--allow-internal-endpoints"]

    def _drain(self) -> None:
        assert self.proc is not None and self.proc.stdout is not None
        for line in self.proc.stdout:
            self.output.append(line)

    def wait_healthy(self, timeout: float = 10.0) -> None:
        deadline = time.monotonic() + timeout
        while True:
            try:
                with urllib.request.urlopen(self.endpoint_url + "/_qconnect/health", timeout=2) as r:
                    if r.status == 200:
                        return
            except OSError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.05)

    def reset(self) -> None:
        req = urllib.request.Request(self.endpoint_url + "/_qconnect/reset", method="POST", data=b"")
        with urllib.request.urlopen(req, timeout=30) as r:
            assert r.status == 200

    def stop(self) -> int:
        if self.proc is None:
            return 0
        self.proc.send_signal(signal.SIGTERM)
        try:
            return self.proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            return self.proc.wait()

    def kill(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()

    def client(self, service: str = "qconnect", region: str = "us-east-1", access_key: str = "testing"):
        return make_client(self.endpoint_url, service, region, access_key)


def make_client(endpoint_url: str, service: str = "qconnect", region: str = "us-east-1", access_key: str = "testing"):
    return boto3.client(
        service,
        endpoint_url=endpoint_url,
        region_name=region,
        aws_access_key_id=access_key,
        aws_secret_access_key="testing",
        config=Config(retries={"max_attempts": 1, "mode": "standard"}),
    )


def single_attempt_client(endpoint_url: str):
    """A qconnect client that makes each call once: botocore would retry a 408 or a 5xx."""
    return boto3.client(
        "qconnect",
        endpoint_url=endpoint_url,
        region_name="us-east-1",
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
        config=Config(retries={"total_max_attempts": 1, "mode": "standard"}),
    )


def query_state(data_dir: Path, sql: str) -> list[tuple]:
    """Runs SQL (written to work on both stores) on the state of the server(s) of `data_dir`:
    its SQLite file, or its PostgreSQL database when QCONNECT_TEST_DATABASE_URL is set."""
    if postgres_support.TEST_DATABASE_URL:
        import psycopg

        with psycopg.connect(postgres_support.database_for(str(data_dir)), autocommit=True) as conn:
            return conn.execute(sql).fetchall()
    import sqlite3

    with sqlite3.connect(Path(data_dir) / "state.sqlite3") as db:
        return db.execute(sql).fetchall()


class FakeClock:
    """Time that moves only when a test moves it, or when the code under test sleeps on it."""

    def __init__(self, start: float = 0.0) -> None:
        self.now = start

    def time(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.now += seconds

    advance = sleep


class InProcessServer:
    """The API served from this process (uvicorn in a thread), built with `services` of the
    test's choosing, for instance a FakeClock; on the test database when one is set."""

    def __init__(self, settings: Any, clock: FakeClock | None = None, adapt: Any = None) -> None:
        import time

        from qconnect_local.server import App
        from qconnect_local.services import build_services
        from qconnect_local.threaded_server import ThreadedServer

        if postgres_support.TEST_DATABASE_URL:
            settings.database_url = postgres_support.new_database()
        self.clock = clock
        self.services = build_services(settings, clock=clock.time if clock is not None else time.time)
        if adapt is not None:  # the test changes a service before the App is built on them
            adapt(self.services)
        self.app = App(settings, services=self.services)
        self.threaded = ThreadedServer(self.app).start()
        self.endpoint_url = self.threaded.endpoint_url

    def client(self, service: str = "qconnect", region: str = "us-east-1", access_key: str = "testing"):
        return make_client(self.endpoint_url, service, region, access_key)

    def stop(self) -> None:
        self.threaded.stop()
        self.app.close()
