"""Property: the PostgreSQL store's search returns what the reference implementation of the rules
(search/reference.py) returns, page after page, for the same random quick responses and search
expressions as the SQLite store's property test (tests/search/test_search_property.py)."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from test_search_property import ACCOUNT, REGION, _load, _pages, expression, quick_response

import postgres_support
from qconnect_local.config import Settings
from qconnect_local.search import reference
from qconnect_local.search.plan import compile_search
from qconnect_local.storage import open_store
from qconnect_local.storage.sql import search_browse
from team_support import needs_postgres

pytestmark = needs_postgres


@pytest.fixture(scope="module")
def store(tmp_path_factory):
    settings_ = Settings(data_dir=tmp_path_factory.mktemp("pg-search-property"))
    settings_.prepare()
    s = open_store(postgres_support.new_database("search"))
    yield s, settings_
    s.close()


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_search_matches_reference(store, data, monkeypatch):
    s, settings_ = store
    # Filters only: a driving filter counted under the cap, or every one over it.
    monkeypatch.setattr(search_browse, "COUNT_CAP", data.draw(st.sampled_from([search_browse.COUNT_CAP, 1])))
    n = data.draw(st.integers(0, 25), label="count")
    items = [data.draw(quick_response(i), label=f"qr{i}") for i in range(n)]
    kb_id, records = _load(s, settings_, items)
    expr = data.draw(expression(), label="expression")
    page_size = data.draw(st.sampled_from([1, 3, 100]), label="page size")

    def run_store(plan):
        with s.read() as session:
            return session.search_quick_responses(ACCOUNT, REGION, kb_id, plan)

    expected = _pages(lambda plan: reference.evaluate(plan, records), expr, page_size)
    assert _pages(run_store, expr, page_size) == expected


def test_words_are_the_plans_words_not_the_parsers(store):
    """Hyphens, e-mail addresses and long words split as the reference splits them."""
    s, settings_ = store
    kb_id, records = _load(
        s,
        settings_,
        [
            {"name": "word-word-0000042", "content": {"content": "Mail help@example.com or call 555-0100"}},
            {"name": "long", "content": {"content": "x" * 600 + " tail"}},
        ],
    )
    for expr in (
        {"queries": [{"name": "name", "values": ["word 0000042"], "operator": "CONTAINS"}]},
        {"queries": [{"name": "content", "values": ["example com"], "operator": "CONTAINS"}]},
        {"queries": [{"name": "content", "values": ["555"], "operator": "CONTAINS_AND_PREFIX"}]},
        {"queries": [{"name": "content", "values": ["x" * 600], "operator": "CONTAINS"}]},
        {"queries": [{"name": "content", "values": ["taik"], "operator": "CONTAINS", "allowFuzziness": True}]},
    ):
        plan = compile_search(expr, 10)
        with s.read() as session:
            got = session.search_quick_responses(ACCOUNT, REGION, kb_id, plan)
        expected = reference.evaluate(plan, records)
        assert [(k.to_json(), r["name"]) for k, r in got] == [(k.to_json(), r["name"]) for k, r in expected]
        assert expected, expr
