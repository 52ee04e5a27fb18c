"""The SQLite store's search vocabulary loads in the background: searches never wait for it, and
answer the same while it loads (prefixes and fuzzy words without it) as once it is loaded; a
reload after an import happens in the background too; a stop does not wait for a load."""

from __future__ import annotations

import json
import signal
import threading
import time
import urllib.request

import pytest

from postgres_support import TEST_DATABASE_URL
from qconnect_local.config import Settings
from qconnect_local.operations.quick_responses import prepare_quick_response
from qconnect_local.search import reference
from qconnect_local.search.plan import compile_search
from qconnect_local.storage import open_store
from qconnect_local.storage.sqlite.search import executor as search_sqlite
from qconnect_local.storage.sqlite.search import vocabulary as search_vocabulary
from storage_support import new_knowledge_base
from support import ServerProcess

ACCOUNT, REGION = "123456789012", "us-east-1"

CONTENTS = [
    "Your refund is on its way",
    "Refunds take five days",
    "We refunded your order",
    "The policy covers returns",
    "Polish the reply before sending",
    "Hello and welcome",
    "Helo there, how can we help",
    "Shipping policies changed",
    "Return shipping is free",
    "Internationalisation of the help centre",
    "Internationalization team",
]

EXPRESSIONS = [
    {"queries": [{"name": "content", "values": ["refu"], "operator": "CONTAINS_AND_PREFIX"}]},
    {"queries": [{"name": "content", "values": ["polic"], "operator": "CONTAINS_AND_PREFIX"}]},
    {"queries": [{"name": "content", "values": ["hullo"], "operator": "CONTAINS", "allowFuzziness": True}]},
    {"queries": [{"name": "content", "values": ["refund"], "operator": "CONTAINS", "allowFuzziness": True}]},
    {
        "queries": [
            {"name": "content", "values": ["internationalisatoin"], "operator": "CONTAINS", "allowFuzziness": True}
        ]
    },
    {
        "queries": [
            {"name": "content", "values": ["shiping polic"], "operator": "CONTAINS_AND_PREFIX", "allowFuzziness": True}
        ]
    },
    {
        "queries": [
            {"name": "name", "values": ["qr 1"], "operator": "CONTAINS", "priority": "HIGH"},
            {"name": "content", "values": ["retrun"], "operator": "CONTAINS", "allowFuzziness": True},
        ]
    },
    {
        "queries": [{"name": "content", "values": ["help"], "operator": "CONTAINS", "allowFuzziness": True}],
        "orderOnField": {"name": "name", "order": "DESC"},
    },
]


@pytest.fixture
def env(tmp_path, monkeypatch):
    gate = threading.Event()
    monkeypatch.setattr(search_vocabulary, "LOAD_GATE", gate)
    settings = Settings(data_dir=tmp_path)
    settings.prepare()
    store = open_store(settings.database)
    ctx, kb = new_knowledge_base(store, settings)
    yield store, ctx, kb, gate
    gate.set()
    store.close()


def _insert(store, ctx, kb, contents, start=0, bulk=True):
    records = [
        prepare_quick_response(ctx, kb, {"name": f"qr {start + i}", "content": {"content": c}})
        for i, c in enumerate(contents)
    ]
    with store.write() as session:
        if bulk:
            session.insert_quick_responses_bulk(ACCOUNT, REGION, kb["knowledgeBaseId"], records)
        else:
            for record in records:
                session.insert_quick_response(ACCOUNT, REGION, kb["knowledgeBaseId"], record)
    return records


def _search(store, kb, expr):
    plan = compile_search(expr, 100)
    with store.read() as session:
        return [
            (key.to_json(), r["name"])
            for key, r in session.search_quick_responses(ACCOUNT, REGION, kb["knowledgeBaseId"], plan)
        ]


def _expected(records, expr):
    return [(key.to_json(), r["name"]) for key, r in reference.evaluate(compile_search(expr, 100), records)]


def _vocabulary(store):
    with store.read() as session:
        return search_vocabulary.vocabulary(session.conn), session.conn


def test_searches_answer_right_while_the_vocabulary_loads(env):
    store, ctx, kb, gate = env
    records = _insert(store, ctx, kb, CONTENTS)
    vocab, _ = _vocabulary(store)
    for expr in EXPRESSIONS:
        assert _search(store, kb, expr) == _expected(records, expr), expr
    # The first search started a load; it is held, so every search above ran without the words.
    assert vocab.state == "loading" and vocab.loads == 0 and store.search_vocabulary_state() == "loading"
    # Writes while it loads are searchable now and counted in once it is loaded.
    records += _insert(store, ctx, kb, ["Refurbished items", "Hallo from the team"], start=100, bulk=False)
    for expr in EXPRESSIONS:
        assert _search(store, kb, expr) == _expected(records, expr), expr
    gate.set()
    with store.read() as session:
        assert vocab.wait(session.conn, timeout=30)
    assert vocab.loads == 1 and vocab.state == "ready"
    records += _insert(store, ctx, kb, ["Refillable bottles"], start=200, bulk=False)
    for expr in EXPRESSIONS:
        assert _search(store, kb, expr) == _expected(records, expr), expr
    assert vocab.loads == 1


def test_a_reload_after_an_import_runs_in_the_background(env, monkeypatch):
    store, ctx, kb, gate = env
    gate.set()
    records = _insert(store, ctx, kb, CONTENTS)
    vocab, conn = _vocabulary(store)
    with store.read() as session:
        assert vocab.wait(session.conn, timeout=30)
    assert vocab.loads == 1
    # An import whose words the vocabulary was not fed (as when it ran before the load ended).
    monkeypatch.setattr(search_vocabulary.Vocabulary, "feeds_bulk", lambda self, token: False)
    records += _insert(store, ctx, kb, ["Refurbishment schedule", "Helloworld newsletter"], start=300)
    hold = threading.Event()
    monkeypatch.setattr(search_vocabulary, "LOAD_GATE", hold)
    for expr in EXPRESSIONS + [
        {"queries": [{"name": "content", "values": ["refurb"], "operator": "CONTAINS_AND_PREFIX"}]}
    ]:
        assert _search(store, kb, expr) == _expected(records, expr), expr
    assert vocab.state == "loading" and vocab.loads == 1  # the reload waits; the searches did not
    hold.set()
    with store.read() as session:
        assert vocab.wait(session.conn, timeout=30)
    assert vocab.loads == 2
    for expr in EXPRESSIONS:
        assert _search(store, kb, expr) == _expected(records, expr), expr


def test_closing_the_store_stops_a_load(env):
    store, ctx, kb, gate = env
    _insert(store, ctx, kb, CONTENTS)
    vocab, _ = _vocabulary(store)
    _search(store, kb, EXPRESSIONS[0])
    assert vocab.state == "loading"
    started = time.monotonic()
    store.close()
    assert time.monotonic() - started < 2.0
    assert vocab.state == "none"


@pytest.mark.slow
@pytest.mark.skipif(bool(TEST_DATABASE_URL), reason="the vocabulary is the SQLite store's")
def test_first_search_does_not_wait_and_sigterm_does_not_wait_for_the_load(tmp_path):
    """A server whose vocabulary load takes (at least) a minute: searches answer at once, right,
    and SIGTERM still stops it promptly."""
    server = ServerProcess(data_dir=tmp_path, env={"QCONNECT_TEST_VOCABULARY_DELAY": "60"}).start()
    try:
        client = server.client()
        kb_id = client.create_knowledge_base(name="kb", knowledgeBaseType="QUICK_RESPONSES")["knowledgeBase"][
            "knowledgeBaseId"
        ]
        for i, content in enumerate(CONTENTS):
            client.create_quick_response(knowledgeBaseId=kb_id, name=f"qr {i}", content={"content": content})
        started = time.monotonic()
        out = client.search_quick_responses(
            knowledgeBaseId=kb_id,
            searchExpression={
                "queries": [{"name": "content", "values": ["hullo"], "operator": "CONTAINS", "allowFuzziness": True}]
            },
        )
        assert time.monotonic() - started < 5.0
        assert sorted(r["name"] for r in out["results"]) == ["qr 5"]
        out = client.search_quick_responses(
            knowledgeBaseId=kb_id,
            searchExpression={"queries": [{"name": "content", "values": ["refu"], "operator": "CONTAINS_AND_PREFIX"}]},
        )
        assert sorted(r["name"] for r in out["results"]) == ["qr 0", "qr 1", "qr 2"]
        with urllib.request.urlopen(server.endpoint_url + "/_qconnect/health", timeout=10) as r:
            assert json.load(r)["searchVocabulary"] == "loading"
        assert server.proc is not None
        sent = time.monotonic()
        server.proc.send_signal(signal.SIGTERM)
        status = server.proc.wait(timeout=30)
        assert status == 0
        assert time.monotonic() - sent < 5.0
    finally:
        server.kill()


def test_a_long_fuzzy_walk_waits_for_the_load_and_searches_again(env, monkeypatch):
    store, ctx, kb, gate = env
    records = _insert(store, ctx, kb, CONTENTS)
    vocab, _ = _vocabulary(store)
    monkeypatch.setattr(search_sqlite, "FALLBACK_BUDGET", 0.0)
    fuzzy = [e for e in EXPRESSIONS if any(q.get("allowFuzziness") for q in e["queries"])]
    # The load does not end in time: the walk goes on without the vocabulary.
    monkeypatch.setattr(search_sqlite, "LOAD_WAIT", 0.2)
    for expr in fuzzy:
        assert _search(store, kb, expr) == _expected(records, expr), expr
    assert vocab.loads == 0
    # The load ends while the search waits: it searches again with the vocabulary.
    monkeypatch.setattr(search_sqlite, "LOAD_WAIT", 30.0)
    threading.Timer(0.3, gate.set).start()
    assert _search(store, kb, fuzzy[0]) == _expected(records, fuzzy[0])
    assert vocab.loads == 1
    for expr in fuzzy:
        assert _search(store, kb, expr) == _expected(records, expr), expr


@pytest.mark.slow
@pytest.mark.skipif(bool(TEST_DATABASE_URL), reason="the vocabulary is the SQLite store's")
def test_sigterm_does_not_wait_for_a_search_waiting_for_the_load(tmp_path):
    """A fuzzy search that waits for the load (its walk ran past the budget) does not hold the
    shutdown: the load is stopped first, and the search answers (an error) at once."""
    env = {"QCONNECT_TEST_VOCABULARY_DELAY": "60", "QCONNECT_TEST_FALLBACK_BUDGET": "0"}
    server = ServerProcess(data_dir=tmp_path, env=env).start()
    try:
        client = server.client()
        kb_id = client.create_knowledge_base(name="kb", knowledgeBaseType="QUICK_RESPONSES")["knowledgeBase"][
            "knowledgeBaseId"
        ]
        for i, content in enumerate(CONTENTS):
            client.create_quick_response(knowledgeBaseId=kb_id, name=f"qr {i}", content={"content": content})
        outcome: list[object] = []

        def search():
            try:
                outcome.append(
                    client.search_quick_responses(
                        knowledgeBaseId=kb_id,
                        searchExpression={
                            "queries": [
                                {"name": "content", "values": ["hullo"], "operator": "CONTAINS", "allowFuzziness": True}
                            ]
                        },
                    )
                )
            except Exception as exc:  # the server stops under it
                outcome.append(exc)

        waiting = threading.Thread(target=search, daemon=True)
        waiting.start()
        time.sleep(1.0)
        assert not outcome  # waiting for the load
        assert server.proc is not None
        sent = time.monotonic()
        server.proc.send_signal(signal.SIGTERM)
        assert server.proc.wait(timeout=30) == 0
        assert time.monotonic() - sent < 5.0
        waiting.join(10)
    finally:
        server.kill()
