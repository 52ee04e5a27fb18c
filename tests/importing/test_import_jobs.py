"""StartImportJob, GetImportJob, ListImportJobs, DeleteImportJob: rules, shapes, lifecycle."""

from __future__ import annotations

import json
import time

import pytest
from botocore.exceptions import ClientError

from import_support import all_quick_responses, csv_bytes, http, import_file, start, upload, wait_job
from support import ServerProcess

GOOD = csv_bytes(
    [
        ["Name", "Content", "Shortcut key", "Description", "Channels", "Content type", "Language", "Active"],
        ["Greeting", "Hello {{Attributes.Customer}}!", "greet", "Opening line", "Chat|Email", "plain", "en_US", "true"],
        ["Refunds", "**Refunds** take *5 days*.", "refund", "", "Email", "markdown", "", "no"],
        ["Bye", "Goodbye", "", "", "", "", "", ""],
    ]
)
INSTANCE = "11111111-2222-3333-4444-555555555555"
EXTERNAL = {"source": "AMAZON_CONNECT", "configuration": {"connectConfiguration": {"instanceId": INSTANCE}}}


def error_of(call, *args, **kwargs):
    with pytest.raises(ClientError) as e:
        call(*args, **kwargs)
    return e.value.response["Error"]["Code"], e.value.response["Error"]["Message"], e.value.response


def test_good_file_end_to_end(qconnect, quick_responses_kb):
    kb_id = quick_responses_kb["knowledgeBaseId"]
    upload_id = upload(qconnect, kb_id, GOOD)
    started = start(qconnect, kb_id, upload_id, metadata={"source": "test"}, externalSourceConfiguration=EXTERNAL)
    assert started["status"] == "START_IN_PROGRESS"
    assert started["uploadId"] == upload_id and started["importJobType"] == "QUICK_RESPONSES"
    assert started["knowledgeBaseArn"] == quick_responses_kb["knowledgeBaseArn"]
    assert started["metadata"] == {"source": "test"} and started["externalSourceConfiguration"] == EXTERNAL
    job = wait_job(qconnect, kb_id, started["importJobId"])
    assert job["status"] == "COMPLETE"
    assert "failedRecordReport" not in job
    assert job["createdTime"] == started["createdTime"] and job["lastModifiedTime"] >= job["createdTime"]
    assert http("GET", job["url"])[2] == GOOD
    assert job["urlExpiry"].timestamp() > time.time() + 3000
    qrs = all_quick_responses(qconnect, kb_id)
    assert set(qrs) == {"Greeting", "Refunds", "Bye"}
    greeting = qrs["Greeting"]
    assert greeting["contents"]["plainText"]["content"] == "Hello {{Attributes.Customer}}!"
    assert greeting["shortcutKey"] == "greet" and greeting["description"] == "Opening line"
    assert greeting["channels"] == ["Chat", "Email"] and greeting["language"] == "en_US"
    assert greeting["isActive"] is True and greeting["contentType"].endswith("format=plain")
    refunds = qrs["Refunds"]
    assert refunds["contentType"].endswith("format=markdown") and refunds["isActive"] is False
    assert refunds["contents"]["markdown"]["content"] == "**Refunds** take *5 days*."
    assert refunds["contents"]["plainText"]["content"] == "Refunds take 5 days."
    assert "description" not in refunds and "language" not in refunds
    bye = qrs["Bye"]
    assert "shortcutKey" not in bye and "channels" not in bye and bye["isActive"] is True
    kb = qconnect.get_knowledge_base(knowledgeBaseId=kb_id)["knowledgeBase"]
    assert kb["lastContentModificationTime"] >= job["createdTime"]
    # Each GetImportJob signs the link afresh.
    time.sleep(1.1)
    again = qconnect.get_import_job(knowledgeBaseId=kb_id, importJobId=job["importJobId"])["importJob"]
    assert again["urlExpiry"] > job["urlExpiry"] and again["url"] != job["url"]


def test_start_import_job_validation(qconnect, quick_responses_kb):
    kb_id = quick_responses_kb["knowledgeBaseId"]
    upload_id = upload(qconnect, kb_id, GOOD)
    code, _, resp = error_of(start, qconnect, "00000000-0000-4000-8000-000000000000", upload_id)
    assert code == "ResourceNotFoundException"
    custom = qconnect.create_knowledge_base(name="custom", knowledgeBaseType="CUSTOM")["knowledgeBase"]
    code, message, _ = error_of(start, qconnect, custom["knowledgeBaseId"], upload_id)
    assert code == "ValidationException" and "QUICK_RESPONSES" in message
    code, message, _ = error_of(
        qconnect.start_import_job, knowledgeBaseId=kb_id, importJobType="CONTENT", uploadId=upload_id
    )
    assert code == "ValidationException" and "enum value set: [QUICK_RESPONSES]" in message
    code, message, _ = error_of(start, qconnect, kb_id, "no-such-upload")
    assert code == "ValidationException" and "does not match any upload" in message
    other = qconnect.create_knowledge_base(name="other", knowledgeBaseType="QUICK_RESPONSES")["knowledgeBase"]
    code, message, _ = error_of(start, qconnect, other["knowledgeBaseId"], upload_id)
    assert code == "ValidationException" and "belongs to another knowledge base" in message
    empty = qconnect.start_content_upload(knowledgeBaseId=kb_id, contentType="text/csv")["uploadId"]
    code, message, _ = error_of(start, qconnect, kb_id, empty)
    assert code == "ValidationException" and "No file has been uploaded" in message
    code, message, _ = error_of(start, qconnect, kb_id, upload_id, metadata={f"k{i}": "v" for i in range(11)})
    assert code == "ValidationException" and "'metadata'" in message
    bad_source = {"source": "SALESFORCE", "configuration": {"connectConfiguration": {"instanceId": "x"}}}
    code, message, _ = error_of(start, qconnect, kb_id, upload_id, externalSourceConfiguration=bad_source)
    assert code == "ValidationException" and "externalSourceConfiguration.source" in message
    # None of these created a job.
    assert qconnect.list_import_jobs(knowledgeBaseId=kb_id)["importJobSummaries"] == []


def test_client_token_idempotency(qconnect, quick_responses_kb):
    kb_id = quick_responses_kb["knowledgeBaseId"]
    upload_id = upload(qconnect, kb_id, GOOD)
    first = start(qconnect, kb_id, upload_id, clientToken="token-1", metadata={"a": "1"})
    wait_job(qconnect, kb_id, first["importJobId"])
    again = start(qconnect, kb_id, upload_id, clientToken="token-1", metadata={"a": "1"})
    assert again["importJobId"] == first["importJobId"] and again["createdTime"] == first["createdTime"]
    code, message, _ = error_of(start, qconnect, kb_id, upload_id, clientToken="token-1", metadata={"a": "2"})
    assert code == "ConflictException" and "token-1" in message
    assert len(qconnect.list_import_jobs(knowledgeBaseId=kb_id)["importJobSummaries"]) == 1
    assert len(all_quick_responses(qconnect, kb_id)) == 3  # the replay imported nothing again


def test_list_get_and_delete(qconnect, quick_responses_kb):
    kb_id = quick_responses_kb["knowledgeBaseId"]
    jobs = []
    for i in range(3):
        body = csv_bytes([["Name", "Content"], [f"qr-{i}", "text"]])
        jobs.append(import_file(qconnect, kb_id, body, metadata={"n": str(i)}))
    assert [j["status"] for j in jobs] == ["COMPLETE"] * 3
    pages = list(
        qconnect.get_paginator("list_import_jobs").paginate(knowledgeBaseId=kb_id, PaginationConfig={"PageSize": 2})
    )
    summaries = [s for p in pages for s in p["importJobSummaries"]]
    assert len(pages) == 2 and [s["importJobId"] for s in summaries] == [j["importJobId"] for j in jobs]
    for s in summaries:
        assert not {"url", "urlExpiry", "failedRecordReport"} & set(s)
        assert s["status"] == "COMPLETE" and s["metadata"]["n"] in "012"
    code, _, resp = error_of(qconnect.list_import_jobs, knowledgeBaseId="00000000-0000-4000-8000-000000000000")
    assert code == "ResourceNotFoundException"
    missing = "00000000-0000-4000-8000-000000000000"
    code, _, resp = error_of(qconnect.get_import_job, knowledgeBaseId=kb_id, importJobId=missing)
    assert code == "ResourceNotFoundException" and resp["resourceName"] == missing
    code, _, _ = error_of(qconnect.get_import_job, knowledgeBaseId=kb_id, importJobId="not-a-uuid")
    assert code == "ValidationException"
    # Delete: the job, its upload and its report go; the quick responses stay.
    victim = jobs[0]
    assert http("GET", victim["url"])[0] == 200
    resp = qconnect.delete_import_job(knowledgeBaseId=kb_id, importJobId=victim["importJobId"])
    assert resp["ResponseMetadata"]["HTTPStatusCode"] == 204
    code, _, _ = error_of(qconnect.get_import_job, knowledgeBaseId=kb_id, importJobId=victim["importJobId"])
    assert code == "ResourceNotFoundException"
    code, _, _ = error_of(qconnect.delete_import_job, knowledgeBaseId=kb_id, importJobId=victim["importJobId"])
    assert code == "ResourceNotFoundException"
    assert http("GET", victim["url"])[0] == 404
    code, message, _ = error_of(start, qconnect, kb_id, victim["uploadId"])
    assert "does not match any upload" in message
    assert set(all_quick_responses(qconnect, kb_id)) == {"qr-0", "qr-1", "qr-2"}
    assert len(qconnect.list_import_jobs(knowledgeBaseId=kb_id)["importJobSummaries"]) == 2


def test_failed_job_delete_removes_its_report(qconnect, quick_responses_kb):
    kb_id = quick_responses_kb["knowledgeBaseId"]
    job = import_file(qconnect, kb_id, csv_bytes([["Name", "Content"], ["ok", "x"], ["", "y"]]))
    assert job["status"] == "FAILED" and http("GET", job["failedRecordReport"])[0] == 200
    qconnect.delete_import_job(knowledgeBaseId=kb_id, importJobId=job["importJobId"])
    assert http("GET", job["failedRecordReport"])[0] == 404


# -- manual mode: jobs held in START_IN_PROGRESS -------------------------------------------


@pytest.fixture(scope="module")
def manual_server(tmp_path_factory):
    directory = tmp_path_factory.mktemp("connect") / "directory.json"
    directory.write_text(
        json.dumps(
            {
                "instances": [
                    {
                        "instanceId": INSTANCE,
                        "accountId": "000000000000",
                        "region": "us-east-1",
                        "routingProfiles": [{"name": "Basic Routing Profile", "routingProfileId": "rp-basic"}, "Sales"],
                    }
                ]
            }
        )
    )
    proc = ServerProcess("--import-mode", "manual", "--connect-directory", str(directory)).start()
    yield proc
    proc.stop()


@pytest.fixture
def manual(manual_server):
    manual_server.reset()
    return manual_server


def run_job(server, job_id, wait=True):
    return http(
        "POST", f"{server.endpoint_url}/_qconnect/import-jobs/{job_id}/run" + ("?wait=true" if wait else ""), b""
    )


def test_manual_mode_holds_jobs_until_run(manual):
    client = manual.client()
    kb_id = client.create_knowledge_base(name="kb", knowledgeBaseType="QUICK_RESPONSES")["knowledgeBase"][
        "knowledgeBaseId"
    ]
    upload_id = upload(client, kb_id, GOOD)
    job = start(client, kb_id, upload_id)
    time.sleep(0.5)
    held = client.get_import_job(knowledgeBaseId=kb_id, importJobId=job["importJobId"])["importJob"]
    assert held["status"] == "START_IN_PROGRESS"
    assert client.list_quick_responses(knowledgeBaseId=kb_id)["quickResponseSummaries"] == []
    # One job in progress per knowledge base; not deletable while in progress, nor is its KB.
    code, message, _ = error_of(start, client, kb_id, upload(client, kb_id, GOOD))
    assert code == "ConflictException" and "in progress" in message
    code, _, _ = error_of(client.delete_import_job, knowledgeBaseId=kb_id, importJobId=job["importJobId"])
    assert code == "ConflictException"
    code, _, _ = error_of(client.delete_knowledge_base, knowledgeBaseId=kb_id)
    assert code == "ConflictException"
    status, _, body = run_job(manual, job["importJobId"])
    assert status == 200 and json.loads(body) == {"importJobId": job["importJobId"], "status": "COMPLETE"}
    assert len(client.list_quick_responses(knowledgeBaseId=kb_id)["quickResponseSummaries"]) == 3
    status, _, body = run_job(manual, job["importJobId"])
    assert status == 409 and json.loads(body)["status"] == "COMPLETE"
    assert run_job(manual, "00000000-0000-4000-8000-000000000000")[0] == 404
    client.delete_import_job(knowledgeBaseId=kb_id, importJobId=job["importJobId"])
    client.delete_knowledge_base(knowledgeBaseId=kb_id)


def test_routing_profiles_from_the_directory_file(manual):
    client = manual.client()
    kb_id = client.create_knowledge_base(name="kb", knowledgeBaseType="QUICK_RESPONSES")["knowledgeBase"][
        "knowledgeBaseId"
    ]
    body = csv_bytes(
        [["Name", "Content", "Routing Profile"], ["a", "x", "Basic Routing Profile|Sales"], ["b", "y", "sales"]]
    )
    job = start(client, kb_id, upload(client, kb_id, body), externalSourceConfiguration=EXTERNAL)
    run_job(manual, job["importJobId"])
    job = wait_job(client, kb_id, job["importJobId"])
    assert job["status"] == "FAILED"
    qrs = all_quick_responses(client, kb_id)
    prefix = f"arn:aws:connect:us-east-1:000000000000:instance/{INSTANCE}/routing-profile/"
    values = qrs["a"]["groupingConfiguration"]["values"]
    assert qrs["a"]["groupingConfiguration"]["criteria"] == "RoutingProfileArn"
    assert values[0] == prefix + "rp-basic" and values[1].startswith(prefix) and len(values) == 2
    status, _, listed = http("GET", f"{manual.endpoint_url}/_qconnect/connect-instances/{INSTANCE}/routing-profiles")
    assert status == 200 and {p["name"] for p in json.loads(listed)["routingProfiles"]} == {
        "Basic Routing Profile",
        "Sales",
    }


def test_gil_handoff_lowers_the_switch_interval_while_any_import_runs():
    """Two imports at once (overlapping, not nested): the interval stays low until the last
    ends, then the process's own comes back."""
    import sys

    from qconnect_local.importing.job import IMPORT_SWITCH_INTERVAL, quick_gil_handoff

    own = sys.getswitchinterval()
    assert own > IMPORT_SWITCH_INTERVAL
    first, second = quick_gil_handoff(), quick_gil_handoff()
    first.__enter__()
    assert sys.getswitchinterval() == IMPORT_SWITCH_INTERVAL
    second.__enter__()
    first.__exit__(None, None, None)
    assert sys.getswitchinterval() == IMPORT_SWITCH_INTERVAL
    second.__exit__(None, None, None)
    assert sys.getswitchinterval() == own
