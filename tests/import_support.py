"""Helpers for the import-pipeline tests: uploads over real HTTP, job polling, report parsing."""

from __future__ import annotations

import csv
import io
import time
import urllib.error
import urllib.request
from typing import Any


def csv_bytes(rows: list[list[str]], newline: str = "\r\n", bom: bool = False) -> bytes:
    out = io.StringIO()
    csv.writer(out, lineterminator=newline).writerows(rows)
    return (b"\xef\xbb\xbf" if bom else b"") + out.getvalue().encode("utf-8")


def http(
    method: str, url: str, body: bytes | None = None, headers: dict[str, str] | None = None
) -> tuple[int, dict[str, str], bytes]:
    req = urllib.request.Request(url, data=body, method=method, headers=headers or {})
    try:
        with urllib.request.urlopen(req, timeout=60) as r:
            return r.status, {k.lower(): v for k, v in r.headers.items()}, r.read()
    except urllib.error.HTTPError as e:
        return e.code, {k.lower(): v for k, v in e.headers.items()}, e.read()


def upload(client: Any, kb_id: str, body: bytes, content_type: str = "text/csv") -> str:
    up = client.start_content_upload(knowledgeBaseId=kb_id, contentType=content_type)
    status, _, text = http("PUT", up["url"], body, up["headersToInclude"])
    assert status == 200, text
    return up["uploadId"]


def start(client: Any, kb_id: str, upload_id: str, **kw: Any) -> dict[str, Any]:
    return client.start_import_job(knowledgeBaseId=kb_id, importJobType="QUICK_RESPONSES", uploadId=upload_id, **kw)[
        "importJob"
    ]


def _until_ended(get: Any, pending: str, timeout: float, interval: float) -> dict[str, Any]:
    """`get()` until its status is no longer `pending` (or the timeout passes): the last answer."""
    deadline = time.monotonic() + timeout
    while True:
        found = get()
        if found["status"] != pending or time.monotonic() > deadline:
            return found
        time.sleep(interval)


def wait_job(client: Any, kb_id: str, job_id: str, timeout: float = 60.0) -> dict[str, Any]:
    return _until_ended(
        lambda: client.get_import_job(knowledgeBaseId=kb_id, importJobId=job_id)["importJob"],
        "START_IN_PROGRESS",
        timeout,
        0.05,
    )


def settle(client: Any, kb_id: str, content_id: str, timeout: float = 30.0) -> dict[str, Any]:
    """GetContent once the content's text extraction (in the server's background) has ended."""
    return _until_ended(
        lambda: client.get_content(knowledgeBaseId=kb_id, contentId=content_id)["content"],
        "CREATE_IN_PROGRESS",
        timeout,
        0.02,
    )


def import_file(client: Any, kb_id: str, body: bytes, **kw: Any) -> dict[str, Any]:
    job = start(client, kb_id, upload(client, kb_id, body), **kw)
    return wait_job(client, kb_id, job["importJobId"])


def report_rows(job: dict[str, Any]) -> list[list[str]]:
    status, headers, body = http("GET", job["failedRecordReport"])
    assert status == 200 and headers["content-type"].startswith("text/csv"), body
    return list(csv.reader(io.StringIO(body.decode("utf-8"), newline="")))


def all_quick_responses(client: Any, kb_id: str) -> dict[str, dict[str, Any]]:
    """name -> full QuickResponseData."""
    out = {}
    for page in client.get_paginator("list_quick_responses").paginate(knowledgeBaseId=kb_id):
        for summary in page["quickResponseSummaries"]:
            qr = client.get_quick_response(knowledgeBaseId=kb_id, quickResponseId=summary["quickResponseId"])
            out[summary["name"]] = qr["quickResponse"]
    return out


def s3_error_code(body: bytes) -> str:
    text = body.decode()
    return text.split("<Code>", 1)[1].split("</Code>", 1)[0]
