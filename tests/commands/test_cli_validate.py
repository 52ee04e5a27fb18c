"""`validate` gives exactly the import job's verdicts: same failed rows, same report bytes; and its
two-process path (file split at record boundaries) gives exactly its one-process result."""

from __future__ import annotations

import csv
import io
import urllib.request
from pathlib import Path

import pytest

from qconnect_local.commands import validation
from qconnect_local.commands.validation import Validator, plan_chunks

HEADER = ["Name", "Content", "Shortcut key", "Description", "Channels", "Content type", "Language", "Active"]


def tricky_rows() -> list[list[str]]:
    """Rows that pass and fail in every way a row can, some with quoted newlines."""
    rows = [HEADER]
    for i in range(60):
        rows.append([f"qr-{i}", f'line one\nline two, "quoted" {i}', f"k{i}", "d", "Chat", "plain", "en_US", "true"])
    rows += [
        ["", "no name", "", "", "", "", "", ""],
        ["long-name-" + "x" * 100, "c", "", "", "", "", "", ""],
        ["no-content", "", "", "", "", "", "", ""],
        ["marker", "<*Required field>", "", "", "", "", "", ""],
        ["qr-3", "duplicate name", "", "", "", "", "", ""],
        ["dup-key", "c", "k4", "", "", "", "", ""],
        ["long-key", "c", "k" * 11, "", "", "", "", ""],
        ["bad-channel", "c", "", "", "Chat|Fax", "", "", ""],
        ["bad-type", "c", "", "", "", "html", "", ""],
        ["md", "**bold**", "", "", "", "markdown", "", ""],
        ["bad-language", "c", "", "", "", "", "xx_XX", ""],
        ["bad-active", "c", "", "", "", "", "", "perhaps"],
        ["too-many-cells", "c", "", "", "", "", "", "", "extra"],
        ["few-cells", "c"],
        ["", "", "", "", "", "", "", ""],  # blank: skipped, not counted
        ["desc-too-long", "c", "", "d" * 256, "", "", "", ""],
    ]
    for i in range(60, 120):
        rows.append([f"qr-{i}", f"text {i}", f"k{i}" if i % 3 else "", "", "Email", "", "", "no"])
    rows.append(["qr-10", "late duplicate across the split", "", "", "", "", "", ""])
    return rows


def write(path: Path, rows: list[list[str]]) -> Path:
    with path.open("w", newline="", encoding="utf-8") as f:
        csv.writer(f).writerows(rows)
    return path


def run_validator(path: Path, workers: int) -> tuple[validation.Result, bytes]:
    report = io.BytesIO()
    result = Validator(keep_errors=10_000).run(str(path), report, workers=workers)
    return result, report.getvalue()


def test_two_processes_give_the_one_process_result(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    source = write(tmp_path / "qr.csv", tricky_rows())
    single, single_report = run_validator(source, 1)
    monkeypatch.setattr(validation, "PARALLEL_FROM_BYTES", 0)
    assert len(plan_chunks(str(source), 2)) == 2
    double, double_report = run_validator(source, 2)
    assert (double.rows, double.good, double.failed) == (single.rows, single.good, single.failed)
    assert double.errors == single.errors
    assert double_report == single_report
    assert single.failed == 14  # every bad row above ("md" and "few-cells" are good; the blank one is skipped)
    assert any(e.code == "ConflictException" and "qr-10" in e.message for e in single.errors)


def test_a_stray_quote_that_fools_the_split_falls_back_to_one_pass(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    rows = tricky_rows()
    text = io.StringIO()
    csv.writer(text).writerows(rows[:5])
    # An unquoted cell with a quote in it: the quote count is now odd for the rest of the file.
    text.write('stray,it"s odd,,,,,,\n')
    csv.writer(text).writerows(rows[5:])
    source = tmp_path / "stray.csv"
    source.write_text(text.getvalue(), encoding="utf-8")
    single, single_report = run_validator(source, 1)
    monkeypatch.setattr(validation, "PARALLEL_FROM_BYTES", 0)
    double, double_report = run_validator(source, 2)
    assert (double.rows, double.failed, double.errors, double_report) == (
        single.rows,
        single.failed,
        single.errors,
        single_report,
    )


def test_validate_report_equals_the_import_jobs_report(qconnect, quick_responses_kb, tmp_path: Path) -> None:
    source = write(tmp_path / "qr.csv", tricky_rows())
    _, expected = run_validator(source, 1)
    kb_id = quick_responses_kb["knowledgeBaseId"]
    upload = qconnect.start_content_upload(knowledgeBaseId=kb_id, contentType="text/csv")
    request = urllib.request.Request(
        upload["url"], data=source.read_bytes(), method="PUT", headers=upload["headersToInclude"]
    )
    urllib.request.urlopen(request).read()
    job = qconnect.start_import_job(
        knowledgeBaseId=kb_id, importJobType="QUICK_RESPONSES", uploadId=upload["uploadId"]
    )["importJob"]
    from qconnect_local.waiters import ImportJobFailed, wait_for_import_job

    with pytest.raises(ImportJobFailed) as failed:
        wait_for_import_job(qconnect, kb_id, job["importJobId"], timeout=30)
    with urllib.request.urlopen(failed.value.job["failedRecordReport"]) as response:
        assert response.read() == expected
    imported = qconnect.list_quick_responses(knowledgeBaseId=kb_id, maxResults=100)
    count = len(imported["quickResponseSummaries"])
    while "nextToken" in imported:
        imported = qconnect.list_quick_responses(knowledgeBaseId=kb_id, maxResults=100, nextToken=imported["nextToken"])
        count += len(imported["quickResponseSummaries"])
    result, _ = run_validator(source, 1)
    assert count == result.good


def test_quota_option(tmp_path: Path) -> None:
    source = write(tmp_path / "qr.csv", [["Name", "Content"], ["a", "1"], ["b", "2"], ["c", "3"]])
    result = Validator(max_quick_responses=2).run(str(source))
    assert (result.good, result.failed) == (2, 1)
    assert result.errors[0].code == "ServiceQuotaExceededException" and result.errors[0].line == 4
