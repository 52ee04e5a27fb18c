"""The command-line tools through their real entry point (`qconnect-local`, as a subprocess),
against the suite's running server."""

from __future__ import annotations

import csv
import io
import json
import os
import subprocess
import sys
import urllib.request
from pathlib import Path

import pytest

from qconnect_local.importing.csv_format import TEMPLATE_HEADER

CLI = str(Path(sys.executable).parent / "qconnect-local")
INSTANCE = "11111111-2222-3333-4444-555555555555"

pytestmark = pytest.mark.slow  # every test runs the command as a subprocess


def run(*args: str, cwd: Path | None = None, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    environment = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    environment.update(env or {})
    return subprocess.run([CLI, *args], capture_output=True, text=True, timeout=120, cwd=cwd, env=environment)


def one_line_error(result: subprocess.CompletedProcess[str]) -> str:
    assert "Traceback" not in result.stderr
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("error: ")
    return lines[0]


def write_csv(path: Path, rows: list[list[str]]) -> Path:
    with path.open("w", newline="", encoding="utf-8") as f:
        csv.writer(f).writerows(rows)
    return path


def add_instance(endpoint: str, profiles: list[str]) -> dict[str, str]:
    body = json.dumps({"routingProfiles": profiles}).encode()
    request = urllib.request.Request(
        f"{endpoint}/_qconnect/connect-instances/{INSTANCE}/routing-profiles",
        data=body,
        method="PUT",
        headers={"content-type": "application/json"},
    )
    with urllib.request.urlopen(request) as response:
        response.read()
    with urllib.request.urlopen(f"{endpoint}/_qconnect/connect-instances/{INSTANCE}/routing-profiles") as response:
        return {p["name"]: p["arn"] for p in json.load(response)["routingProfiles"]}


# -- template ---------------------------------------------------------------------------------


def test_template_prints_header_and_a_valid_example(tmp_path: Path) -> None:
    result = run("template")
    assert result.returncode == 0, result.stderr
    rows = list(csv.reader(io.StringIO(result.stdout)))
    assert rows[0] == TEMPLATE_HEADER and len(rows) == 2
    target = tmp_path / "t.csv"
    assert run("template", "-o", str(target)).returncode == 0
    checked = run("validate", str(target))
    assert checked.returncode == 0, checked.stdout
    assert "1 rows: 1 valid, 0 failed" in checked.stdout


# -- kb -----------------------------------------------------------------------------------------


def test_kb_create_list_delete(endpoint: str) -> None:
    created = run(
        "kb", "create", "support", "--description", "Support answers", "--tag", "team=care", "--endpoint-url", endpoint
    )
    assert created.returncode == 0, created.stderr
    kb_id = created.stdout.strip()
    listed = run("kb", "list", "--endpoint-url", endpoint)
    assert listed.returncode == 0
    assert listed.stdout.splitlines()[0].split() == ["KNOWLEDGE", "BASE", "ID", "NAME", "TYPE", "STATUS"]
    assert f"{kb_id}  support  QUICK_RESPONSES  ACTIVE" in listed.stdout
    as_json = json.loads(run("kb", "list", "--json", "--endpoint-url", endpoint).stdout)
    assert [s["knowledgeBaseId"] for s in as_json] == [kb_id]
    assert as_json[0]["tags"] == {"team": "care"}
    deleted = run("kb", "delete", kb_id, "--endpoint-url", endpoint)
    assert deleted.returncode == 0 and deleted.stdout.strip() == f"deleted {kb_id}"
    again = run("kb", "delete", kb_id, "--endpoint-url", endpoint)
    assert again.returncode == 1
    assert one_line_error(again).startswith(f"error: {kb_id}: ResourceNotFoundException: ")


def test_endpoint_from_environment(endpoint: str) -> None:
    assert run("kb", "create", "env-kb", env={"AWS_ENDPOINT_URL_QCONNECT": endpoint}).returncode == 0
    assert "env-kb" in run("kb", "list", "--endpoint-url", endpoint).stdout


def test_service_error_is_one_line_and_exit_1(endpoint: str) -> None:
    result = run("kb", "create", "!bad-first-character", "--endpoint-url", endpoint)
    assert result.returncode == 1
    assert one_line_error(result).startswith("error: ValidationException: ")


def test_connection_error_is_one_line_and_exit_1() -> None:
    result = run("kb", "list", "--endpoint-url", "http://127.0.0.1:9")
    assert result.returncode == 1
    assert "cannot reach" in one_line_error(result)


@pytest.mark.parametrize(
    "args",
    [
        [],
        ["kb"],
        ["kb", "explode"],
        ["no-such-command"],
        ["kb", "create"],
        ["kb", "create", "x", "--type", "NOPE"],
        ["export"],
        ["import", "f.csv"],
        ["validate"],
        ["kb", "list", "--endpoint-url"],
    ],
)
def test_usage_errors_exit_2(args: list[str]) -> None:
    result = run(*args)
    assert result.returncode == 2
    assert "Traceback" not in result.stderr and "usage:" in result.stderr


def test_malformed_pairs_and_unknown_profile_exit_2(endpoint: str, tmp_path: Path) -> None:
    bad_tag = run("kb", "create", "x", "--tag", "novalue", "--endpoint-url", endpoint)
    assert bad_tag.returncode == 2 and "KEY=VALUE" in one_line_error(bad_tag)
    config = tmp_path / "config"
    config.write_text("[default]\nregion = us-east-1\n")
    no_profile = run("kb", "list", "--profile", "nope", env={"AWS_CONFIG_FILE": str(config)})
    assert no_profile.returncode == 2 and "nope" in one_line_error(no_profile)


# -- validate -----------------------------------------------------------------------------------


def test_validate_reports_rows_and_writes_the_report(tmp_path: Path) -> None:
    source = write_csv(
        tmp_path / "qr.csv",
        [
            ["Name", "Content", "Shortcut key", "Active", "Channels"],
            ["Hello", "Hi there", "hi", "true", "Chat"],
            ["Empty", "", "e", "true", "Chat"],
            ["Odd", "x", "o", "maybe", "Chat"],
            ["Hello", "again", "h2", "true", "Chat|Email"],
            ["Fax", "y", "hi", "true", "Fax"],
        ],
    )
    report = tmp_path / "failed.csv"
    result = run("validate", str(source), "--report", str(report))
    assert result.returncode == 1
    lines = result.stdout.splitlines()
    assert lines[0].split()[:4] == ["LINE", "COLUMN", "CODE", "MESSAGE"]
    assert lines[1].split()[:3] == ["3", "Content", "ValidationException"]
    assert lines[2].split()[:3] == ["4", "Active", "ValidationException"]
    assert lines[3].split()[:3] == ["5", "Name", "ConflictException"]
    assert lines[4].split()[:3] == ["6", "Channels", "ValidationException"]
    assert "5 rows: 1 valid, 4 failed" in result.stdout
    rows = list(csv.reader(report.open(newline="")))
    assert rows[0] == ["Name", "Content", "Shortcut key", "Active", "Channels", "Error"]
    assert [r[0] for r in rows[1:]] == ["Empty", "Odd", "Hello", "Fax"]
    assert rows[3][-1].startswith("Line 5: ConflictException: ")


@pytest.mark.parametrize(
    "content, message",
    [
        (b"", "The file is empty"),
        (b"Name,Content\n", "no data rows"),
        (b"Name,Contnet\nA,b\n", "unknown column"),
        (b"Name,Content\nA,\xff\xfe\n", "not UTF-8"),
    ],
)
def test_validate_unusable_files(tmp_path: Path, content: bytes, message: str) -> None:
    source = tmp_path / "bad.csv"
    source.write_bytes(content)
    result = run("validate", str(source))
    assert result.returncode == 1
    assert "cannot be imported" in result.stdout and message in result.stdout


def test_validate_missing_file_is_a_usage_error(tmp_path: Path) -> None:
    result = run("validate", str(tmp_path / "missing.csv"))
    assert result.returncode == 2 and "no such file" in one_line_error(result)


def test_validate_routing_profiles_with_a_directory(tmp_path: Path) -> None:
    directory = tmp_path / "connect.json"
    directory.write_text(json.dumps({"instances": [{"instanceId": INSTANCE, "routingProfiles": ["Sales", "Support"]}]}))
    source = write_csv(
        tmp_path / "qr.csv",
        [
            ["Name", "Content", "Routing Profile"],
            ["A", "a", "Sales|Support"],
            ["B", "b", "sales"],
            ["C", "c", "All"],
        ],
    )
    result = run("validate", str(source), "--connect-directory", str(directory))
    assert result.returncode == 1
    assert "Routing profile 'sales' was not found" in result.stdout
    assert "3 rows: 2 valid, 1 failed" in result.stdout
    # Without any instance the import job fails such rows; validate says the same.
    no_instance = run("validate", str(source))
    assert "2 failed" in no_instance.stdout and "need an Amazon Connect instance" in no_instance.stdout
    # With an instance but no directory, names cannot be checked offline.
    unchecked = run("validate", str(source), "--instance-id", INSTANCE)
    assert unchecked.returncode == 0 and "routing-profile names not checked" in unchecked.stdout


# -- import ---------------------------------------------------------------------------------------


def test_import_success(endpoint: str, qconnect, quick_responses_kb, tmp_path: Path) -> None:
    kb_id = quick_responses_kb["knowledgeBaseId"]
    source = write_csv(tmp_path / "qr.csv", [["Name", "Content"], ["A", "alpha"], ["B", "beta"]])
    result = run(
        "import", str(source), "--knowledge-base", kb_id, "--metadata", "source=cli", "--endpoint-url", endpoint
    )
    assert result.returncode == 0, result.stderr
    job_id, status = result.stdout.split()
    assert status == "COMPLETE"
    assert "import job" in result.stderr and "COMPLETE" in result.stderr
    job = qconnect.get_import_job(knowledgeBaseId=kb_id, importJobId=job_id)["importJob"]
    assert job["metadata"] == {"source": "cli"}
    names = sorted(s["name"] for s in qconnect.list_quick_responses(knowledgeBaseId=kb_id)["quickResponseSummaries"])
    assert names == ["A", "B"]


def test_import_stops_when_validation_fails(endpoint: str, qconnect, quick_responses_kb, tmp_path: Path) -> None:
    kb_id = quick_responses_kb["knowledgeBaseId"]
    source = write_csv(tmp_path / "qr.csv", [["Name", "Content"], ["A", ""], ["B", "beta"]])
    result = run("import", str(source), "--knowledge-base", kb_id, "--endpoint-url", endpoint)
    assert result.returncode == 1
    assert "nothing was uploaded" in result.stderr and "Traceback" not in result.stderr
    assert qconnect.list_import_jobs(knowledgeBaseId=kb_id)["importJobSummaries"] == []


def test_import_failed_job_downloads_the_report(endpoint: str, quick_responses_kb, tmp_path: Path) -> None:
    kb_id = quick_responses_kb["knowledgeBaseId"]
    source = write_csv(tmp_path / "qr.csv", [["Name", "Content"], ["A", ""], ["B", "beta"]])
    result = run("import", str(source), "--knowledge-base", kb_id, "--no-validate", "--endpoint-url", endpoint)
    assert result.returncode == 1
    report = tmp_path / "qr.failed.csv"
    assert f"saved to {report}" in result.stderr
    rows = list(csv.reader(report.open(newline="")))
    assert rows[0] == ["Name", "Content", "Error"] and rows[1][0] == "A"


def test_import_service_errors(endpoint: str, tmp_path: Path, qconnect) -> None:
    source = write_csv(tmp_path / "qr.csv", [["Name", "Content"], ["A", "alpha"]])
    missing = run(
        "import", str(source), "--knowledge-base", "00000000-0000-0000-0000-000000000000", "--endpoint-url", endpoint
    )
    assert missing.returncode == 1
    assert one_line_error(missing).startswith("error: ResourceNotFoundException: ")
    custom = qconnect.create_knowledge_base(name="custom", knowledgeBaseType="CUSTOM")["knowledgeBase"]
    wrong_type = run("import", str(source), "--knowledge-base", custom["knowledgeBaseId"], "--endpoint-url", endpoint)
    assert wrong_type.returncode == 1 and "ValidationException" in one_line_error(wrong_type)
    bad_metadata = run(
        "import",
        str(source),
        "--knowledge-base",
        custom["knowledgeBaseId"],
        "--metadata",
        "x",
        "--endpoint-url",
        endpoint,
    )
    assert bad_metadata.returncode == 2


def test_import_timeout_with_a_held_job(tmp_path: Path) -> None:
    from support import ServerProcess, make_client

    server = ServerProcess("--import-mode", "manual").start()
    try:
        kb_id = make_client(server.endpoint_url).create_knowledge_base(name="kb", knowledgeBaseType="QUICK_RESPONSES")[
            "knowledgeBase"
        ]["knowledgeBaseId"]
        source = write_csv(tmp_path / "qr.csv", [["Name", "Content"], ["A", "alpha"]])
        result = run(
            "import", str(source), "--knowledge-base", kb_id, "--timeout", "1", "--endpoint-url", server.endpoint_url
        )
        assert result.returncode == 1
        assert "still START_IN_PROGRESS after 1 s" in result.stderr
    finally:
        server.stop()


# -- export and the round trip --------------------------------------------------------------------


def test_export_then_import_gives_the_same_quick_responses(endpoint: str, qconnect, tmp_path: Path) -> None:
    arns = add_instance(endpoint, ["Sales", "Support desk"])
    source_kb = qconnect.create_knowledge_base(name="src", knowledgeBaseType="QUICK_RESPONSES")["knowledgeBase"]
    target_kb = qconnect.create_knowledge_base(name="dst", knowledgeBaseType="QUICK_RESPONSES")["knowledgeBase"]
    src = source_kb["knowledgeBaseId"]
    qconnect.create_quick_response(
        knowledgeBaseId=src,
        name="Greeting",
        content={"content": 'Hello {{Attributes.Customer}}, "welcome"\nline 2'},
        shortcutKey="greet",
        description="Opening line",
        channels=["Chat", "Email"],
        language="en_US",
        groupingConfiguration={"criteria": "RoutingProfileArn", "values": [arns["Sales"], arns["Support desk"]]},
    )
    qconnect.create_quick_response(
        knowledgeBaseId=src,
        name="Bye",
        content={"content": "**Thanks**, goodbye"},
        contentType="application/x.quickresponse;format=markdown",
        isActive=False,
        channels=["Email"],
    )
    qconnect.create_quick_response(knowledgeBaseId=src, name="Plain", content={"content": "Just text"})

    to_stdout = run("export", "--knowledge-base", src, "--endpoint-url", endpoint)
    assert to_stdout.returncode == 0, to_stdout.stderr
    rows = list(csv.reader(io.StringIO(to_stdout.stdout)))
    assert rows[0] == TEMPLATE_HEADER
    assert [r[0] for r in rows[1:]] == ["Bye", "Greeting", "Plain"]
    assert rows[2][TEMPLATE_HEADER.index("Routing Profile")] == "Sales|Support desk"

    exported = tmp_path / "export.csv"
    assert run("export", "--knowledge-base", src, "-o", str(exported), "--endpoint-url", endpoint).returncode == 0
    imported = run(
        "import",
        str(exported),
        "--knowledge-base",
        target_kb["knowledgeBaseId"],
        "--instance-id",
        INSTANCE,
        "--endpoint-url",
        endpoint,
    )
    assert imported.returncode == 0, imported.stderr

    def contents(kb_id: str) -> list[dict]:
        summaries = qconnect.list_quick_responses(knowledgeBaseId=kb_id)["quickResponseSummaries"]
        out = []
        for s in sorted(summaries, key=lambda s: s["name"]):
            qr = qconnect.get_quick_response(knowledgeBaseId=kb_id, quickResponseId=s["quickResponseId"])[
                "quickResponse"
            ]
            out.append(
                {
                    k: v
                    for k, v in qr.items()
                    if k
                    not in {
                        "quickResponseId",
                        "quickResponseArn",
                        "knowledgeBaseId",
                        "knowledgeBaseArn",
                        "createdTime",
                        "lastModifiedTime",
                        "lastModifiedBy",
                    }
                }
            )
        return out

    assert contents(target_kb["knowledgeBaseId"]) == contents(src)


def test_export_errors(endpoint: str, quick_responses_kb, tmp_path: Path) -> None:
    missing = run("export", "--knowledge-base", "00000000-0000-0000-0000-000000000000", "--endpoint-url", endpoint)
    assert missing.returncode == 1
    assert one_line_error(missing).startswith("error: ResourceNotFoundException: ")
    unwritable = run(
        "export",
        "--knowledge-base",
        quick_responses_kb["knowledgeBaseId"],
        "-o",
        str(tmp_path / "no" / "dir" / "x.csv"),
        "--endpoint-url",
        endpoint,
    )
    assert unwritable.returncode == 1 and "cannot write" in one_line_error(unwritable)


def test_export_names_the_routing_profiles_of_its_own_account(endpoint: str, tmp_path: Path) -> None:
    """The directory is per account: export looks names up as the account it exports from."""
    from support import make_client

    account = "444455556666"
    credential = f"{account}/20260101/us-east-1/wisdom/aws4_request"
    request = urllib.request.Request(
        f"{endpoint}/_qconnect/connect-instances/{INSTANCE}/routing-profiles",
        data=json.dumps({"routingProfiles": ["Billing"]}).encode(),
        method="PUT",
        headers={"Authorization": f"AWS4-HMAC-SHA256 Credential={credential}, SignedHeaders=host, Signature=0"},
    )
    with urllib.request.urlopen(request) as response:
        arn = json.load(response)["routingProfiles"][0]["arn"]
    assert f":{account}:" in arn
    client = make_client(endpoint, access_key=account)
    kb = client.create_knowledge_base(name="b", knowledgeBaseType="QUICK_RESPONSES")["knowledgeBase"]["knowledgeBaseId"]
    client.create_quick_response(
        knowledgeBaseId=kb,
        name="Invoice",
        content={"content": "x"},
        groupingConfiguration={"criteria": "RoutingProfileArn", "values": [arn]},
    )
    keys = {"AWS_ACCESS_KEY_ID": account, "AWS_SECRET_ACCESS_KEY": "x", "AWS_DEFAULT_REGION": "us-east-1"}
    result = run("export", "--knowledge-base", kb, "--endpoint-url", endpoint, env=keys)
    assert result.returncode == 0 and "warning" not in result.stderr, result.stderr
    rows = list(csv.reader(io.StringIO(result.stdout)))
    assert rows[1][TEMPLATE_HEADER.index("Routing Profile")] == "Billing"
