from __future__ import annotations

import pytest

from support import ServerProcess

# pytester runs the mock and the pytest plugin in throw-away projects (tests/testing/test_mock*.py, test_plugin.py).
pytest_plugins = ["pytester"]


@pytest.fixture(scope="session")
def server(tmp_path_factory: pytest.TempPathFactory):
    proc = ServerProcess(data_dir=tmp_path_factory.mktemp("qconnect-data")).start()
    yield proc
    proc.stop()


@pytest.fixture
def endpoint(server: ServerProcess) -> str:
    """The running server's URL, with all state wiped before the test."""
    server.reset()
    return server.endpoint_url


@pytest.fixture
def qconnect(server: ServerProcess, endpoint: str):
    return server.client("qconnect")


@pytest.fixture
def wisdom(server: ServerProcess, endpoint: str):
    return server.client("wisdom")


@pytest.fixture
def quick_responses_kb(qconnect) -> dict:
    """A fresh QUICK_RESPONSES knowledge base."""
    return qconnect.create_knowledge_base(name="qr-kb", knowledgeBaseType="QUICK_RESPONSES")["knowledgeBase"]
