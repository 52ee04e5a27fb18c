"""The request log: one record per API call, kept in a bounded in-memory ring, and one line per
call on the server's standard error (coloured on a terminal, or JSON with `--log-format json`).

`GET /_qconnect/requests?limit=N` answers `{"requests": [...]}` newest first, each record with the
keys `id`, `time`, `operation`, `method`, `path`, `status`, `errorCode`, `latencyMs`, `account`,
`region`, `request` and `response` (parsed JSON bodies, members the botocore model marks
`sensitive` replaced by "*** redacted ***"). `DELETE /_qconnect/requests` empties the ring.

Recording is cheap on purpose: a call only appends a tuple of what it already has (raw bodies
included); parsing, redaction and formatting of the bodies happen when the ring is read.
"""

from __future__ import annotations

import argparse
import sys
import threading
import time
from collections import deque
from dataclasses import dataclass
from typing import Any, TextIO

import orjson

REDACTED = "*** redacted ***"
MODES = ("on", "quiet", "off")
FORMATS = ("text", "json")
DEFAULT_LIMIT = 100


@dataclass
class RequestLogSettings:
    # on: ring + one line per call; quiet: ring only (what the mock and the pytest fixture use);
    # off: nothing at all.
    mode: str = "quiet"
    format: str = "text"
    size: int = 1000


def add_arguments(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group("request log")
    group.add_argument(
        "--request-log",
        choices=MODES,
        default="on",
        help="on: one line per API call on stderr and the last calls at GET /_qconnect/requests; "
        "quiet: the endpoint only; off: neither",
    )
    group.add_argument("--log-format", choices=FORMATS, default="text", help="request log lines: text or json")
    group.add_argument(
        "--request-log-size", type=int, default=1000, metavar="N", help="calls kept for GET /_qconnect/requests"
    )


def apply_arguments(args: argparse.Namespace, settings: Any) -> None:
    settings.request_log = RequestLogSettings(
        mode=getattr(args, "request_log", "on"),
        format=getattr(args, "log_format", "text"),
        size=max(1, getattr(args, "request_log_size", 1000)),
    )


# One record as stored: cheap to build in the request path.
_Entry = tuple[
    str,  # id
    float,  # time
    Any,  # operation model or None
    str,  # method
    str,  # path
    int,  # status
    str | None,  # errorCode
    float,  # latencyMs
    str | None,  # account
    str | None,  # region
    bytes,  # request body
    bytes,  # response body
]

_RESET, _DIM, _RED, _YELLOW, _GREEN, _BOLD = "\033[0m", "\033[2m", "\033[31m", "\033[33m", "\033[32m", "\033[1m"


class RequestLog:
    def __init__(self, settings: RequestLogSettings | None = None, stream: TextIO | None = None) -> None:
        self.settings = settings or RequestLogSettings()
        self.enabled = self.settings.mode != "off"
        self.lines = self.settings.mode == "on"
        self.ring: deque[_Entry] = deque(maxlen=max(1, self.settings.size))
        self.stream = stream if stream is not None else sys.stderr
        self.colour = _isatty(self.stream)
        self._write_lock = threading.Lock()

    def record(
        self,
        request_id: str,
        started: float,
        operation: Any,
        method: str,
        path: str,
        status: int,
        error_code: str | None,
        latency_ms: float,
        account: str | None,
        region: str | None,
        request_body: bytes = b"",
        response_body: bytes = b"",
    ) -> None:
        """One API call. `operation` is the botocore OperationModel (None when no route matched)."""
        if not self.enabled:
            return
        entry: _Entry = (
            request_id,
            started,
            operation,
            method,
            path,
            status,
            error_code,
            latency_ms,
            account,
            region,
            request_body,
            response_body,
        )
        self.ring.append(entry)
        if self.lines:
            self._write(entry)

    def clear(self) -> None:
        self.ring.clear()

    def records(self, limit: int = DEFAULT_LIMIT) -> list[dict[str, Any]]:
        """The last `limit` calls, newest first, bodies parsed and redacted."""
        entries = list(self.ring)[-limit:] if limit > 0 else []
        return [_to_record(e) for e in reversed(entries)]

    # -- lines --------------------------------------------------------------------------------

    def _write(self, e: _Entry) -> None:
        line = self._json_line(e) if self.settings.format == "json" else self._text_line(e)
        with self._write_lock:  # whole lines even when threads log at once
            try:
                self.stream.write(line)
                self.stream.flush()
            except (OSError, ValueError):  # a closed or broken stderr must not fail the call
                pass

    def _json_line(self, e: _Entry) -> str:
        summary = _summary(e)
        return orjson.dumps(summary).decode() + "\n"

    def _text_line(self, e: _Entry) -> str:
        stamp = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(e[1])) + f".{int(e[1] % 1 * 1000):03d}Z"
        name = e[2].name if e[2] is not None else f"{e[3]} {e[4]}"
        status, code = e[5], e[6] or ""
        where = f"{e[8] or '-'}/{e[9] or '-'}"
        latency = f"{e[7]:.1f}ms"
        if not self.colour:
            return f"{stamp} {status} {name} {code + ' ' if code else ''}{latency} {where} {e[0]}\n"
        colour = _GREEN if status < 400 else _YELLOW if status < 500 else _RED
        error = f" {colour}{code}{_RESET}" if code else ""
        return (
            f"{_DIM}{stamp}{_RESET} {colour}{status}{_RESET} {_BOLD}{name}{_RESET}{error} "
            f"{latency} {_DIM}{where} {e[0]}{_RESET}\n"
        )


def _isatty(stream: Any) -> bool:
    try:
        return bool(stream.isatty())
    except (AttributeError, ValueError):
        return False


def _summary(e: _Entry) -> dict[str, Any]:
    return {
        "id": e[0],
        "time": e[1],
        "operation": e[2].name if e[2] is not None else None,
        "method": e[3],
        "path": e[4],
        "status": e[5],
        "errorCode": e[6],
        "latencyMs": round(e[7], 3),
        "account": e[8],
        "region": e[9],
    }


def _to_record(e: _Entry) -> dict[str, Any]:
    record = _summary(e)
    op = e[2]
    record["request"] = _body(e[10], op.input_shape if op is not None else None)
    # An error's body is the error shape, not the output: nothing in it is marked sensitive.
    record["response"] = _body(e[11], op.output_shape if op is not None and e[6] is None else None)
    return record


def _body(raw: bytes, shape: Any) -> Any:
    if not raw:
        return None
    try:
        value = orjson.loads(raw)
    except orjson.JSONDecodeError:
        return None
    return redact(shape, value) if shape is not None else value


def redact(shape: Any, value: Any) -> Any:
    """`value` with every member whose shape is marked `sensitive` in the model replaced."""
    if value is None or shape is None:
        return value
    if shape.metadata.get("sensitive") or getattr(shape, "serialization", {}).get("sensitive"):
        return REDACTED
    kind = shape.type_name
    if kind == "structure" and isinstance(value, dict):
        members = shape.members
        return {k: redact(members.get(k), v) for k, v in value.items()}
    if kind == "list" and isinstance(value, list):
        return [redact(shape.member, v) for v in value]
    if kind == "map" and isinstance(value, dict):
        return {k: redact(shape.value, v) for k, v in value.items()}
    return value


# -- the internal endpoint -------------------------------------------------------------------


def install(app: Any) -> None:
    """Adds `GET`/`DELETE /_qconnect/requests` to the app."""
    from qconnect_local.errors import ValidationException
    from qconnect_local.server import send_json

    async def list_requests(req: Any) -> None:
        raw = (req.query.get("limit") or [str(DEFAULT_LIMIT)])[0]
        if not raw.isdigit():
            raise ValidationException(f"limit must be a whole number, not {raw!r}")
        records = app.request_log.records(int(raw))
        await send_json(req.send, 200, {"requests": records}, req.request_id)

    async def clear_requests(req: Any) -> None:
        app.request_log.clear()
        await send_json(req.send, 200, {"cleared": True}, req.request_id)

    app.add_internal_route("GET", r"/_qconnect/requests", list_requests)
    app.add_internal_route("DELETE", r"/_qconnect/requests", clear_requests)
