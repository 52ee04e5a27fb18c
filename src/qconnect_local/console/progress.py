"""The import command's progress display: a spinner, the job's status and the elapsed time.

Drawn with rich on standard error, so standard output stays clean for scripts. When standard
error is not a terminal (CI logs, tests) rich draws nothing live and the final state is printed
once as a plain line.
"""

from __future__ import annotations

import sys
from typing import Any

from rich.console import Console
from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn


class JobProgress:
    def __init__(self, job_id: str) -> None:
        self.job_id = job_id
        self.console = Console(stderr=True)
        self.live = self.console.is_terminal
        self.progress = Progress(
            SpinnerColumn(),
            TextColumn("import job {task.fields[job]}: [bold]{task.description}"),
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
            self.task = self.progress.add_task(self.status, job=self.job_id)
        return self

    def update(self, job: dict[str, Any], elapsed: float) -> None:
        self.status = job.get("status", "?")
        self.elapsed = elapsed
        if self.task is not None:
            self.progress.update(self.task, description=self.status)

    def __exit__(self, *exc: Any) -> None:
        if self.live:
            self.progress.stop()
        print(f"import job {self.job_id}: {self.status} after {self.elapsed:.1f} s", file=sys.stderr)
