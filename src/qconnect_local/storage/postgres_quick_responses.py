"""PostgreSQL SQL for quick responses and their search index (mirrors sqlite_quick_responses.py:
the same method names, arguments, records and errors).

Layout
------
The same columns as the SQLite table. Text columns use the "C" collation, so ordering and
comparisons are byte-wise as in SQLite (ListQuickResponses pages in name order, and a name
compares equal only to itself), and prefix comparisons can use the btree indexes.

`data` holds only what the columns cannot give back (see `_data`), as in the SQLite store: the
record is rebuilt from the columns and its knowledge base's ids (`record_from_row`, reading
SELECT_RECORD). Rows written before hold the whole record (without `contents`) there; laid over
the rebuilt record it gives the same one, so old databases need no rewrite. A bulk import's
JSONB went from ~700 bytes a row to `{}`.

Search uses PostgreSQL's own machinery instead of FTS5 (search/postgres.py has the details):
`search_words`, a tsvector of field-tagged words built with the search plan's own tokenizer, with
a GIN index, answers word and prefix (`:*`) queries; `exact_words` (no index) the exact
whole-field test on the rows found; `quick_response_words`
(every indexed word, with fuzzystrmatch's levenshtein) answers allowFuzziness. Both are written
by this module's methods in the caller's transaction.

Concurrency: every method that writes inside a knowledge base first reads its row through
`knowledge_base_seq`, which locks it in a write session (see postgres.py), so writers of one
knowledge base are serialized across servers and workers, as the SQLite store's write lock does
on one machine; the unique indexes stay the last word.
"""

from __future__ import annotations

import logging
import queue
import threading
from collections.abc import Callable, Iterable
from typing import Any

import orjson
import psycopg
import psycopg.errors

from qconnect_local.errors import ConflictException, ResourceNotFoundException
from qconnect_local.storage.quick_response_records import (  # noqa: F401 - SEP: search/postgres.py takes it from here
    SEP,
    Record,
    data_extras,
    encode_list,
    record_from_columns,
)

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
    (
        101,
        """
        -- The exact whole-field lexemes (x<f>:<hash>, see search/postgres.py), kept out of the
        -- GIN index: search only tests them on rows the index already found, and as a new,
        -- random key per field and row they were a fifth of an import's database work. NULL
        -- in rows written before, whose search_words hold them.
        ALTER TABLE quick_responses ADD COLUMN exact_words tsvector;
        """,
    ),
]

_COLUMNS = (
    "kb",
    "id",
    "name",
    "shortcut_key",
    "description",
    "content",
    "markdown",
    "content_type",
    "is_active",
    "language",
    "channels",
    "grouping_criteria",
    "grouping_values",
    "created_time",
    "modified_time",
    "modified_by",
    "data",
    "search_words",
    "exact_words",
)
_INSERT = f"INSERT INTO quick_responses ({', '.join(_COLUMNS)}) VALUES ({', '.join(['%s'] * len(_COLUMNS))})"
_COPY = f"COPY quick_responses ({', '.join(_COLUMNS)}) FROM STDIN"
_UPDATE = f"UPDATE quick_responses SET {', '.join(f'{c} = %s' for c in _COLUMNS)} WHERE seq = %s"
# What `record_from_row` takes, from `quick_responses q JOIN knowledge_bases k ON k.seq = q.kb`
# (aliased, so that a query can select them in a subquery and name them again outside:
# RECORD_NAMES).
_RECORD_COLUMNS = (
    ("k.account_id", "r_account"),
    ("k.region", "r_region"),
    ("k.id", "r_kb_id"),
    ("q.id", "r_id"),
    ("q.name", "r_name"),
    ("q.shortcut_key", "r_shortcut_key"),
    ("q.description", "r_description"),
    ("q.content", "r_content"),
    ("q.markdown", "r_markdown"),
    ("q.content_type", "r_content_type"),
    ("q.is_active", "r_is_active"),
    ("q.language", "r_language"),
    ("q.channels", "r_channels"),
    ("q.grouping_criteria", "r_grouping_criteria"),
    ("q.grouping_values", "r_grouping_values"),
    ("q.created_time", "r_created_time"),
    ("q.modified_time", "r_modified_time"),
    ("q.modified_by", "r_modified_by"),
    ("q.data", "r_data"),
)
SELECT_RECORD = ", ".join(f"{expr} AS {alias}" for expr, alias in _RECORD_COLUMNS)
RECORD_NAMES = ", ".join(alias for _, alias in _RECORD_COLUMNS)


def _data(record: Record, channels: str | None, criteria: str | None, values: str | None) -> str:
    """The `data` column (JSON text for COPY and INSERT): see quick_response_records.data_extras."""
    extras = data_extras(record, channels, criteria, values)
    return orjson.dumps(extras).decode() if extras else "{}"


_SEARCH: tuple[Any, Any, Any, int] | None = None


def _search_helpers() -> tuple[Any, Any, Any, int]:
    """(tokenize, word lexeme, exact lexeme, longest word kept whole), imported once (the search
    module imports this one)."""
    global _SEARCH
    if _SEARCH is None:
        from qconnect_local.search.plan import tokenize
        from qconnect_local.search.postgres import _MAX_WORD_BYTES, _exact_lexeme, _word_lexeme

        _SEARCH = (tokenize, _word_lexeme, _exact_lexeme, _MAX_WORD_BYTES // 4)
    return _SEARCH


def index_words(fields: tuple[str | None, ...]) -> tuple[str, str, set[str]]:
    """(search_words, exact_words, the words) for (name, shortcut_key, description, content):
    the lexemes of search/postgres.py's `_word_lexeme` / `_exact_lexeme` for every word and field
    (tests compare them with a word-by-word build), the exact whole-field ones apart (see
    migration 101). Built with one join per field instead of a string per word: it
    runs for every imported row."""
    tokenize, word_lexeme, exact_lexeme, whole = _search_helpers()
    parts: list[str] = []
    exact: list[str] = []
    seen: set[str] = set()
    # In the tsvector's own order (fields c, d, n, s; words by code point, which is UTF-8's byte
    # order): the server sorts a tsvector's lexemes as it reads it, and the GIN index its
    # entries, and both sorts check for sorted input first (the import's database side is the
    # slower one; sorting here is on the import's checking thread).
    for prefix, text in sorted(zip("nsdc", fields)):
        if not text:
            continue
        words = tokenize(text)
        if not words:
            continue
        unique = set(words)
        seen |= unique
        if len(text) <= whole or max(map(len, unique)) <= whole:  # 4 bytes a character at most: they fit
            parts.append(prefix + ":" + ("' '" + prefix + ":").join(sorted(unique)))
        else:
            parts.extend(sorted(word_lexeme(prefix, w) for w in unique))
        exact.append(exact_lexeme(prefix, words))
    # Words are runs of letters and digits: nothing in them needs escaping inside quotes.
    if not parts:
        return "", "", seen
    return "'" + "' '".join(parts) + "'", "'" + "' '".join(exact) + "'", seen


def _row(kb_seq: int, record: Record, words: set[str] | None = None) -> tuple[Any, ...]:
    """The column values of a record; its indexed words are added to `words` when given."""
    row, found = _row_and_words(kb_seq, record)
    if words is not None:
        words.update(found)
    return row


def _row_and_words(kb_seq: int, record: Record) -> tuple[tuple[Any, ...], set[str]]:
    """The column values of a record, and its indexed words."""
    get = record.get
    contents = record["contents"]
    plain = contents["plainText"]["content"]
    markdown = contents["markdown"]["content"]
    grouping = get("groupingConfiguration") or {}
    name, shortcut, description = record["name"], get("shortcutKey"), get("description")
    channels, criteria = encode_list(get("channels")), grouping.get("criteria")
    values = encode_list(grouping.get("values"))
    search_words, exact_words, found = index_words((name, shortcut, description, plain))
    return (
        kb_seq,
        record["quickResponseId"],
        name,
        shortcut,
        description,
        plain,
        None if markdown == plain else markdown,
        record["contentType"],
        1 if get("isActive", True) else 0,
        get("language"),
        channels,
        criteria,
        values,
        record["createdTime"],
        record["lastModifiedTime"],
        get("lastModifiedBy"),
        # Text, not Jsonb: COPY's text format and INSERT both let the server parse it as jsonb
        # (and the tsvector literal the same way).
        _data(record, channels, criteria, values),
        search_words,
        exact_words,
    ), found


# Adds words to the fuzzy-search vocabulary. Sorted, so that concurrent writers insert shared
# new words in one order and cannot deadlock on them.
_ADD_WORDS = (
    "INSERT INTO quick_response_words (word) SELECT w FROM unnest(%s::text[]) AS w ORDER BY w ON CONFLICT DO NOTHING"
)


def _fuzzy_words(words: Iterable[str]) -> list[str]:
    """The words fuzzy search keeps (fuzzystrmatch's length limit)."""
    from qconnect_local.search.postgres import _MAX_FUZZY_WORD

    return [w for w in words if len(w) <= _MAX_FUZZY_WORD]


# The record of a row selected with SELECT_RECORD (`data` comes back as a dict: JSONB).
record_from_row = record_from_columns


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


def _bulk_conflict(exc: psycopg.errors.UniqueViolation, kb: int, last: tuple[Any, ...]) -> ConflictException:
    """The ConflictException of a unique violation in a COPY: the clashing value comes from the
    error's detail ("Key (kb, name)=(7, x) already exists."), as the row at fault need not be the
    last one written; the last row's values when the detail cannot be read."""
    record = {
        "quickResponseId": last[1] if last else None,
        "name": last[2] if last else None,
        "shortcutKey": last[3] if last else None,
    }
    detail = exc.diag.message_detail or ""
    for column, member in (("name", "name"), ("shortcut_key", "shortcutKey"), ("id", "quickResponseId")):
        head = f"Key (kb, {column})=({kb}, " if column != "id" else "Key (id)=("
        if detail.startswith(head) and detail.endswith(") already exists."):
            record[member] = detail[len(head) : -len(") already exists.")]
            break
    return _conflict(exc, record)


class QuickResponseQueries:
    """Mixed into PostgresSession; `self.conn` is the session's connection."""

    conn: psycopg.Connection
    writing: bool
    side_connection: Any  # see PostgresSession

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
        """Adds words to the fuzzy-search vocabulary (see _ADD_WORDS)."""
        fresh = _fuzzy_words(words)
        if fresh:
            self.conn.execute(_ADD_WORDS, (fresh,))

    def quick_response_keys(self, account: str, region: str, kb_id: str) -> tuple[set[str], set[str], int]:
        """(names, shortcut keys, count) of the knowledge base's quick responses."""
        kb = self._kb_seq(account, region, kb_id)
        names: set[str] = set()
        keys: set[str] = set()
        for name, key in self.conn.execute("SELECT name, shortcut_key FROM quick_responses WHERE kb = %s", (kb,)):
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

    def insert_quick_responses_bulk(self, account: str, region: str, kb_id: str, records: Iterable[Record]) -> int:
        """The import fast path for records already checked for uniqueness and quota, in the
        caller's write session (see `quick_response_loader`). Returns how many were inserted.

        A duplicate that slipped through still raises ConflictException (unique indexes), and
        the caller's transaction then rolls everything back."""
        loader = self.quick_response_loader(account, region, kb_id)
        loader.add([loader.build(r) for r in records])
        return loader.finish()

    def quick_response_loader(self, account: str, region: str, kb_id: str, expected_rows: int = 0) -> BulkLoader:
        """The SQLite store's bulk-load contract (build, add, finish; a context manager).
        `expected_rows` is not used: a load here works the same whatever its size."""
        return BulkLoader(self, self._kb_seq(account, region, kb_id))

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
            f"SELECT {SELECT_RECORD} FROM quick_responses q JOIN knowledge_bases k ON k.seq = q.kb"
            " WHERE q.kb = %s AND q.name > %s ORDER BY q.name LIMIT %s",
            (kb, after if after is not None else "", limit),
        ).fetchall()
        return [record_from_row(*row) for row in rows]

    def search_quick_responses(self, account: str, region: str, kb_id: str, plan: Any) -> list[tuple[Any, Record]]:
        """Runs a search/plan.py SearchPlan: up to plan.limit + 1 (SortKey, record) results after
        plan.after, in the plan's order (see search/postgres.py)."""
        from qconnect_local.search import postgres as search_postgres

        return search_postgres.search(self.conn, self._kb_seq(account, region, kb_id), plan)


# For the load's transaction (SET LOCAL): the GIN search index's pending list holds up to 16 MB
# of new entries before they are merged into the index, in up to 64 MB of memory (defaults
# 4 MB / 4 MB), so common words are merged ~4x less often. Readers scan the pending list, so it
# is kept small, and a big load empties it at its end (CLEAN_AFTER rows).
_LOAD_SETTINGS = ("SET LOCAL gin_pending_list_limit = '16MB'", "SET LOCAL work_mem = '64MB'")
CLEAN_AFTER = 20_000
KNOWN_WORDS_CAP = 200_000  # words a loader remembers having sent (then it forgets them all)
log = logging.getLogger("qconnect_local.postgres")


class WordsWriter(threading.Thread):
    """Adds a bulk load's new fuzzy-search words to `quick_response_words` on a connection of
    its own, one committed statement per batch, while the load's transaction runs.

    Why: at a million rows the words (~2 million new ones with the bench's unique names and
    shortcut keys) took ~12 s at the end of the load's transaction, in the same single server
    process that does the rest of its work; on a second connection they go in alongside it.
    The table only has to hold a superset of the indexed words (see migration 100), so words of
    a load that then fails do no harm, and each statement commits at once (sorted, so that two
    loads adding the same words cannot deadlock), holding no lock for the length of an import.
    If this connection fails, the words it had not added are handed back (`leftover`) and the
    loader adds them in its own transaction, as before."""

    def __init__(self, connection: Callable[[], Any]) -> None:
        super().__init__(name="qconnect-import-words", daemon=True)
        self.connection = connection
        self.queue: queue.Queue[list[str] | None] = queue.Queue(maxsize=8)
        self.leftover: list[list[str]] = []
        self.failed = threading.Event()

    def put(self, words: list[str]) -> bool:
        """Queues words; False once the writer has failed (the caller keeps them)."""
        if self.failed.is_set():
            return False
        self.queue.put(words)
        return True

    def close(self) -> list[list[str]]:
        """Waits until every queued word is added; returns those that could not be."""
        self.queue.put(None)
        self.join()
        return self.leftover

    def run(self) -> None:
        words: list[str] | None = []  # [] until the first batch is taken; None once close() was
        try:
            with self.connection() as conn:
                while (words := self.queue.get()) is not None:
                    with conn.transaction():
                        # Never wait long behind another transaction's new words: the load's
                        # own transaction waits for this thread at its end, out of the
                        # server's sight. (LOCAL: nothing stays set on the pooled connection.)
                        conn.execute("SET LOCAL lock_timeout = '10s'")
                        conn.execute(_ADD_WORDS, (words,))
        except Exception as exc:  # the database went away, the pool is exhausted, a lock timeout
            log.warning("fuzzy-search words go in with the import instead: %s", exc)
            self.failed.set()
            while words is not None:  # keep taking batches until close(), so put() never blocks
                if words:
                    self.leftover.append(words)
                words = self.queue.get()


class BulkLoader:
    """One bulk load of checked quick responses into a knowledge base, in the session's write
    transaction: `build` rows (pure Python: the import does it on its checking thread), `add`
    them batch by batch (one COPY each), then `finish`.

    Why it is shaped so (measured with 50,000-200,000 rows, PostgreSQL 15, 2 cores):
    - The rows' columns, tsvectors and slim `data` are built by `build`, on the import's
      checking thread, so the writer only streams COPY data (~8 us a row of Python, from ~40).
    - Fuzzy-search words: adding each batch's words to `quick_response_words` (ON CONFLICT DO
      NOTHING, two indexes) cost ~17 us a row of database work, and held new words' index
      entries for the whole import, so that any other writer of a same new word waited for the
      import to commit. The loader now skips words it has already sent, COPYs the rest into a
      temporary table (ON COMMIT DROP: a killed worker leaves nothing) and adds them in one
      sorted INSERT at the end.
    - The GIN index is most of the database work (~60% of the backend's time: merging the
      pending list into the index). Its entries are kept to the words (exact whole-field
      lexemes are in `exact_words`, outside the index: 80 -> 65 us a row of database work); a
      16 MB pending list and 64 MB of work_mem for the transaction (_LOAD_SETTINGS: only ~3%
      less database work at 200,000 rows, merges of bigger pending lists). Indexes are never dropped: that takes an
      ACCESS EXCLUSIVE lock, and every reader of the table would wait for the whole import.
    - Uniqueness stays with the unique indexes: a clash raises ConflictException naming the
      value (from the error's detail) and the caller's transaction rolls back.
    """

    def __init__(self, session: QuickResponseQueries, kb: int) -> None:
        self.session, self.conn, self.kb = session, session.conn, kb
        self.added = 0
        self.known: set[str] = set()
        self.words_table = False
        self.words_writer: WordsWriter | None = None
        if session.side_connection is not None:
            self.words_writer = WordsWriter(session.side_connection)
            self.words_writer.start()
        for setting in _LOAD_SETTINGS:
            self.conn.execute(setting)

    def __enter__(self) -> BulkLoader:
        return self

    def __exit__(self, *exc: Any) -> None:
        if self.words_writer is not None:  # the load failed before `finish`
            self.words_writer.close()
            self.words_writer = None

    def idle(self) -> None:
        """Nothing to do early while the import waits for rows: each COPY indexes its rows."""

    def build(self, record: Record) -> tuple[tuple[Any, ...], set[str]]:
        """The COPY row of a checked record and its words. Touches no connection."""
        return _row_and_words(self.kb, record)

    def add(self, rows: list[tuple[tuple[Any, ...], set[str]]]) -> int:
        if not rows:
            return 0
        words: set[str] = set()
        last: tuple[Any, ...] = ()
        try:
            with self.conn.cursor() as cur, cur.copy(_COPY) as copy:
                write_row = copy.write_row
                for last, found in rows:
                    write_row(last)
                    words |= found
        except psycopg.errors.UniqueViolation as exc:
            raise _bulk_conflict(exc, self.kb, last) from None
        words -= self.known
        if len(self.known) > KNOWN_WORDS_CAP:
            self.known.clear()
        self.known |= words
        self._stage_words(words)
        self.added += len(rows)
        return len(rows)

    def _clean_search_index(self) -> None:
        """Moves the search index's pending list into the index proper (see _LOAD_SETTINGS)."""
        try:
            with self.conn.transaction():  # a savepoint: not owning the index is not fatal
                self.conn.execute("SELECT gin_clean_pending_list('quick_responses_search')")
        except psycopg.errors.InsufficientPrivilege:
            pass

    def _stage_words(self, words: Iterable[str]) -> None:
        """Hands new words to the words writer, or else to a temporary table that `finish`
        adds in this transaction."""
        kept = _fuzzy_words(words)
        if not kept or (self.words_writer is not None and self.words_writer.put(kept)):
            return
        if not self.words_table:
            self.conn.execute('CREATE TEMP TABLE IF NOT EXISTS qr_load_words (word TEXT COLLATE "C") ON COMMIT DROP')
            self.words_table = True
        with self.conn.cursor() as cur, cur.copy("COPY qr_load_words (word) FROM STDIN") as copy:
            for w in kept:
                copy.write_row((w,))

    def finish(self) -> int:
        if self.added >= CLEAN_AFTER:
            self._clean_search_index()
        if self.words_writer is not None:
            writer, self.words_writer = self.words_writer, None
            for words in writer.close():
                self._stage_words(words)
        if self.words_table:
            self.conn.execute(
                "INSERT INTO quick_response_words (word) SELECT DISTINCT word FROM qr_load_words"
                " ORDER BY word ON CONFLICT DO NOTHING"
            )
            self.conn.execute("DROP TABLE qr_load_words")
            self.words_table = False
        return self.added
