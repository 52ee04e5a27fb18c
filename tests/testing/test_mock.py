"""mock_qconnect() in separate pytest runs of throw-away projects (pytester, one subprocess each).

Each run holds many small tests, so the cost of starting a Python with boto3 is paid a few times only.
"""

from __future__ import annotations

import sys
import textwrap

import pytest

MOCK_TESTS = """
import os
import threading
import unittest

import boto3
import botocore.session
import pytest
from botocore.exceptions import BotoCoreError

from qconnect_local import mock_qconnect

# Created at import time, long before any mock starts (the plugin imported the mock first).
EARLY_CLIENT = botocore.session.Session().create_client(
    "qconnect", region_name="eu-west-1", endpoint_url="http://127.0.0.1:9"
)


def new_kb(client, name="kb"):
    return client.create_knowledge_base(name=name, knowledgeBaseType="QUICK_RESPONSES")["knowledgeBase"]


@mock_qconnect()
def test_function_decorator():
    client = boto3.client("qconnect")
    kb = new_kb(client)
    assert client.get_knowledge_base(knowledgeBaseId=kb["knowledgeBaseId"])["knowledgeBase"]["name"] == "kb"


@mock_qconnect()
def test_decorator_gives_fresh_state_each_time():
    assert boto3.client("qconnect").list_knowledge_bases()["knowledgeBaseSummaries"] == []
    new_kb(boto3.client("qconnect"))


def test_context_manager_and_fresh_state_on_entry():
    with mock_qconnect():
        new_kb(boto3.client("qconnect"))
        assert len(boto3.client("qconnect").list_knowledge_bases()["knowledgeBaseSummaries"]) == 1
    with mock_qconnect():
        assert boto3.client("qconnect").list_knowledge_bases()["knowledgeBaseSummaries"] == []


def test_client_created_before_the_mock_started():
    with mock_qconnect():
        kb = new_kb(EARLY_CLIENT)
        # Region comes from the client's signature, as with the server.
        assert ":eu-west-1:" in kb["knowledgeBaseArn"]


def test_wisdom_client_and_errors():
    with mock_qconnect():
        wisdom = boto3.client("wisdom")
        kb = new_kb(wisdom)
        assert boto3.client("qconnect").get_knowledge_base(knowledgeBaseId=kb["knowledgeBaseId"])
        with pytest.raises(wisdom.exceptions.ResourceNotFoundException) as info:
            wisdom.get_knowledge_base(knowledgeBaseId="00000000-0000-0000-0000-000000000000")
        assert info.value.response["ResponseMetadata"]["HTTPStatusCode"] == 404
        with pytest.raises(wisdom.exceptions.ValidationException):
            wisdom.get_knowledge_base(knowledgeBaseId="NOT-A-UUID")


def test_interception_stops_on_exit():
    with mock_qconnect():
        EARLY_CLIENT.list_knowledge_bases()
    with pytest.raises(BotoCoreError):  # no credentials, or nothing on port 9
        EARLY_CLIENT.list_knowledge_bases()


def test_dummy_credentials_and_region_only_while_active(monkeypatch, tmp_path):
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_PROFILE", "AWS_DEFAULT_REGION", "AWS_REGION"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "none"))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "none"))
    with mock_qconnect():
        client = boto3.session.Session().client("qconnect")  # boto3's default session caches credentials
        assert new_kb(client)["knowledgeBaseArn"].startswith("arn:aws:wisdom:us-east-1:")
    assert "AWS_ACCESS_KEY_ID" not in os.environ and "AWS_DEFAULT_REGION" not in os.environ


def test_existing_credentials_are_kept(monkeypatch):
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "111122223333")  # 12 digits: the account to act in
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "x")
    with mock_qconnect():
        kb = new_kb(boto3.session.Session().client("qconnect", region_name="us-west-2"))
    assert kb["knowledgeBaseArn"].startswith("arn:aws:wisdom:us-west-2:111122223333:")
    assert os.environ["AWS_ACCESS_KEY_ID"] == "111122223333"


@mock_qconnect()
def helper_that_mocks_too(kb_id):
    return boto3.client("qconnect").get_knowledge_base(knowledgeBaseId=kb_id)["knowledgeBase"]


def test_nested_mocks_share_the_outer_state():
    with mock_qconnect():
        client = boto3.client("qconnect")
        kb = new_kb(client)
        with mock_qconnect():
            assert len(client.list_knowledge_bases()["knowledgeBaseSummaries"]) == 1
        assert helper_that_mocks_too(kb["knowledgeBaseId"])["name"] == "kb"
        # Still intercepted after the inner exits.
        assert len(client.list_knowledge_bases()["knowledgeBaseSummaries"]) == 1


def test_threads():
    errors = []
    with mock_qconnect():
        shared = boto3.client("qconnect")

        def work(i):
            try:
                own = boto3.session.Session().client("qconnect")
                for j in range(3):
                    new_kb(own if j % 2 else shared, f"kb-{i}-{j}")
            except Exception as exc:  # reported below
                errors.append(exc)

        threads = [threading.Thread(target=work, args=(i,)) for i in range(3)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert errors == []
        names = {s["name"] for s in shared.list_knowledge_bases()["knowledgeBaseSummaries"]}
        assert len(names) == 9


def test_threads_entering_their_own_mocks():
    errors = []

    def work(i):
        try:
            with mock_qconnect():
                new_kb(boto3.session.Session().client("qconnect"), f"kb-{i}")
        except Exception as exc:
            errors.append(exc)

    with mock_qconnect():
        threads = [threading.Thread(target=work, args=(i,)) for i in range(4)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert errors == []
        assert len(boto3.client("qconnect").list_knowledge_bases()["knowledgeBaseSummaries"]) == 4


@mock_qconnect()
class TestPytestStyleClass:
    def test_one(self):
        new_kb(boto3.client("qconnect"))
        assert len(boto3.client("qconnect").list_knowledge_bases()["knowledgeBaseSummaries"]) == 1

    def test_two_is_fresh(self):
        assert boto3.client("qconnect").list_knowledge_bases()["knowledgeBaseSummaries"] == []


@mock_qconnect()
class TestUnittestClass(unittest.TestCase):
    def setUp(self):
        self.client = boto3.client("qconnect")
        self.kb = new_kb(self.client)

    def test_setup_data_is_visible(self):
        got = self.client.get_knowledge_base(knowledgeBaseId=self.kb["knowledgeBaseId"])
        self.assertEqual(got["knowledgeBase"]["name"], "kb")


@pytest.fixture
def mocked_client():
    with mock_qconnect():
        yield boto3.client("qconnect")


def test_inside_a_fixture(mocked_client):
    assert mocked_client.list_knowledge_bases()["knowledgeBaseSummaries"] == []


def test_plugin_fixture(qconnect_mock):
    new_kb(boto3.client("qconnect"))
    assert qconnect_mock.app.store is not None


def test_async_function_decorator():
    import asyncio

    @mock_qconnect()
    async def run():
        return new_kb(boto3.client("qconnect"))["name"]

    assert asyncio.run(run()) == "kb"
"""


@pytest.mark.slow
def test_mock_in_a_separate_pytest_run(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(test_mocked=MOCK_TESTS)
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider", "-q")
    result.assert_outcomes(passed=17)


PATCH_CLIENT_TESTS = """
import boto3
import pytest
from botocore.exceptions import EndpointConnectionError

# The plugin is disabled in this run, so this client exists before qconnect_local is imported.
EARLY = boto3.client("qconnect", region_name="us-east-1", endpoint_url="http://127.0.0.1:9",
                     aws_access_key_id="a", aws_secret_access_key="b")


def test_patch_client():
    from qconnect_local import mock_qconnect, patch_client

    with mock_qconnect():
        with pytest.raises(EndpointConnectionError):
            EARLY.list_knowledge_bases()  # its session predates the mock's handlers
        assert patch_client(EARLY) is EARLY
        assert EARLY.list_knowledge_bases()["knowledgeBaseSummaries"] == []
        # boto3's default session also predates the import; its new clients are covered.
        assert boto3.client("qconnect", region_name="us-east-1").list_knowledge_bases()


def test_patch_client_rejects_other_services():
    from qconnect_local import patch_client

    with pytest.raises(ValueError):
        patch_client(boto3.client("s3", region_name="us-east-1"))
"""


@pytest.mark.slow
def test_patch_client_for_clients_older_than_the_module(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(test_patch=PATCH_CLIENT_TESTS)
    result = pytester.runpytest_subprocess("-p", "no:qconnect_local", "-p", "no:cacheprovider", "-q")
    result.assert_outcomes(passed=2)


def test_module_level_use_without_pytest(pytester: pytest.Pytester) -> None:
    """The plain-script form from the README: start()/stop() without any test runner."""
    script = pytester.makepyfile(
        script=textwrap.dedent("""
        import boto3
        from qconnect_local import mock_qconnect

        mock = mock_qconnect()
        mock.start()
        client = boto3.client("qconnect", region_name="us-east-1")
        client.create_knowledge_base(name="kb", knowledgeBaseType="QUICK_RESPONSES")
        print("count", len(client.list_knowledge_bases()["knowledgeBaseSummaries"]))
        mock.stop()
        try:
            mock.stop()
        except RuntimeError as exc:
            print("second stop:", exc)
    """)
    )
    result = pytester.run(sys.executable, str(script))
    assert result.ret == 0, result.stderr.str()
    result.stdout.fnmatch_lines(["count 1", "second stop: *not started*"])
