"""The request log's lines and records byte for byte, from a `RequestLog` writing to a stream
(the server tests in test_request_log.py see them through a real server's stderr)."""

from __future__ import annotations

import io
import json
import os
import time

from qconnect_local.request_log import (
    BATCH_LINES,
    FLUSH_SECONDS,
    LOOK_SECONDS,
    REDACTED,
    RequestLog,
    RequestLogSettings,
)

# 2026-12-05T08:43:37.125Z
STARTED = 1796460217.125


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def logged(stream: io.StringIO, fmt: str = "text", **settings: object) -> RequestLog:
    log = RequestLog(RequestLogSettings(mode="on", format=fmt, **settings), stream)  # type: ignore[arg-type]
    ok = b'{"knowledgeBase":{"knowledgeBaseId":"kb-1","name":"n"}}'
    log.record(
        "id-1",
        STARTED,
        "GetKnowledgeBase",
        "GET",
        "/knowledgeBases/kb-1",
        200,
        None,
        1.25,
        "000000000000",
        "us-east-1",
        b"",
        ok,
    )
    log.record(
        "id-2", STARTED + 0.9996, None, "PATCH", "/nowhere", 404, "UnknownOperationException", 0.04, "1", "eu-west-2"
    )
    log.record(
        "id-3",
        STARTED + 61,
        "ListKnowledgeBases",
        "GET",
        "/knowledgeBases",
        429,
        "ThrottlingException",
        12.35,
        "555555555555",
        "us-east-1",
    )
    log.close()
    return log


def test_text_lines() -> None:
    stream = io.StringIO()
    logged(stream)
    assert stream.getvalue().splitlines() == [
        "2026-12-05T08:43:37.125Z 200 GetKnowledgeBase 1.2ms 000000000000/us-east-1 id-1",
        "2026-12-05T08:43:38.124Z 404 PATCH /nowhere UnknownOperationException 0.0ms 1/eu-west-2 id-2",
        "2026-12-05T08:44:38.125Z 429 ListKnowledgeBases ThrottlingException 12.3ms 555555555555/us-east-1 id-3",
    ]


def test_coloured_lines_on_a_terminal() -> None:
    stream = Terminal()
    logged(stream)
    dim, reset, bold = "\033[2m", "\033[0m", "\033[1m"
    green, yellow = "\033[32m", "\033[33m"
    assert stream.getvalue().splitlines() == [
        f"{dim}2026-12-05T08:43:37.125Z{reset} {green}200{reset} {bold}GetKnowledgeBase{reset} 1.2ms "
        f"{dim}000000000000/us-east-1 id-1{reset}",
        f"{dim}2026-12-05T08:43:38.124Z{reset} {yellow}404{reset} {bold}PATCH /nowhere{reset} "
        f"{yellow}UnknownOperationException{reset} 0.0ms {dim}1/eu-west-2 id-2{reset}",
        f"{dim}2026-12-05T08:44:38.125Z{reset} {yellow}429{reset} {bold}ListKnowledgeBases{reset} "
        f"{yellow}ThrottlingException{reset} 12.3ms {dim}555555555555/us-east-1 id-3{reset}",
    ]


def test_json_lines() -> None:
    stream = io.StringIO()
    logged(stream, "json")
    first, second, third = (json.loads(line) for line in stream.getvalue().splitlines())
    assert first == {
        "id": "id-1",
        "time": STARTED,
        "operation": "GetKnowledgeBase",
        "method": "GET",
        "path": "/knowledgeBases/kb-1",
        "status": 200,
        "errorCode": None,
        "latencyMs": 1.25,
        "account": "000000000000",
        "region": "us-east-1",
    }
    assert second["operation"] is None and second["errorCode"] == "UnknownOperationException"
    assert third["status"] == 429 and third["errorCode"] == "ThrottlingException"


def test_a_file_descriptor_gets_the_same_lines() -> None:
    read, write = os.pipe()
    with os.fdopen(write, "w") as stream:
        logged(stream)  # type: ignore[arg-type]
    with os.fdopen(read) as lines:
        text = lines.read()
    assert text.count("\n") == 3 and text.startswith("2026-12-05T08:43:37.125Z 200 GetKnowledgeBase 1.2ms")


def test_records_parse_and_redact_when_read() -> None:
    log = RequestLog(RequestLogSettings(mode="quiet"))
    request = b'{"name":"a","content":{"content":"the secret"},"channels":["Chat"]}'
    log.record("id-1", time.time(), "CreateQuickResponse", "POST", "/x", 200, None, 1.0, "1", "r", request, b"")
    log.record(
        "id-2",
        time.time(),
        "CreateQuickResponse",
        "POST",
        "/x",
        400,
        "ValidationException",
        1.0,
        "1",
        "r",
        b"{",
        b'{"message":"m"}',
    )
    second, first = log.records()
    assert first["request"] == {"name": "a", "content": {"content": REDACTED}, "channels": [REDACTED]}
    assert first["response"] is None
    assert second["request"] is None and second["response"] == {"message": "m"}  # unparsable body: None
    assert [r["id"] for r in log.records(limit=1)] == ["id-2"] and log.records(limit=0) == []


def call(log: RequestLog, n: int, started: float) -> None:
    log.record(f"id-{n}", started, "ListKnowledgeBases", "GET", "/knowledgeBases", 200, None, 1.0, "1", "r")


def test_the_call_that_fills_a_batch_writes_it_in_order() -> None:
    stream = io.StringIO()
    log = RequestLog(RequestLogSettings(mode="on"), stream)
    now = time.time()
    for n in range(BATCH_LINES):
        call(log, n, now)
    ids = [line.rsplit(" ", 1)[1] for line in stream.getvalue().splitlines()]
    assert ids == [f"id-{n}" for n in range(BATCH_LINES)]  # written already, by the last call
    log.close()


def test_a_call_after_a_pause_writes_the_waiting_lines() -> None:
    stream = io.StringIO()
    log = RequestLog(RequestLogSettings(mode="on"), stream)
    log._start_flusher = lambda: None  # type: ignore[method-assign]  # the calls alone
    call(log, 1, 1000.0)
    assert stream.getvalue() == ""
    call(log, 2, 1000.0 + 2 * FLUSH_SECONDS)
    assert [line.rsplit(" ", 1)[1] for line in stream.getvalue().splitlines()] == ["id-1", "id-2"]


def test_lines_left_when_calls_stop_are_written_by_the_flusher() -> None:
    stream = io.StringIO()
    log = RequestLog(RequestLogSettings(mode="on"), stream)
    now = time.time()
    for n in range(BATCH_LINES + 3):  # a batch the calls write, then three left
        call(log, n, now)
    begun = time.monotonic()
    while stream.getvalue().count("\n") < BATCH_LINES + 3 and time.monotonic() < begun + 5:
        time.sleep(0.01)
    assert stream.getvalue().count("\n") == BATCH_LINES + 3
    assert time.monotonic() - begun < 2 * LOOK_SECONDS + 0.5  # the thread looks at least that often
    log.close()
