"""What a new user meets first (issue 13): the declared dependencies, the `[team]` extra message,
`serve --port 0`'s line, `@mock_qconnect` without parentheses, the pytest fixture's environment,
`make run`. The wheel itself is installed and smoke-tested in a fresh virtualenv by `.ci/run`."""

from __future__ import annotations

import importlib.metadata
import os
import re
import socket
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
CLI = str(Path(sys.executable).parent / "qconnect-local")


def _base_requirements() -> dict[str, str]:
    """name -> requirement text, of the requirements without an extra marker."""
    out = {}
    for req in importlib.metadata.requires("qconnect-local") or []:
        if "extra ==" in req:
            continue
        name = re.match(r"[A-Za-z0-9_.-]+", req).group(0).lower()
        out[name] = req
    return out


def test_boto3_is_a_base_dependency() -> None:
    """The CLI's client commands and the pytest plugin need it after a bare `pip install`."""
    assert "boto3" in _base_requirements()


def test_uvicorn_without_standard_but_with_what_the_server_uses() -> None:
    base = _base_requirements()
    assert "[standard]" not in base["uvicorn"]
    assert "httptools" in base and "uvloop" in base


def test_py_typed_is_shipped() -> None:
    assert (ROOT / "src" / "qconnect_local" / "py.typed").is_file()
    assert '"py.typed"' in (ROOT / "pyproject.toml").read_text()


def test_make_run_installs_only_runtime_dependencies() -> None:
    plan = subprocess.run(
        ["make", "-n", "-B", "run", "VENV=/nonexistent-venv"], cwd=ROOT, capture_output=True, text=True
    ).stdout
    installs = [line for line in plan.splitlines() if "pip install" in line and "-e" in line]
    assert installs and all("[" not in line for line in installs), plan


def test_missing_team_extra_is_one_line(tmp_path: Path) -> None:
    """Without psycopg (shadowed here by a package that cannot be imported), a PostgreSQL URL
    gets one line naming the extra, not a traceback."""
    shadow = tmp_path / "shadow" / "psycopg"
    shadow.mkdir(parents=True)
    (shadow / "__init__.py").write_text("raise ModuleNotFoundError(\"No module named 'psycopg'\", name='psycopg')\n")
    env = {**os.environ, "PYTHONPATH": str(tmp_path / "shadow")}
    for command in (["serve", "--port", "0"], ["worker"], ["migrate"]):
        result = subprocess.run(
            [CLI, *command, "--database-url", "postgresql://nobody@127.0.0.1:1/none"],
            env=env,
            capture_output=True,
            text=True,
            timeout=60,
            cwd=tmp_path,
        )
        assert result.returncode == 1, result.stderr
        lines = result.stderr.strip().splitlines()
        assert len(lines) == 1 and "Traceback" not in result.stderr, result.stderr
        assert "pip install 'qconnect-local[team]'" in lines[0]


@pytest.mark.parametrize("attempt", range(5))
def test_listening_line_comes_after_the_socket_listens(attempt: int) -> None:
    proc = subprocess.Popen(
        [CLI, "serve", "--port", "0", "--in-memory", "--request-log", "off"],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    try:
        assert proc.stdout is not None
        line = proc.stdout.readline()
        m = re.search(r"listening on http://([\d.]+):(\d+)", line)
        assert m, line
        # At once, no retry: the line promises that the socket accepts connections.
        with socket.create_connection((m.group(1), int(m.group(2))), timeout=10) as conn:
            conn.sendall(b"GET /_qconnect/health HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
            assert conn.recv(64).startswith(b"HTTP/1.1 ")
    finally:
        proc.terminate()
        proc.wait(timeout=15)


def test_mock_qconnect_without_parentheses() -> None:
    import boto3

    from qconnect_local import mock_qconnect

    @mock_qconnect
    def make_one() -> str:
        client = boto3.client("qconnect", region_name="us-east-1")
        client.create_knowledge_base(name="bare", knowledgeBaseType="QUICK_RESPONSES")
        return client.list_knowledge_bases()["knowledgeBaseSummaries"][0]["name"]

    @mock_qconnect
    class TestBare:
        def test_it(self) -> int:
            return len(
                boto3.client("qconnect", region_name="us-east-1").list_knowledge_bases()["knowledgeBaseSummaries"]
            )

    assert make_one() == "bare"
    assert TestBare().test_it() == 0  # a fresh mock per decorated method


FIXTURE_ENV_TESTS = """
import os

import boto3


def test_code_under_test_goes_to_the_server(qconnect_server):
    assert os.environ["AWS_ENDPOINT_URL_QCONNECT"] == qconnect_server.endpoint_url
    assert os.environ["AWS_ENDPOINT_URL_WISDOM"] == qconnect_server.endpoint_url
    assert os.environ["AWS_ACCESS_KEY_ID"] == "testing"
    assert "AWS_SESSION_TOKEN" not in os.environ
    # application code that builds its own client, knowing nothing of the fixture
    client = boto3.client("qconnect")
    assert client.meta.endpoint_url == qconnect_server.endpoint_url
    client.create_knowledge_base(name="app", knowledgeBaseType="QUICK_RESPONSES")
    assert boto3.client("wisdom").list_knowledge_bases()["knowledgeBaseSummaries"][0]["name"] == "app"


def test_through_the_client_fixture_too(qconnect_client):
    assert os.environ["AWS_ENDPOINT_URL_QCONNECT"] == qconnect_client.meta.endpoint_url


def test_restored_afterwards():
    assert "AWS_ENDPOINT_URL_QCONNECT" not in os.environ
    assert os.environ["AWS_ACCESS_KEY_ID"] == "AKIAREALLOOKINGKEY"
    assert os.environ["AWS_SESSION_TOKEN"] == "real-token"
"""


def test_server_fixture_points_the_code_under_test_at_itself(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "AKIAREALLOOKINGKEY")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "real-secret")
    monkeypatch.setenv("AWS_SESSION_TOKEN", "real-token")
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    for key in ("AWS_ENDPOINT_URL_QCONNECT", "AWS_ENDPOINT_URL_WISDOM", "AWS_ENDPOINT_URL", "AWS_PROFILE"):
        monkeypatch.delenv(key, raising=False)
    pytester.makepyfile(test_env=FIXTURE_ENV_TESTS)
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider", "-q", "-p", "no:randomly")
    result.assert_outcomes(passed=3)
