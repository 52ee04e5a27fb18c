"""Property: the SQLite store's search returns what the reference implementation of the rules
(search/reference.py) returns, for random quick responses and random search expressions, page
after page. Run with the served limits and with tiny ones, so that both the "sparse" path (matches fetched
and sorted) and the "dense" paths (name-order and field-order walks) are checked, and with the
search vocabulary loaded and not loaded (what searches do while it loads in the background).
"""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from qconnect_local import ids
from qconnect_local.config import Settings
from qconnect_local.operations.context import RequestContext
from qconnect_local.operations.quick_responses import prepare_quick_response
from qconnect_local.search import reference
from qconnect_local.search.plan import compile_search
from qconnect_local.storage import open_store
from qconnect_local.storage.sql import search_browse
from qconnect_local.storage.sqlite.search import executor as search_sqlite
from qconnect_local.storage.sqlite.search import vocabulary as search_vocabulary

ACCOUNT, REGION = "111122223333", "us-east-1"
WORDS = [
    "alpha",
    "alphabet",
    "beta",
    "gamma",
    "delta",
    "deltas",
    "epsilon",
    "zeta",
    "eta",
    "theta",
    "iota",
    "kappa",
    "lambda",
    "mu",
    "mudd",
    "refund",
    "refunds",
    "policy",
    "polish",
    "hello",
]
PROFILES = [f"arn:aws:connect:us-east-1:111122223333:instance/i/routing-profile/p{i}" for i in range(4)]

word = st.sampled_from(WORDS)
separator = st.sampled_from([" ", " ", ", ", ". ", "-", " (", ") "])


@st.composite
def text(draw, min_words=1, max_words=8):
    words = draw(st.lists(word, min_size=min_words, max_size=max_words))
    out = ""
    for i, w in enumerate(words):
        if i:
            out += draw(separator)
        out += w.capitalize() if draw(st.booleans()) and i == 0 else w
    return out


@st.composite
def quick_response(draw, index):
    params = {
        "name": draw(text(1, 3)) + f" {index}",
        "content": {"content": draw(text(1, 12))},
        "isActive": draw(st.booleans()),
    }
    if draw(st.booleans()):
        params["description"] = draw(text(1, 5))
    if draw(st.booleans()):
        params["shortcutKey"] = draw(st.sampled_from(WORDS))[:6] + str(index)
    if draw(st.booleans()):
        params["channels"] = draw(st.lists(st.sampled_from(["Chat", "Email"]), min_size=1, max_size=2, unique=True))
    if draw(st.booleans()):
        params["language"] = draw(st.sampled_from(["en_US", "fr_FR"]))
    if draw(st.booleans()):
        params["groupingConfiguration"] = {
            "criteria": "RoutingProfileArn",
            "values": draw(st.lists(st.sampled_from(PROFILES), min_size=1, max_size=3, unique=True)),
        }
    return params


@st.composite
def query(draw):
    q = {
        "name": draw(st.sampled_from(["content", "name", "description", "shortcutKey"])),
        "values": draw(
            st.lists(text(1, 2) | word.map(lambda w: w[: draw(st.integers(1, len(w)))]), min_size=1, max_size=2)
        ),
        "operator": draw(st.sampled_from(["CONTAINS", "CONTAINS_AND_PREFIX"])),
    }
    if draw(st.booleans()):
        q["allowFuzziness"] = True
    if draw(st.booleans()):
        q["priority"] = draw(st.sampled_from(["HIGH", "MEDIUM", "LOW"]))
    return q


@st.composite
def filter_(draw):
    field = draw(
        st.sampled_from(
            [
                "channels",
                "groupingConfiguration.values",
                "language",
                "isActive",
                "name",
                "shortcutKey",
                "description",
                "contentType",
                "createdTime",
            ]
        )
    )
    values = {
        "channels": st.sampled_from(["Chat", "Email", "Ch"]),
        "groupingConfiguration.values": st.sampled_from(PROFILES + ["arn:aws:connect"]),
        "language": st.sampled_from(["en_US", "fr_FR", "en"]),
        "isActive": st.sampled_from(["true", "false", "True"]),
        "name": word | text(1, 2),
        "shortcutKey": word.map(lambda w: w[:3]),
        "description": text(1, 2),
        "contentType": st.just("application/x.quickresponse;format=plain"),
        "createdTime": st.sampled_from(["1700000000", "1700000005.0", "1700000012"]),
    }[field]
    exact = field in ("isActive", "createdTime")
    f = {"name": field, "operator": "EQUALS" if exact else draw(st.sampled_from(["EQUALS", "PREFIX"]))}
    if draw(st.integers(0, 5)):
        f["values"] = draw(st.lists(values, min_size=1, max_size=2))
    if draw(st.booleans()):
        f["includeNoExistence"] = True
    return f


@st.composite
def expression(draw):
    expr = {}
    queries = draw(st.lists(query(), max_size=3))
    if queries:
        expr["queries"] = queries
    filters = draw(st.lists(filter_(), max_size=2))
    if filters:
        expr["filters"] = filters
    if draw(st.integers(0, 3)) == 0:
        expr["orderOnField"] = {
            "name": draw(
                st.sampled_from(
                    [
                        "name",
                        "description",
                        "shortcutKey",
                        "isActive",
                        "channels",
                        "language",
                        "groupingConfiguration.values",
                        "createdTime",
                    ]
                )
            ),
        }
        if draw(st.booleans()):
            expr["orderOnField"]["order"] = draw(st.sampled_from(["ASC", "DESC"]))
    return expr


@pytest.fixture(scope="module")
def store(tmp_path_factory):
    settings = Settings(data_dir=tmp_path_factory.mktemp("search-property"))
    settings.prepare()
    s = open_store(settings.database)
    yield s, settings
    s.close()


def _load(store, settings, items):
    store.reset()
    ctx = RequestContext(ACCOUNT, REGION, f"arn:aws:iam::{ACCOUNT}:root", store, settings)
    kb_id = ids.new_id()
    kb = {
        "knowledgeBaseId": kb_id,
        "knowledgeBaseArn": ids.knowledge_base_arn(REGION, ACCOUNT, kb_id),
        "name": "p",
        "knowledgeBaseType": "QUICK_RESPONSES",
        "status": "ACTIVE",
        "tags": {},
        "createdTime": 1.0,
    }
    records = []
    for i, params in enumerate(items):
        record = prepare_quick_response(ctx, kb, params)
        record["createdTime"] = record["lastModifiedTime"] = 1700000000.0 + (i * 7919) % 13
        records.append(record)
    with store.write() as session:
        session.insert_knowledge_base(ACCOUNT, REGION, kb)
        # Half through the bulk path, half one by one: both must index the same way.
        half = len(records) // 2
        session.insert_quick_responses_bulk(ACCOUNT, REGION, kb_id, records[:half])
        for record in records[half:]:
            session.insert_quick_response(ACCOUNT, REGION, kb_id, record)
    return kb_id, records


def _pages(run, expr, page_size):
    """All results, page by page, as (name, score) through plan.after keys."""
    out, after = [], None
    for _ in range(100):
        plan = compile_search(expr, page_size, after)
        hits = run(plan)
        out.extend((key.to_json(), record["quickResponseId"]) for key, record in hits[:page_size])
        if len(hits) <= page_size:
            return out
        after = hits[page_size - 1][0]
    raise AssertionError("too many pages")


@pytest.mark.parametrize("vocabulary", ["loaded", "none"])
@pytest.mark.parametrize(
    "cap,fetch_limit,group_limit",
    [
        (search_sqlite.CAP, search_sqlite.FETCH_LIMIT, search_sqlite.GROUP_LIMIT),  # as served
        (2, 2, 2),  # every query dense (walks)
        (2, 1000, 1000),  # dense, matches fetched: membership, groups
        (2, 1000, 2),  # the same, groups mostly left to the walk
        (10**9, 2, 2),  # estimated sparse, found dense by the fetch
    ],
)
@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_search_matches_reference(store, cap, fetch_limit, group_limit, vocabulary, data, monkeypatch):
    monkeypatch.setattr(search_sqlite, "CAP", cap)
    monkeypatch.setattr(search_sqlite, "FETCH_LIMIT", fetch_limit)
    monkeypatch.setattr(search_sqlite, "GROUP_LIMIT", group_limit)
    # Filters only: a driving filter counted under the cap, or every one over it.
    monkeypatch.setattr(search_browse, "COUNT_CAP", data.draw(st.sampled_from([search_browse.COUNT_CAP, 1])))
    if vocabulary == "none":  # searches while the vocabulary is not loaded (never, here)
        monkeypatch.setattr(search_vocabulary, "BACKGROUND_LOADS", False)
        monkeypatch.setattr(search_vocabulary, "_VOCABULARIES", {})
    s, settings_ = store
    n = data.draw(st.integers(0, 25), label="count")
    items = [data.draw(quick_response(i), label=f"qr{i}") for i in range(n)]
    kb_id, records = _load(s, settings_, items)
    if vocabulary == "loaded":  # wait for the background load the import made necessary
        with s.read() as session:
            assert search_vocabulary.vocabulary(session.conn).wait(session.conn)
    expr = data.draw(expression(), label="expression")
    page_size = data.draw(st.sampled_from([1, 3, 100]), label="page size")

    def run_store(plan):
        with s.read() as session:
            return session.search_quick_responses(ACCOUNT, REGION, kb_id, plan)

    expected = _pages(lambda plan: reference.evaluate(plan, records), expr, page_size)
    got = _pages(run_store, expr, page_size)
    assert got == expected
