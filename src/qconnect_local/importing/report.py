"""The failed-record report of an import job (`failedRecordReport`).

A CSV with the file's own header plus an `Error` column, and for every row that could not be
imported its original cells verbatim, so the user can fix the rows and import the report again
(the importer ignores an `Error` column). A file that could not be used at all gets a report of a
single `Error` column saying why. UTF-8 without a BOM, CRLF line ends (RFC 4180).
"""

from __future__ import annotations

import csv
import io
from typing import Protocol

from qconnect_local.importing.csv_format import ERROR_COLUMN, Header, Row, _key

_FLUSH_AT = 256 * 1024


class ByteSink(Protocol):
    """Where a report goes: a blob writer (import jobs) or a file (`validate --report`)."""

    def write(self, data: bytes, /) -> object: ...


def report_key(job_id: str) -> str:
    return f"reports/{job_id}.csv"


class ReportWriter:
    """Streams report rows into a blob writer (the caller commits it)."""

    def __init__(self, out: ByteSink) -> None:
        self.out = out
        self.buffer = io.StringIO()
        self.csv = csv.writer(self.buffer)
        self.rows = 0
        self.keep: list[int] | None = None
        self.width = 0

    def start(self, header: Header, write_header: bool = True) -> None:
        # An `Error` column of a re-imported report is replaced by the new one.
        self.keep = [i for i, cell in enumerate(header.cells) if _key(cell) != _key(ERROR_COLUMN)]
        self.width = len(header.cells)
        if write_header:
            self.csv.writerow([header.cells[i] for i in self.keep] + [ERROR_COLUMN])

    def add(self, row: Row, error: str) -> None:
        assert self.keep is not None
        cells = row.cells + [""] * (self.width - len(row.cells))
        kept = [cells[i] for i in self.keep] + cells[self.width :]
        self.csv.writerow(kept + [f"Line {row.line}: {error}"])
        self.rows += 1
        if self.buffer.tell() >= _FLUSH_AT:
            self.flush()

    def flush(self) -> None:
        data = self.buffer.getvalue()
        if data:
            self.out.write(data.encode("utf-8"))
        self.buffer = io.StringIO()
        self.csv = csv.writer(self.buffer)


def write_file_problem(out: ByteSink, message: str) -> None:
    """The report of a file that could not be used at all: one `Error` column, one row."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow([ERROR_COLUMN])
    writer.writerow([message])
    out.write(buffer.getvalue().encode("utf-8"))
