"""Migration 403 on a database made before it: message templates get an index on (kb, column,
name) per filter and order column, on both stores (SQLite drops the (kb, modified_time) one they
make redundant), and filters-only and orderOnField searches then read from them with the
same results as the reference."""

from __future__ import annotations

import pytest
from test_message_template_search_migration import (
    ACCOUNT,
    PROFILE,
    REGION,
    _expected,
    _search,
    before,
    store_and_url,
    templates_knowledge_base,
)

from qconnect_local.operations.message_templates import prepare_message_template
from qconnect_local.storage.sql.search_order import order_indexes
from qconnect_local.storage.sql.search_tables import MESSAGE_TEMPLATES
from qconnect_local.storage.sqlite.store import SQLiteStore

EXPRESSIONS = [
    {"filters": [{"name": "language", "values": ["fr_FR"], "operator": "EQUALS"}]},
    {"filters": [{"name": "language", "values": ["fr_FR", "de_DE"], "operator": "EQUALS", "includeNoExistence": True}]},
    {"filters": [{"name": "name", "values": ["t1"], "operator": "PREFIX"}]},
    {"filters": [{"name": "description", "values": ["d"], "operator": "PREFIX"}]},
    {
        "filters": [
            {"name": "channelSubtype", "values": ["SMS"], "operator": "EQUALS"},
            {"name": "groupingConfiguration.values", "values": [PROFILE], "operator": "EQUALS"},
        ]
    },
    {"orderOnField": {"name": "language", "order": "ASC"}},
    {"orderOnField": {"name": "language", "order": "DESC"}},
    {"orderOnField": {"name": "lastModifiedTime", "order": "DESC"}},
]


@pytest.fixture(params=["sqlite", "postgresql"])
def database(request, tmp_path):
    return store_and_url(request.param, tmp_path, "mtindex")


def _write(store, tmp_path):
    ctx, kb = templates_knowledge_base(store, tmp_path)
    kb_id = kb["knowledgeBaseId"]
    sms = {"sms": {"body": {"plainText": {"content": "x"}}}}
    languages = ["fr_FR", None, "en_US", "fr_FR", None, "de_DE"]
    records = []
    for i, language in enumerate(languages):
        params = {"name": f"t{5 - i}", "channelSubtype": "SMS", "content": sms, "description": f"d{i % 2}"}
        if language:
            params["language"] = language
        if i % 2:
            params["groupingConfiguration"] = {"criteria": "RoutingProfileArn", "values": [PROFILE]}
        records.append(prepare_message_template(ctx, kb, params))
        records[-1]["lastModifiedTime"] = 1700000000.0 + i % 3
    with store.write() as session:
        for record in records:
            session.insert_message_template(ACCOUNT, REGION, kb_id, record)
    return kb_id, records


def _indexes(store, store_class):
    sql = (
        "SELECT name FROM sqlite_master WHERE type = 'index'"
        if store_class is SQLiteStore
        else "SELECT indexname FROM pg_indexes"
    )
    with store.read() as session:
        return {name for (name,) in session.conn.execute(sql)}


def test_migration_403_indexes_the_templates_filter_and_order_columns(database, tmp_path):
    store_class, url = database
    old = before(store_class, 403)(url)
    try:
        kb_id, records = _write(old, tmp_path)
    finally:
        old.close()
    store = store_class(url)
    try:
        names = _indexes(store, store_class)
        assert set(order_indexes(MESSAGE_TEMPLATES)) <= names
        assert "message_templates_modified" not in names
        for expression in EXPRESSIONS:
            found = _search(store, kb_id, expression)
            assert found == _expected(records, expression), expression
            assert found, expression
        if store_class is SQLiteStore:
            with store.read() as session:
                plan = session.conn.execute(
                    "EXPLAIN QUERY PLAN SELECT q.seq FROM message_templates q"
                    " WHERE q.kb_seq = 1 AND q.language = 'fr_FR' ORDER BY q.name LIMIT 3"
                ).fetchall()
            assert "message_templates_order_language" in plan[0][3]
    finally:
        store.close()
