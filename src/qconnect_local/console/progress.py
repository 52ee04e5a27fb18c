"""The import command's progress display: the job's status, the file's rows and bytes, the
elapsed time.

Drawn with rich on standard error, so standard output stays clean for scripts. When standard
error is not a terminal (CI logs, tests) rich draws nothing live and the final state is printed
once as a plain line.
"""

from __future__ import annotations

import sys
from typing import Any

from rich.console import Console
from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn


def size_text(size: int | None) -> str:
    if size is None:
        return "? bytes"
    if size < 1024:
        return f"{size} bytes"
    if size < 1024 * 1024:
        return f"{size / 1024:.1f} KiB"
    return f"{size / (1024 * 1024):.1f} MiB"


class JobProgress:
    def __init__(self, job_id: str, rows: int | None = None, size: int | None = None) -> None:
        self.job_id = job_id
        self.what = f"{rows} rows, {size_text(size)}" if rows is not None else size_text(size)
        self.console = Console(stderr=True)
        self.live = self.console.is_terminal
        self.progress = Progress(
            SpinnerColumn(),
            TextColumn("import job {task.fields[job]} ({task.fields[what]}): [bold]{task.description}"),
            TimeElapsedColumn(),
            console=self.console,
            transient=True,
        )
        self.task: Any = None
        self.status = "START_IN_PROGRESS"
        self.elapsed = 0.0

    def __enter__(self) -> JobProgress:
        if self.live:
            self.progress.start()
            self.task = self.progress.add_task(self.status, job=self.job_id, what=self.what)
        return self

    def update(self, job: dict[str, Any], elapsed: float) -> None:
        self.status = job.get("status", "?")
        self.elapsed = elapsed
        if self.task is not None:
            self.progress.update(self.task, description=self.status)

    def __exit__(self, *exc: Any) -> None:
        if self.live:
            self.progress.stop()
        print(
            f"import job {self.job_id} ({self.what}): {self.status} after {self.elapsed:.1f} s",
            file=sys.stderr,
        )
