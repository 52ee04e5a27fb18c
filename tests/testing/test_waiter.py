"""wait_for_import_job and the botocore-style waiter, against a server holding jobs (manual mode)."""

from __future__ import annotations

import threading
import time
import urllib.request

import pytest
from botocore.exceptions import WaiterError

from qconnect_local import import_job_waiter, wait_for_import_job
from qconnect_local.waiters import ImportJobFailed, ImportJobTimeout
from support import FakeClock, ServerProcess


@pytest.fixture(scope="module")
def manual_server():
    server = ServerProcess("--import-mode", "manual").start()
    yield server
    server.stop()


@pytest.fixture
def client(manual_server):
    manual_server.reset()
    return manual_server.client()


def start_job(client, csv_text: str) -> tuple[str, str]:
    kb_id = client.create_knowledge_base(name="kb", knowledgeBaseType="QUICK_RESPONSES")["knowledgeBase"][
        "knowledgeBaseId"
    ]
    upload = client.start_content_upload(knowledgeBaseId=kb_id, contentType="text/csv")
    request = urllib.request.Request(
        upload["url"], data=csv_text.encode(), method="PUT", headers=upload["headersToInclude"]
    )
    urllib.request.urlopen(request).read()
    job = client.start_import_job(knowledgeBaseId=kb_id, importJobType="QUICK_RESPONSES", uploadId=upload["uploadId"])[
        "importJob"
    ]
    return kb_id, job["importJobId"]


def release(server: ServerProcess, job_id: str, after: float = 0.0) -> threading.Thread:
    def go() -> None:
        time.sleep(after)
        request = urllib.request.Request(
            f"{server.endpoint_url}/_qconnect/import-jobs/{job_id}/run", method="POST", data=b""
        )
        urllib.request.urlopen(request).read()

    thread = threading.Thread(target=go)
    thread.start()
    return thread


def test_waits_for_a_held_job_until_it_completes(manual_server, client) -> None:
    kb_id, job_id = start_job(client, "Name,Content\nA,alpha\nB,beta\n")
    polls: list[str] = []
    thread = release(manual_server, job_id, after=0.5)
    job = wait_for_import_job(client, kb_id, job_id, timeout=20, on_poll=lambda j, s: polls.append(j["status"]))
    thread.join()
    assert job["status"] == "COMPLETE" and job["importJobId"] == job_id
    assert polls[0] == "START_IN_PROGRESS" and polls[-1] == "COMPLETE"


def test_failed_job_raises_with_the_reports_first_lines(manual_server, client) -> None:
    kb_id, job_id = start_job(client, "Name,Content\nA,alpha\nB,\nA,again\n")
    release(manual_server, job_id).join()
    with pytest.raises(ImportJobFailed) as failed:
        wait_for_import_job(client, kb_id, job_id, timeout=20)
    assert failed.value.job["status"] == "FAILED"
    assert failed.value.report_lines[0] == "Name,Content,Error"
    assert failed.value.report_lines[1].startswith("B,,Line 3: ValidationException")
    assert "ConflictException" in failed.value.report_lines[2]
    assert "Failed-record report:" in str(failed.value)


def test_timeout_raises_with_the_last_state(client) -> None:
    kb_id, job_id = start_job(client, "Name,Content\nA,alpha\n")
    clock = FakeClock()  # moved only by the waiter's own sleeps: no waiting, no wall-clock assert
    with pytest.raises(ImportJobTimeout) as timed_out:
        wait_for_import_job(client, kb_id, job_id, timeout=0.6, poll_interval=0.1, clock=clock.time, sleep=clock.sleep)
    assert clock.now == pytest.approx(0.6)  # it polled until the timeout, and not past it
    assert timed_out.value.job["status"] == "START_IN_PROGRESS"


def test_unknown_job_is_the_services_error(client) -> None:
    kb_id = client.create_knowledge_base(name="kb", knowledgeBaseType="QUICK_RESPONSES")["knowledgeBase"][
        "knowledgeBaseId"
    ]
    with pytest.raises(client.exceptions.ResourceNotFoundException):
        wait_for_import_job(client, kb_id, "00000000-0000-0000-0000-000000000000", timeout=1)


def test_botocore_style_waiter(manual_server, client) -> None:
    kb_id, job_id = start_job(client, "Name,Content\nA,alpha\n")
    waiter = import_job_waiter(client)
    with pytest.raises(WaiterError) as exhausted:
        waiter.wait(knowledgeBaseId=kb_id, importJobId=job_id, WaiterConfig={"Delay": 0.1, "MaxAttempts": 2})
    assert "Max attempts exceeded" in str(exhausted.value)
    release(manual_server, job_id).join()
    waiter.wait(knowledgeBaseId=kb_id, importJobId=job_id, WaiterConfig={"Delay": 0.1, "MaxAttempts": 50})

    kb_id, job_id = start_job(client, "Name,Content\nA,\n")
    release(manual_server, job_id).join()
    with pytest.raises(WaiterError) as failed:
        waiter.wait(knowledgeBaseId=kb_id, importJobId=job_id, WaiterConfig={"Delay": 0.1, "MaxAttempts": 50})
    assert "terminal failure state" in str(failed.value)
    assert failed.value.last_response["importJob"]["status"] == "FAILED"


def test_works_in_process_too() -> None:
    """The mock serves the same flow, upload URL included (loopback server)."""
    from qconnect_local import mock_qconnect

    with mock_qconnect():
        import boto3

        client = boto3.client("qconnect", region_name="us-east-1")
        kb_id, job_id = start_job(client, "Name,Content\nA,alpha\n")
        assert wait_for_import_job(client, kb_id, job_id, timeout=20)["status"] == "COMPLETE"
