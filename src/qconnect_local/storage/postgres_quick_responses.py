"""PostgreSQL SQL for quick responses and their search index (mirrors sqlite_quick_responses.py:
the same method names, arguments, records and errors).

Layout
------
The same columns as the SQLite table. Text columns use the "C" collation, so ordering and
comparisons are byte-wise as in SQLite (ListQuickResponses pages in name order, and a name
compares equal only to itself), and prefix comparisons can use the btree indexes.

Search uses PostgreSQL's own machinery instead of FTS5 (search/postgres.py has the details):
`search_words`, a tsvector of field-tagged words built with the search plan's own tokenizer, with
a GIN index, answers word, prefix (`:*`) and exact whole-field queries; `quick_response_words`
(every indexed word, with fuzzystrmatch's levenshtein) answers allowFuzziness. Both are written
by this module's methods in the caller's transaction.

Concurrency: every method that writes inside a knowledge base first reads its row through
`knowledge_base_seq`, which locks it in a write session (see postgres.py), so writers of one
knowledge base are serialized across servers and workers, as the SQLite store's write lock does
on one machine; the unique indexes stay the last word.
"""

from __future__ import annotations

from typing import Any, Iterable

import orjson
import psycopg
import psycopg.errors

from qconnect_local.errors import ConflictException, ResourceNotFoundException

Record = dict[str, Any]

SEP = "\x1f"

# Schema steps of this module (versions 100-199, the same numbers as the SQLite store's).
MIGRATIONS: list[tuple[int, str]] = [
    (
        100,
        """
        CREATE EXTENSION IF NOT EXISTS fuzzystrmatch;
        CREATE TABLE quick_responses (
            seq                BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,  -- creation order
            kb                 BIGINT NOT NULL REFERENCES knowledge_bases(seq) ON DELETE CASCADE,
            id                 TEXT COLLATE "C" NOT NULL UNIQUE,
            name               TEXT COLLATE "C" NOT NULL,
            shortcut_key       TEXT COLLATE "C",
            description        TEXT COLLATE "C",
            content            TEXT COLLATE "C" NOT NULL,   -- contents.plainText (searched)
            markdown           TEXT,                        -- contents.markdown when it differs
            content_type       TEXT COLLATE "C" NOT NULL,
            is_active          INTEGER NOT NULL,
            language           TEXT COLLATE "C",
            channels           TEXT COLLATE "C",            -- '\x1f'-delimited, NULL when absent/empty
            grouping_criteria  TEXT COLLATE "C",
            grouping_values    TEXT COLLATE "C",            -- '\x1f'-delimited, NULL when absent/empty
            created_time       DOUBLE PRECISION NOT NULL,
            modified_time      DOUBLE PRECISION NOT NULL,
            modified_by        TEXT COLLATE "C",
            data               JSONB NOT NULL,              -- the record without `contents`
            search_words       tsvector NOT NULL            -- see search/postgres.py
        );
        CREATE UNIQUE INDEX quick_responses_name ON quick_responses (kb, name);
        CREATE UNIQUE INDEX quick_responses_shortcut ON quick_responses (kb, shortcut_key)
            WHERE shortcut_key IS NOT NULL;
        CREATE INDEX quick_responses_search ON quick_responses USING gin (search_words);

        -- Every word ever indexed (for allowFuzziness); never shrinks, a superset is harmless.
        CREATE TABLE quick_response_words (
            word  TEXT COLLATE "C" PRIMARY KEY
        );
        CREATE INDEX quick_response_words_length ON quick_response_words (length(word));
        """,
    ),
]

_COLUMNS = (
    "kb", "id", "name", "shortcut_key", "description", "content", "markdown", "content_type",
    "is_active", "language", "channels", "grouping_criteria", "grouping_values", "created_time",
    "modified_time", "modified_by", "data", "search_words",
)
_INSERT = f"INSERT INTO quick_responses ({', '.join(_COLUMNS)}) VALUES ({', '.join(['%s'] * len(_COLUMNS))})"
_COPY = f"COPY quick_responses ({', '.join(_COLUMNS)}) FROM STDIN"
_UPDATE = f"UPDATE quick_responses SET {', '.join(f'{c} = %s' for c in _COLUMNS)} WHERE seq = %s"
SELECT_RECORD = "q.data, q.content, q.markdown"


def encode_list(values: list[str] | None) -> str | None:
    return SEP + SEP.join(values) + SEP if values else None


def _row(kb_seq: int, record: Record, words: set[str] | None = None) -> tuple[Any, ...]:
    """The column values of a record; its indexed words are added to `words` when given."""
    from qconnect_local.search.postgres import index_words

    contents = record["contents"]
    plain = contents["plainText"]["content"]
    markdown = contents["markdown"]["content"]
    grouping = record.get("groupingConfiguration") or {}
    data = {k: v for k, v in record.items() if k != "contents"}
    search_words, found = index_words({
        "name": record["name"], "shortcut_key": record.get("shortcutKey"),
        "description": record.get("description"), "content": plain,
    })
    if words is not None:
        words.update(found)
    return (
        kb_seq, record["quickResponseId"], record["name"], record.get("shortcutKey"),
        record.get("description"), plain, None if markdown == plain else markdown,
        record["contentType"], 1 if record.get("isActive", True) else 0, record.get("language"),
        encode_list(record.get("channels")), grouping.get("criteria"),
        encode_list(grouping.get("values")), record["createdTime"], record["lastModifiedTime"],
        record.get("lastModifiedBy"),
        # Text, not Jsonb: COPY's text format and INSERT both let the server parse it as jsonb
        # (and the tsvector literal the same way).
        orjson.dumps(data).decode(), search_words,
    )


def record_from_row(data: Record, content: str, markdown: str | None) -> Record:
    record = dict(data)
    record["contents"] = {
        "plainText": {"content": content},
        "markdown": {"content": content if markdown is None else markdown},
    }
    return record


def _conflict(exc: psycopg.errors.UniqueViolation, record: Record) -> ConflictException:
    constraint = exc.diag.constraint_name or ""
    if constraint == "quick_responses_shortcut":
        return ConflictException(
            f"A quick response with the shortcutKey '{record.get('shortcutKey')}' already exists in this knowledge base"
        )
    if constraint == "quick_responses_name":
        return ConflictException(
            f"A quick response with the name '{record.get('name')}' already exists in this knowledge base"
        )
    if constraint == "quick_responses_id_key":
        return ConflictException(f"A quick response with the id '{record.get('quickResponseId')}' already exists")
    raise exc


class QuickResponseQueries:
    """Mixed into PostgresSession; `self.conn` is the session's connection."""

    conn: psycopg.Connection
    writing: bool

    def _kb_seq(self, account: str, region: str, kb_id: str) -> int:
        # In a write session this also locks the knowledge base row until the session ends.
        seq = self.knowledge_base_seq(account, region, kb_id)  # type: ignore[attr-defined]
        if seq is None:
            raise ResourceNotFoundException("Knowledge base not found", resource_name=kb_id)
        return seq

    # -- the import contract ------------------------------------------------------------------

    def insert_quick_response(self, account: str, region: str, kb_id: str, record: Record) -> None:
        """Inserts one quick response; a duplicate name or shortcutKey raises ConflictException
        naming the field, and leaves the session usable (the insert runs in a savepoint, since a
        failed statement would otherwise abort the whole PostgreSQL transaction)."""
        words: set[str] = set()
        row = _row(self._kb_seq(account, region, kb_id), record, words)
        try:
            with self.conn.transaction():
                self.conn.execute(_INSERT, row)
        except psycopg.errors.UniqueViolation as exc:
            raise _conflict(exc, record) from None
        self._remember_words(words)

    def _remember_words(self, words: set[str]) -> None:
        """Adds words to the fuzzy-search vocabulary. Sorted, so that concurrent writers insert
        shared new words in one order and cannot deadlock on them."""
        from qconnect_local.search.postgres import _MAX_FUZZY_WORD

        fresh = sorted(w for w in words if len(w) <= _MAX_FUZZY_WORD)
        if fresh:
            self.conn.execute(
                "INSERT INTO quick_response_words (word) SELECT unnest(%s::text[]) ON CONFLICT DO NOTHING",
                (fresh,),
            )

    def quick_response_keys(self, account: str, region: str, kb_id: str) -> tuple[set[str], set[str], int]:
        """(names, shortcut keys, count) of the knowledge base's quick responses."""
        kb = self._kb_seq(account, region, kb_id)
        names: set[str] = set()
        keys: set[str] = set()
        for name, key in self.conn.execute(
            "SELECT name, shortcut_key FROM quick_responses WHERE kb = %s", (kb,)
        ):
            names.add(name)
            if key is not None:
                keys.add(key)
        return names, keys, len(names)

    def count_quick_responses(self, account: str, region: str, kb_id: str, at_most: int | None = None) -> int:
        """How many quick responses the knowledge base holds; with `at_most`, counting stops there."""
        kb = self._kb_seq(account, region, kb_id)
        if at_most is not None:
            return self.conn.execute(
                "SELECT count(*) FROM (SELECT 1 FROM quick_responses WHERE kb = %s LIMIT %s) AS q", (kb, at_most)
            ).fetchone()[0]
        return self.conn.execute("SELECT count(*) FROM quick_responses WHERE kb = %s", (kb,)).fetchone()[0]

    def insert_quick_responses_bulk(
        self, account: str, region: str, kb_id: str, records: Iterable[Record]
    ) -> int:
        """The import fast path: streams the records (already checked for uniqueness and quota)
        into one COPY in the caller's write session. Returns how many were inserted.

        A duplicate that slipped through still raises ConflictException (unique indexes), and
        the caller's transaction then rolls everything back.
        """
        kb = self._kb_seq(account, region, kb_id)
        count = 0
        last: Record = {}
        words: set[str] = set()
        try:
            with self.conn.cursor() as cur, cur.copy(_COPY) as copy:
                for record in records:
                    last = record
                    copy.write_row(_row(kb, record, words))
                    count += 1
        except psycopg.errors.UniqueViolation as exc:
            raise _conflict(exc, last) from None
        self._remember_words(words)
        return count

    def quick_response_loader(self, account: str, region: str, kb_id: str) -> "BulkLoader":
        """The SQLite store's bulk-load contract (build, add, finish; a context manager)."""
        self._kb_seq(account, region, kb_id)
        return BulkLoader(self, account, region, kb_id)


    def touch_knowledge_base_content(self, account: str, region: str, kb_id: str, when: float) -> None:
        """Sets the knowledge base's lastContentModificationTime to `when` (epoch seconds)."""
        kb = self.get_knowledge_base(account, region, kb_id)  # type: ignore[attr-defined]
        if kb is None:
            raise ResourceNotFoundException("Knowledge base not found", resource_name=kb_id)
        kb["lastContentModificationTime"] = when
        self.update_knowledge_base(account, region, kb)  # type: ignore[attr-defined]

    # -- single-record operations -------------------------------------------------------------

    def get_quick_response(self, account: str, region: str, kb_id: str, qr_id: str) -> Record | None:
        row = self.conn.execute(
            f"SELECT {SELECT_RECORD} FROM quick_responses q JOIN knowledge_bases k ON k.seq = q.kb"
            " WHERE q.id = %s AND k.id = %s AND k.account_id = %s AND k.region = %s",
            (qr_id, kb_id, account, region),
        ).fetchone()
        return record_from_row(*row) if row else None

    def update_quick_response(self, account: str, region: str, kb_id: str, record: Record) -> None:
        """Replaces a quick response (same id); ConflictException as for insert."""
        kb = self._kb_seq(account, region, kb_id)
        old = self.conn.execute(
            "SELECT seq FROM quick_responses WHERE id = %s AND kb = %s",
            (record["quickResponseId"], kb),
        ).fetchone()
        if old is None:
            raise ResourceNotFoundException("Quick response not found", resource_name=record["quickResponseId"])
        words: set[str] = set()
        try:
            with self.conn.transaction():
                self.conn.execute(_UPDATE, (*_row(kb, record, words), old[0]))
        except psycopg.errors.UniqueViolation as exc:
            raise _conflict(exc, record) from None
        self._remember_words(words)

    def delete_quick_response(self, account: str, region: str, kb_id: str, qr_id: str) -> bool:
        kb = self._kb_seq(account, region, kb_id)
        cur = self.conn.execute("DELETE FROM quick_responses WHERE id = %s AND kb = %s", (qr_id, kb))
        return cur.rowcount > 0

    def list_quick_responses(
        self, account: str, region: str, kb_id: str, after: str | None, limit: int
    ) -> list[Record]:
        """Records in name order (byte-wise, as SQLite), after the given name (keyset pagination)."""
        kb = self._kb_seq(account, region, kb_id)
        rows = self.conn.execute(
            f"SELECT {SELECT_RECORD} FROM quick_responses q WHERE kb = %s AND name > %s ORDER BY name LIMIT %s",
            (kb, after if after is not None else "", limit),
        ).fetchall()
        return [record_from_row(*row) for row in rows]

    def search_quick_responses(self, account: str, region: str, kb_id: str, plan: Any) -> list[tuple[Any, Record]]:
        """Runs a search/plan.py SearchPlan: up to plan.limit + 1 (SortKey, record) results after
        plan.after, in the plan's order (see search/postgres.py)."""
        from qconnect_local.search import postgres as search_postgres

        return search_postgres.search(self.conn, self._kb_seq(account, region, kb_id), plan)


class BulkLoader:
    """A bulk load through `insert_quick_responses_bulk`, one COPY per batch. A row is the record
    itself: COPY's encoding runs in `add`."""

    def __init__(self, session: QuickResponseQueries, account: str, region: str, kb_id: str) -> None:
        self.session, self.account, self.region, self.kb_id = session, account, region, kb_id
        self.added = 0

    def __enter__(self) -> "BulkLoader":
        return self

    def __exit__(self, *exc: Any) -> None:
        pass

    @staticmethod
    def build(record: Record) -> Record:
        return record

    def add(self, rows: list[Record]) -> int:
        added = self.session.insert_quick_responses_bulk(self.account, self.region, self.kb_id, rows)
        self.added += added
        return added

    def finish(self) -> int:
        return self.added
