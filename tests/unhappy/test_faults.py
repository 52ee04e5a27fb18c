"""Fault injection: `/_qconnect/faults` rules per account, through the real server and boto3, the
in-process mock and the pytest plugin; import jobs told to fail at a row or to stall."""

from __future__ import annotations

import time

import boto3
import pytest
import requests
from botocore.config import Config
from botocore.exceptions import ClientError

from import_support import csv_bytes, report_rows, start, upload, wait_job
from qconnect_local.mock import mock_qconnect
from support import ServerProcess

ALICE, BOB = "111111111111", "222222222222"


@pytest.fixture
def url(server: ServerProcess, endpoint: str) -> str:
    return endpoint


def client(url: str, account: str = ALICE, attempts: int = 1, mode: str = "standard"):
    return boto3.client(
        "qconnect",
        endpoint_url=url,
        region_name="us-east-1",
        aws_access_key_id=account,  # a 12-digit key id names the account
        aws_secret_access_key="testing",
        config=Config(retries={"total_max_attempts": attempts, "mode": mode}),
    )


def add_faults(url: str, *rules: dict, account: str = ALICE) -> requests.Response:
    return requests.post(f"{url}/_qconnect/faults?account={account}", json=list(rules), timeout=30)


def error_of(call, *args, **kwargs) -> tuple[str, int]:
    with pytest.raises(ClientError) as info:
        call(*args, **kwargs)
    response = info.value.response
    return response["Error"]["Code"], response["ResponseMetadata"]["HTTPStatusCode"]


def test_rules_are_added_listed_and_cleared(url):
    added = add_faults(url, {"operation": "CreateQuickResponse", "error": "ConflictException", "count": 2})
    assert added.status_code == 200, added.text
    listed = requests.get(f"{url}/_qconnect/faults?account={ALICE}", timeout=30).json()
    assert listed["account"] == ALICE
    assert [{k: v for k, v in r.items() if k != "id"} for r in listed["rules"]] == [
        {"operation": "CreateQuickResponse", "error": "ConflictException", "count": 2, "probability": 1.0}
    ]
    assert requests.get(f"{url}/_qconnect/faults?account={BOB}", timeout=30).json()["rules"] == []
    assert requests.delete(f"{url}/_qconnect/faults?account={ALICE}", timeout=30).status_code == 200
    assert requests.get(f"{url}/_qconnect/faults?account={ALICE}", timeout=30).json()["rules"] == []


def test_an_error_with_its_modeled_status_and_count_exhausts(url):
    alice = client(url)
    kb = alice.create_knowledge_base(name="kb", knowledgeBaseType="QUICK_RESPONSES")["knowledgeBase"]
    add_faults(url, {"operation": "CreateQuickResponse", "error": "ServiceQuotaExceededException", "count": 2})
    create = alice.create_quick_response
    params = {"knowledgeBaseId": kb["knowledgeBaseId"], "name": "n", "content": {"content": "c"}}
    assert error_of(create, **params) == ("ServiceQuotaExceededException", 402)
    assert error_of(create, **params) == ("ServiceQuotaExceededException", 402)
    assert create(**params)["quickResponse"]["name"] == "n"  # the rule is used up
    assert requests.get(f"{url}/_qconnect/faults?account={ALICE}", timeout=30).json()["rules"] == []


def test_common_errors_and_the_wildcard_operation(url):
    add_faults(url, {"operation": "*", "error": "InternalServerException", "count": 1})
    assert error_of(client(url).list_knowledge_bases) == ("InternalServerException", 500)
    client(url).list_knowledge_bases()
    add_faults(url, {"operation": "*", "error": "ServiceUnavailableException", "count": 1})
    assert error_of(client(url).list_knowledge_bases) == ("ServiceUnavailableException", 503)


def test_an_error_the_operation_cannot_return_is_refused(url):
    response = add_faults(url, {"operation": "ListKnowledgeBases", "error": "ConflictException"})
    assert response.status_code == 400
    assert response.headers["x-amzn-errortype"] == "ValidationException"
    assert "ConflictException" in response.json()["message"]
    for bad in (
        {"operation": "NoSuchOperation", "error": "InternalServerException"},
        {"operation": "*", "error": "NoSuchException"},
        {"operation": "*", "error": "InternalServerException", "probability": 2},
        {"operation": "*", "error": "InternalServerException", "count": 0},
        {"operation": "*", "latencyMs": -1},
        {"operation": "*"},
        {"operation": "*", "error": "InternalServerException", "colour": "red"},
        {"operation": "CreateQuickResponse", "importFailAtRow": 2},
    ):
        assert add_faults(url, bad).status_code == 400, bad
    # All or nothing: one bad rule keeps the good ones of the same request out.
    add_faults(url, {"operation": "*", "error": "InternalServerException"}, {"operation": "*"})
    assert requests.get(f"{url}/_qconnect/faults?account={ALICE}", timeout=30).json()["rules"] == []


def test_probability(url):
    add_faults(url, {"operation": "ListKnowledgeBases", "error": "InternalServerException", "probability": 0})
    for _ in range(5):
        client(url).list_knowledge_bases()
    requests.delete(f"{url}/_qconnect/faults?account={ALICE}", timeout=30)
    add_faults(url, {"operation": "ListKnowledgeBases", "error": "InternalServerException", "probability": 0.5})
    outcomes = set()
    for _ in range(60):  # both outcomes: each of the two has a chance of 2**-59 to be missing
        try:
            client(url).list_knowledge_bases()
            outcomes.add("ok")
        except ClientError:
            outcomes.add("failed")
    assert outcomes == {"ok", "failed"}


def test_latency_is_observed(url):
    alice = client(url)
    add_faults(url, {"operation": "ListKnowledgeBases", "latencyMs": 400, "count": 1})
    started = time.monotonic()
    alice.list_knowledge_bases()
    assert time.monotonic() - started >= 0.4
    started = time.monotonic()
    alice.list_knowledge_bases()
    assert time.monotonic() - started < 0.4


def test_a_rule_for_one_account_leaves_another_untouched(url):
    add_faults(url, {"operation": "ListKnowledgeBases", "error": "AccessDeniedException"}, account=ALICE)
    assert error_of(client(url, ALICE).list_knowledge_bases) == ("AccessDeniedException", 403)
    client(url, BOB).list_knowledge_bases()


def test_an_injected_throttle_is_retried_by_botocore(url):
    add_faults(url, {"operation": "ListKnowledgeBases", "error": "ThrottlingException", "count": 2})
    response = client(url, attempts=5).list_knowledge_bases()
    assert response["ResponseMetadata"]["RetryAttempts"] == 2


def test_faults_are_cleared_by_reset(server, url):
    add_faults(url, {"operation": "*", "error": "InternalServerException"})
    server.reset()
    assert requests.get(f"{url}/_qconnect/faults?account={ALICE}", timeout=30).json()["rules"] == []
    client(url).list_knowledge_bases()


def test_an_import_told_to_fail_at_row_n_ends_failed_naming_it(url):
    alice = client(url)
    kb_id = alice.create_knowledge_base(name="kb", knowledgeBaseType="QUICK_RESPONSES")["knowledgeBase"][
        "knowledgeBaseId"
    ]
    add_faults(url, {"operation": "StartImportJob", "importFailAtRow": 2, "count": 1})
    rows = [["Name", "Content"], ["first", "a"], ["second", "b"], ["third", "c"]]
    job = wait_job(alice, kb_id, start(alice, kb_id, upload(alice, kb_id, csv_bytes(rows)))["importJobId"])
    assert job["status"] == "FAILED"
    report = report_rows(job)
    assert len(report) == 2 and report[1][:2] == ["second", "b"]
    assert "row 2 failed" in report[1][-1]
    names = {s["name"] for s in alice.list_quick_responses(knowledgeBaseId=kb_id)["quickResponseSummaries"]}
    assert names == {"first", "third"}
    # The rule was used up: the next import is not touched.
    again = [["Name", "Content"], ["fourth", "d"], ["fifth", "e"]]
    job = wait_job(alice, kb_id, start(alice, kb_id, upload(alice, kb_id, csv_bytes(again)))["importJobId"])
    assert job["status"] == "COMPLETE"


def test_an_import_told_to_stall_stays_in_progress_until_released(url):
    alice = client(url)
    kb_id = alice.create_knowledge_base(name="kb", knowledgeBaseType="QUICK_RESPONSES")["knowledgeBase"][
        "knowledgeBaseId"
    ]
    add_faults(url, {"operation": "StartImportJob", "importStall": True})
    job_id = start(alice, kb_id, upload(alice, kb_id, csv_bytes([["Name", "Content"], ["a", "b"]])))["importJobId"]
    time.sleep(1.5)
    assert alice.get_import_job(knowledgeBaseId=kb_id, importJobId=job_id)["importJob"]["status"] == "START_IN_PROGRESS"
    requests.delete(f"{url}/_qconnect/faults?account={ALICE}", timeout=30)
    assert wait_job(alice, kb_id, job_id)["status"] == "COMPLETE"


def test_an_import_stall_of_some_seconds_ends_by_itself(url):
    alice = client(url)
    kb_id = alice.create_knowledge_base(name="kb", knowledgeBaseType="QUICK_RESPONSES")["knowledgeBase"][
        "knowledgeBaseId"
    ]
    add_faults(url, {"operation": "StartImportJob", "importStall": 1.0, "count": 1})
    started = time.monotonic()
    job_id = start(alice, kb_id, upload(alice, kb_id, csv_bytes([["Name", "Content"], ["a", "b"]])))["importJobId"]
    assert wait_job(alice, kb_id, job_id)["status"] == "COMPLETE"
    assert time.monotonic() - started >= 1.0


def test_the_mock_takes_fault_rules():
    rule = {"operation": "ListKnowledgeBases", "error": "InternalServerException", "count": 1}
    with mock_qconnect(faults=[rule]) as mock:
        qconnect = boto3.client(
            "qconnect", region_name="us-east-1", config=Config(retries={"total_max_attempts": 1, "mode": "standard"})
        )
        assert error_of(qconnect.list_knowledge_bases) == ("InternalServerException", 500)
        qconnect.list_knowledge_bases()
        mock.faults.add({"operation": "CreateKnowledgeBase", "error": "ConflictException"})
        assert error_of(qconnect.create_knowledge_base, name="x", knowledgeBaseType="CUSTOM")[0] == "ConflictException"
        mock.faults.clear()
        qconnect.create_knowledge_base(name="x", knowledgeBaseType="CUSTOM")


def test_the_pytest_plugin_fixture(pytester: pytest.Pytester):
    pytester.makepyfile(
        """
        import pytest
        from botocore.exceptions import ClientError

        @pytest.mark.parametrize("qconnect_mode", ["server", "mock"])
        def test_faults(qconnect_client, qconnect_faults):
            qconnect_faults.add({"operation": "ListKnowledgeBases", "error": "AccessDeniedException", "count": 1})
            with pytest.raises(ClientError) as info:
                qconnect_client.list_knowledge_bases()
            assert info.value.response["Error"]["Code"] == "AccessDeniedException"
            assert len(qconnect_faults.list()) == 0
            qconnect_client.list_knowledge_bases()

        @pytest.mark.parametrize("qconnect_mode", ["server", "mock"])
        def test_cleared_between_tests(qconnect_client, qconnect_faults):
            assert qconnect_faults.list() == []
            qconnect_faults.add({"operation": "*", "error": "InternalServerException"})
        """
    )
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider")
    result.assert_outcomes(passed=4)
