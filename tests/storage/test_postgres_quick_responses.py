"""The PostgreSQL store's quick-response rows, in process: the slimmed `data` column (records
rebuilt from the columns read back exactly, and rows written with the whole record still read
the same), the bulk path's search words (the search module's lexemes) and the bulk loader
(fuzzy-search vocabulary, conflicts, one transaction)."""

from __future__ import annotations

import contextlib
import random
import time

import orjson
import psycopg
import pytest

import postgres_support
from qconnect_local.config import Settings
from qconnect_local.errors import ConflictException
from qconnect_local.operations.quick_responses import prepare_quick_response
from qconnect_local.search.plan import compile_search
from qconnect_local.storage import open_store
from storage_support import (
    ACCOUNT,
    REGION,
    ROUND_TRIPS,
    WRITE_PATHS,
    assert_quick_response_and_knowledge_base_in_one_read,
    assert_reads_back_as_written,
    new_knowledge_base,
)
from team_support import needs_postgres

pytestmark = needs_postgres


@pytest.fixture(scope="module")
def store():
    s = open_store(postgres_support.new_database("qr"))
    yield s
    s.close()


@pytest.fixture
def env(store, tmp_path):
    settings = Settings(data_dir=tmp_path)
    settings.prepare()
    ctx, kb = new_knowledge_base(store, settings)
    return store, ctx, kb


def _search(session, kb_id, words, field="content", fuzzy=False):
    query = {"name": field, "values": [words], "operator": "CONTAINS", **({"allowFuzziness": True} if fuzzy else {})}
    plan = compile_search({"queries": [query]}, limit=10, after=None)
    return [r for _, r in session.search_quick_responses(ACCOUNT, REGION, kb_id, plan)]


def _slim(session, record):
    (data,) = session.conn.execute(
        "SELECT data FROM quick_responses WHERE id = %s", (record["quickResponseId"],)
    ).fetchone()
    assert "quickResponseArn" not in data and "name" not in data


@pytest.mark.parametrize("params", ROUND_TRIPS)
@pytest.mark.parametrize("path", WRITE_PATHS)
def test_records_read_back_as_written(env, params, path):
    """`data` keeps only what the columns cannot give back: every member still reads back exactly,
    through get, list and search, whichever way the row was written."""
    assert_reads_back_as_written(*env, params, path, check_stored=_slim)


def test_rows_with_the_whole_record_in_data_read_the_same(env):
    """Databases written before `data` was slimmed hold the whole record (without `contents`)."""
    store, ctx, kb = env
    kb_id = kb["knowledgeBaseId"]
    record = prepare_quick_response(
        ctx,
        kb,
        {
            "name": "n",
            "content": {"content": "some words"},
            "channels": [],
            "tags": {"k": "v"},
            "description": "d",
            "shortcutKey": "s",
            "groupingConfiguration": {"criteria": "RoutingProfileArn"},
        },
    )
    with store.write() as session:
        session.insert_quick_response(ACCOUNT, REGION, kb_id, record)
        whole = {k: v for k, v in record.items() if k != "contents"}
        session.conn.execute(
            "UPDATE quick_responses SET data = %s::jsonb WHERE id = %s",
            (orjson.dumps(whole).decode(), record["quickResponseId"]),
        )
    with store.read() as session:
        assert session.get_quick_response(ACCOUNT, REGION, kb_id, record["quickResponseId"]) == record
        assert session.list_quick_responses(ACCOUNT, REGION, kb_id, None, 10) == [record]
        assert _search(session, kb_id, "some words") == [record]


def _one_lexeme_per_word(fields: dict) -> tuple[str, set[str]]:
    """The plain way to the lexemes (a string per word, the exact ones mixed in): the oracle the
    storage module's faster `index_words` is checked against."""
    from qconnect_local.search.plan import tokenize
    from qconnect_local.storage.postgres.rows import FIELD_PREFIXES
    from qconnect_local.storage.postgres.rows import MAX_WORD_BYTES as _MAX_WORD_BYTES
    from qconnect_local.storage.postgres.rows import exact_lexeme as _exact_lexeme
    from qconnect_local.storage.postgres.rows import word_lexeme as _word_lexeme

    parts: list[str] = []
    words_seen: set[str] = set()
    for column, prefix in FIELD_PREFIXES.items():
        text = fields.get(column)
        words = tokenize(text) if text else []
        if not words:
            continue
        unique = set(words)
        words_seen |= unique
        parts.extend(prefix + ":" + w if len(w) <= _MAX_WORD_BYTES // 4 else _word_lexeme(prefix, w) for w in unique)
        parts.append(_exact_lexeme(prefix, words))
    return ("'" + "' '".join(parts) + "'" if parts else ""), words_seen


def test_bulk_index_words_are_the_search_modules():
    """The storage module's `index_words` (one join per field) gives the search module's lexemes
    (the exact whole-field ones apart) and words, for every kind of text: case, punctuation,
    digits, non-ASCII, very long words."""
    from qconnect_local.storage.postgres.rows import index_words

    rng = random.Random(7)
    alphabet = "aZ09 ,.-_\t\n'\"!é日ßİ"
    for n in range(3000):
        fields = tuple(
            None if rng.random() < 0.1 else "".join(rng.choice(alphabet) for _ in range(rng.randint(0, 12)))
            for _ in range(4)
        )
        if n % 100 == 0:  # words too long to be kept whole
            fields = (fields[0], fields[1], "é" * 130 + " b", "x" * 600 + " tail")
        expected, expected_words = _one_lexeme_per_word(
            dict(zip(("name", "shortcut_key", "description", "content"), fields, strict=False))
        )
        got, exact, words = index_words(fields)
        split = lambda literal: literal[1:-1].split("' '") if literal else []  # noqa: E731
        assert sorted(split(got) + split(exact)) == sorted(split(expected)), fields
        assert all(lexeme.startswith("x") for lexeme in split(exact))
        assert not any(lexeme.startswith("x") for lexeme in split(got))
        assert words == expected_words


class _SideConnectionFailing:
    """A side connection (see WordsWriter) that works for `works` statements of the words writer
    and then fails as a lost connection would; `works=None`: cannot be had at all."""

    def __init__(self, store, works, delay=0.0):
        self.store, self.works, self.delay, self.calls = store, works, delay, 0

    @contextlib.contextmanager
    def __call__(self):
        time.sleep(self.delay)  # as a pool waiting for a free connection would
        if self.works is None:
            raise psycopg.OperationalError("connection refused")
        with self.store.pool.connection() as conn:
            outer = self

            class Failing:
                transaction = conn.transaction

                def execute(self, sql, *args):
                    if sql.startswith("INSERT"):
                        outer.calls += 1
                        if outer.calls > outer.works:
                            raise psycopg.OperationalError("server closed the connection unexpectedly")
                    return conn.execute(sql, *args)

            yield Failing()


@pytest.mark.parametrize("side", ["works", "fails at once", "fails half-way", "fails after a wait"])
def test_a_bulk_load_fills_the_fuzzy_vocabulary_once(env, side):
    """The loader hands each new word to quick_response_words once per load (on a connection
    of its own; in its own transaction if that connection fails, at once or half-way); fuzzy
    search then finds the loaded rows."""
    store, ctx, kb = env
    kb_id = kb["knowledgeBaseId"]
    animals = ["zebrafish", "porpoise", "walrus"]
    records = [
        prepare_quick_response(ctx, kb, {"name": f"qr {i}", "content": {"content": f"{animals[i % 3]} common"}})
        for i in range(9)
    ]
    with store.write() as session:
        if side != "works":
            # "after a wait": more batches than the writer's queue holds arrive in the meantime.
            session.side_connection = _SideConnectionFailing(
                store, 1 if side == "fails half-way" else None, delay=0.3 if side == "fails after a wait" else 0.0
            )
        with session.quick_response_loader(ACCOUNT, REGION, kb_id) as loader:
            rows = [loader.build(r) for r in records]
            for row in rows:  # a batch a row: more batches than the words writer's queue holds
                loader.add([row])
            assert loader.finish() == 9
        words = {
            w
            for (w,) in session.conn.execute(
                "SELECT word FROM quick_response_words WHERE word = ANY(%s)", (animals + ["common", "qr", "0"],)
            )
        }
        assert words == {*animals, "common", "qr", "0"}
    with store.read() as session:
        assert sorted(r["name"] for r in _search(session, kb_id, "zebrafisk", fuzzy=True)) == ["qr 0", "qr 3", "qr 6"]
        assert len(session.list_quick_responses(ACCOUNT, REGION, kb_id, None, 100)) == 9


@pytest.mark.parametrize("clash", ["name", "shortcutKey"])
def test_a_duplicate_in_a_bulk_load_fails_it_whole(env, clash):
    """The unique constraints have the last word: a clash that got past the import's checks
    raises ConflictException naming the member, and the whole transaction rolls back."""
    store, ctx, kb = env
    kb_id = kb["knowledgeBaseId"]
    existing = prepare_quick_response(ctx, kb, {"name": "taken", "content": {"content": "c"}, "shortcutKey": "k"})
    with store.write() as session:
        session.insert_quick_response(ACCOUNT, REGION, kb_id, existing)
    fresh = [prepare_quick_response(ctx, kb, {"name": f"f{i}", "content": {"content": "lonelyword"}}) for i in range(5)]
    bad = prepare_quick_response(
        ctx, kb, {"name": "taken" if clash == "name" else "other", "content": {"content": "c"}, "shortcutKey": "k"}
    )
    with pytest.raises(ConflictException) as e:
        with store.write() as session:
            with session.quick_response_loader(ACCOUNT, REGION, kb_id) as loader:
                loader.add([loader.build(r) for r in fresh[:2]])
                loader.add([loader.build(r) for r in [fresh[2], bad, *fresh[3:]]])  # not the last row
                loader.finish()
    if clash == "name":
        assert e.value.message == "A quick response with the name 'taken' already exists in this knowledge base"
    else:
        assert e.value.message == "A quick response with the shortcutKey 'k' already exists in this knowledge base"
    with store.read() as session:
        assert [r["name"] for r in session.list_quick_responses(ACCOUNT, REGION, kb_id, None, 10)] == ["taken"]
        # The fuzzy-search words go in on a connection of their own as the load runs (see
        # WordsWriter): they may stay, once, since the table only needs a superset of the words.
        assert (
            session.conn.execute("SELECT count(*) FROM quick_response_words WHERE word = 'lonelyword'").fetchone()[0]
            <= 1
        )
        assert not _search(session, kb_id, "lonelyword") and not _search(session, kb_id, "lonelywords", fuzzy=True)


def test_exact_matches_score_double_in_new_and_old_rows(env):
    """Exact whole-field lexemes live in `exact_words`; rows written before that column (NULL
    there, the lexemes in `search_words`) score the same."""
    store, ctx, kb = env
    kb_id = kb["knowledgeBaseId"]
    exact = prepare_quick_response(ctx, kb, {"name": "a", "content": {"content": "Blue Sky"}})
    partial = prepare_quick_response(ctx, kb, {"name": "b", "content": {"content": "blue sky today"}})
    plan = compile_search(
        {"queries": [{"name": "content", "values": ["blue sky"], "operator": "CONTAINS"}]}, limit=10, after=None
    )
    with store.write() as session:
        session.insert_quick_responses_bulk(ACCOUNT, REGION, kb_id, [partial, exact])
        new = [(k.score, r["name"]) for k, r in session.search_quick_responses(ACCOUNT, REGION, kb_id, plan)]
        assert new[0][1] == "a" and new[0][0] == 2 * new[1][0] and new[1][1] == "b"
        (searched,) = session.conn.execute(
            "SELECT search_words::text FROM quick_responses WHERE id = %s", (exact["quickResponseId"],)
        ).fetchone()
        assert "'x" not in searched  # not in the GIN index
        session.conn.execute(
            "UPDATE quick_responses SET search_words = search_words || exact_words,"
            " exact_words = NULL WHERE kb = (SELECT seq FROM knowledge_bases WHERE id = %s)",
            (kb_id,),
        )
        old = [(k.score, r["name"]) for k, r in session.search_quick_responses(ACCOUNT, REGION, kb_id, plan)]
        assert old == new


def test_bulk_index_words_come_in_the_tsvector_order():
    """Lexemes sorted as PostgreSQL sorts a tsvector's (bytes of UTF-8), so that its sorts find
    them sorted already."""
    from qconnect_local.storage.postgres.rows import index_words

    got, exact, _ = index_words(("Zeta alpha é日", "k9", "beta Alpha", "omega " + "y" * 600 + " ä b"))
    for literal in (got, exact):
        lexemes = literal[1:-1].split("' '")
        assert lexemes == sorted(lexemes, key=lambda lexeme: lexeme.encode("utf-8")), lexemes


def test_migration_102_adds_the_order_indexes_to_an_existing_database(monkeypatch, tmp_path):
    """A database made before migration 102 gets an index per orderable field; orderOnField reads
    the same order from them (missing values last, names ascending within a value)."""
    from qconnect_local.storage.postgres import store as pg_store
    from qconnect_local.storage.postgres.schema import MIGRATIONS
    from qconnect_local.storage.sql.search_order import order_indexes

    url = postgres_support.new_database("order")
    monkeypatch.setattr(pg_store.PostgresStore, "migrations", lambda self: [m for m in MIGRATIONS if m[0] < 102])
    settings = Settings(data_dir=tmp_path)
    settings.prepare()
    store = open_store(url)
    ctx, kb = new_knowledge_base(store, settings)
    kb_id = kb["knowledgeBaseId"]
    languages = ["fr_FR", None, "en_US", "fr_FR", None, "de_DE"]
    with store.write() as session:
        for i, lang in enumerate(languages):
            params = {"name": f"n{5 - i}", "content": {"content": "x"}, **({"language": lang} if lang else {})}
            session.insert_quick_response(ACCOUNT, REGION, kb_id, prepare_quick_response(ctx, kb, params))
    store.close()
    monkeypatch.undo()

    store = open_store(url)
    try:
        with store.read() as session:
            names = {n for (n,) in session.conn.execute("SELECT indexname FROM pg_indexes")}
            assert set(order_indexes()) <= names
            for order, expected in (
                ("ASC", ["n0", "n3", "n2", "n5", "n1", "n4"]),
                ("DESC", ["n2", "n5", "n3", "n0", "n1", "n4"]),
            ):
                plan = compile_search({"orderOnField": {"name": "language", "order": order}}, 25)
                found = session.search_quick_responses(ACCOUNT, REGION, kb_id, plan)
                assert [r["name"] for _, r in found] == expected
    finally:
        store.close()


def test_a_quick_response_and_its_knowledge_base_read_in_one_statement(env):
    assert_quick_response_and_knowledge_base_in_one_read(*env)
