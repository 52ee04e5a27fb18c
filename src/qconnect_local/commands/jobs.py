"""`qconnect-local jobs list|get|report|delete`: import jobs without another tool.

`--knowledge-base` takes a name or an id; without it, `list` shows the jobs of every knowledge
base and `get`/`report`/`delete` find the job's knowledge base themselves. `report` downloads the
failed-record report and shows it as a table (`-o FILE` saves the CSV instead).
"""

from __future__ import annotations

import argparse
import csv
import io
import urllib.error
import urllib.request
from typing import Any

from qconnect_local.commands.common import (
    EXIT_FAILED,
    EXIT_OK,
    CommandError,
    add_connection_args,
    error,
    make_client,
    service_errors,
)
from qconnect_local.commands.names import all_knowledge_base_ids, knowledge_base_id
from qconnect_local.console.table import print_json, print_table


def register(sub: Any) -> None:
    jobs = sub.add_parser("jobs", help="list, show, report on or delete import jobs")
    actions = jobs.add_subparsers(dest="jobs_action", required=True, metavar="{list,get,report,delete}")

    listing = actions.add_parser("list", help="list import jobs (of one knowledge base, or of all)")
    _kb_arg(listing)
    listing.add_argument("--json", action="store_true", help="print the summaries as JSON")
    add_connection_args(listing)
    listing.set_defaults(handler=list_jobs)

    get = actions.add_parser("get", help="show one import job")
    get.add_argument("job_id", metavar="JOB_ID")
    _kb_arg(get)
    get.add_argument("--json", action="store_true", help="print the job as JSON")
    add_connection_args(get)
    get.set_defaults(handler=get_job)

    report = actions.add_parser("report", help="show a job's failed-record report as a table")
    report.add_argument("job_id", metavar="JOB_ID")
    _kb_arg(report)
    report.add_argument("-o", "--output", default=None, metavar="FILE.csv", help="save the report CSV here instead")
    add_connection_args(report)
    report.set_defaults(handler=report_job)

    delete = actions.add_parser("delete", help="delete import jobs")
    delete.add_argument("job_ids", nargs="+", metavar="JOB_ID")
    _kb_arg(delete)
    add_connection_args(delete)
    delete.set_defaults(handler=delete_jobs)


def _kb_arg(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--knowledge-base", default=None, metavar="NAME|ID", help="knowledge base name, id or ARN (default: all)"
    )


def _kb_ids(client: Any, args: argparse.Namespace) -> list[str]:
    if args.knowledge_base:
        return [knowledge_base_id(client, args.knowledge_base)]
    return all_knowledge_base_ids(client)


def _summaries(client: Any, kb_ids: list[str]) -> list[dict[str, Any]]:
    with service_errors():
        return [
            s
            for kb_id in kb_ids
            for page in client.get_paginator("list_import_jobs").paginate(knowledgeBaseId=kb_id)
            for s in page["importJobSummaries"]
        ]


def find_job(client: Any, args: argparse.Namespace, job_id: str) -> dict[str, Any]:
    """GetImportJob's job, its knowledge base given or found."""
    kb_ids = _kb_ids(client, args)
    if not args.knowledge_base:
        kb_ids = [s["knowledgeBaseId"] for s in _summaries(client, kb_ids) if s["importJobId"] == job_id] or kb_ids[:1]
        if not kb_ids:
            raise CommandError(f"{job_id}: no such import job (there are no knowledge bases)")
    with service_errors():
        return client.get_import_job(knowledgeBaseId=kb_ids[0], importJobId=job_id)["importJob"]


def list_jobs(args: argparse.Namespace) -> int:
    client = make_client(args)
    summaries = _summaries(client, _kb_ids(client, args))
    summaries.sort(key=lambda s: s["createdTime"])
    if args.json:
        print_json(summaries)
        return EXIT_OK
    print_table(
        ("IMPORT JOB ID", "KNOWLEDGE BASE ID", "STATUS", "CREATED"),
        [(s["importJobId"], s["knowledgeBaseId"], s["status"], _time(s["createdTime"])) for s in summaries],
    )
    return EXIT_OK


def get_job(args: argparse.Namespace) -> int:
    client = make_client(args)
    job = find_job(client, args, args.job_id)
    if args.json:
        print_json(job)
        return EXIT_OK
    for key in ("importJobId", "knowledgeBaseId", "importJobType", "status", "createdTime", "lastModifiedTime"):
        value = job.get(key)
        print(f"{key}: {_time(value) if key.endswith('Time') else value}")
    for key, value in sorted((job.get("metadata") or {}).items()):
        print(f"metadata.{key}: {value}")
    print(
        f"failedRecordReport: {'yes (qconnect-local jobs report ' + job['importJobId'] + ')' if job.get('failedRecordReport') else 'none'}"
    )
    return EXIT_OK


def report_job(args: argparse.Namespace) -> int:
    client = make_client(args)
    job = find_job(client, args, args.job_id)
    url = job.get("failedRecordReport")
    if not url:
        raise CommandError(f"import job {job['importJobId']} has no failed-record report (status {job['status']})")
    try:
        with urllib.request.urlopen(url, timeout=60) as response:
            data = response.read()
    except (urllib.error.URLError, OSError) as exc:
        raise CommandError(f"cannot download the report of {job['importJobId']}: {exc}") from None
    if args.output:
        try:
            with open(args.output, "wb") as out:
                out.write(data)
        except OSError as exc:
            raise CommandError(f"cannot write {args.output}: {exc.strerror}") from None
        print(f"saved the failed-record report of {job['importJobId']} to {args.output}")
        return EXIT_OK
    rows = list(csv.reader(io.StringIO(data.decode("utf-8-sig", errors="replace"))))
    if not rows:
        print("(empty report)")
        return EXIT_OK
    header, body = rows[0], rows[1:]
    print_table(header, body, max_width=60)
    print(f"{len(body)} failed rows")
    return EXIT_OK


def delete_jobs(args: argparse.Namespace) -> int:
    client = make_client(args)
    status = EXIT_OK
    for job_id in args.job_ids:
        try:
            job = find_job(client, args, job_id)
            with service_errors():
                client.delete_import_job(knowledgeBaseId=job["knowledgeBaseId"], importJobId=job_id)
        except CommandError as exc:
            error(f"{job_id}: {exc}")
            status = EXIT_FAILED
            continue
        print(f"deleted {job_id}")
    return status


def _time(value: Any) -> str:
    return value.strftime("%Y-%m-%d %H:%M:%S") if hasattr(value, "strftime") else str(value or "")
