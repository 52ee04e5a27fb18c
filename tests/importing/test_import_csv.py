"""The CSV import: row failures and the failed-record report, file-level failures, uniqueness,
quota, routing profiles. Every row error must read exactly as CreateQuickResponse's error."""

from __future__ import annotations

import json

import pytest
from botocore.exceptions import ClientError

from import_support import all_quick_responses, csv_bytes, http, import_file, report_rows
from support import ServerProcess

INSTANCE = "aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee"
EXTERNAL = {"source": "AMAZON_CONNECT", "configuration": {"connectConfiguration": {"instanceId": INSTANCE}}}


def api_error(client, **params):
    """What CreateQuickResponse answers for the same input: 'Code: message'."""
    with pytest.raises(ClientError) as e:
        client.create_quick_response(**params)
    err = e.value.response["Error"]
    return f"{err['Code']}: {err['Message']}"


def test_bad_rows_are_reported_cell_by_cell_and_good_rows_land(qconnect, quick_responses_kb):
    kb_id = quick_responses_kb["knowledgeBaseId"]
    header = ["Name", "Content", "Shortcut key", "Channels", "Language", "Active"]
    rows = [
        header,
        ["good one", 'Hello, "friend"\nsecond line', "g1", "Chat", "en_US", "yes"],  # line 2-3
        ["", "no name", "", "", "", ""],  # line 4
        ["long key", "x", "k" * 11, "", "", ""],  # line 5
        ["bad lang", "x", "", "", "xx_XX", ""],  # line 6
        ["bad channel", "x", "", "Chat|Phone", "", ""],  # line 7
        ["bad active", "x", "", "", "", "maybe"],  # line 8
        ["<*Required field>", "x", "", "", "", ""],  # line 9
        ["good two", "  spaced  ", "g2", "Email", "", "false"],  # line 10
        ["too many", "x", "", "", "", "", "extra"],  # line 11
    ]
    job = import_file(qconnect, kb_id, csv_bytes(rows))
    assert job["status"] == "FAILED"
    report = report_rows(job)
    assert report[0] == header + ["Error"]
    by_name = {r[0]: r for r in report[1:]}
    assert len(report) == 1 + 7
    # Original cells verbatim, Error last.
    assert by_name["bad lang"][:6] == rows[4]
    assert by_name["too many"][:7] == rows[9]
    # Each error is CreateQuickResponse's own for the same input.
    kb = {"knowledgeBaseId": kb_id}
    # (boto3 refuses an empty name before sending it; this is the server's message for it)
    assert by_name[""][6] == (
        "Line 4: ValidationException: 1 validation error detected: Value '' at 'name' failed to satisfy "
        "constraint: Member must have length greater than or equal to 1"
    )
    assert by_name["long key"][6] == "Line 5: " + api_error(
        qconnect, **kb, name="long key", content={"content": "x"}, shortcutKey="k" * 11
    )
    assert by_name["bad lang"][6] == "Line 6: " + api_error(
        qconnect, **kb, name="bad lang", content={"content": "x"}, language="xx_XX"
    )
    assert by_name["bad channel"][6] == "Line 7: " + api_error(
        qconnect, **kb, name="bad channel", content={"content": "x"}, channels=["Chat", "Phone"]
    )
    assert "'Active'" in by_name["bad active"][6] and by_name["bad active"][6].startswith("Line 8: ValidationException")
    assert "<*Required field>" in by_name["<*Required field>"][6]
    assert by_name["too many"][7].startswith("Line 11: ValidationException: The row has 7 cells")
    qrs = all_quick_responses(qconnect, kb_id)
    assert set(qrs) == {"good one", "good two"}
    assert qrs["good one"]["contents"]["plainText"]["content"] == 'Hello, "friend"\nsecond line'
    assert qrs["good two"]["contents"]["plainText"]["content"] == "  spaced  "  # never trimmed
    assert qrs["good two"]["isActive"] is False
    # The good rows are searchable.
    found = qconnect.search_quick_responses(
        knowledgeBaseId=kb_id,
        searchExpression={"queries": [{"name": "content", "values": ["friend"], "operator": "CONTAINS"}]},
    )["results"]
    assert [r["name"] for r in found] == ["good one"]


def test_report_can_be_fixed_and_imported_again(qconnect, quick_responses_kb):
    kb_id = quick_responses_kb["knowledgeBaseId"]
    job = import_file(qconnect, kb_id, csv_bytes([["Name", "Content"], ["a", "x"], ["b", ""]]))
    report = report_rows(job)
    report[1][1] = "fixed"
    again = import_file(qconnect, kb_id, csv_bytes(report))  # the Error column is ignored
    assert again["status"] == "COMPLETE"
    assert all_quick_responses(qconnect, kb_id)["b"]["contents"]["plainText"]["content"] == "fixed"


@pytest.mark.parametrize(
    "body, reason",
    [
        (b"Name,Content\r\ncaf\xe9,latin-1\r\n", "not UTF-8"),
        (b"", "empty"),
        (b"\xef\xbb\xbf", "empty"),
        (b"Name,Content\r\n", "no data rows"),
        (b"Name,Shortcut key\r\na,b\r\n", "lacks the required column(s): Content"),
        (b"Name,Content,name\r\na,b,c\r\n", "the column 'Name' twice"),
        (b"Name,Content,Notes\r\na,b,c\r\n", "unknown column(s) 'Notes'"),
        (b'Name,Content\r\na,"b"x\r\n', "not valid CSV: line 2"),
        (b'Name,Content\r\na,"unterminated\r\n', "not valid CSV"),
    ],
    ids=[
        "not-utf8",
        "empty",
        "bom-only",
        "header-only",
        "missing-column",
        "duplicate-column",
        "unknown-column",
        "stray-quote",
        "unterminated-quote",
    ],
)
def test_unusable_files_fail_the_job(qconnect, quick_responses_kb, body, reason):
    kb_id = quick_responses_kb["knowledgeBaseId"]
    job = import_file(qconnect, kb_id, body)
    assert job["status"] == "FAILED"
    report = report_rows(job)
    assert report[0] == ["Error"] and len(report) == 2 and reason in report[1][0], report
    assert qconnect.list_quick_responses(knowledgeBaseId=kb_id)["quickResponseSummaries"] == []


@pytest.mark.parametrize("newline", ["\r\n", "\n"])
@pytest.mark.parametrize("bom", [False, True])
def test_bom_line_ends_quoting_and_header_aliases(qconnect, quick_responses_kb, newline, bom):
    kb_id = quick_responses_kb["knowledgeBaseId"]
    rows = [
        ["NAME", " content ", "shortcutKey", "Routing Profiles", "channel", "FORMAT", "isActive"],
        ["multi", 'line one,\r\nline "two"', "m", "All", "Chat", "Rich text", "Inactive"],
        ["", "", "", "", "", "", ""],  # an all-empty row is skipped
    ]
    job = import_file(qconnect, kb_id, csv_bytes(rows, newline=newline, bom=bom))
    assert job["status"] == "COMPLETE", job
    qr = all_quick_responses(qconnect, kb_id)["multi"]
    assert qr["contents"]["markdown"]["content"] == 'line one,\r\nline "two"'
    assert qr["contentType"].endswith("format=markdown") and qr["isActive"] is False
    assert "groupingConfiguration" not in qr and qr["shortcutKey"] == "m"


def test_duplicates_within_the_file_and_against_the_knowledge_base(qconnect, quick_responses_kb):
    kb_id = quick_responses_kb["knowledgeBaseId"]
    qconnect.create_quick_response(knowledgeBaseId=kb_id, name="existing", content={"content": "x"}, shortcutKey="ex")
    rows = [
        ["Name", "Content", "Shortcut key"],
        ["first", "x", "f"],
        ["first", "again", "f2"],  # name used earlier in the file
        ["second", "x", "f"],  # shortcut key used earlier in the file
        ["existing", "x", "new"],  # name in the knowledge base
        ["third", "x", "ex"],  # shortcut key in the knowledge base
        ["Existing", "x", "EX"],  # case-sensitive: fine
        ["second", "y", "s2"],  # a failed row takes no name: fine
        ["fourth", "y", "new"],  # nor a shortcut key: fine
    ]
    job = import_file(qconnect, kb_id, csv_bytes(rows))
    assert job["status"] == "FAILED"
    errors = {r[0] + "/" + r[2]: r[3] for r in report_rows(job)[1:]}
    kb = {"knowledgeBaseId": kb_id}
    assert errors["first/f2"] == "Line 3: " + api_error(
        qconnect, **kb, name="existing", content={"content": "y"}
    ).replace("existing", "first")
    assert errors["existing/new"] == "Line 5: " + api_error(qconnect, **kb, name="existing", content={"content": "y"})
    assert errors["third/ex"] == "Line 6: " + api_error(
        qconnect, **kb, name="zzz", content={"content": "y"}, shortcutKey="ex"
    )
    assert errors["second/f"].startswith("Line 4: ConflictException:") and "'f'" in errors["second/f"]
    assert set(all_quick_responses(qconnect, kb_id)) == {"existing", "first", "Existing", "second", "fourth"}


def test_routing_profiles(qconnect, quick_responses_kb, server):
    kb_id = quick_responses_kb["knowledgeBaseId"]
    url = f"{server.endpoint_url}/_qconnect/connect-instances/{INSTANCE}/routing-profiles"
    arn = "arn:aws:connect:us-east-1:000000000000:instance/" + INSTANCE + "/routing-profile/p1"
    status, _, body = http(
        "PUT",
        url,
        json.dumps({"routingProfiles": [{"name": "Support", "arn": arn}, "Sales"]}).encode(),
        {"content-type": "application/json"},
    )
    assert status == 200, body
    rows = [
        ["Name", "Content", "Routing Profile"],
        ["both", "x", "Support|Sales"],
        ["all", "x", "All"],
        ["unknown", "x", "support"],  # names are case-sensitive
    ]
    job = import_file(qconnect, kb_id, csv_bytes(rows), externalSourceConfiguration=EXTERNAL)
    assert job["status"] == "FAILED"
    [failed] = report_rows(job)[1:]
    assert failed[0] == "unknown" and "Routing profile 'support' was not found" in failed[3]
    qrs = all_quick_responses(qconnect, kb_id)
    assert qrs["both"]["groupingConfiguration"]["values"][0] == arn
    assert qrs["both"]["groupingConfiguration"]["values"][1].startswith(arn.rsplit("/", 1)[0] + "/")
    assert "groupingConfiguration" not in qrs["all"]
    # Routing profiles without an instance fail the row with a clear message.
    job = import_file(qconnect, kb_id, csv_bytes([["Name", "Content", "Routing Profile"], ["lonely", "x", "Support"]]))
    assert "need an Amazon Connect instance" in report_rows(job)[1][3]
    # An instance the directory does not know.
    other = {"source": "AMAZON_CONNECT", "configuration": {"connectConfiguration": {"instanceId": "nope"}}}
    job = import_file(
        qconnect,
        kb_id,
        csv_bytes([["Name", "Content", "Routing Profile"], ["lost", "x", "Support"]]),
        externalSourceConfiguration=other,
    )
    assert "'nope' is not known" in report_rows(job)[1][3]
    assert http("DELETE", url)[0] == 204 and http("GET", url)[0] == 404


@pytest.fixture(scope="module")
def small_limits(tmp_path_factory):
    proc = ServerProcess("--max-quick-responses", "3", "--import-max-rows", "4").start()
    yield proc
    proc.stop()


def test_quota_and_row_limit(small_limits):
    small_limits.reset()
    client = small_limits.client()
    kb_id = client.create_knowledge_base(name="kb", knowledgeBaseType="QUICK_RESPONSES")["knowledgeBase"][
        "knowledgeBaseId"
    ]
    client.create_quick_response(knowledgeBaseId=kb_id, name="one", content={"content": "x"})
    job = import_file(client, kb_id, csv_bytes([["Name", "Content"], ["a", "x"], ["b", "x"], ["c", "x"]]))
    assert job["status"] == "FAILED"
    [failed] = report_rows(job)[1:]
    with pytest.raises(client.exceptions.ServiceQuotaExceededException) as e:
        client.create_quick_response(knowledgeBaseId=kb_id, name="zz", content={"content": "x"})
    assert failed == ["c", "x", f"Line 4: ServiceQuotaExceededException: {e.value.response['Error']['Message']}"]
    kb2 = client.create_knowledge_base(name="kb2", knowledgeBaseType="QUICK_RESPONSES")["knowledgeBase"][
        "knowledgeBaseId"
    ]
    job = import_file(client, kb2, csv_bytes([["Name", "Content"]] + [[f"r{i}", "x"] for i in range(5)]))
    assert job["status"] == "FAILED" and "more than 4 data rows" in report_rows(job)[1][0]
    assert client.list_quick_responses(knowledgeBaseId=kb2)["quickResponseSummaries"] == []
