"""The storage contract the import pipeline relies on (prepare_quick_response and the SQLite
session methods), in process."""

from __future__ import annotations

import pytest

from qconnect_local.config import Settings
from qconnect_local.errors import ConflictException, ValidationException
from qconnect_local.operations.quick_responses import prepare_quick_response
from qconnect_local.search.plan import compile_search
from qconnect_local.storage import open_store
from qconnect_local.storage.sql.search_order import order_indexes
from storage_support import (
    ACCOUNT,
    REGION,
    ROUND_TRIPS,
    WRITE_PATHS,
    assert_quick_response_and_knowledge_base_in_one_read,
    assert_reads_back_as_written,
    new_knowledge_base,
)


def open_env(tmp_path):
    """(store, ctx, knowledge base) on a fresh data dir, the store migrated as it is now."""
    settings = Settings(data_dir=tmp_path)
    settings.prepare()
    store = open_store(settings.database)
    ctx, kb = new_knowledge_base(store, settings)
    return store, ctx, kb


@pytest.fixture
def env(tmp_path):
    store, ctx, kb = open_env(tmp_path)
    yield store, ctx, kb
    store.close()


def test_prepare_fills_the_record(env):
    _, ctx, kb = env
    record = prepare_quick_response(
        ctx,
        kb,
        {
            "name": "n",
            "content": {"content": "*hi*"},
            "contentType": "application/x.quickresponse;format=markdown",
            "channels": ["Chat", "Chat"],
        },
    )
    assert record["contents"] == {"plainText": {"content": "hi"}, "markdown": {"content": "*hi*"}}
    assert record["channels"] == ["Chat"]
    assert record["status"] == "CREATED" and record["isActive"] is True
    assert record["lastModifiedBy"] == ctx.caller_arn
    assert record["createdTime"] == record["lastModifiedTime"]
    assert record["quickResponseArn"].endswith(f"{kb['knowledgeBaseId']}/{record['quickResponseId']}")


@pytest.mark.parametrize(
    "params,message",
    [
        ({"language": "en_GB"}, "language"),
        ({"channels": ["SMS"]}, "channel"),
        ({"groupingConfiguration": {"criteria": "Other"}}, "criteria"),
        ({"contentType": "text/plain"}, "contentType"),
    ],
)
def test_prepare_rejects(env, params, message):
    _, ctx, kb = env
    with pytest.raises(ValidationException) as e:
        prepare_quick_response(ctx, kb, {"name": "n", "content": {"content": "c"}, **params})
    assert message in e.value.message


def test_prepare_rejects_other_knowledge_base_types(env):
    _, ctx, kb = env
    with pytest.raises(ValidationException):
        prepare_quick_response(ctx, {**kb, "knowledgeBaseType": "CUSTOM"}, {"name": "n", "content": {"content": "c"}})


def test_bulk_insert_keys_and_search(env):
    store, ctx, kb = env
    kb_id = kb["knowledgeBaseId"]
    records = [
        prepare_quick_response(
            ctx, kb, {"name": f"qr {i}", "content": {"content": f"word{i % 3} common"}, "shortcutKey": f"k{i}"}
        )
        for i in range(10)
    ]
    with store.write() as session:
        assert session.insert_quick_responses_bulk(ACCOUNT, REGION, kb_id, iter(records)) == 10
        session.touch_knowledge_base_content(ACCOUNT, REGION, kb_id, 123.5)
    with store.read() as session:
        names, keys, count = session.quick_response_keys(ACCOUNT, REGION, kb_id)
        assert count == 10 and names == {f"qr {i}" for i in range(10)} and keys == {f"k{i}" for i in range(10)}
        assert session.get_knowledge_base(ACCOUNT, REGION, kb_id)["lastContentModificationTime"] == 123.5
        plan = compile_search({"queries": [{"name": "content", "values": ["word1"], "operator": "CONTAINS"}]}, 25)
        found = session.search_quick_responses(ACCOUNT, REGION, kb_id, plan)
        assert sorted(r["name"] for _, r in found) == ["qr 1", "qr 4", "qr 7"]


def test_duplicates_are_conflicts_and_roll_back(env):
    store, ctx, kb = env
    kb_id = kb["knowledgeBaseId"]
    first = prepare_quick_response(ctx, kb, {"name": "same", "content": {"content": "c"}, "shortcutKey": "s"})
    with store.write() as session:
        session.insert_quick_response(ACCOUNT, REGION, kb_id, first)
    for clash, field in (({"name": "same"}, "name"), ({"name": "other", "shortcutKey": "s"}, "shortcutKey")):
        record = prepare_quick_response(ctx, kb, {"content": {"content": "c"}, **clash})
        with pytest.raises(ConflictException) as e:
            with store.write() as session:
                session.insert_quick_response(ACCOUNT, REGION, kb_id, record)
        assert field in e.value.message
        fresh = prepare_quick_response(ctx, kb, {"name": "fresh", "content": {"content": "c"}})
        with pytest.raises(ConflictException):
            with store.write() as session:
                session.insert_quick_responses_bulk(ACCOUNT, REGION, kb_id, [fresh, record])
    with store.read() as session:
        assert session.quick_response_keys(ACCOUNT, REGION, kb_id)[2] == 1


def _slim(session, record):
    (data,) = session.conn.execute(
        "SELECT data FROM quick_responses WHERE id = ?", (record["quickResponseId"],)
    ).fetchone()
    assert b"quickResponseArn" not in data and b'"name"' not in data


@pytest.mark.parametrize("params", ROUND_TRIPS)
@pytest.mark.parametrize("path", WRITE_PATHS)
def test_records_read_back_as_written(env, params, path):
    """`data` keeps only what the columns cannot give back: every member still reads back exactly,
    through get, list and search, whichever way the row was written."""
    assert_reads_back_as_written(*env, params, path, check_stored=_slim)


def test_rows_with_the_whole_record_in_data_read_the_same(env):
    """Databases written before `data` was slimmed hold the whole record there."""
    import orjson

    store, ctx, kb = env
    kb_id = kb["knowledgeBaseId"]
    record = prepare_quick_response(
        ctx, kb, {"name": "n", "content": {"content": "c"}, "channels": [], "tags": {"k": "v"}, "description": "d"}
    )
    with store.write() as session:
        session.insert_quick_response(ACCOUNT, REGION, kb_id, record)
        whole = {k: v for k, v in record.items() if k != "contents"}
        session.conn.execute(
            "UPDATE quick_responses SET data = ? WHERE id = ?", (orjson.dumps(whole), record["quickResponseId"])
        )
    with store.read() as session:
        assert session.get_quick_response(ACCOUNT, REGION, kb_id, record["quickResponseId"]) == record


def test_bulk_exact_keys_are_the_search_modules_keys():
    """The import's fast path for `exact_keys` (bytes-only for ASCII) gives the key search looks
    up for every kind of text: case, punctuation, digits, runs of separators, non-ASCII."""
    import random

    from qconnect_local.search.plan import tokenize
    from qconnect_local.storage.sqlite.rows import FTS_COLUMNS, index_words
    from qconnect_local.storage.sqlite.search.exact_keys import exact_key

    rng = random.Random(7)
    alphabet = "aZ09 ,.-_\t\n'\"!é日ßİ"
    for _ in range(3000):
        fields = tuple(
            None if rng.random() < 0.1 else "".join(rng.choice(alphabet) for _ in range(rng.randint(0, 12)))
            for _ in FTS_COLUMNS
        )
        expected = " ".join(
            exact_key(column, tokenize(text))
            for column, text in zip(FTS_COLUMNS, fields, strict=False)
            if text and tokenize(text)
        )
        assert index_words(fields) == expected, fields


INDEXES = {"quick_responses_name", "quick_responses_shortcut", "quick_responses_seq_name", *order_indexes()}


def _unique_indexes(session):
    return {
        name
        for (name,) in session.conn.execute(
            "SELECT name FROM sqlite_master WHERE type = 'index' AND name LIKE 'quick_responses_%'"
        )
    } & INDEXES


def _load(session, ctx, kb, params_list, batch=4):
    with session.quick_response_loader(ACCOUNT, REGION, kb["knowledgeBaseId"]) as loader:
        rows = [loader.build(prepare_quick_response(ctx, kb, p)) for p in params_list]
        for i in range(0, len(rows), batch):
            loader.add(rows[i : i + batch])
            seen = _unique_indexes(session)
        return loader.finish(), seen


def test_a_big_bulk_load_builds_the_unique_indexes_again(env, monkeypatch):
    """Past BIG_LOAD_ROWS rows the loader drops the (kb, name) and (kb, shortcut_key) indexes
    and creates them again when it finishes: they are there afterwards and still refuse clashes."""
    from qconnect_local.storage.sqlite import bulk_load as sqlite_quick_responses

    monkeypatch.setattr(sqlite_quick_responses, "BIG_LOAD_ROWS", 4)
    monkeypatch.setattr(sqlite_quick_responses, "FTS_BATCH_ROWS", 5)  # index statements in between, and at the end
    store, ctx, kb = env
    kb_id = kb["knowledgeBaseId"]
    with store.write() as session:
        added, during = _load(
            session,
            ctx,
            kb,
            [{"name": f"n{i}", "content": {"content": f"word{i}"}, "shortcutKey": f"s{i}"} for i in range(12)],
        )
        assert added == 12 and during == set()  # dropped while loading
        assert _unique_indexes(session) == INDEXES
    with store.read() as session:
        assert session.quick_response_keys(ACCOUNT, REGION, kb_id)[2] == 12
        for i in range(12):  # every row is in the search index, once
            plan = compile_search(
                {"queries": [{"name": "content", "values": [f"word{i}"], "operator": "CONTAINS"}]}, 25
            )
            assert [r["name"] for _, r in session.search_quick_responses(ACCOUNT, REGION, kb_id, plan)] == [f"n{i}"]
        (entries,) = session.conn.execute(
            "SELECT count(*) FROM quick_responses_fts WHERE quick_responses_fts MATCH 'content:c* OR content:w*'"
        ).fetchone()
        assert entries == 12
    for clash in ({"name": "n3"}, {"name": "new", "shortcutKey": "s3"}):
        with pytest.raises(ConflictException):
            with store.write() as session:
                session.insert_quick_response(
                    ACCOUNT, REGION, kb_id, prepare_quick_response(ctx, kb, {"content": {"content": "c"}, **clash})
                )


@pytest.mark.parametrize("clash,member", [({"name": "n1"}, "name 'n1'"), ({"shortcutKey": "s1"}, "shortcutKey 's1'")])
def test_a_duplicate_in_a_big_bulk_load_fails_it_whole(env, monkeypatch, clash, member):
    """With the unique indexes dropped, a duplicate is found when they are created again: a
    ConflictException naming it, and the whole load rolls back (indexes included)."""
    from qconnect_local.storage.sqlite import bulk_load as sqlite_quick_responses

    monkeypatch.setattr(sqlite_quick_responses, "BIG_LOAD_ROWS", 4)
    store, ctx, kb = env
    rows = [{"name": f"n{i}", "content": {"content": "c"}, "shortcutKey": f"s{i}"} for i in range(12)]
    rows[9] = {**rows[9], **clash}
    with pytest.raises(ConflictException) as e:
        with store.write() as session:
            _load(session, ctx, kb, rows)
    assert member in e.value.message
    with store.read() as session:
        assert session.quick_response_keys(ACCOUNT, REGION, kb["knowledgeBaseId"])[2] == 0
        assert _unique_indexes(session) == INDEXES


def test_a_small_load_into_a_bigger_table_keeps_the_indexes(env, monkeypatch):
    """Rebuilding sorts the whole table: not worth it for a load smaller than the table."""
    from qconnect_local.storage.sqlite import bulk_load as sqlite_quick_responses

    monkeypatch.setattr(sqlite_quick_responses, "BIG_LOAD_ROWS", 4)
    store, ctx, kb = env
    with store.write() as session:
        _load(session, ctx, kb, [{"name": f"a{i}", "content": {"content": "c"}} for i in range(20)], batch=20)
        added, during = _load(session, ctx, kb, [{"name": f"b{i}", "content": {"content": "c"}} for i in range(12)])
        assert added == 12 and during == INDEXES


def test_none_and_bytes_bind_as_null_and_blob_and_a_process_adapter_is_kept():
    import sqlite3
    import types

    from qconnect_local.storage.sqlite import store as sqlite_store

    conn = sqlite3.connect(":memory:")
    conn.execute("CREATE TABLE t (a, b)")
    conn.execute("INSERT INTO t VALUES (?, ?)", (None, b"\x00\x01"))
    assert conn.execute("SELECT a, typeof(a), b, typeof(b) FROM t").fetchall() == [(None, "null", b"\x00\x01", "blob")]
    # C functions: a Python adapter would run the interpreter loop, which hands the GIL to any
    # waiting thread, once per parameter bound (see _bind_none_and_bytes_directly).
    for kind in (type(None), bytes):
        assert isinstance(sqlite3.adapters[(kind, sqlite3.PrepareProtocol)], (types.BuiltinFunctionType, type))
    key = (bytes, sqlite3.PrepareProtocol)
    ours = sqlite3.adapters[key]
    try:
        sqlite3.adapters[key] = own = lambda value: value.hex()  # noqa: E731 - a user's own adapter
        sqlite_store._bind_none_and_bytes_directly()
        assert sqlite3.adapters[key] is own
    finally:
        sqlite3.adapters[key] = ours


def test_migration_102_rebuilds_the_search_index_of_an_existing_database(tmp_path, monkeypatch):
    """A database made before migration 102 (an FTS5 index with positions) gets the slimmer
    index, filled from the table: the same searches find the same rows."""
    from qconnect_local.storage.sqlite import store as sqlite_store
    from qconnect_local.storage.sqlite.schema import MIGRATIONS

    monkeypatch.setattr(sqlite_store.SQLiteStore, "migrations", lambda self: [m for m in MIGRATIONS if m[0] < 102])
    store, ctx, kb = open_env(tmp_path)
    kb_id = kb["knowledgeBaseId"]
    with store.write() as session:
        session.insert_quick_responses_bulk(
            ACCOUNT,
            REGION,
            kb_id,
            [
                prepare_quick_response(ctx, kb, {"name": f"n{i}", "content": {"content": f"hello word{i}"}})
                for i in range(5)
            ],
        )
        assert (
            "detail=column"
            not in session.conn.execute("SELECT sql FROM sqlite_master WHERE name = 'quick_responses_fts'").fetchone()[
                0
            ]
        )
    store.close()
    monkeypatch.undo()

    store = open_store(Settings(data_dir=tmp_path).database)
    try:
        with store.read() as session:
            assert (
                "detail=column"
                in session.conn.execute("SELECT sql FROM sqlite_master WHERE name = 'quick_responses_fts'").fetchone()[
                    0
                ]
            )
            session.conn.execute(
                "INSERT INTO quick_responses_fts (quick_responses_fts, rank) VALUES ('integrity-check', 1)"
            )
            for query, expected in (("word3", ["n3"]), ("hello", [f"n{i}" for i in range(5)])):
                plan = compile_search({"queries": [{"name": "content", "values": [query], "operator": "CONTAINS"}]}, 25)
                found = session.search_quick_responses(ACCOUNT, REGION, kb_id, plan)
                assert sorted(r["name"] for _, r in found) == expected
            plan = compile_search(
                {"queries": [{"name": "content", "values": ["wor"], "operator": "CONTAINS_AND_PREFIX"}]}, 25
            )
            assert len(session.search_quick_responses(ACCOUNT, REGION, kb_id, plan)) == 5
    finally:
        store.close()


def _fts_option(session, option):
    row = session.conn.execute("SELECT v FROM quick_responses_fts_config WHERE k = ?", (option,)).fetchone()
    return row[0] if row else None


@pytest.mark.parametrize("expected_rows", [0, 100], ids=["big-by-rows", "big-by-expectation"])
def test_a_big_bulk_load_merges_less_while_it_runs_and_puts_the_default_back(env, monkeypatch, expected_rows):
    """In a big load the search index merges its segments in 16s, and in FTS5's default 4s
    after it (queries read fewer segments); what the load left is merged, and the index agrees
    with the table (FTS5's own integrity check). A load is big once BIG_LOAD_ROWS rows are in,
    or from its first row when it is expected to be that big."""
    from qconnect_local.storage.sqlite import bulk_load as sqlite_quick_responses

    monkeypatch.setattr(sqlite_quick_responses, "FTS_BATCH_ROWS", 2)  # a segment every batch
    monkeypatch.setattr(sqlite_quick_responses, "BIG_LOAD_ROWS", 10)
    store, ctx, kb = env
    with store.write() as session:
        with session.quick_response_loader(ACCOUNT, REGION, kb["knowledgeBaseId"], expected_rows) as loader:
            for i in range(0, 60, 2):
                loader.add(
                    [
                        loader.build(
                            prepare_quick_response(
                                ctx, kb, {"name": f"n{j}", "content": {"content": f"word{j} common"}}
                            )
                        )
                        for j in (i, i + 1)
                    ]
                )
                big = expected_rows >= 10 or i >= 10  # i rows were in before this batch
                assert (_fts_option(session, "automerge") == sqlite_quick_responses.BULK_AUTOMERGE) == big
                assert (_unique_indexes(session) == set()) == big
            assert loader.finish() == 60
        assert _fts_option(session, "automerge") == 4
        session.conn.execute("INSERT INTO quick_responses_fts (quick_responses_fts) VALUES ('integrity-check')")
    with store.read() as session:
        plan = compile_search({"queries": [{"name": "content", "values": ["common"], "operator": "CONTAINS"}]}, 100)
        found = session.search_quick_responses(ACCOUNT, REGION, kb["knowledgeBaseId"], plan)
        assert sorted(r["name"] for _, r in found) == sorted(f"n{j}" for j in range(60))


def test_a_failed_big_bulk_load_leaves_the_merge_setting_as_it_was(env, monkeypatch):
    from qconnect_local.storage.sqlite import bulk_load as sqlite_quick_responses

    monkeypatch.setattr(sqlite_quick_responses, "BIG_LOAD_ROWS", 1)  # big from the second batch
    store, ctx, kb = env
    with store.read() as session:
        before = _fts_option(session, "automerge")
    with pytest.raises(ConflictException):
        with store.write() as session:
            _load(session, ctx, kb, [{"name": "same", "content": {"content": "c"}}] * 2, batch=1)
    with store.read() as session:
        assert _fts_option(session, "automerge") == before != sqlite_quick_responses.BULK_AUTOMERGE
        assert _unique_indexes(session) == INDEXES


def test_a_small_bulk_load_keeps_the_indexes_and_the_merge_setting(env):
    """Below BIG_LOAD_ROWS rows (loaded or expected) nothing changes for the load's sake."""
    from qconnect_local.storage.sqlite import bulk_load as sqlite_quick_responses

    store, ctx, kb = env
    with store.read() as session:
        before = _fts_option(session, "automerge")
    with store.write() as session:
        with session.quick_response_loader(ACCOUNT, REGION, kb["knowledgeBaseId"], expected_rows=12) as loader:
            for i in range(0, 12, 4):
                loader.add(
                    [
                        loader.build(prepare_quick_response(ctx, kb, {"name": f"n{j}", "content": {"content": "c"}}))
                        for j in range(i, i + 4)
                    ]
                )
                assert _unique_indexes(session) == INDEXES
                assert _fts_option(session, "automerge") == before != sqlite_quick_responses.BULK_AUTOMERGE
            assert loader.finish() == 12
        session.conn.execute("INSERT INTO quick_responses_fts (quick_responses_fts) VALUES ('integrity-check')")


def test_a_new_database_has_8_kib_pages_and_an_old_one_keeps_its_own(tmp_path):
    import sqlite3

    from qconnect_local.storage.sqlite import PAGE_SIZE

    store, _, _ = open_env(tmp_path / "new")
    with store.read() as session:
        assert session.conn.execute("PRAGMA page_size").fetchone()[0] == PAGE_SIZE == 8192
    store.close()
    old_dir = tmp_path / "old"
    old_dir.mkdir()
    with sqlite3.connect(old_dir / "state.sqlite3") as conn:  # made by an earlier version: 4 KiB
        conn.execute("PRAGMA page_size = 4096")
        conn.execute("CREATE TABLE made_before (x)")
    store, ctx, kb = open_env(old_dir)
    with store.write() as session:
        session.insert_quick_response(
            ACCOUNT,
            REGION,
            kb["knowledgeBaseId"],
            prepare_quick_response(ctx, kb, {"name": "n", "content": {"content": "c"}}),
        )
    with store.read() as session:
        assert session.conn.execute("PRAGMA page_size").fetchone()[0] == 4096
        assert session.quick_response_keys(ACCOUNT, REGION, kb["knowledgeBaseId"])[2] == 1
    store.close()


@pytest.mark.parametrize("big", [False, True])
def test_idle_indexes_the_rows_so_far_unless_the_load_is_big(env, monkeypatch, big):
    """While an import waits for its next batch, a load that is not big adds its rows to the
    search index early (a big one leaves them for a full FTS_BATCH_ROWS statement)."""
    from qconnect_local.storage.sqlite import bulk_load as sqlite_quick_responses

    monkeypatch.setattr(sqlite_quick_responses, "BIG_LOAD_ROWS", 10)
    store, ctx, kb = env

    def indexed(session):
        return session.conn.execute(
            "SELECT count(*) FROM quick_responses_fts WHERE quick_responses_fts MATCH 'content:word*'"
        ).fetchone()[0]

    with store.write() as session:
        with session.quick_response_loader(ACCOUNT, REGION, kb["knowledgeBaseId"], 10 if big else 0) as loader:
            loader.add(
                [
                    loader.build(prepare_quick_response(ctx, kb, {"name": f"n{j}", "content": {"content": f"word{j}"}}))
                    for j in range(3)
                ]
            )
            assert indexed(session) == 0
            loader.idle()
            assert indexed(session) == (0 if big else 3)
            loader.idle()  # nothing new: nothing happens
            assert loader.finish() == 3
            assert indexed(session) == 3
        session.conn.execute("INSERT INTO quick_responses_fts (quick_responses_fts) VALUES ('integrity-check')")


def _order_names(session, kb_id, field, order):
    plan = compile_search({"orderOnField": {"name": field, "order": order}}, 25)
    return [r["name"] for _, r in session.search_quick_responses(ACCOUNT, REGION, kb_id, plan)]


def test_migration_103_adds_the_order_indexes_to_an_existing_database(tmp_path, monkeypatch):
    """A database made before migration 103 gets an index per orderable field (and loses the
    (kb, modified_time) one they make redundant); orderOnField then reads from them, with the same
    order as before: missing values last, names ascending within a value, both directions."""
    from qconnect_local.storage.sqlite import store as sqlite_store
    from qconnect_local.storage.sqlite.schema import MIGRATIONS

    monkeypatch.setattr(sqlite_store.SQLiteStore, "migrations", lambda self: [m for m in MIGRATIONS if m[0] < 103])
    store, ctx, kb = open_env(tmp_path)
    kb_id = kb["knowledgeBaseId"]
    languages = ["fr_FR", None, "en_US", "fr_FR", None, "de_DE"]
    with store.write() as session:
        session.insert_quick_responses_bulk(
            ACCOUNT,
            REGION,
            kb_id,
            [
                prepare_quick_response(
                    ctx, kb, {"name": f"n{5 - i}", "content": {"content": "x"}, **({"language": lang} if lang else {})}
                )
                for i, lang in enumerate(languages)
            ],
        )
        before = {o: _order_names(session, kb_id, "language", o) for o in ("ASC", "DESC")}
    store.close()
    monkeypatch.undo()

    store = open_store(Settings(data_dir=tmp_path).database)
    try:
        with store.read() as session:
            names = {n for (n,) in session.conn.execute("SELECT name FROM sqlite_master WHERE type = 'index'")}
            assert set(order_indexes()) <= names and "quick_responses_modified" not in names
            plan = session.conn.execute(
                "EXPLAIN QUERY PLAN SELECT q.seq FROM quick_responses q WHERE q.kb = 1 AND q.language IS NOT NULL"
                " ORDER BY q.language, q.name LIMIT 3"
            ).fetchall()
            assert "quick_responses_order_language" in plan[0][3]
            after = {o: _order_names(session, kb_id, "language", o) for o in ("ASC", "DESC")}
    finally:
        store.close()
    assert after == before
    assert after["ASC"] == ["n0", "n3", "n2", "n5", "n1", "n4"]
    assert after["DESC"] == ["n2", "n5", "n3", "n0", "n1", "n4"]


def test_a_quick_response_and_its_knowledge_base_read_in_one_statement(env):
    assert_quick_response_and_knowledge_base_in_one_read(*env)
