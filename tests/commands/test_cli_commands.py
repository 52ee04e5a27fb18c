"""The commands of issue 13 through the real entry point (`qconnect-local`, a subprocess) against a
running server: reset, jobs, qr, knowledge bases by name, completion, --version; endpoint
resolution as botocore does it; one-line errors with hints."""

from __future__ import annotations

import csv
import io
from pathlib import Path

import pytest
from test_cli import one_line_error, run, write_csv

from qconnect_local import __version__
from qconnect_local.importing.csv_format import TEMPLATE_HEADER
from support import ServerProcess


def _rows(*names: str) -> list[list[str]]:
    return [["Name", "Content"], *[[n, f"Content of {n}"] for n in names]]


def _create_kb(endpoint: str, name: str) -> str:
    created = run("kb", "create", name, "--endpoint-url", endpoint)
    assert created.returncode == 0, created.stderr
    return created.stdout.strip()


def test_version() -> None:
    result = run("--version")
    assert result.returncode == 0 and result.stdout.strip() == f"qconnect-local {__version__}"


def test_reset_wipes_the_state(endpoint: str) -> None:
    _create_kb(endpoint, "to-be-wiped")
    result = run("reset", "--endpoint-url", endpoint)
    assert result.returncode == 0, result.stderr
    assert "to-be-wiped" not in run("kb", "list", "--endpoint-url", endpoint).stdout
    refused = run("reset", "--endpoint-url", "aws")
    assert refused.returncode == 2 and "not on AWS" in one_line_error(refused)


def test_knowledge_base_quota_error_hints_at_reset(endpoint: str) -> None:
    for i in range(10):
        _create_kb(endpoint, f"kb-{i}")
    result = run("kb", "create", "one-too-many", "--endpoint-url", endpoint)
    assert result.returncode == 1
    line = one_line_error(result)
    assert line.startswith("error: ServiceQuotaExceededException: ")
    assert "qconnect-local reset" in line and "--max-knowledge-bases" in line


def test_knowledge_bases_by_name(endpoint: str, tmp_path: Path) -> None:
    kb_id = _create_kb(endpoint, "by-name")
    source = write_csv(tmp_path / "qr.csv", _rows("alpha", "beta"))
    imported = run("import", str(source), "--knowledge-base", "by-name", "--endpoint-url", endpoint)
    assert imported.returncode == 0, imported.stderr
    listed = run("qr", "list", "--knowledge-base", "by-name", "--endpoint-url", endpoint)
    assert [line.split()[1] for line in listed.stdout.splitlines()[1:]] == ["alpha", "beta"]
    exported = run("export", "--knowledge-base", "by-name", "--endpoint-url", endpoint)
    assert [r[0] for r in csv.reader(io.StringIO(exported.stdout))][1:] == ["alpha", "beta"]

    missing = run("qr", "list", "--knowledge-base", "no-such-name", "--endpoint-url", endpoint)
    assert missing.returncode == 1 and "kb list" in one_line_error(missing)
    _create_kb(endpoint, "twice")
    _create_kb(endpoint, "twice")
    ambiguous = run("qr", "list", "--knowledge-base", "twice", "--endpoint-url", endpoint)
    assert ambiguous.returncode == 2 and "2 knowledge bases are named 'twice'" in one_line_error(ambiguous)

    deleted = run("kb", "delete", "by-name", "--endpoint-url", endpoint)
    assert deleted.returncode == 0, deleted.stderr
    assert kb_id not in run("kb", "list", "--endpoint-url", endpoint).stdout


def test_qr_list_get_search_delete(endpoint: str, qconnect, quick_responses_kb) -> None:
    kb_id = quick_responses_kb["knowledgeBaseId"]
    ids = {}
    for name, text in (("refund", "How to get a refund"), ("greeting", "Hello and welcome")):
        ids[name] = qconnect.create_quick_response(
            knowledgeBaseId=kb_id, name=name, content={"content": text}, shortcutKey=name[:3]
        )["quickResponse"]["quickResponseId"]
    args = ["--knowledge-base", kb_id, "--endpoint-url", endpoint]

    listed = run("qr", "list", *args)
    assert listed.returncode == 0, listed.stderr
    assert listed.stdout.splitlines()[0].split()[:4] == ["QUICK", "RESPONSE", "ID", "NAME"]
    assert f"{ids['greeting']}  greeting" in listed.stdout and f"{ids['refund']}  refund" in listed.stdout

    got = run("qr", "get", ids["refund"], *args)
    assert got.returncode == 0 and "name: refund" in got.stdout and "How to get a refund" in got.stdout

    found = run("qr", "search", "refund", *args)
    assert found.returncode == 0, found.stderr
    assert ids["refund"] in found.stdout and ids["greeting"] not in found.stdout

    deleted = run("qr", "delete", ids["refund"], *args)
    assert deleted.returncode == 0 and deleted.stdout.strip() == f"deleted {ids['refund']}"
    again = run("qr", "delete", ids["refund"], *args)
    assert again.returncode == 1 and "ResourceNotFoundException" in one_line_error(again)


def test_jobs_list_get_report_delete(endpoint: str, quick_responses_kb, tmp_path: Path) -> None:
    kb_id = quick_responses_kb["knowledgeBaseId"]
    source = write_csv(tmp_path / "mixed.csv", [["Name", "Content"], ["good", "fine"], ["", "no name"]])
    imported = run("import", str(source), "--no-validate", "--knowledge-base", kb_id, "--endpoint-url", endpoint)
    assert imported.returncode == 1
    assert "1 of 2 rows imported, 1 failed" in imported.stderr

    listed = run("jobs", "list", "--endpoint-url", endpoint)  # every knowledge base
    assert listed.returncode == 0, listed.stderr
    (line,) = listed.stdout.splitlines()[1:]
    job_id, listed_kb, status = line.split()[:3]
    assert listed_kb == kb_id and status == "FAILED"

    got = run("jobs", "get", job_id, "--endpoint-url", endpoint)
    assert got.returncode == 0 and "status: FAILED" in got.stdout

    report = run("jobs", "report", job_id, "--knowledge-base", "qr-kb", "--endpoint-url", endpoint)
    assert report.returncode == 0, report.stderr
    lines = report.stdout.splitlines()
    assert lines[0].split() == ["Name", "Content", "Error"]
    assert "no name" in lines[1] and "ValidationException" in lines[1]
    assert lines[-1] == "1 failed rows"
    saved = tmp_path / "report.csv"
    assert run("jobs", "report", job_id, "-o", str(saved), "--endpoint-url", endpoint).returncode == 0
    assert saved.read_text().startswith("Name,Content,Error")

    deleted = run("jobs", "delete", job_id, "--endpoint-url", endpoint)
    assert deleted.returncode == 0 and deleted.stdout.strip() == f"deleted {job_id}"
    assert run("jobs", "list", "--knowledge-base", kb_id, "--endpoint-url", endpoint).stdout.splitlines()[1:] == []
    missing = run("jobs", "get", job_id, "--knowledge-base", kb_id, "--endpoint-url", endpoint)
    assert missing.returncode == 1 and one_line_error(missing).startswith("error: ResourceNotFoundException")


def test_import_progress_line_names_rows_and_bytes(endpoint: str, quick_responses_kb, tmp_path: Path) -> None:
    source = write_csv(tmp_path / "ok.csv", _rows("one", "two", "three"))
    result = run("import", str(source), "--knowledge-base", "qr-kb", "--endpoint-url", endpoint)
    assert result.returncode == 0, result.stderr
    size = source.stat().st_size
    assert f"(3 rows, {size} bytes): COMPLETE after" in result.stderr


def test_quota_failure_says_what_landed_and_which_setting(tmp_path: Path) -> None:
    server = ServerProcess("--max-quick-responses", "2").start()
    try:
        kb_id = _create_kb(server.endpoint_url, "small")
        source = write_csv(tmp_path / "three.csv", _rows("a", "b", "c"))
        result = run("import", str(source), "--knowledge-base", kb_id, "--endpoint-url", server.endpoint_url)
        assert result.returncode == 1
        assert "FAILED: 2 of 3 rows imported, 1 failed" in result.stderr
        assert "--max-quick-responses" in result.stderr and "QCONNECT_LOCAL_MAX_QUICK_RESPONSES" in result.stderr
        assert "Traceback" not in result.stderr
    finally:
        server.stop()


def test_entity_too_large_names_sizes_and_flag(tmp_path: Path) -> None:
    server = ServerProcess("--max-upload-bytes", "100").start()
    try:
        kb_id = _create_kb(server.endpoint_url, "tiny")
        source = write_csv(tmp_path / "big.csv", _rows(*[f"name-{i}" for i in range(10)]))
        size = source.stat().st_size
        result = run("import", str(source), "--knowledge-base", kb_id, "--endpoint-url", server.endpoint_url)
        assert result.returncode == 1
        assert "Traceback" not in result.stderr
        line = _last(result.stderr)
        assert f"is {size} bytes" in line and "at most 100 bytes" in line and "--max-upload-bytes" in line
    finally:
        server.stop()


def _last(stderr: str) -> str:
    """stderr without the validate summary lines the import prints first."""
    return "\n".join(line for line in stderr.splitlines() if line.startswith("error:"))


# -- validate: what the import refuses ------------------------------------------------------


@pytest.mark.parametrize(
    "content",
    [
        b'Name,Content\nx,"quoted"then text\n',  # text after a closing quote
        b'Name,Content\nx,"never closed\n',  # unterminated quote
    ],
)
def test_validate_is_as_strict_as_the_import(content: bytes, endpoint: str, quick_responses_kb, tmp_path: Path) -> None:
    source = tmp_path / "bad.csv"
    source.write_bytes(content)
    checked = run("validate", str(source))
    assert checked.returncode == 1
    assert "The file cannot be imported: The file is not valid CSV" in checked.stdout
    imported = run("import", str(source), "--no-validate", "--knowledge-base", "qr-kb", "--endpoint-url", endpoint)
    assert imported.returncode == 1  # the import refuses it too


def test_validate_checks_the_upload_size_limit(tmp_path: Path) -> None:
    source = write_csv(tmp_path / "big.csv", [TEMPLATE_HEADER[:2], *[[f"n{i}", "x" * 1000] for i in range(6000)]])
    size = source.stat().st_size
    assert size > 5 * 1024 * 1024
    checked = run("validate", str(source))
    assert checked.returncode == 1
    assert f"EntityTooLarge: the file is {size} bytes" in checked.stdout and "--max-upload-bytes" in checked.stdout
    assert run("validate", str(source), "--max-upload-bytes", str(size)).returncode == 0


# -- where the commands go --------------------------------------------------------------------


def _config_file(tmp_path: Path, endpoint: str) -> Path:
    config = tmp_path / "config"
    config.write_text(
        f"[profile local]\nregion = eu-west-1\nservices = local-qc\n\n[services local-qc]\nqconnect =\n  endpoint_url = {endpoint}\n"
    )
    return config


def test_endpoint_from_a_profile_services_section(endpoint: str, tmp_path: Path) -> None:
    env = {"AWS_CONFIG_FILE": str(_config_file(tmp_path, endpoint)), "AWS_SHARED_CREDENTIALS_FILE": "/dev/null"}
    created = run("kb", "create", "via-profile", "--profile", "local", env=env)
    assert created.returncode == 0, created.stderr
    listed = run("kb", "list", "--json", env={**env, "AWS_PROFILE": "local"})
    assert listed.returncode == 0 and "via-profile" in listed.stdout
    assert ":eu-west-1:" in listed.stdout  # the profile's region too


def test_flag_wins_over_configured_endpoint(endpoint: str, tmp_path: Path) -> None:
    env = {"AWS_ENDPOINT_URL_QCONNECT": "http://127.0.0.1:9"}
    assert run("kb", "list", "--endpoint-url", endpoint, env=env).returncode == 0
    refused = run("kb", "list", env=env)
    assert refused.returncode == 1 and "127.0.0.1:9" in one_line_error(refused)


@pytest.mark.parametrize("where", ["flag", "environment"])
def test_endpoint_without_scheme_is_one_line(where: str) -> None:
    if where == "flag":
        result = run("kb", "list", "--endpoint-url", "localhost:4580")
    else:
        result = run("kb", "list", env={"AWS_ENDPOINT_URL_QCONNECT": "localhost:4580"})
    assert result.returncode == 2
    assert "http://localhost:4580" in one_line_error(result)


def test_completion_scripts() -> None:
    for shell in ("bash", "zsh"):
        result = run("completion", shell)
        assert result.returncode == 0, result.stderr
        assert "qconnect-local" in result.stdout and "jobs" in result.stdout and "--knowledge-base" in result.stdout
