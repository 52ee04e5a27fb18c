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
import io
import os
import sys
import threading
import time
from collections import deque
from dataclasses import dataclass
from typing import Any, TextIO

import orjson

from qconnect_local.protocol.auth import caller_from_headers

REDACTED = "*** redacted ***"
MODES = ("on", "quiet", "off")
FORMATS = ("text", "json")
DEFAULT_LIMIT = 100
FLUSH_SECONDS = 0.05  # how long a line may wait before it is written
BATCH_LINES = 64  # lines that the call filling a batch formats and writes at once
LOOK_SECONDS = 0.25  # how often the flusher thread looks for lines left while calls write their own


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
    str | None,  # operation name (a record of plain values is one the GC soon stops tracking)
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
# time.millis status name [code ]latency account/region id; the coloured one takes the status's colour first.
_PLAIN_LINE = "%s.%03dZ %d %s %s%.1fms %s/%s %s\n"
_COLOUR_LINE = f"{_DIM}%s.%03dZ{_RESET} %s%d{_RESET} {_BOLD}%s{_RESET}%s %.1fms {_DIM}%s/%s %s{_RESET}\n"


class RequestLog:
    def __init__(self, settings: RequestLogSettings | None = None, stream: TextIO | None = None) -> None:
        self.settings = settings or RequestLogSettings()
        self.enabled = self.settings.mode != "off"
        self.lines = self.settings.mode == "on"
        self.ring: deque[_Entry] = deque(maxlen=max(1, self.settings.size))
        self.stream = stream if stream is not None else sys.stderr
        self.colour = _isatty(self.stream)
        self._fd = _fileno(self.stream)
        self._start_lock = threading.Lock()
        self._flush_lock = threading.Lock()  # one flush at a time: batches stay in order
        self._pending: deque[_Entry] = deque()
        self._flushes = 0
        self._flusher: threading.Thread | None = None
        self._stopped = threading.Event()
        self._second = -1  # the second whose timestamp text is _stamp
        self._stamp = ""

    def record(
        self,
        request_id: str,
        started: float,
        operation: str | None,
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
        """One API call. `operation` is the operation's name (None when no route matched)."""
        if self.enabled:
            self.add(
                (
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
            )

    def add(self, entry: _Entry) -> None:
        self.ring.append(entry)
        if self.lines:
            # Lines are written in batches, one write(2) each, by the call that fills a batch or
            # finds its first line FLUSH_SECONDS old; the flusher thread only writes what is left
            # when calls stop. A system call per call released the GIL on the request path, and
            # each wake-up of a thread that needs the GIL stalls a busy event loop.
            pending = self._pending
            pending.append(entry)
            if len(pending) >= BATCH_LINES or entry[1] - pending[0][1] > FLUSH_SECONDS:
                self.flush(wait=False)
            elif self._flusher is None:
                self._start_flusher()

    def clear(self) -> None:
        self.ring.clear()

    def records(self, limit: int = DEFAULT_LIMIT) -> list[dict[str, Any]]:
        """The last `limit` calls, newest first, bodies parsed and redacted."""
        entries = list(self.ring)[-limit:] if limit > 0 else []
        from qconnect_local.protocol.model import service_model

        model = service_model()
        return [_to_record(e, model) for e in reversed(entries)]

    # -- lines --------------------------------------------------------------------------------

    def _start_flusher(self) -> None:
        with self._start_lock:
            if self._flusher is None:
                self._flusher = threading.Thread(target=self._flush_loop, name="qconnect-request-log", daemon=True)
                self._flusher.start()

    def _flush_loop(self) -> None:
        seen, wait = -1, FLUSH_SECONDS
        while not self._stopped.wait(wait):
            if self._flushes != seen:  # the calls write their own lines: look less often
                wait = LOOK_SECONDS
            else:
                if self._pending:  # calls stopped with lines left
                    self.flush()
                wait = FLUSH_SECONDS
            seen = self._flushes

    def flush(self, wait: bool = True) -> None:
        """Writes the queued lines (also at shutdown); `wait=False` leaves them to a flush under way."""
        if not self._flush_lock.acquire(wait):
            return
        try:
            self._flushes += 1
            pending = self._pending
            entries = [pending.popleft() for _ in range(len(pending))]
            if entries:
                self._emit(self._format(entries))
        finally:
            self._flush_lock.release()

    def _emit(self, data: bytes) -> None:
        try:
            if self._fd is not None:
                while data:
                    data = data[os.write(self._fd, data) :]
            else:
                self.stream.write(data.decode())
                self.stream.flush()
        except (OSError, ValueError):  # a closed or broken stderr must not fail the server
            pass

    def close(self) -> None:
        self._stopped.set()
        self.flush()

    def _format(self, entries: list[_Entry]) -> bytes:
        if self.settings.format == "json":
            return b"".join([orjson.dumps(_summary(e), option=orjson.OPT_APPEND_NEWLINE) for e in entries])
        return self._text(entries, _COLOUR_LINE if self.colour else _PLAIN_LINE).encode()

    def _text(self, entries: list[_Entry], line: str) -> str:
        # One %-format per line, from locals: the cheapest way measured.
        out: list[str] = []
        append = out.append
        colour = self.colour
        last, stamp = self._second, self._stamp
        for rid, started, op, method, path, status, code, latency, account, region, _, _ in entries:
            second = int(started)
            if second != last:  # the timestamp text is made once per second, not per line
                last, stamp = second, time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(second))
            name = op if op is not None else method + " " + path
            if colour:
                tint = _GREEN if status < 400 else _YELLOW if status < 500 else _RED
                error = " " + tint + code + _RESET if code else ""
                append(
                    line % (stamp, (started - second) * 1000, tint, status, name, error, latency, account, region, rid)
                )
            else:
                error = code + " " if code else ""
                append(line % (stamp, (started - second) * 1000, status, name, error, latency, account, region, rid))
        self._second, self._stamp = last, stamp
        return "".join(out)


def _fileno(stream: Any) -> int | None:
    try:
        stream.flush()
        return int(stream.fileno())
    except (AttributeError, ValueError, OSError, io.UnsupportedOperation):
        return None


def _isatty(stream: Any) -> bool:
    try:
        return bool(stream.isatty())
    except (AttributeError, ValueError):
        return False


def _summary(e: _Entry) -> dict[str, Any]:
    return {
        "id": e[0],
        "time": e[1],
        "operation": e[2],
        "method": e[3],
        "path": e[4],
        "status": e[5],
        "errorCode": e[6],
        "latencyMs": round(e[7], 3),
        "account": e[8],
        "region": e[9],
    }


def _to_record(e: _Entry, model: Any) -> dict[str, Any]:
    record = _summary(e)
    op = model.operation_model(e[2]) if e[2] is not None else None
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


def log_call(
    app: Any,
    request_id: str,
    started: float,
    clock: float,
    seen: list[Any],
    method: str,
    path: str,
    headers: dict[str, str],
    body: bytes,
    result: tuple[int, dict[str, str], bytes],
) -> None:
    """Records one call that `App.dispatch` answered with `result`; `seen` holds the operation
    and the caller when they got that far (`clock`: perf_counter at the start)."""
    log = app.request_log
    if not log.enabled:
        return
    status, extra, payload = result
    caller = seen[1] or caller_from_headers(headers.get("authorization"), app.settings.account_id, app.settings.region)
    op = seen[0]
    log.add(
        (
            request_id,
            started,
            op.name if op is not None else None,
            method,
            path,
            status,
            extra.get("x-amzn-errortype"),
            (time.perf_counter() - clock) * 1000.0,
            caller.account_id,
            caller.region,
            body,
            payload,
        )
    )


def install(app: Any) -> RequestLog:
    """The app's request log, and `GET`/`DELETE /_qconnect/requests`."""
    from qconnect_local.asgi import send_json
    from qconnect_local.errors import ValidationException

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
    log = RequestLog(app.settings.request_log)
    app.shutdown_hooks.append(log.close)  # the last lines are written before the server exits
    return log
