"""pytest plugin (registered through the `pytest11` entry point: installing the package is enough).

Fixtures:
- `qconnect_server` (session): the API served by uvicorn in a background thread on a free port,
  in-memory state. Start-up failure raises at once (bind errors before any thread starts; a server
  thread that dies or does not come up in 15 s is reported), so a broken start never hangs a run.
  Under pytest-xdist each worker is its own process and gets its own server.
  Has `endpoint_url`, `app`, `reset()` and `client(service="qconnect", region="us-east-1")`.
  Its state is wiped before each test that uses it (directly or through another fixture), and
  for that test AWS_ENDPOINT_URL_QCONNECT / AWS_ENDPOINT_URL_WISDOM point at it, with dummy
  credentials (restored after the test), so code under test can never reach real AWS.
- `qconnect_endpoint_url`: the URL to point your own clients at (the mock's loopback URL in mock mode).
- `qconnect_client`: a boto3 `qconnect` client bound to the server, or created inside an active
  `mock_qconnect()` in mock mode.
- `qconnect_mock`: an active `mock_qconnect()` for the test.
- `qconnect_faults`: fault rules (docs/unhappy-paths.md) of the test's server or mock, per
  `qconnect_mode`: `add(*rules, account=None)`, `list()`, `clear()`; cleared after the test.
- `qconnect_mode`: "server" or "mock", from (first wins) `@pytest.mark.qconnect_mode("mock")`,
  `--qconnect-mode`, the `qconnect_mode` ini option, else "server". Parametrize it to run the same
  test both ways: `@pytest.mark.parametrize("qconnect_mode", ["server", "mock"])`.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

# Importing the mock registers its botocore handlers before any test module makes a client.
from qconnect_local.mock import mock_qconnect
from qconnect_local.testenv import pointed_at

MODES = ("server", "mock")
DUMMY_CREDENTIALS = {"aws_access_key_id": "testing", "aws_secret_access_key": "testing"}


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("qconnect-local", "qconnect-local (local Amazon Q in Connect)")
    group.addoption(
        "--qconnect-mode",
        choices=MODES,
        default=None,
        help="how qconnect_client reaches the API: 'server' (HTTP, default) or 'mock' (in-process)",
    )
    group.addoption("--qconnect-host", default="127.0.0.1", help="interface of the qconnect_server fixture")
    group.addoption("--qconnect-port", type=int, default=0, help="port of the qconnect_server fixture (0: a free one)")
    group.addoption(
        "--qconnect-data-dir",
        default=None,
        help="keep the qconnect_server state in this directory (default: in memory)",
    )
    parser.addini("qconnect_mode", "default for --qconnect-mode", default="server")


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "qconnect_mode(mode): 'server' or 'mock' for this test's qconnect_client")


class QConnectServer:
    """Handle of the session's background server."""

    def __init__(self, app: Any, threaded: Any) -> None:
        self.app = app
        self._threaded = threaded
        self._clients: dict[tuple[str, str], Any] = {}

    @property
    def endpoint_url(self) -> str:
        return self._threaded.endpoint_url

    def reset(self) -> None:
        self.app.reset()

    def client(self, service: str = "qconnect", region: str = "us-east-1") -> Any:
        """A boto3 client bound to this server (cached: creating one costs ~30 ms)."""
        key = (service, region)
        if key not in self._clients:
            import boto3

            self._clients[key] = boto3.client(
                service, endpoint_url=self.endpoint_url, region_name=region, **DUMMY_CREDENTIALS
            )
        return self._clients[key]

    def stop(self) -> None:
        self._threaded.stop()
        self.app.close()


def start_server(host: str = "127.0.0.1", port: int = 0, data_dir: str | Path | None = None) -> QConnectServer:
    """Starts the API in a background thread; raises `ServerStartError` at once if it cannot."""
    from qconnect_local.config import Settings
    from qconnect_local.server import build_app
    from qconnect_local.threaded_server import ServerStartError, ThreadedServer

    # The embedded store, whatever QCONNECT_LOCAL_DATABASE_URL says: each pytest process (each
    # xdist worker) gets a server of its own, and a shared database would mix their states.
    settings = Settings(host=host, port=port, in_memory=data_dir is None, database_url=None)
    if data_dir is not None:
        settings.data_dir = Path(data_dir)
    try:
        app = build_app(settings)
    except Exception as exc:
        raise ServerStartError(f"qconnect-local server could not start: {exc}") from exc
    try:
        threaded = ThreadedServer(app, host, port).start()
    except BaseException:
        app.close()
        raise
    return QConnectServer(app, threaded)


@pytest.fixture(scope="session")
def qconnect_server(pytestconfig: pytest.Config) -> Iterator[QConnectServer]:
    server = start_server(
        pytestconfig.getoption("qconnect_host"),
        pytestconfig.getoption("qconnect_port"),
        pytestconfig.getoption("qconnect_data_dir"),
    )
    yield server
    server.stop()


def _fresh_server(request: pytest.FixtureRequest) -> QConnectServer:
    """The session's server, its state wiped once per test, before the test's first use of it."""
    server = request.getfixturevalue("qconnect_server")
    if not getattr(request.node, "_qconnect_state_wiped", False):
        server.reset()
        request.node._qconnect_state_wiped = True
        # The code under test goes to this server, with dummy credentials, until the test ends.
        pointed = pointed_at(server.endpoint_url)
        pointed.__enter__()
        request.node.addfinalizer(lambda: pointed.__exit__(None, None, None))
    return server


@pytest.fixture(autouse=True)
def _qconnect_fresh_state(request: pytest.FixtureRequest) -> None:
    """Wipes the server's state before each test that uses it (and only those)."""
    if "qconnect_server" in request.fixturenames:
        _fresh_server(request)


@pytest.fixture
def qconnect_mode(request: pytest.FixtureRequest) -> str:
    marker = request.node.get_closest_marker("qconnect_mode")
    if marker is not None:
        mode = marker.args[0] if marker.args else marker.kwargs.get("mode")
    else:
        mode = request.config.getoption("qconnect_mode") or request.config.getini("qconnect_mode")
    if mode not in MODES:
        raise pytest.UsageError(f"qconnect_mode must be one of {MODES}, not {mode!r}")
    return mode


@pytest.fixture
def qconnect_mock() -> Iterator[Any]:
    with mock_qconnect() as mock:
        yield mock


@pytest.fixture
def qconnect_endpoint_url(request: pytest.FixtureRequest, qconnect_mode: str) -> str:
    if qconnect_mode == "mock":
        return request.getfixturevalue("qconnect_mock").endpoint_url
    return _fresh_server(request).endpoint_url


@pytest.fixture
def qconnect_client(request: pytest.FixtureRequest, qconnect_mode: str) -> Any:
    if qconnect_mode == "mock":
        request.getfixturevalue("qconnect_mock")
        import boto3

        return boto3.client("qconnect", region_name="us-east-1", **DUMMY_CREDENTIALS)
    return _fresh_server(request).client("qconnect")


@pytest.fixture
def qconnect_faults(request: pytest.FixtureRequest, qconnect_mode: str) -> Iterator[Any]:
    from qconnect_local.unhappy.faults import Faults

    if qconnect_mode == "mock":
        app = request.getfixturevalue("qconnect_mock").app
    else:
        app = _fresh_server(request).app
    faults = Faults(app.gate.faults, app.settings.account_id)
    yield faults
    faults.clear_all()
