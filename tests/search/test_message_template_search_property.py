"""Property: each store's SearchMessageTemplates search returns what the reference implementation
of the rules (search/reference.py) returns over the templates' fields, page after page, for random
templates (written through the bulk path, one by one, updated, activated and deleted) and random
search expressions with every query and filter kind. The quick responses' strategies
(test_search_property.py) make the text; the SQLite store is also run with tiny limits (every
path of its executor) and without its vocabulary, as quick responses' property test does."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from test_search_property import ACCOUNT, PROFILES, REGION, text, word
from test_search_property import query as quick_response_query

import postgres_support
from qconnect_local import ids
from qconnect_local.config import Settings
from qconnect_local.operations.context import RequestContext
from qconnect_local.operations.message_templates import prepare_message_template
from qconnect_local.search import reference
from qconnect_local.search.plan import MESSAGE_TEMPLATE_FILTER_FIELDS, MESSAGE_TEMPLATE_QUERY_FIELDS, compile_search
from qconnect_local.storage import open_store
from qconnect_local.storage.sql import search_browse
from qconnect_local.storage.sql.search_tables import MESSAGE_TEMPLATES
from qconnect_local.storage.sqlite.search import executor as search_sqlite
from qconnect_local.storage.sqlite.search import vocabulary as search_vocabulary

CALLERS = ["arn:aws:iam::111122223333:user/ana", "arn:aws:iam::111122223333:user/bo"]


@st.composite
def template(draw, index):
    subtype = draw(st.sampled_from(["EMAIL", "SMS"]))
    body = {"plainText": {"content": draw(text(1, 6))}}
    params = {
        "name": draw(text(1, 3)) + f" {index}",
        "channelSubtype": subtype,
        "content": {"email": {"subject": "s", "body": body}} if subtype == "EMAIL" else {"sms": {"body": body}},
    }
    if draw(st.booleans()):
        params["description"] = draw(text(1, 5))
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
    q = draw(quick_response_query())
    q["name"] = draw(st.sampled_from(sorted(MESSAGE_TEMPLATE_QUERY_FIELDS)))
    return q


FILTER_VALUES = {
    "name": word | text(1, 2),
    "description": text(1, 2),
    "channel": st.sampled_from(["EMAIL", "SMS"]),
    "channelSubtype": st.sampled_from(["EMAIL", "SMS", "EM"]),
    "language": st.sampled_from(["en_US", "fr_FR", "en"]),
    "qualifier": st.sampled_from(["$LATEST", "$ACTIVE_VERSION", "$"]),
    "createdTime": st.sampled_from(["1700000000", "1700000003.0", "2023-11-14T22:13:25+00:00"]),
    "lastModifiedTime": st.sampled_from(["1700000001", "1700000012"]),
    "lastModifiedBy": st.sampled_from(CALLERS + ["arn:aws:iam"]),
    "groupingConfiguration.criteria": st.sampled_from(["RoutingProfileArn", "Routing"]),
    "groupingConfiguration.values": st.sampled_from(PROFILES + ["arn:aws:connect"]),
}
assert set(FILTER_VALUES) == set(MESSAGE_TEMPLATE_FILTER_FIELDS)


@st.composite
def filter_(draw):
    field = draw(st.sampled_from(sorted(FILTER_VALUES)))
    timed = MESSAGE_TEMPLATE_FILTER_FIELDS[field][1] == "time"
    f = {"name": field, "operator": "EQUALS" if timed else draw(st.sampled_from(["EQUALS", "PREFIX"]))}
    if draw(st.integers(0, 5)):
        f["values"] = draw(st.lists(FILTER_VALUES[field], min_size=1, max_size=2))
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
        expr["orderOnField"] = {"name": draw(st.sampled_from(sorted(MESSAGE_TEMPLATE_FILTER_FIELDS)))}
        if draw(st.booleans()):
            expr["orderOnField"]["order"] = draw(st.sampled_from(["ASC", "DESC"]))
    return expr


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def store(request, tmp_path_factory):
    if request.param == "postgresql" and not postgres_support.TEST_DATABASE_URL:
        pytest.skip("set QCONNECT_TEST_DATABASE_URL for the PostgreSQL store")
    settings_ = Settings(data_dir=tmp_path_factory.mktemp("mt-search-property"))
    settings_.prepare()
    database = settings_.database if request.param == "sqlite" else postgres_support.new_database("mtsearch")
    s = open_store(database)
    yield s, settings_, request.param
    s.close()


def candidate(record):
    """A template as the reference sees it: with the qualifiers that reach its draft."""
    qualifiers = ["$LATEST"] + (["$ACTIVE_VERSION"] if record.get("activeVersionNumber") else [])
    return {**record, "qualifier": qualifiers}


def _load(store, settings_, kind, items, changes):
    """Writes the templates (half bulk, half one by one), then updates, activates and deletes
    some as `changes` says; returns the knowledge base and the records left."""
    store.reset()
    ctx = RequestContext(ACCOUNT, REGION, CALLERS[0], store, settings_)
    kb_id = ids.new_id()
    kb = {
        "knowledgeBaseId": kb_id,
        "knowledgeBaseArn": ids.knowledge_base_arn(REGION, ACCOUNT, kb_id),
        "name": "p",
        "knowledgeBaseType": "MESSAGE_TEMPLATES",
        "status": "ACTIVE",
        "tags": {},
        "createdTime": 1.0,
    }
    records = []
    for i, params in enumerate(items):
        record = prepare_message_template(ctx, kb, params)
        record["createdTime"] = record["lastModifiedTime"] = 1700000000.0 + (i * 7919) % 13
        record["lastModifiedBy"] = CALLERS[i % 2]
        records.append(record)
    with store.write() as session:
        session.insert_knowledge_base(ACCOUNT, REGION, kb)
        half = len(records) // 2
        session.insert_message_templates_bulk(ACCOUNT, REGION, kb_id, records[:half])
        for record in records[half:]:
            session.insert_message_template(ACCOUNT, REGION, kb_id, record)
        kept = []
        for record, change in zip(records, changes, strict=True):
            if change == "delete":
                session.delete_message_template(ACCOUNT, REGION, kb_id, record["messageTemplateId"])
                continue
            if change == "update":
                record["description"] = (record.get("description") or "") + " refund polish"
                record["lastModifiedTime"] += 1
            elif change == "activate":
                record["activeVersionNumber"] = 1
            if change != "keep":
                session.update_message_template(ACCOUNT, REGION, kb_id, record)
            kept.append(record)
    if kind == "sqlite":  # the index kept by triggers agrees with the table
        with store.read() as session:
            session.execute(
                "INSERT INTO message_templates_fts (message_templates_fts, rank) VALUES ('integrity-check', 1)"
            )
    return kb_id, [candidate(r) for r in kept]


def _all_pages(run, expr, page_size):
    """All results as (key, template id), page after page through plan.after keys."""
    out, after = [], None
    for _ in range(100):
        plan = compile_search(
            expr,
            page_size,
            after,
            filter_fields=MESSAGE_TEMPLATE_FILTER_FIELDS,
            query_fields=MESSAGE_TEMPLATE_QUERY_FIELDS,
        )
        hits = run(plan)
        out.extend((key.to_json(), record["messageTemplateId"]) for key, record in hits[:page_size])
        if len(hits) <= page_size:
            return out
        after = hits[page_size - 1][0]
    raise AssertionError("too many pages")


@pytest.mark.parametrize(
    "limits,vocabulary",
    [
        ((search_sqlite.CAP, search_sqlite.FETCH_LIMIT, search_sqlite.GROUP_LIMIT), "loaded"),  # as served
        ((search_sqlite.CAP, search_sqlite.FETCH_LIMIT, search_sqlite.GROUP_LIMIT), "none"),
        ((2, 2, 2), "loaded"),  # SQLite: every query dense (walks)
        ((2, 1000, 2), "none"),  # SQLite: dense, matches fetched, groups left to the walk
    ],
)
@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_search_matches_reference(store, limits, vocabulary, data, monkeypatch):
    s, settings_, kind = store
    if kind == "postgresql" and (limits[0] != search_sqlite.CAP or vocabulary == "none"):
        pytest.skip("the SQLite executor's limits and vocabulary only")
    for name, value in zip(("CAP", "FETCH_LIMIT", "GROUP_LIMIT"), limits, strict=True):
        monkeypatch.setattr(search_sqlite, name, value)
    # Filters only: a driving filter counted under the cap, or every one over it.
    monkeypatch.setattr(search_browse, "COUNT_CAP", data.draw(st.sampled_from([search_browse.COUNT_CAP, 1])))
    if vocabulary == "none":
        monkeypatch.setattr(search_vocabulary, "BACKGROUND_LOADS", False)
        monkeypatch.setattr(search_vocabulary, "_VOCABULARIES", {})
    n = data.draw(st.integers(0, 20), label="count")
    items = [data.draw(template(i), label=f"mt{i}") for i in range(n)]
    changes = data.draw(st.lists(st.sampled_from(["keep", "update", "activate", "delete"]), min_size=n, max_size=n))
    kb_id, records = _load(s, settings_, kind, items, changes)
    if kind == "sqlite" and vocabulary == "loaded":
        with s.read() as session:
            assert search_vocabulary.vocabulary(session.conn, MESSAGE_TEMPLATES).wait(session.conn)
    expr = data.draw(expression(), label="expression")
    page_size = data.draw(st.sampled_from([1, 3, 100]), label="page size")

    def run_store(plan):
        with s.read() as session:
            return session.search_message_templates(ACCOUNT, REGION, kb_id, plan)

    expected = _all_pages(lambda plan: reference.evaluate(plan, records), expr, page_size)
    assert _all_pages(run_store, expr, page_size) == expected
