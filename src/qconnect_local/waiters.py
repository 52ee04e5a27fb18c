"""Waiting for a quick-response import job (botocore ships no waiter for it).

Works against qconnect-local and against Amazon Q in Connect: it only calls GetImportJob and
fetches the failed-record report from the URL the job gives.

- `wait_for_import_job(client, kb_id, job_id, timeout=...)` returns the final `importJob` when it
  is COMPLETE, raises `ImportJobFailed` (with the first lines of the failed-record report) when it
  is FAILED (or its deletion failed), and `ImportJobTimeout` when it is still running at the end.
- `import_job_waiter(client)` is the same as a botocore `Waiter`
  (`.wait(knowledgeBaseId=..., importJobId=..., WaiterConfig={"Delay": 1, "MaxAttempts": 60})`),
  raising botocore's `WaiterError` like every other boto3 waiter.
"""

from __future__ import annotations

import time
import urllib.request
from collections.abc import Callable
from typing import Any

from botocore.waiter import WaiterModel, create_waiter_with_client

IN_PROGRESS = "START_IN_PROGRESS"
COMPLETE = "COMPLETE"
# DELETE_* states mean the job is being or was removed: it will never complete.
FAILED_STATES = ("FAILED", "DELETE_IN_PROGRESS", "DELETE_FAILED", "DELETED")
REPORT_LINES = 5

WAITER_NAME = "ImportJobComplete"
WAITER_CONFIG = {
    "version": 2,
    "waiters": {
        WAITER_NAME: {
            "operation": "GetImportJob",
            "delay": 2,
            "maxAttempts": 150,
            "acceptors": [
                {"state": "success", "matcher": "path", "argument": "importJob.status", "expected": COMPLETE},
                *(
                    {"state": "failure", "matcher": "path", "argument": "importJob.status", "expected": s}
                    for s in FAILED_STATES
                ),
            ],
        }
    },
}


class ImportJobError(Exception):
    def __init__(self, message: str, job: dict[str, Any] | None) -> None:
        super().__init__(message)
        self.job = job


class ImportJobFailed(ImportJobError):
    """The job ended FAILED. `report_lines` holds the first lines of its failed-record report."""

    def __init__(self, job: dict[str, Any], report_lines: list[str]) -> None:
        message = f"Import job {job.get('importJobId')} ended {job.get('status')}"
        if report_lines:
            message += ". Failed-record report:\n" + "\n".join(report_lines)
        super().__init__(message, job)
        self.job: dict[str, Any] = job
        self.report_lines = report_lines


class ImportJobTimeout(ImportJobError):
    """The job was still in progress when the time ran out (`job` is its last state)."""


def import_job_waiter(client: Any) -> Any:
    """A botocore waiter for GetImportJob: success on COMPLETE, failure on FAILED / DELETE_*."""
    return create_waiter_with_client(WAITER_NAME, WaiterModel(WAITER_CONFIG), client)


def wait_for_import_job(
    client: Any,
    knowledge_base_id: str,
    import_job_id: str,
    timeout: float = 300.0,
    poll_interval: float = 0.2,
    max_poll_interval: float = 5.0,
    on_poll: Callable[[dict[str, Any], float], None] | None = None,
    clock: Callable[[], float] = time.monotonic,
    sleep: Callable[[float], None] = time.sleep,
) -> dict[str, Any]:
    """Polls GetImportJob until the job leaves START_IN_PROGRESS; see the module doc.

    Polling starts at `poll_interval` seconds and doubles up to `max_poll_interval`: quick for
    the local server, gentle on the real service's 10 TPS quota. `on_poll(job, elapsed)` is
    called after each poll (the CLI draws its progress display with it). `clock` and `sleep`
    are for tests that run the waiter on a fake clock.
    """
    started = clock()
    deadline = started + timeout
    interval = poll_interval
    while True:
        job = client.get_import_job(knowledgeBaseId=knowledge_base_id, importJobId=import_job_id)["importJob"]
        now = clock()
        if on_poll is not None:
            on_poll(job, now - started)
        status = job.get("status")
        if status == COMPLETE:
            return job
        if status in FAILED_STATES:
            raise ImportJobFailed(job, report_head(job))
        if now >= deadline:
            raise ImportJobTimeout(f"Import job {import_job_id} is still {status} after {timeout:g} s", job)
        sleep(min(interval, max(0.0, deadline - now)))
        interval = min(interval * 2, max_poll_interval)


def report_head(job: dict[str, Any], lines: int = REPORT_LINES) -> list[str]:
    """The first lines of the job's failed-record report, or [] if it has none or it cannot be
    fetched (the job's failure is what matters; the report is a courtesy)."""
    url = job.get("failedRecordReport")
    if not url:
        return []
    head: list[str] = []
    try:
        # Read only what is shown: a report of a million failed rows is hundreds of MB.
        with urllib.request.urlopen(url, timeout=30) as response:
            for raw in response:
                head.append(raw.decode("utf-8-sig" if not head else "utf-8", errors="replace").rstrip("\r\n"))
                if len(head) == lines:
                    break
    except OSError:
        return []
    return head


def download(url: str, path: str, timeout: float = 60.0) -> int:
    """Saves what `url` serves to `path`; returns the number of bytes."""
    size = 0
    with urllib.request.urlopen(url, timeout=timeout) as response, open(path, "wb") as out:
        while chunk := response.read(1 << 20):
            out.write(chunk)
            size += len(chunk)
    return size
