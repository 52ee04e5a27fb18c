"""The content text index of Retrieve and QueryAssistant on both stores, in process: kept in step
with every write of `contents` (knowledge-base deletes included), and built by migration 303 for
content written before it."""

from __future__ import annotations

import pytest

import postgres_support
from qconnect_local import ids
from qconnect_local.config import Settings
from qconnect_local.storage import open_store
from storage_support import ACCOUNT, REGION

STORES = [
    "sqlite",
    pytest.param(
        "postgresql",
        marks=pytest.mark.skipif(
            not postgres_support.TEST_DATABASE_URL, reason="QCONNECT_TEST_DATABASE_URL is not set"
        ),
    ),
]


def database(kind: str, tmp_path) -> str:
    if kind == "postgresql":
        return postgres_support.new_database("content")
    settings = Settings(data_dir=tmp_path)
    settings.prepare()
    return settings.database


def new_kb(session) -> str:
    kb_id = ids.new_id()
    session.insert_knowledge_base(
        ACCOUNT,
        REGION,
        {
            "knowledgeBaseId": kb_id,
            "knowledgeBaseArn": ids.knowledge_base_arn(REGION, ACCOUNT, kb_id),
            "name": kb_id,
            "knowledgeBaseType": "CUSTOM",
            "status": "ACTIVE",
            "tags": {},
        },
    )
    return kb_id


def new_content(session, kb_id: str, title: str, text: str, status: str = "ACTIVE") -> str:
    content_id = ids.new_id()
    record = {
        "contentId": content_id,
        "contentArn": f"arn:aws:wisdom:{REGION}:{ACCOUNT}:content/{kb_id}/{content_id}",
        "knowledgeBaseId": kb_id,
        "name": content_id,
        "title": title,
        "status": status,
    }
    assert session.insert_content(ACCOUNT, REGION, record, text)
    return content_id


def found(store, kb_id: str, *words: str) -> list[tuple[int, str, str]]:
    with store.read() as session:
        return session.search_content_text(ACCOUNT, REGION, kb_id, list(words), 100)


@pytest.mark.parametrize("kind", STORES)
def test_the_index_follows_every_write(kind, tmp_path):
    store = open_store(database(kind, tmp_path))
    try:
        with store.write() as session:
            kb_id = new_kb(session)
            other_kb = new_kb(session)
            first = new_content(session, kb_id, "Refund policy", "Refunds reach your card in five days.")
            second = new_content(session, kb_id, "Cards", "Which card do we take? Every card.")
            new_content(session, kb_id, "Refund draft", "card", status="CREATE_FAILED")
            new_content(session, other_kb, "Refund", "card")
        assert found(store, kb_id, "refund", "card") == [(3, "Refund policy", first), (1, "Cards", second)]
        assert found(store, kb_id, "cards") == [(2, "Cards", second)]
        with store.write() as session:
            record = session.get_content(ACCOUNT, REGION, kb_id, first)
            record["title"] = "Chargebacks"
            session.update_content(ACCOUNT, REGION, record)
        assert found(store, kb_id, "refund") == []
        assert found(store, kb_id, "chargebacks", "card") == [(3, "Chargebacks", first), (1, "Cards", second)]
        with store.write() as session:
            session.update_content(ACCOUNT, REGION, record, "Disputes go to the bank.")
            session.delete_content(ACCOUNT, REGION, kb_id, second)
        assert found(store, kb_id, "card") == []
        assert found(store, kb_id, "bank") == [(1, "Chargebacks", first)]
        with store.write() as session:
            session.delete_knowledge_base(ACCOUNT, REGION, kb_id)
        assert found(store, other_kb, "refund") == [(2, "Refund", found(store, other_kb, "card")[0][2])]
        if kind == "sqlite":
            with store.read() as session:
                session.conn.execute("INSERT INTO contents_fts (contents_fts, rank) VALUES ('integrity-check', 1)")
                rows = session.conn.execute("SELECT count(*) FROM contents_fts WHERE contents_fts MATCH 'bank'")
                assert rows.fetchone()[0] == 0  # the cascade removed the deleted knowledge base's words
    finally:
        store.close()


@pytest.mark.parametrize("kind", STORES)
def test_migration_303_indexes_existing_content(kind, tmp_path, monkeypatch):
    if kind == "sqlite":
        from qconnect_local.storage.sqlite.schema import MIGRATIONS
        from qconnect_local.storage.sqlite.store import SQLiteStore as Store
    else:
        from qconnect_local.storage.postgres.content_search import PostgresContentSearch
        from qconnect_local.storage.postgres.schema import MIGRATIONS
        from qconnect_local.storage.postgres.store import PostgresStore as Store

        # No search_words column yet to write to.
        monkeypatch.setattr(PostgresContentSearch, "index_content_text", lambda *args: None)
    url = database(kind, tmp_path)
    monkeypatch.setattr(Store, "migrations", lambda self: [m for m in MIGRATIONS if m[0] < 303])
    store = open_store(url)
    try:
        with store.write() as session:
            kb_id = new_kb(session)
            content_id = new_content(session, kb_id, "Old article", "Written before the index existed.")
    finally:
        store.close()
    monkeypatch.undo()
    store = open_store(url)
    try:
        assert found(store, kb_id, "existed", "article") == [(3, "Old article", content_id)]
    finally:
        store.close()


@pytest.mark.skipif(not postgres_support.TEST_DATABASE_URL, reason="QCONNECT_TEST_DATABASE_URL is not set")
def test_postgres_indexes_the_first_words_of_a_huge_text():
    store = open_store(postgres_support.new_database("content"))
    try:
        text = " ".join(f"w{i:06d}x" for i in range(150_000))  # about 1.7 MB of lexemes
        with store.write() as session:
            kb_id = new_kb(session)
            content_id = new_content(session, kb_id, "Huge", text)
        assert found(store, kb_id, "w000001x") == [(1, "Huge", content_id)]
        assert found(store, kb_id, "w149999x") == []
    finally:
        store.close()


@pytest.mark.parametrize("kind", STORES)
def test_common_words_counts_items_of_one_knowledge_base(kind, tmp_path):
    """common_words: the words in more than `over` contents (or quick responses) of the
    knowledge base, whatever their status; other knowledge bases do not count."""
    from qconnect_local.operations.context import RequestContext
    from qconnect_local.operations.quick_responses import prepare_quick_response

    store = open_store(database(kind, tmp_path))
    try:
        with store.write() as session:
            kb_id, other_kb = new_kb(session), new_kb(session)
            new_content(session, kb_id, "Card", "refund")
            new_content(session, kb_id, "Note", "card refund", status="CREATE_FAILED")
            new_content(session, kb_id, "Other", "words")
            for _ in range(3):
                new_content(session, other_kb, "Card refund", "card refund")
            qr_kb = ids.new_id()
            qr_record = {
                "knowledgeBaseId": qr_kb,
                "knowledgeBaseArn": ids.knowledge_base_arn(REGION, ACCOUNT, qr_kb),
                "name": qr_kb,
                "knowledgeBaseType": "QUICK_RESPONSES",
                "status": "ACTIVE",
                "tags": {},
            }
            session.insert_knowledge_base(ACCOUNT, REGION, qr_record)
            ctx = RequestContext(ACCOUNT, REGION, f"arn:aws:iam::{ACCOUNT}:root", store, Settings(data_dir=tmp_path))
            records = [
                prepare_quick_response(ctx, qr_record, {"name": name, "content": {"content": content}})
                for name, content in (("Hello", "greeting words"), ("Hello again", "more"), ("Bye", "hello"))
            ]
            session.insert_quick_responses_bulk(ACCOUNT, REGION, qr_kb, records)
        with store.read() as session:
            words = ["card", "refund", "words", "absent"]
            assert session.common_words(ACCOUNT, REGION, kb_id, False, words, 1) == ["card", "refund"]
            assert session.common_words(ACCOUNT, REGION, kb_id, False, words, 2) == []
            qr_words = ["hello", "words", "more"]
            assert session.common_words(ACCOUNT, REGION, qr_kb, True, qr_words, 1) == ["hello"]
            assert session.common_words(ACCOUNT, REGION, qr_kb, True, qr_words, 0) == qr_words
    finally:
        store.close()
