"""`qconnect-local import FILE.csv --knowledge-base ID`: validate, upload, import, wait.

Steps: the offline check of `validate` (skip with `--no-validate`; any failed row stops here,
before anything is uploaded), StartContentUpload, PUT of the file to the returned URL with the
returned headers, StartImportJob, then GetImportJob until the job ends, with a progress display.
On COMPLETE exit 0. On FAILED the failed-record report is downloaded (`--report`, default
FILE.failed.csv beside the input), its first lines printed, exit 1. Still running at `--timeout`:
exit 1 with the job id, so the job can be followed with `aws qconnect get-import-job`.
"""

from __future__ import annotations

import argparse
import os
import re
import sys
import urllib.error
import urllib.request
from dataclasses import dataclass
from typing import Any

from qconnect_local.commands.common import (
    EXIT_FAILED,
    EXIT_OK,
    EXIT_USAGE,
    CommandError,
    add_connection_args,
    make_client,
    parse_pairs,
    service_errors,
)
from qconnect_local.commands.names import knowledge_base_id
from qconnect_local.commands.validate import add_directory_args, check_file, print_errors, summary


def register(sub: Any) -> None:
    parser = sub.add_parser("import", help="validate, upload and import a quick-response CSV, and wait for the job")
    parser.add_argument("file", metavar="FILE.csv")
    parser.add_argument("--knowledge-base", required=True, metavar="NAME|ID", help="knowledge base name, id or ARN")
    add_directory_args(parser)
    parser.add_argument("--metadata", action="append", metavar="KEY=VALUE", help="import-job metadata (repeatable)")
    parser.add_argument("--no-validate", action="store_true", help="skip the offline check")
    parser.add_argument(
        "--report",
        default=None,
        metavar="OUT.csv",
        help="where to save the failed-record report (default: FILE.failed.csv)",
    )
    parser.add_argument("--timeout", type=float, default=600.0, help="seconds to wait for the job (default 600)")
    add_connection_args(parser)
    parser.set_defaults(handler=import_command)


def import_command(args: argparse.Namespace) -> int:
    from qconnect_local.waiters import ImportJobFailed, ImportJobTimeout, download, wait_for_import_job

    metadata = parse_pairs(args.metadata, "--metadata")
    if not os.path.isfile(args.file):
        raise CommandError(f"{args.file}: no such file", EXIT_USAGE)
    result = None
    if not args.no_validate:
        result = check_file(args)
        if not result.ok:
            print_errors(result, 20, sys.stderr)
            print(
                f"error: {summary(result)}; nothing was uploaded (--no-validate imports the valid rows anyway)",
                file=sys.stderr,
            )
            return EXIT_FAILED
    client = make_client(args)
    args.knowledge_base = knowledge_base_id(client, args.knowledge_base)
    with service_errors():
        job = start_job(client, args, metadata)
    job_id = job["importJobId"]
    from qconnect_local.console.progress import JobProgress

    try:
        rows = result.rows if result is not None else None
        with service_errors(), JobProgress(job_id, rows=rows, size=os.path.getsize(args.file)) as progress:
            final = wait_for_import_job(
                client, job["knowledgeBaseId"], job_id, timeout=args.timeout, on_poll=progress.update
            )
    except ImportJobTimeout as exc:
        raise CommandError(str(exc)) from None
    except ImportJobFailed as exc:
        report = exc.job.get("failedRecordReport")
        if report:
            target = args.report or os.path.splitext(args.file)[0] + ".failed.csv"
            try:
                download(report, target)
            except OSError as err:
                raise CommandError(
                    f"import job {job_id} FAILED, and its report could not be downloaded: {err}"
                ) from None
            outcome = summarize_failure(target, data_rows(args.file, result))
            print(
                f"import job {job_id} FAILED: {outcome.text}; failed-record report saved to {target}", file=sys.stderr
            )
            for line in exc.report_lines:
                print(f"  {line}", file=sys.stderr)
            for hint in outcome.hints:
                print(f"hint: {hint}", file=sys.stderr)
        else:
            print(f"import job {job_id} FAILED", file=sys.stderr)
        return EXIT_FAILED
    print(f"{final['importJobId']} {final['status']}")
    return EXIT_OK


def start_job(client: Any, args: argparse.Namespace, metadata: dict[str, str]) -> dict[str, Any]:
    upload = client.start_content_upload(knowledgeBaseId=args.knowledge_base, contentType="text/csv")
    put_file(upload["url"], upload.get("headersToInclude") or {}, args.file)
    params: dict[str, Any] = {
        "knowledgeBaseId": args.knowledge_base,
        "importJobType": "QUICK_RESPONSES",
        "uploadId": upload["uploadId"],
    }
    if args.instance_id:
        params["externalSourceConfiguration"] = {
            "source": "AMAZON_CONNECT",
            "configuration": {"connectConfiguration": {"instanceId": args.instance_id}},
        }
    if metadata:
        params["metadata"] = metadata
    return client.start_import_job(**params)["importJob"]


def put_file(url: str, headers: dict[str, str], path: str) -> None:
    """PUT the file to a (presigned) upload URL, streaming it; an error response is one line."""
    size = os.path.getsize(path)
    with open(path, "rb") as body:
        request = urllib.request.Request(url, data=body, method="PUT", headers={**headers, "Content-Length": str(size)})
        try:
            with urllib.request.urlopen(request, timeout=300) as response:
                response.read()
        except urllib.error.HTTPError as exc:
            body = exc.read()
            message = f"upload refused ({exc.code}): {_s3_error(body)}"
            if b"<Code>EntityTooLarge</Code>" in body:
                limit = re.search(rb"<MaxSizeAllowed>(\d+)</MaxSizeAllowed>", body)
                message = (
                    f"upload refused: {path} is {size} bytes, the server takes at most "
                    f"{int(limit.group(1)) if limit else '?'} bytes per file (hint: start the server with "
                    "--max-upload-bytes N, or QCONNECT_LOCAL_MAX_UPLOAD_BYTES; the service's own limit is 5 MiB)"
                )
            raise CommandError(message) from None
        except urllib.error.URLError as exc:
            raise CommandError(f"upload failed: {exc.reason}") from None


def _s3_error(body: bytes) -> str:
    """'Code: Message' from an S3-style XML error body, else the body's first line."""
    text = body.decode("utf-8", errors="replace")
    code = re.search(r"<Code>(.*?)</Code>", text)
    message = re.search(r"<Message>(.*?)</Message>", text)
    if code:
        return f"{code.group(1)}: {message.group(1) if message else ''}".strip()
    return text.strip().splitlines()[0] if text.strip() else "no details"


@dataclass
class FailureSummary:
    text: str
    hints: list[str]


def data_rows(path: str, result: Any) -> int | None:
    """The file's data rows (non-blank records after the header), from the check if it ran."""
    if result is not None and result.file_problem is None:
        return result.rows
    import csv

    try:
        with open(path, newline="", encoding="utf-8-sig") as f:
            return max(sum(1 for cells in csv.reader(f) if any(cells)) - 1, 0)
    except (OSError, UnicodeDecodeError, csv.Error):
        return None


def summarize_failure(report_path: str, rows: int | None) -> FailureSummary:
    """How many rows landed, and the hints that fix the failures (read from the report)."""
    import csv

    from qconnect_local.importing.report import ERROR_COLUMN

    try:
        with open(report_path, newline="", encoding="utf-8-sig") as f:
            records = list(csv.reader(f))
    except (OSError, UnicodeDecodeError, csv.Error):
        return FailureSummary("see the report", [])
    header, failed = (records[0], records[1:]) if records else ([], [])
    errors = [r[-1] for r in failed if r]
    hints: list[str] = []
    if any(e.startswith("ServiceQuotaExceededException") for e in errors):
        hints.append(
            "the knowledge base reached its quota of quick responses: start the server with "
            "--max-quick-responses N (QCONNECT_LOCAL_MAX_QUICK_RESPONSES) to raise it"
        )
    if any(e.startswith("ConflictException") for e in errors):
        hints.append("names and shortcut keys must be unique in a knowledge base: `qconnect-local qr list` shows them")
    if header == [ERROR_COLUMN]:  # the whole file was refused
        return FailureSummary("the file could not be imported, no rows imported", hints)
    if rows is None:
        return FailureSummary(f"{len(failed)} rows failed", hints)
    return FailureSummary(f"{max(rows - len(failed), 0)} of {rows} rows imported, {len(failed)} failed", hints)
