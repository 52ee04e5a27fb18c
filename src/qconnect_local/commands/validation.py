"""Offline check of an import CSV with the import job's own rules (used by `validate` and `import`).

Nothing here decides what a valid row is. Every piece comes from the import pipeline:
`importing.csv_format.read_rows` (file problems, line numbers), `RowMapper` (row -> CreateQuickResponse
input), `importing.rules.QuickResponseRules` (the API's validator + `prepare_quick_response`),
`importing.job.RowChecker` (uniqueness of name and shortcut key, quota, and the messages), and
`importing.report.ReportWriter` (the failed-record report's layout).

Speed (a 1,000,000-row file in well under 15 s, where the full per-row pipeline costs ~16 µs a row
on one thread, and more beside an import's writer). A row's outcome under those rules depends on
its free-text cells (Name, Content, Description, Shortcut key) only through whether each is empty,
the `<*Required field>` marker, within its member's length bounds or outside them: those members
are plain strings whose only constraints in the service model are min/max length (checked at
start-up against the model; a member that gains a pattern or enum is compared by value instead),
and no quick-response rule besides them reads their text. So each row gets a signature — the class
of each free-text cell and the exact value of every other cell — and the full pipeline runs once
per distinct valid signature; a row whose signature already passed skips straight to the uniqueness
and quota check (RowChecker itself). Rows that fail always run the full pipeline, so their
messages are exactly the import job's.

Routing-profile names are resolved like the import job does (the job's own resolver, through a
thin adapter) when a Connect directory file is given; without one they cannot be known offline and
are not checked (the summary says so).
"""

from __future__ import annotations

import csv
import io
import re
import types
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, BinaryIO

KB_ID = "00000000-0000-4000-8000-000000000000"  # a stand-in: the file is checked for no particular KB
ACCOUNT, REGION = "000000000000", "us-east-1"
# Free-text columns and the CreateQuickResponse member each one fills verbatim.
FREE_TEXT = {
    "Name": ("name",),
    "Content": ("content", "content"),
    "Description": ("description",),
    "Shortcut key": ("shortcutKey",),
}
# Member path in a validation message -> CSV column (for the error table).
_COLUMN_OF_MEMBER = {
    "name": "Name",
    "content": "Content",
    "shortcutKey": "Shortcut key",
    "description": "Description",
    "groupingConfiguration": "Routing Profile",
    "channels": "Channels",
    "channel": "Channels",
    "contentType": "Content type",
    "language": "Language",
    "isActive": "Active",
}
_COLUMNS_IN_MESSAGE = re.compile(
    r"'(Name|Content|Shortcut key|Description|Routing Profile|Channels|Content type|Language|Active)'"
)
_MEMBER_IN_MESSAGE = re.compile(
    r"\b(name|content|shortcutKey|description|groupingConfiguration|channels?|contentType|language|isActive)\b"
)
_NO_LIMIT = 1 << 62


@dataclass
class RowError:
    line: int
    column: str
    code: str
    message: str


@dataclass
class Result:
    rows: int = 0
    good: int = 0
    failed: int = 0
    errors: list[RowError] = field(default_factory=list)  # the first `keep_errors`
    file_problem: str | None = None
    routing_profiles_checked: bool = True

    @property
    def ok(self) -> bool:
        return self.file_problem is None and self.failed == 0


class _ReadAgain(Exception):
    """The fast reader met something only `read_rows` may judge."""


class _Prevalidated(dict):
    """A row whose signature already passed the full rules: RowChecker only checks uniqueness."""


class _Rules:
    """QuickResponseRules, except for rows that are known to pass."""

    def __init__(self) -> None:
        from qconnect_local.importing.rules import QuickResponseRules

        self.real = QuickResponseRules()

    def prepare(self, ctx: Any, kb: dict[str, Any], params: dict[str, Any]) -> dict[str, Any]:
        if isinstance(params, _Prevalidated):
            return params
        return self.real.prepare(ctx, kb, params)


def length_bounds(shape: Any, path: tuple[str, ...]) -> tuple[int, int] | None:
    """(min, max) if the member at `path` is a string constrained only by its length."""
    for name in path:
        shape = shape.members[name]
    if shape.type_name != "string" or set(shape.metadata) - {"min", "max", "sensitive"}:
        return None
    return shape.metadata.get("min", 0), shape.metadata.get("max", _NO_LIMIT)


class Validator:
    def __init__(
        self,
        routing_profiles: dict[str, str] | None = None,
        instance_id: str | None = None,
        max_quick_responses: int | None = None,
        keep_errors: int = 1000,
    ) -> None:
        from qconnect_local.config import Settings
        from qconnect_local.operations.context import RequestContext

        self.routing_profiles = routing_profiles
        self.instance_id = instance_id
        self.quota = max_quick_responses or _NO_LIMIT
        self.keep_errors = keep_errors
        settings = Settings(in_memory=True, database_url=None)
        self.ctx = RequestContext(
            account_id=ACCOUNT,
            region=REGION,
            caller_arn=f"arn:aws:iam::{ACCOUNT}:root",
            store=None,
            settings=settings,
            request_id="validate",
        )
        self.kb = {
            "knowledgeBaseId": KB_ID,
            "knowledgeBaseType": "QUICK_RESPONSES",
            "knowledgeBaseArn": f"arn:aws:wisdom:{REGION}:{ACCOUNT}:knowledge-base/{KB_ID}",
        }
        self.rules = _Rules()

    # -- routing profiles ----------------------------------------------------------------------

    def _resolver(self) -> Callable[[list[str]], list[str]]:
        """The import job's own routing-profile resolver (through a thin adapter: it is a method of
        JobProcessor and reads only these attributes). Without an instance it fails a row with
        routing profiles exactly as the job does; with an instance but no directory the names
        cannot be known offline, and pass as well-formed stand-in ARNs."""
        from qconnect_local.importing.job import JobProcessor

        if self.instance_id is not None and self.routing_profiles is None:

            def unchecked(names: list[str]) -> list[str]:
                return [
                    f"arn:aws:connect:{REGION}:{ACCOUNT}:instance/{self.instance_id}/routing-profile/"
                    f"{uuid.uuid5(uuid.NAMESPACE_URL, n)}"
                    for n in names
                ]

            return unchecked
        profiles = self.routing_profiles or {}
        directory = types.SimpleNamespace(profiles=lambda account, region, instance: profiles)
        configuration = {"connectConfiguration": {"instanceId": self.instance_id}} if self.instance_id else {}
        job = {"externalSourceConfiguration": {"configuration": configuration}} if configuration else {}
        fake = types.SimpleNamespace(job=job, _profiles=None, directory=directory, account=ACCOUNT, region=REGION)
        resolve = getattr(JobProcessor, "resolve_routing_profiles", None) or JobProcessor._resolve_routing_profiles
        return lambda names: resolve(fake, names)  # type: ignore[arg-type]

    # -- the file ------------------------------------------------------------------------------

    def run(self, path: str, report: BinaryIO | None = None, workers: int | None = None) -> Result:
        """Checks the file at `path`; writes the failed-record report to `report` if given."""
        from qconnect_local.importing.csv_format import FileProblem, read_rows
        from qconnect_local.importing.report import write_file_problem

        result = Result(routing_profiles_checked=self.routing_profiles is not None or self.instance_id is None)
        try:
            with open(path, "rb") as source:
                header, _ = read_rows(source)  # file problems of the header, up front
            chunks = plan_chunks(path, workers)
            outcomes = self._check_chunks(path, chunks)
            if not any(outcomes):
                with open(path, "rb") as source:
                    for _ in read_rows(source)[1]:  # raises the import's "no data rows" problem
                        pass
            self._merge(path, header, outcomes, result, report)
        except FileProblem as exc:
            result = Result(file_problem=str(exc), routing_profiles_checked=result.routing_profiles_checked)
            if report is not None:
                report.seek(0)
                report.truncate()
                write_file_problem(report, str(exc))
        return result

    def _check_chunks(self, path: str, chunks: list[Chunk]) -> list[list[tuple]]:
        """The rule outcome of every row, chunk by chunk, in file order. Chunks after the first run
        in forked processes; if any split turns out not to be a record boundary, or a chunk meets
        a file problem, the whole file is checked again in one piece (so line numbers and
        messages are exactly those of one pass)."""
        if len(chunks) == 1:
            return [self.check_chunk(path, chunks[0])[0]]
        import multiprocessing
        from concurrent.futures import ProcessPoolExecutor

        from qconnect_local.importing.csv_format import FileProblem

        global _FORKED
        _FORKED = self  # the forked workers inherit it: nothing big is pickled
        try:
            with ProcessPoolExecutor(len(chunks) - 1, mp_context=multiprocessing.get_context("fork")) as pool:
                futures = [pool.submit(_check_chunk_in_worker, path, chunk) for chunk in chunks[1:]]
                first = self.check_chunk(path, chunks[0])
                rest = [f.result() for f in futures]
        except FileProblem:
            return self._check_chunks(path, [whole_file(path)])
        if any(clean is False for _, clean in [first, *rest][:-1]):
            return self._check_chunks(path, [whole_file(path)])
        return [outcomes for outcomes, _ in [first, *rest]]

    def check_chunk(self, path: str, chunk: Chunk) -> tuple[list[tuple], bool]:
        """Rule outcomes of one chunk's rows: (line, name, shortcut) for a row that passes,
        (line, None, (code, message, cells)) for one that does not. Also whether the chunk's last
        record closed before the chunk's end (False: the split was inside a quoted field).

        Rows are read straight from csv.reader, set up as `read_rows` sets it up, with its line
        numbering and blank-row rule; at the first sign of a file problem the chunk is read again
        by `read_rows` itself, which raises the import's own FileProblem.
        """
        from qconnect_local.errors import ServiceError
        from qconnect_local.importing.csv_format import Row, RowMapper, RowProblem, parse_header, read_rows

        try:
            with chunk.open(path) as source:
                # strict, as the import's read_rows: a stray quote is a file problem, not a cell
                reader = csv.reader(
                    io.TextIOWrapper(source, encoding="utf-8-sig", errors="strict", newline=""), strict=True
                )
                header_cells = next(reader, None)
                if header_cells is None:
                    raise _ReadAgain
                header = parse_header(header_cells)
                mapper = RowMapper(header, KB_ID, self._resolver())
                prepare, ctx, kb = self.rules.real.prepare, self.ctx, self.kb
                signature_of = self._signature_function(header)
                name_at = header.index_of("Name")
                shortcut_at = header.index_of("Shortcut key")
                width = len(header.cells)
                padding = [""] * width
                shift = chunk.line_shift
                passed: set[Any] = set()
                outcomes: list[tuple] = []
                append = outcomes.append
                cells: list[str] = []
                last_line = reader.line_num
                for cells in reader:
                    line = last_line + 1 + shift
                    last_line = reader.line_num
                    if not any(cells):
                        continue
                    full = cells if len(cells) >= width else cells + padding[len(cells) :]
                    signature = signature_of(full, len(cells))
                    if signature not in passed:
                        try:
                            prepare(ctx, kb, mapper.to_input(Row(line - shift, cells)))
                        except (RowProblem, ServiceError) as exc:
                            append((line, None, (exc.code, exc.message, cells)))
                            continue
                        passed.add(signature)
                    append((line, full[name_at], full[shortcut_at] or None if shortcut_at is not None else None))
        except (UnicodeDecodeError, csv.Error, _ReadAgain):
            with chunk.open(path) as source:
                for _ in read_rows(source)[1]:  # raises the import's FileProblem with its message
                    pass
            raise AssertionError("csv.reader failed where read_rows did not") from None
        # A record cut at the chunk's end by a split inside quotes ends with the newline it swallowed.
        clean = not (cells and cells[-1].endswith("\n"))
        return outcomes, clean

    def _signature_function(self, header: Any) -> Callable[[list[str], int], tuple]:
        """A function (cells padded to the header's width, real width) -> signature, compiled
        for this header's columns (the generic loop costs more than the rest of the row)."""
        from qconnect_local.importing.csv_format import REQUIRED_MARKER

        free, by_value = self._signature_plan(header)
        parts = ["width"]
        for i, lo, hi in free:
            parts.append(
                f"(0 if (c := cells[{i}]) == '' else 1 if c == MARKER else 2 if {lo} <= len(c) <= {hi} else 3)"
            )
        parts.extend(f"cells[{i}]" for i in by_value)
        source = f"def signature(cells, width):\n    return ({', '.join(parts)},)\n"
        namespace: dict[str, Any] = {"MARKER": REQUIRED_MARKER}
        exec(compile(source, "<validate-signature>", "exec"), namespace)
        return namespace["signature"]

    def _merge(
        self, path: str, header: Any, chunks: list[list[tuple]], result: Result, report: BinaryIO | None
    ) -> None:
        """In file order: rule failures as they are; passing rows through RowChecker for the
        uniqueness and quota checks (which need every earlier row of the file)."""
        from qconnect_local.importing.csv_format import RowProblem

        checker = new_row_checker(self.ctx, self.kb, self.quota, self.rules)
        check = checker.check
        failures: list[tuple[int, str, str, list[str] | None]] = []
        for outcomes in chunks:
            for line, name, detail in outcomes:
                result.rows += 1
                if name is None:
                    code, message, cells = detail
                    failures.append((line, code, message, cells))
                    continue
                try:
                    check(_Prevalidated(name=name, shortcutKey=detail))
                except RowProblem as exc:
                    failures.append((line, exc.code, exc.message, None))
                    continue
                result.good += 1
        result.failed = len(failures)
        for line, code, message, _ in failures[: self.keep_errors]:
            result.errors.append(RowError(line, column_of(message), code, message))
        if report is not None:
            write_report(path, header, failures, report)

    def _signature_plan(self, header: Any) -> tuple[list[tuple[int, int, int]], list[int]]:
        """Which cells enter the signature by length class (index, min, max), which by value."""
        shape = self.rules.real.shape
        free: list[tuple[int, int, int]] = []
        by_value: list[int] = []
        for i, column in enumerate(header.columns):
            if column is None:
                continue  # ignored (the Error column of a report)
            bounds = length_bounds(shape, FREE_TEXT[column.name]) if column.name in FREE_TEXT else None
            if bounds is None:
                by_value.append(i)
            else:
                free.append((i, *bounds))
        return free, by_value


def new_row_checker(ctx: Any, kb: dict[str, Any], quota: int, rules: Any) -> Any:
    """The import's RowChecker for an empty knowledge base."""
    from qconnect_local.importing.job import RowChecker
    from qconnect_local.importing.keyset import KeySet

    return RowChecker(ctx, kb, KeySet(), KeySet(), 0, quota, rules)


def column_of(message: str) -> str:
    """The CSV column an error message is about, for the table ("" when it is the whole row)."""
    m = _COLUMNS_IN_MESSAGE.search(message)
    if m:
        return m.group(1)
    if "outing profile" in message:
        return "Routing Profile"
    m = _MEMBER_IN_MESSAGE.search(message)
    return _COLUMN_OF_MEMBER[m.group(1)] if m else ""


_FORKED: Validator | None = None


def _check_chunk_in_worker(path: str, chunk: Chunk) -> tuple[list[tuple], bool]:
    assert _FORKED is not None
    return _FORKED.check_chunk(path, chunk)


# -- chunks of a file -------------------------------------------------------------------------

PARALLEL_FROM_BYTES = 16 * 1024 * 1024  # below this, forking costs more than it saves


@dataclass
class Chunk:
    start: int  # byte offsets of the chunk's records in the file
    end: int | None
    header: bytes  # the header record, put before the chunk's bytes (b"" for the first chunk)
    line_shift: int  # add to a line number of the chunk's stream to get the file's line number

    def open(self, path: str) -> BinaryIO:
        import io

        if self.start == 0 and self.end is None:
            return open(path, "rb")
        return io.BufferedReader(_Slice(path, self.header, self.start, self.end), 1 << 20)  # type: ignore[return-value]


class _Slice:
    """A readable raw stream: `prefix`, then the bytes [start, end) of a file (no copy in memory)."""

    def __init__(self, path: str, prefix: bytes, start: int, end: int | None) -> None:
        import io

        self._raw = io.RawIOBase()
        self.file = open(path, "rb")
        self.file.seek(start)
        self.prefix = memoryview(prefix)
        self.left = None if end is None else end - start
        self.closed = False

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        if len(self.prefix):
            n = min(len(buffer), len(self.prefix))
            buffer[:n] = self.prefix[:n]
            self.prefix = self.prefix[n:]
            return n
        want = len(buffer) if self.left is None else min(len(buffer), self.left)
        if want <= 0:
            return 0
        n = self.file.readinto(memoryview(buffer)[:want])
        if self.left is not None:
            self.left -= n
        return n

    def close(self) -> None:
        self.file.close()
        self.closed = True

    def flush(self) -> None:
        pass

    def seekable(self) -> bool:
        return False

    def writable(self) -> bool:
        return False

    def fileno(self) -> int:
        raise OSError("no file descriptor")

    def isatty(self) -> bool:
        return False

    def __enter__(self) -> _Slice:
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()


def whole_file(path: str) -> Chunk:
    return Chunk(0, None, b"", 0)


def plan_chunks(path: str, workers: int | None = None) -> list[Chunk]:
    """Splits the file at record boundaries into one chunk per worker (one for a small file).

    A boundary is a newline preceded by an even number of double quotes (so not inside a
    quoted field of a well-formed CSV); `check_chunk` verifies it and the caller falls back to
    one piece when a stray quote fooled the count.
    """
    import mmap
    import os

    size = os.path.getsize(path)
    workers = workers or min(os.cpu_count() or 1, 4)
    if workers < 2 or size < PARALLEL_FROM_BYTES or size == 0:
        return [whole_file(path)]
    with open(path, "rb") as f, mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_READ) as data:
        header_end = _boundary_after(data, 0)
        if header_end is None:
            return [whole_file(path)]
        header = bytes(data[:header_end])
        cuts = [0]
        for k in range(1, workers):
            cut = _boundary_after(data, max(size * k // workers, cuts[-1], header_end))
            if cut is None or cut >= size:
                break
            cuts.append(cut)
        chunks = []
        header_lines = header.count(b"\n")
        for i, start in enumerate(cuts):
            end = cuts[i + 1] if i + 1 < len(cuts) else None
            if i == 0:
                chunks.append(Chunk(0, end, b"", 0))
            else:
                lines_before = _count(data, b"\n", 0, start)
                chunks.append(Chunk(start, end, header, lines_before - header_lines))
        return chunks


def _count(data: Any, needle: bytes, start: int, end: int, step: int = 64 * 1024 * 1024) -> int:
    total = 0
    for at in range(start, end, step):
        total += data[at : min(at + step, end)].count(needle)
    return total


def _boundary_after(data: Any, at: int) -> int | None:
    """Offset just after the first newline at or after `at` with an even number of quotes before it."""
    quotes = _count(data, b'"', 0, at)
    while True:
        newline = data.find(b"\n", at)
        if newline < 0:
            return None
        quotes += _count(data, b'"', at, newline)
        if quotes % 2 == 0:
            return newline + 1
        at = newline + 1


def write_report(path: str, header: Any, failures: list[tuple[int, str, str, list[str] | None]], out: BinaryIO) -> None:
    """The failed-record report, as the import job writes it (its own ReportWriter). Cells of rows
    that failed only the uniqueness check are read back from the file."""
    from qconnect_local.importing.csv_format import Row, read_rows
    from qconnect_local.importing.report import ReportWriter

    missing = {line for line, _, _, cells in failures if cells is None}
    found: dict[int, list[str]] = {}
    if missing:
        with open(path, "rb") as source:
            for row in read_rows(source)[1]:
                if row.line in missing:
                    found[row.line] = row.cells
    writer = ReportWriter(out)
    writer.start(header)
    for line, code, message, cells in failures:
        writer.add(Row(line, cells if cells is not None else found[line]), f"{code}: {message}")
    writer.flush()
