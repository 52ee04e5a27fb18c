"""The CSV format of a quick-response import (docs/import.md).

Each data row becomes the input of CreateQuickResponse. This module knows only the file format:
the header set and its aliases, how a row's cells map to input members, and what makes a file
unusable. Whether a row's input is acceptable is decided by CreateQuickResponse's own rules,
elsewhere.

Choices where AWS documents nothing (docs/behaviour.md):
- Headers are matched case-insensitively, ignoring spaces, `_` and `-`, so `Shortcut key`,
  `shortcutKey` and `SHORTCUT_KEY` are one column; each column has the aliases listed in COLUMNS.
- A column named `Error` is ignored, so a failed-record report can be fixed and imported again.
  Any other unknown column makes the file unusable (a typo must not silently drop data).
- Cells are taken verbatim, never trimmed (AWS's docs blame failed rows on stray spaces). An
  empty cell of an optional column means the member is absent; rows whose cells are all empty
  are skipped (spreadsheets leave them at the end).
- Multi-value cells (channels, routing profiles) are split on `|`.
- A quote inside a field that is not quoted (`a"b`) fails its row, as does a cell of any size
  that CreateQuickResponse refuses (the file goes on); empty header cells at the end of the header
  (a spreadsheet's trailing comma) are ignored, and so are the cells under them.
"""

from __future__ import annotations

import csv
import functools
import io
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any, BinaryIO

SEPARATOR = "|"
REQUIRED_MARKER = "<*Required field>"
ERROR_COLUMN = "Error"
CONTENT_TYPE_PLAIN = "application/x.quickresponse;format=plain"
CONTENT_TYPE_MARKDOWN = "application/x.quickresponse;format=markdown"
# Bytes the file is read in (TextIOWrapper's default is 8 KiB): every read gives up the GIL for
# its system call, which restarts the wait of the import's writer thread (docs/performance.md).
READ_CHUNK_BYTES = 256 * 1024
# The csv module refuses a cell over 128 KiB as a broken file; a big cell is a row's problem (the
# upload limit bounds the size anyway).
csv.field_size_limit(max(csv.field_size_limit(), 2**31 - 1))
# One whole CSV record in which every field is either quoted (RFC 4180) or has no quote at all.
_CLEAN_RECORD = re.compile(r'(?:"(?:[^"]|"")*"|[^",\r\n]*)(?:,(?:"(?:[^"]|"")*"|[^",\r\n]*))*\r?\n?')
_LISTED_UNKNOWN = 10


@dataclass(frozen=True)
class Column:
    name: str  # canonical header, as in the template
    aliases: tuple[str, ...]
    required: bool = False


COLUMNS: tuple[Column, ...] = (
    Column("Name", ("name",), required=True),
    Column("Content", ("content",), required=True),
    Column("Shortcut key", ("shortcutKey",)),
    Column("Description", ("description",)),
    Column("Routing Profile", ("Routing Profiles", "routingProfiles")),
    Column("Channels", ("Channel", "channels")),
    Column("Content type", ("contentType", "Format")),
    Column("Language", ("language",)),
    Column("Active", ("isActive", "Status")),
)
TEMPLATE_HEADER = [c.name for c in COLUMNS]

_CONTENT_TYPES = {
    "plain": CONTENT_TYPE_PLAIN,
    "plaintext": CONTENT_TYPE_PLAIN,
    "text": CONTENT_TYPE_PLAIN,
    "markdown": CONTENT_TYPE_MARKDOWN,
    "richtext": CONTENT_TYPE_MARKDOWN,
}
_BOOLEANS = {
    "true": True,
    "yes": True,
    "active": True,
    "1": True,
    "false": False,
    "no": False,
    "inactive": False,
    "0": False,
}
_ALL_PROFILES = "All"


def _key(header: str) -> str:
    return re.sub(r"[\s_-]+", "", header).lower()


_BY_KEY: dict[str, Column] = {}
for _c in COLUMNS:
    for _name in (_c.name, *_c.aliases):
        _BY_KEY[_key(_name)] = _c


class FileProblem(Exception):
    """The file as a whole cannot be imported; the message says why."""


class RowProblem(Exception):
    """One row cannot be imported; code and message as the API would report them."""

    def __init__(self, message: str, code: str = "ValidationException") -> None:
        super().__init__(message)
        self.code = code
        self.message = message


@dataclass
class Header:
    cells: list[str]  # the header row verbatim (for the report)
    columns: list[Column | None]  # per cell; None for an ignored column

    def index_of(self, name: str) -> int | None:
        for i, c in enumerate(self.columns):
            if c is not None and c.name == name:
                return i
        return None


def parse_header(cells: list[str]) -> Header:
    original = cells
    columns: list[Column | None] = []
    seen: dict[str, str] = {}
    unknown: list[str] = []
    while len(cells) > 1 and cells[-1].strip() == "":
        cells = cells[:-1]  # trailing empty header cells (a spreadsheet's trailing comma)
    for cell in cells:
        if _key(cell) == _key(ERROR_COLUMN):
            columns.append(None)
            continue
        column = _BY_KEY.get(_key(cell))
        if column is None:
            unknown.append(cell)
            columns.append(None)
            continue
        if column.name in seen:
            raise FileProblem(f"The header has the column '{column.name}' twice ('{seen[column.name]}' and '{cell}')")
        seen[column.name] = cell
        columns.append(column)
    if unknown:
        listed = ", ".join(repr(u if len(u) <= 64 else u[:64] + "...") for u in unknown[:_LISTED_UNKNOWN])
        if len(unknown) > _LISTED_UNKNOWN:
            listed += f" and {len(unknown) - _LISTED_UNKNOWN} more"
        raise FileProblem(f"The header has unknown column(s) {listed}; the columns are: {', '.join(TEMPLATE_HEADER)}")
    missing = [c.name for c in COLUMNS if c.required and c.name not in seen]
    if missing:
        raise FileProblem(f"The header lacks the required column(s): {', '.join(missing)}")
    width = len(columns)
    return Header(list(cells) + [""] * (len(original) - width), columns + [None] * (len(original) - width))


@dataclass
class Row:
    line: int  # the file line the record starts on (1-based; a quoted cell may span lines)
    cells: list[str]
    problem: str | None = None  # why the row cannot be imported, seen while reading it


def read_rows(stream: BinaryIO) -> tuple[Header, Iterator[Row]]:
    """The header and an iterator over the data rows of a UTF-8 CSV (BOM optional, CRLF or LF).

    Raises FileProblem for an unusable file, up front (empty, no header, bad header) or while
    iterating (not UTF-8, broken CSV).
    """
    text = io.TextIOWrapper(stream, encoding="utf-8-sig", errors="strict", newline="")
    # CPython reads _CHUNK_SIZE bytes at a time and offers no public way to change it.
    text._CHUNK_SIZE = READ_CHUNK_BYTES  # type: ignore[attr-defined]  # see READ_CHUNK_BYTES
    # strict: a stray quote is an error, not silently glued into the cell.
    raw: list[str] = []
    reader = csv.reader(_remembered(text, raw), strict=True)
    records = _records(reader, raw)
    first = next(records, None)
    if first is None:
        raise FileProblem("The file is empty: it has no header row")
    header = parse_header(first.cells)
    return header, _data_rows(records)


def _remembered(lines: Iterator[str], raw: list[str]) -> Iterator[str]:
    """The lines, each also kept in `raw` (the csv reader reads one record's lines at a time)."""
    for line in lines:
        raw.append(line)
        yield line


def _records(reader: Any, raw: list[str]) -> Iterator[Row]:
    last_line = 0
    try:
        for cells in reader:
            start = last_line + 1
            last_line = reader.line_num
            text = raw[0] if len(raw) == 1 else "".join(raw)
            raw.clear()
            if not any(cells):  # blank line, or a row of empty cells
                continue
            if '"' in text and _CLEAN_RECORD.fullmatch(text) is None:
                yield Row(start, cells, "The row has a quote inside a field that is not quoted")
                continue
            yield Row(start, cells)
    except UnicodeDecodeError as exc:
        raise FileProblem(
            f"The file is not UTF-8 text: invalid byte 0x{exc.object[exc.start]:02x} after line {last_line}"
        ) from None
    except csv.Error as exc:
        raise FileProblem(f"The file is not valid CSV: line {reader.line_num}: {exc}") from None


def _data_rows(records: Iterator[Row]) -> Iterator[Row]:
    empty = True
    for row in records:
        empty = False
        yield row
    if empty:
        raise FileProblem("The file has a header row but no data rows")


# -- a row -> CreateQuickResponse input -------------------------------------------------------

Resolver = Callable[[list[str]], list[str]]  # routing-profile names -> ARNs, or RowProblem


class RowMapper:
    """Turns rows of one file into CreateQuickResponse inputs (without checking them).

    Each column's handling is chosen once per file (a setter per column, in header order), not
    per cell: the import maps a million rows."""

    def __init__(self, header: Header, knowledge_base_id: str, resolve_routing_profiles: Resolver) -> None:
        self.width = len(header.cells)
        self.kb_id = knowledge_base_id
        self.resolve = resolve_routing_profiles
        self.fields = [(i, c.name) for i, c in enumerate(header.columns) if c is not None]
        self._setters = [(i, name, self._setter(name)) for i, name in self.fields]
        # The common row (every cell there, no marker) in one loop without a call per cell:
        # (cell index, member, how) in header order, so members are added in the same order.
        plain = {"Shortcut key": "shortcutKey", "Description": "description", "Language": "language"}
        self._plan: list[tuple[int, str, Any]] = [
            (i, "name", _AS_IS)
            if name == "Name"
            else (i, "content", _WRAPPED)
            if name == "Content"
            else (i, plain[name], _IF_GIVEN)
            if name in plain
            else (i, name, setter)
            for i, name, setter in self._setters
        ]

    def _setter(self, name: str) -> Callable[[dict[str, Any], str], None]:
        if name == "Name":

            def put(params: dict[str, Any], value: str) -> None:
                params["name"] = value  # an empty one fails CreateQuickResponse's length rule
        elif name == "Content":

            def put(params: dict[str, Any], value: str) -> None:
                params["content"] = {"content": value}
        else:
            convert = self._converters()[name]

            def put(params: dict[str, Any], value: str) -> None:
                if value != "":  # an empty optional cell: the member is absent
                    convert(params, value)

        return put

    def _converters(self) -> dict[str, Callable[[dict[str, Any], str], None]]:
        def routing_profiles(params: dict[str, Any], value: str) -> None:
            if value != _ALL_PROFILES:
                arns = self.resolve(value.split(SEPARATOR))
                params["groupingConfiguration"] = {"criteria": "RoutingProfileArn", "values": arns}

        return {
            "Shortcut key": lambda params, value: params.__setitem__("shortcutKey", value),
            "Description": lambda params, value: params.__setitem__("description", value),
            "Channels": lambda params, value: params.__setitem__("channels", value.split(SEPARATOR)),
            "Language": lambda params, value: params.__setitem__("language", value),
            "Content type": lambda params, value: params.__setitem__("contentType", _content_type(value)),
            "Active": lambda params, value: params.__setitem__("isActive", _boolean(value)),
            "Routing Profile": routing_profiles,
        }

    def to_input(self, row: Row) -> dict[str, Any]:
        cells = row.cells
        if row.problem is not None:
            raise RowProblem(row.problem)
        if len(cells) != self.width or REQUIRED_MARKER in cells:
            return self._to_input(cells)
        params: dict[str, Any] = {"knowledgeBaseId": self.kb_id}
        for i, member, how in self._plan:
            value = cells[i]
            if how is _IF_GIVEN:
                if value != "":
                    params[member] = value
            elif how is _AS_IS:
                params[member] = value
            elif how is _WRAPPED:
                params[member] = {"content": value}
            else:
                how(params, value)
        return params

    def _to_input(self, cells: list[str]) -> dict[str, Any]:
        count = len(cells)
        if count > self.width:
            raise RowProblem(f"The row has {count} cells but the header has {self.width}")
        params: dict[str, Any] = {"knowledgeBaseId": self.kb_id}
        for i, name, put in self._setters:
            value = cells[i] if i < count else ""
            if value == REQUIRED_MARKER:
                raise RowProblem(f"Replace the '{REQUIRED_MARKER}' marker in the '{name}' column with a value")
            put(params, value)
        return params


_AS_IS, _WRAPPED, _IF_GIVEN = object(), object(), object()  # RowMapper._plan's ways with a cell


@functools.lru_cache(maxsize=256)
def _content_type(value: str) -> str:
    """A cell of the `Content type` column as contentType (a file repeats a few values)."""
    return _CONTENT_TYPES.get(_key(value), value)


def _boolean(value: str) -> bool:
    found = _BOOLEANS.get(value.lower())
    if found is None:
        raise RowProblem(
            f"Value '{value}' in the 'Active' column must be one of: true, false, yes, no, active, inactive"
        )
    return found
