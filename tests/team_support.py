"""Helpers for the team-mode tests: `qconnect-local worker` processes, and a PostgreSQL database
of their own for a group of servers and workers (skipped without QCONNECT_TEST_DATABASE_URL)."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import threading
import time

import pytest

import postgres_support

needs_postgres = pytest.mark.skipif(
    not postgres_support.TEST_DATABASE_URL,
    reason="team mode needs PostgreSQL: set QCONNECT_TEST_DATABASE_URL (the CI's PostgreSQL run does)",
)

_RUNNING = re.compile(r"qconnect-local worker (\S+) running")


class WorkerProcess:
    """`qconnect-local worker ...` in a child process."""

    def __init__(self, *args: str, env: dict[str, str] | None = None) -> None:
        self.args = list(args)
        self.env = env
        self.proc: subprocess.Popen[str] | None = None
        self.owner = ""
        self.output: list[str] = []

    def start(self, timeout: float = 30.0) -> WorkerProcess:
        cmd = [sys.executable, "-m", "qconnect_local", "worker", "--log-level", "info", *self.args]
        self.proc = subprocess.Popen(
            cmd,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            env={**os.environ, **(self.env or {})},
        )
        assert self.proc.stdout is not None
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            line = self.proc.stdout.readline()
            if not line:
                raise RuntimeError(f"worker exited with {self.proc.wait()} before running: {self.output}")
            self.output.append(line)
            m = _RUNNING.search(line)
            if m:
                self.owner = m.group(1)
                break
        else:
            self.kill()
            raise RuntimeError("worker did not start in time")
        threading.Thread(target=self._drain, daemon=True).start()
        return self

    def _drain(self) -> None:
        assert self.proc is not None and self.proc.stdout is not None
        for line in self.proc.stdout:
            self.output.append(line)

    def stop(self) -> int:
        if self.proc is None or self.proc.poll() is not None:
            return self.proc.returncode if self.proc else 0
        self.proc.send_signal(signal.SIGTERM)
        try:
            return self.proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            return self.proc.wait()

    def kill(self) -> None:
        """kill -9: no clean-up of any kind."""
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGKILL)
            self.proc.wait()

    def jobs_finished(self) -> int:
        return sum(1 for line in self.output if "import job" in line and (" COMPLETE," in line or " FAILED," in line))


def query(url: str, sql: str, params: tuple = ()) -> list[tuple]:
    import psycopg

    with psycopg.connect(url, autocommit=True) as conn:
        cur = conn.execute(sql, params)
        return cur.fetchall() if cur.description else []
