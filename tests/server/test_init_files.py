"""`serve --init FILE`: knowledge bases and quick responses seeded at start, idempotently (both stores)."""

from __future__ import annotations

import json
from pathlib import Path

from test_cli import write_csv

from support import ServerProcess

SEED = {
    "knowledgeBases": [
        {
            "name": "support",
            "description": "Support answers",
            "tags": {"team": "care"},
            "quickResponses": [
                {"name": "hello", "content": "Hello there!", "shortcutKey": "hi", "channels": ["Chat"]},
                {"name": "bye", "content": {"content": "Goodbye"}},
            ],
        },
        {"name": "empty"},
    ]
}


def _state(server: ServerProcess) -> dict:
    client = server.client()
    out = {}
    for kb in client.list_knowledge_bases()["knowledgeBaseSummaries"]:
        qrs = client.list_quick_responses(knowledgeBaseId=kb["knowledgeBaseId"])["quickResponseSummaries"]
        out[kb["name"]] = {
            "id": kb["knowledgeBaseId"],
            "tags": kb.get("tags"),
            "quickResponses": sorted((q["name"], q["quickResponseId"]) for q in qrs),
        }
    return out


def test_init_twice_gives_the_same_state(tmp_path: Path) -> None:
    seed = tmp_path / "seed.json"
    seed.write_text(json.dumps(SEED))
    faq = write_csv(tmp_path / "faq.csv", [["Name", "Content", "Shortcut key"], ["refunds", "How to", "ref"]])
    args = ("--init", str(seed), "--init", f"answers={faq}")
    first = ServerProcess(*args, data_dir=tmp_path / "data").start()
    try:
        state = _state(first)
    finally:
        first.stop()
    assert set(state) == {"support", "empty", "answers"}
    assert [n for n, _ in state["support"]["quickResponses"]] == ["bye", "hello"]
    assert state["support"]["tags"] == {"team": "care"}
    assert [n for n, _ in state["answers"]["quickResponses"]] == ["refunds"]

    second = ServerProcess(*args, data_dir=tmp_path / "data").start()
    try:
        assert _state(second) == state
        got = second.client().get_quick_response(
            knowledgeBaseId=state["support"]["id"], quickResponseId=dict(state["support"]["quickResponses"])["hello"]
        )["quickResponse"]
        assert got["contents"]["plainText"]["content"] == "Hello there!" and got["shortcutKey"] == "hi"
    finally:
        second.stop()


def test_csv_named_after_the_file_and_env(tmp_path: Path) -> None:
    faq = write_csv(tmp_path / "faq.csv", [["Name", "Content"], ["a", "b"]])
    server = ServerProcess(env={"QCONNECT_LOCAL_INIT": str(faq)}).start()
    try:
        assert list(_state(server)) == ["faq"]
    finally:
        server.stop()


def test_a_bad_init_file_stops_the_server_with_one_line(tmp_path: Path) -> None:
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps({"knowledgeBases": [{"name": "!bad name"}]}))
    server = ServerProcess("--init", str(bad))
    try:
        server.start()
    except RuntimeError as exc:
        assert "exited with 1" in str(exc)
    else:
        server.stop()
        raise AssertionError("the server started with a bad --init file")
