"""Migration 402 on a database made before it (templates written by step 400's schema): the
search columns and index are filled in from the stored records, on both stores, and searching,
updating and deleting those templates then works as on templates written since."""

from __future__ import annotations

import pytest

import postgres_support
from qconnect_local import ids
from qconnect_local.config import Settings
from qconnect_local.operations.context import RequestContext
from qconnect_local.operations.message_templates import prepare_message_template
from qconnect_local.search import reference
from qconnect_local.search.plan import MESSAGE_TEMPLATE_FILTER_FIELDS, MESSAGE_TEMPLATE_QUERY_FIELDS, compile_search
from qconnect_local.storage.postgres.store import PostgresStore
from qconnect_local.storage.sqlite.store import SQLiteStore

ACCOUNT, REGION = "111122223333", "us-east-1"
PROFILE = "arn:aws:connect:us-east-1:111122223333:instance/i/routing-profile/p1"


def before(store_class, step: int):
    """The store as it was before schema step `step`."""

    class Before(store_class):
        def migrations(self):
            return [m for m in super().migrations() if m[0] < step]

    return Before


def store_and_url(kind: str, tmp_path, database_name: str):
    """(store class, its database) for a fixture parametrized by store kind."""
    if kind == "postgresql":
        if not postgres_support.TEST_DATABASE_URL:
            pytest.skip("set QCONNECT_TEST_DATABASE_URL for the PostgreSQL store")
        return PostgresStore, postgres_support.new_database(database_name)
    return SQLiteStore, str(tmp_path / "state.sqlite3")


def templates_knowledge_base(store, tmp_path):
    """(a caller's context, a new MESSAGE_TEMPLATES knowledge base named "old" in `store`)."""
    ctx = RequestContext(ACCOUNT, REGION, f"arn:aws:iam::{ACCOUNT}:root", store, Settings(data_dir=tmp_path))
    kb_id = ids.new_id()
    kb = {
        "knowledgeBaseId": kb_id,
        "knowledgeBaseArn": ids.knowledge_base_arn(REGION, ACCOUNT, kb_id),
        "name": "old",
        "knowledgeBaseType": "MESSAGE_TEMPLATES",
        "status": "ACTIVE",
        "tags": {},
        "createdTime": 1.0,
    }
    with store.write() as session:
        session.insert_knowledge_base(ACCOUNT, REGION, kb)
    return ctx, kb


@pytest.fixture(params=["sqlite", "postgresql"])
def database(request, tmp_path):
    return store_and_url(request.param, tmp_path, "mtmigrate")


def _write_old(store, tmp_path):
    """A knowledge base and templates as the schema before 402 held them (raw rows)."""
    ctx, kb = templates_knowledge_base(store, tmp_path)
    kb_id = kb["knowledgeBaseId"]
    sms = {"sms": {"body": {"plainText": {"content": "x"}}}}
    records = [
        prepare_message_template(
            ctx, kb, {"name": "Refund notice", "description": "Your refund", "channelSubtype": "SMS", "content": sms}
        ),
        prepare_message_template(
            ctx,
            kb,
            {
                "name": "Welcome",
                "channelSubtype": "SMS",
                "content": sms,
                "language": "en_US",
                "groupingConfiguration": {"criteria": "RoutingProfileArn", "values": [PROFILE]},
            },
        ),
    ]
    records[1]["activeVersionNumber"] = 1
    with store.write() as session:
        kb_seq = session.knowledge_base_seq(ACCOUNT, REGION, kb_id)
        for r in records:
            session.execute(
                "INSERT INTO message_templates (kb_seq, account_id, region, id, name, data) VALUES (?, ?, ?, ?, ?, ?)",
                (kb_seq, ACCOUNT, REGION, r["messageTemplateId"], r["name"], session.dialect.json_param(r)),
            )
    return kb_id, records


def _search(store, kb_id, expression):
    plan = compile_search(
        expression, 10, filter_fields=MESSAGE_TEMPLATE_FILTER_FIELDS, query_fields=MESSAGE_TEMPLATE_QUERY_FIELDS
    )
    with store.read() as session:
        return [(key, record["name"]) for key, record in session.search_message_templates(ACCOUNT, REGION, kb_id, plan)]


def _expected(records, expression):
    plan = compile_search(
        expression, 10, filter_fields=MESSAGE_TEMPLATE_FILTER_FIELDS, query_fields=MESSAGE_TEMPLATE_QUERY_FIELDS
    )
    candidates = [
        {**r, "qualifier": ["$LATEST"] + (["$ACTIVE_VERSION"] if r.get("activeVersionNumber") else [])} for r in records
    ]
    return [(key, record["name"]) for key, record in reference.evaluate(plan, candidates)]


EXPRESSIONS = [
    {"queries": [{"name": "name", "values": ["refund"], "operator": "CONTAINS"}]},
    {"queries": [{"name": "description", "values": ["your refund"], "operator": "CONTAINS", "priority": "HIGH"}]},
    {"queries": [{"name": "name", "values": ["welcom"], "operator": "CONTAINS", "allowFuzziness": True}]},
    {"filters": [{"name": "qualifier", "values": ["$ACTIVE_VERSION"], "operator": "EQUALS"}]},
    {"filters": [{"name": "groupingConfiguration.values", "values": [PROFILE], "operator": "EQUALS"}]},
    {"filters": [{"name": "language", "operator": "EQUALS", "includeNoExistence": True}]},
    {"orderOnField": {"name": "createdTime", "order": "DESC"}},
]


def test_existing_templates_are_searchable_after_the_migration(database, tmp_path):
    store_class, url = database
    old = before(store_class, 402)(url)
    try:
        kb_id, records = _write_old(old, tmp_path)
    finally:
        old.close()
    store = store_class(url)
    try:
        for expression in EXPRESSIONS:
            found = _search(store, kb_id, expression)
            assert found == _expected(records, expression), expression
            assert found, expression
        # The index entries the migration wrote are the ones later writes replace and remove.
        records[0]["description"] = "Your money back"
        with store.write() as session:
            session.update_message_template(ACCOUNT, REGION, kb_id, records[0])
            session.delete_message_template(ACCOUNT, REGION, kb_id, records[1]["messageTemplateId"])
        query = {"queries": [{"name": "description", "values": ["money"], "operator": "CONTAINS"}]}
        assert [name for _, name in _search(store, kb_id, query)] == ["Refund notice"]
        assert _search(store, kb_id, EXPRESSIONS[1]) == []
        assert _search(store, kb_id, {}) == _expected(records[:1], {})
        if store_class is SQLiteStore:  # the index agrees with the table it indexes
            with store.read() as session:
                session.execute(
                    "INSERT INTO message_templates_fts (message_templates_fts, rank) VALUES ('integrity-check', 1)"
                )
    finally:
        store.close()
