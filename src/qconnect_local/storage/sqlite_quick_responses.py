"""SQLite SQL for quick responses and their search index (owned by the quick-response work).

Layout
------
`quick_responses` has an integer rowid (`seq`, insertion order) and the UUID in a separate unique
column; the columns that search filters, orders or matches on are real columns, and `data` holds
only what the columns cannot give back (see `_data`): the record is rebuilt from the columns
and the knowledge base's ids (`record_from_row`). `content` holds the plain text (what
`contents.plainText` returns and what search matches) and `markdown` the raw markdown when it
differs. Rows written before `data` was slimmed hold the whole record there; it is laid over the
rebuilt one and gives the same record (so old databases need no rewrite). Why slim: the whole
record as JSON was ~800 of a row's ~1,850 bytes, and a bulk import writes every byte twice (WAL,
then checkpoint): slimming it cut the SQLite side of an import by about a third.

`quick_responses_fts` is an external-content FTS5 index over name, shortcut_key, description,
content and exact_keys (unicode61 tokenizer, no diacritics folding, no prefix index: see
search/sqlite.py for why; since migration 102 `detail=column, columnsize=0`: which rows hold a
word in which column, no positions, so no phrase or NEAR queries, which search never makes).
It is kept in step by this module's methods in the caller's transaction (not by per-row triggers:
filling it with one INSERT…SELECT after a bulk insert is several times faster). A BEFORE DELETE
trigger on knowledge_bases clears the index entries of a knowledge base before the foreign-key
cascade removes its rows, so DeleteKnowledgeBase leaves no stale index entries.

`quick_responses_index_state` holds one random *index token*, replaced by every bulk insert in
its transaction: the in-memory search vocabulary (search/sqlite.py) compares it with the tokens
it knows to tell whether an import added words it lacks, instead of being fed every imported
row's words.

List members (channels, groupingConfiguration.values) are stored as '\\x1f'-delimited text
('\\x1fChat\\x1fEmail\\x1f') so that EQUALS/PREFIX filters on them are one `instr` in SQL.
"""

from __future__ import annotations

import functools
import itertools
import os
import sqlite3
import uuid
import zlib
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from typing import Any

import orjson

from qconnect_local.errors import ConflictException, ResourceNotFoundException
from qconnect_local.storage.quick_response_records import (  # noqa: F401 - SEP: search/sqlite.py takes it from here
    SEP,
    data_extras,
    encode_list,
    record_from_columns,
)

Record = dict[str, Any]

BULK_CACHE_SIZE = -98304  # KiB: 96 MiB of page cache while a bulk insert runs (more bought little
# speed and counts against the server's memory: the import's budget is 300 MB per million rows)
FTS_COLUMNS = ("name", "shortcut_key", "description", "content")

# Schema steps of this module, appended to the store's migrations (versions 100-199).
MIGRATIONS: list[tuple[int, str]] = [
    (
        100,
        """
        CREATE TABLE quick_responses (
            seq                INTEGER PRIMARY KEY,     -- FTS rowid; creation order
            kb                 INTEGER NOT NULL REFERENCES knowledge_bases(seq) ON DELETE CASCADE,
            id                 TEXT NOT NULL UNIQUE,
            name               TEXT NOT NULL,
            shortcut_key       TEXT,
            description        TEXT,
            content            TEXT NOT NULL,           -- contents.plainText (searched)
            markdown           TEXT,                    -- contents.markdown when it differs
            content_type       TEXT NOT NULL,
            is_active          INTEGER NOT NULL,
            language           TEXT,
            channels           TEXT,                    -- '\x1f'-delimited, NULL when absent/empty
            grouping_criteria  TEXT,
            grouping_values    TEXT,                    -- '\x1f'-delimited, NULL when absent/empty
            created_time       REAL NOT NULL,
            modified_time      REAL NOT NULL,
            modified_by        TEXT,
            data               BLOB NOT NULL,           -- the record without `contents`, JSON
            exact_keys         TEXT                     -- one word per searchable field: its exact key
        );
        CREATE UNIQUE INDEX quick_responses_name ON quick_responses (kb, name);
        CREATE UNIQUE INDEX quick_responses_shortcut ON quick_responses (kb, shortcut_key)
            WHERE shortcut_key IS NOT NULL;
        CREATE INDEX quick_responses_modified ON quick_responses (kb, modified_time);
        -- Narrow and append-only: search reads (kb, name) of its candidates by seq from here
        -- instead of from the table's wide rows.
        CREATE INDEX quick_responses_seq_name ON quick_responses (seq, kb, name);
        CREATE VIRTUAL TABLE quick_responses_fts USING fts5(
            name, shortcut_key, description, content, exact_keys,
            content='quick_responses', content_rowid='seq',
            tokenize='unicode61 remove_diacritics 0'
        );
        CREATE TRIGGER knowledge_bases_clear_quick_response_index
        BEFORE DELETE ON knowledge_bases BEGIN
            INSERT INTO quick_responses_fts(quick_responses_fts) SELECT 'delete-all'
                WHERE NOT EXISTS (SELECT 1 FROM quick_responses WHERE kb != old.seq);
            INSERT INTO quick_responses_fts(quick_responses_fts, rowid, name, shortcut_key, description, content, exact_keys)
                SELECT 'delete', seq, name, shortcut_key, description, content, exact_keys FROM quick_responses
                WHERE kb = old.seq AND EXISTS (SELECT 1 FROM quick_responses WHERE kb != old.seq);
        END;
        """,
    ),
    (
        101,
        """
        CREATE TABLE quick_responses_index_state (
            id     INTEGER PRIMARY KEY CHECK (id = 1),
            token  TEXT NOT NULL                    -- replaced by every bulk insert
        );
        """,
    ),
    (
        102,
        # The search index without token positions or per-row column sizes: search asks only
        # which rows have a word (or a word with a prefix) in a column, never for phrases,
        # NEAR or bm25. A million-row import: ~3 us a row less SQLite work, 12% smaller file.
        # Existing databases rebuild the index from the table once (~30 s a million rows).
        """
        DROP TABLE quick_responses_fts;
        CREATE VIRTUAL TABLE quick_responses_fts USING fts5(
            name, shortcut_key, description, content, exact_keys,
            content='quick_responses', content_rowid='seq',
            tokenize='unicode61 remove_diacritics 0', detail=column, columnsize=0
        );
        INSERT INTO quick_responses_fts (quick_responses_fts) VALUES ('rebuild');
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
    "exact_keys",
)
_INSERT = f"INSERT INTO quick_responses ({', '.join(_COLUMNS)}) VALUES ({', '.join('?' * len(_COLUMNS))})"
_FTS_INSERT = (
    "INSERT INTO quick_responses_fts (rowid, name, shortcut_key, description, content, exact_keys)"
    " VALUES (?, ?, ?, ?, ?, ?)"
)
_FTS_DELETE = (
    "INSERT INTO quick_responses_fts (quick_responses_fts, rowid, name, shortcut_key, description, content, exact_keys)"
    " VALUES ('delete', ?, ?, ?, ?, ?, ?)"
)
_FTS_OLD = (
    "SELECT seq, name, shortcut_key, description, content, exact_keys FROM quick_responses WHERE id = ? AND kb = ?"
)
# What `record_from_row` takes, from `quick_responses q JOIN knowledge_bases k ON k.seq = q.kb`.
SELECT_RECORD = (
    "k.account_id, k.region, k.id, q.id, q.name, q.shortcut_key, q.description, q.content, q.markdown,"
    " q.content_type, q.is_active, q.language, q.channels, q.grouping_criteria, q.grouping_values,"
    " q.created_time, q.modified_time, q.modified_by, q.data"
)


def _data(record: Record, channels: str | None, criteria: str | None, values: str | None) -> bytes:
    """The `data` column (JSON): see quick_response_records.data_extras."""
    extras = data_extras(record, channels, criteria, values)
    return orjson.dumps(extras) if extras else b"{}"


WordSink = Callable[[str, list[str]], None]  # (column, the words of one row's field)


def _row(kb_seq: int, record: Record, sink: WordSink | None = None) -> tuple[Any, ...]:
    get = record.get
    contents = record["contents"]
    plain = contents["plainText"]["content"]
    markdown = contents["markdown"]["content"]
    grouping = get("groupingConfiguration") or {}
    name, shortcut, description = record["name"], get("shortcutKey"), get("description")
    channels, criteria = encode_list(get("channels")), grouping.get("criteria")
    values = encode_list(grouping.get("values"))
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
        _data(record, channels, criteria, values),
        index_words((name, shortcut, description, plain), sink),
    )


ROWS_PER_STATEMENT = 2000


@functools.lru_cache(maxsize=8)
def _multi_insert(rows: int) -> str:
    one = "(" + ", ".join("?" * len(_COLUMNS)) + ")"
    return f"INSERT INTO quick_responses ({', '.join(_COLUMNS)}) VALUES " + ", ".join([one] * rows)


def _chunks(rows: Iterable[Any], size: int) -> Iterator[list[Any]]:
    chunk: list[Any] = []
    for row in rows:
        chunk.append(row)
        if len(chunk) >= size:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


def _count_words(docs: dict[str, Counter[str]], row: tuple[Any, ...]) -> None:
    """Adds a built row's words to per-column document counts (one per row and word)."""
    tokenize = _search_helpers()[0]
    for column, text in zip(FTS_COLUMNS, (row[2], row[3], row[4], row[5])):
        if text:
            docs[column].update(set(tokenize(text)))


def index_words(fields: tuple[str | None, ...], sink: WordSink | None = None) -> str:
    """The `exact_keys` text of a row (one exact-key word per non-empty searchable field, see
    search/sqlite.py), handing each field's words to `sink` on the way (the vocabulary)."""
    if sink is None:  # the bulk path: keys only
        return _exact_keys(fields)
    tokenize, exact_key = _search_helpers()[:2]
    keys = []
    for column, text in zip(FTS_COLUMNS, fields):
        if text:
            words = tokenize(text)
            if words:
                keys.append(exact_key(column, words))
                if sink is not None:
                    sink(column, words)
    return " ".join(keys)


# ASCII bytes -> the bytes of its words (0-9, a-z) lowered in the same pass, others -> space.
_ASCII_KEY_BYTES = bytes(
    c + 32 if 65 <= c <= 90 else c if (48 <= c <= 57 or 97 <= c <= 122) else 32 for c in range(256)
)


def _exact_keys(fields: tuple[str | None, ...]) -> str:
    """`index_words` without a sink, for the bulk path (four per imported row): ASCII text goes
    bytes-only, one translate for lowering and word splitting, no word strings; the rest through
    the search module's tokenizer. Tests check it against `exact_key(column, tokenize(text))`."""
    of_text = _search_helpers()[2]
    keys = []
    for column, prefix, text in zip(FTS_COLUMNS, _EXACT_KEY_PREFIXES, fields):
        if not text:
            continue
        if text.isascii():
            # The words joined by single spaces, without making a bytes object per word.
            joined = text.encode("ascii").translate(_ASCII_KEY_BYTES)
            while b"  " in joined:
                joined = joined.replace(b"  ", b" ")
            joined = joined.strip(b" ")
            if joined:
                keys.append(f"{prefix}{zlib.crc32(joined) & _EXACT_KEY_MASK:x}")
        else:
            key = of_text(column, text)
            if key is not None:
                keys.append(key)
    return " ".join(keys)


_HELPERS: tuple[Any, Any, Any] | None = None
_EXACT_KEY_PREFIXES: tuple[str, ...] = ()
_EXACT_KEY_MASK = 0


def _search_helpers() -> tuple[Any, Any, Any]:
    """(tokenize, exact_key, exact_key_of_text), imported once (search imports this module)."""
    global _HELPERS, _EXACT_KEY_PREFIXES, _EXACT_KEY_MASK
    if _HELPERS is None:
        from qconnect_local.search.plan import tokenize
        from qconnect_local.search.sqlite import EXACT_KEY_BUCKETS, exact_key, exact_key_of_text

        # The key of a field is `y`, the column's letter and a hex bucket (see exact_key).
        _EXACT_KEY_PREFIXES = tuple(exact_key(column, ["x"])[:2] for column in FTS_COLUMNS)
        _EXACT_KEY_MASK = EXACT_KEY_BUCKETS - 1
        _HELPERS = (tokenize, exact_key, exact_key_of_text)
    return _HELPERS


def index_token(conn: sqlite3.Connection) -> str | None:
    """The index token (None before the first bulk insert, and after a reset)."""
    row = conn.execute("SELECT token FROM quick_responses_index_state WHERE id = 1").fetchone()
    return row[0] if row else None


def _set_index_token(conn: sqlite3.Connection, token: str) -> None:
    conn.execute(
        "INSERT INTO quick_responses_index_state (id, token) VALUES (1, ?)"
        " ON CONFLICT (id) DO UPDATE SET token = excluded.token",
        (token,),
    )


def record_from_row(*row: Any) -> Record:
    """The QuickResponseData record of a row selected with SELECT_RECORD (`data` last, as JSON)."""
    return record_from_columns(*row[:-1], orjson.loads(row[-1]))


def _fts_values(row: tuple[Any, ...]) -> tuple[Any, ...]:
    return (row[2], row[3], row[4], row[5], row[-1])


def _conflict(exc: sqlite3.IntegrityError, record: Record) -> ConflictException:
    text = str(exc)
    if "shortcut_key" in text:
        return ConflictException(
            f"A quick response with the shortcutKey '{record.get('shortcutKey')}' already exists in this knowledge base"
        )
    if "quick_responses.name" in text:
        return ConflictException(
            f"A quick response with the name '{record.get('name')}' already exists in this knowledge base"
        )
    if "quick_responses.id" in text:
        return ConflictException(f"A quick response with the id '{record.get('quickResponseId')}' already exists")
    raise exc


# The indexes a big bulk load drops and creates again when it finishes (see BulkLoader); the
# same definitions as migration 100's.
_REBUILT_INDEXES = {
    "quick_responses_name": "CREATE UNIQUE INDEX quick_responses_name ON quick_responses (kb, name)",
    "quick_responses_shortcut": (
        "CREATE UNIQUE INDEX quick_responses_shortcut ON quick_responses (kb, shortcut_key)"
        " WHERE shortcut_key IS NOT NULL"
    ),
    "quick_responses_modified": "CREATE INDEX quick_responses_modified ON quick_responses (kb, modified_time)",
    "quick_responses_seq_name": "CREATE INDEX quick_responses_seq_name ON quick_responses (seq, kb, name)",
}
# Rows from which a load is big (see BulkLoader): loaded so far, or expected from the file's
# size. The environment variable is a tuning knob (and lets the crash test reach that path with
# a small file).
BIG_LOAD_ROWS = int(os.environ.get("QCONNECT_LOCAL_BIG_LOAD_ROWS") or 300_000)
FTS_BATCH_ROWS = 10_000  # rows added to the search index by one statement (see BulkLoader)
# FTS5's merge settings while a big bulk load runs, and FTS5's defaults, which `finish` puts
# back (see BulkLoader).
BULK_AUTOMERGE, DEFAULT_AUTOMERGE = 16, 4
MERGE_PAGES = 10_000_000  # "merge until nothing is left to merge" for the 'merge' command


class BulkLoader:
    """One bulk load of checked quick responses into a knowledge base, in the session's write
    transaction: `build` rows (pure Python: the import does it on its checking thread), `add`
    them batch by batch, then `finish`. Use it as a context manager (`with`), which puts the
    connection's page cache back however the load ends.

    Why it is shaped so (measured with 1,000,000 rows; bench/import.py):
    - Rows go in as multi-row INSERT statements (up to ROWS_PER_STATEMENT rows each), not by
      executemany: executemany takes the GIL back after every row, so while the import's
      checking thread ran Python the inserts crawled; one statement per batch runs all its
      SQLite work with the GIL released.
    - Search-index entries are added by one INSERT…SELECT per FTS_BATCH_ROWS rows (per-row
      trigger inserts were several times slower). FTS5 writes a new index segment at the end of
      every statement, and merges segments as they pile up: one statement per 2,000-row batch
      cost ~8 us a row more than one per 10,000 rows.
    - A big load (BIG_LOAD_ROWS rows loaded, or expected from the start: `expected_rows`, and at
      least as many as the table held when it began) works differently from then on:
      - the table's secondary indexes (_REBUILT_INDEXES) are dropped, and created again by
        `finish`. Keeping them costs a B-tree insert per row and index (random ones for name and
        shortcut key, slower as they outgrow the page cache); creating them sorts once: the
        SQLite side of a million-row import went from 62 to ~43 us a row. Uniqueness is not
        given up: the import checked every name and shortcut key against the knowledge base and
        the file already, and CREATE UNIQUE INDEX checks again (a duplicate raises
        ConflictException and the transaction rolls back, as a failed insert would). Other
        connections keep seeing the indexes (they read the last commit), and writers wait for
        this transaction anyway.
      - FTS5 merges segments only once 16 pile up on a level (BULK_AUTOMERGE; the default 4
        merges the same entries again and again), and `finish` puts the default back and merges
        what is left in one go: at a million rows the search index took ~13.7 s instead of
        ~17 s, and its queries are no slower after (fewer segments than with the default).
      Both move work from the rows to `finish`, after the last row, where nothing overlaps it.
      In a smaller import the checking thread is the slower one and the writer has time to
      spare, so a smaller load keeps its indexes and FTS5's merges as they are. Through the API
      (big from the first row against never): 100,000 rows ~2.85 s against ~2.65 s (`finish`
      0.38 s against 0.17 s); 200,000 ~5.2 s against ~4.95 s; 400,000 ~10.1 s either way;
      1,000,000 25.6 s against 28.7 s. Hence big from 300,000 rows.
    """

    def __init__(self, conn: sqlite3.Connection, kb: int, vocabulary: Any, expected_rows: int = 0) -> None:
        self.conn, self.kb, self.vocabulary = conn, kb, vocabulary
        self.added = 0
        self.expected_rows = expected_rows  # a guess (the file's size), or 0
        self.big = False  # see the class's docstring; a big load has dropped _REBUILT_INDEXES
        self.last_seq = conn.execute("SELECT coalesce(max(seq), 0) FROM quick_responses").fetchone()[0]
        self.indexed_seq = self.last_seq  # rows up to here are in the search index
        self.table_rows = self.last_seq  # an upper bound (seq only grows), cheap to read
        self.previous_token = index_token(conn)
        self.docs: dict[str, Counter[str]] | None = None
        if vocabulary.feeds_bulk(self.previous_token):
            self.docs = {column: Counter() for column in FTS_COLUMNS}
        variables = conn.getlimit(sqlite3.SQLITE_LIMIT_VARIABLE_NUMBER)
        self.rows_per_statement = max(1, min(ROWS_PER_STATEMENT, variables // len(_COLUMNS)))
        # A bigger page cache for the duration: the unique indexes take random inserts.
        (self.cache_size,) = conn.execute("PRAGMA cache_size").fetchone()
        conn.execute(f"PRAGMA cache_size = {BULK_CACHE_SIZE}")

    def __enter__(self) -> BulkLoader:
        return self

    def __exit__(self, *exc: Any) -> None:
        self.conn.execute(f"PRAGMA cache_size = {int(self.cache_size)}")

    def build(self, record: Record) -> tuple[Any, ...]:
        """The row of a checked record. Touches no connection."""
        return _row(self.kb, record)

    def add(self, rows: list[tuple[Any, ...]]) -> int:
        """Inserts built rows and their search-index entries; returns how many."""
        if not rows:
            return 0
        if not self.big and max(self.added, self.expected_rows) >= max(BIG_LOAD_ROWS, self.table_rows):
            self._go_big()
        for chunk in _chunks(rows, self.rows_per_statement):
            if self.docs is not None:
                for row in chunk:
                    _count_words(self.docs, row)
            self.last_seq = self._insert_chunk(chunk)
        self.added += len(rows)
        if self.last_seq - self.indexed_seq >= FTS_BATCH_ROWS:
            self._index_rows()
        return len(rows)

    def idle(self) -> None:
        """Called while the import waits for its next batch: in a load that is not big, adds the
        rows inserted so far to the search index now rather than with later ones (otherwise the
        last up to FTS_BATCH_ROWS rows are indexed after the last batch came, when nothing
        overlaps the work). Not in a big load: smaller index statements make more segments to
        merge, and a big load's writer seldom waits."""
        if not self.big:
            self._index_rows()

    def finish(self) -> int:
        """Indexes the last rows, creates the dropped indexes again, records the new index state;
        returns the rows added."""
        self._index_rows()
        if self.big:
            _set_fts_option(self.conn, "automerge", DEFAULT_AUTOMERGE)
            _set_fts_option(self.conn, "merge", MERGE_PAGES)
            # The sorts may use a second core: the import's checking thread is done by now.
            self.conn.execute("PRAGMA threads = 2")
            try:
                for name, create in _REBUILT_INDEXES.items():
                    try:
                        self.conn.execute(create)
                    except sqlite3.IntegrityError:
                        raise self._duplicate(name) from None
            finally:
                self.conn.execute("PRAGMA threads = 0")
        token = uuid.uuid4().hex
        _set_index_token(self.conn, token)
        if self.docs is not None:
            self.vocabulary.add_bulk(self.previous_token, token, self.docs, self.added)
        return self.added

    def _index_rows(self) -> None:
        """Adds the rows inserted since the last call to the search index."""
        if self.last_seq > self.indexed_seq:
            self.conn.execute(
                "INSERT INTO quick_responses_fts (rowid, name, shortcut_key, description, content, exact_keys)"
                " SELECT seq, name, shortcut_key, description, content, exact_keys FROM quick_responses"
                " WHERE seq > ?",
                (self.indexed_seq,),
            )
            self.indexed_seq = self.last_seq

    def _go_big(self) -> None:
        """From here on the load works as a big one (see the class's docstring)."""
        self.big = True
        # In the transaction: if the load fails, the rollback puts the setting back too.
        _set_fts_option(self.conn, "automerge", BULK_AUTOMERGE)
        for name in _REBUILT_INDEXES:
            self.conn.execute(f"DROP INDEX {name}")

    def _duplicate(self, index: str) -> ConflictException:
        column, member = ("name", "name") if index == "quick_responses_name" else ("shortcut_key", "shortcutKey")
        (value,) = self.conn.execute(
            f"SELECT {column} FROM quick_responses WHERE {column} IS NOT NULL"
            f" GROUP BY kb, {column} HAVING count(*) > 1 LIMIT 1"
        ).fetchone()
        return ConflictException(f"A quick response with the {member} '{value}' already exists in this knowledge base")

    def _insert_chunk(self, chunk: list[tuple[Any, ...]]) -> int:
        """Inserts rows with one statement; returns the last row's seq."""
        try:
            return self.conn.execute(_multi_insert(len(chunk)), list(itertools.chain.from_iterable(chunk))).lastrowid
        except sqlite3.IntegrityError:
            # The statement left nothing behind: find the row at fault, for the message.
            for row in chunk:
                try:
                    self.conn.execute("SAVEPOINT qr_row")
                    self.conn.execute(_INSERT, row)
                except sqlite3.IntegrityError as exc:
                    self.conn.execute("ROLLBACK TO qr_row")
                    raise _conflict(exc, {"quickResponseId": row[1], "name": row[2], "shortcutKey": row[3]}) from None
                finally:
                    self.conn.execute("RELEASE qr_row")
            raise


def _set_fts_option(conn: sqlite3.Connection, option: str, value: int) -> None:
    """Sets one of FTS5's options of the search index (stored in its config table), or runs
    one of its commands that take a number ('merge')."""
    conn.execute("INSERT INTO quick_responses_fts (quick_responses_fts, rank) VALUES (?, ?)", (option, value))


class QuickResponseQueries:
    """Mixed into SQLiteSession; `self.conn` is the session's connection.

    Every method keeps `quick_responses_fts` in step with `quick_responses` in the session's
    transaction. Knowledge bases are named by (account, region, UUID); a missing one is a
    ResourceNotFoundException.
    """

    conn: sqlite3.Connection

    def _kb_seq(self, account: str, region: str, kb_id: str) -> int:
        seq = self.knowledge_base_seq(account, region, kb_id)  # type: ignore[attr-defined]
        if seq is None:
            raise ResourceNotFoundException("Knowledge base not found", resource_name=kb_id)
        return seq

    def _vocabulary(self) -> Any:
        from qconnect_local.search import sqlite as search_sqlite

        return search_sqlite.vocabulary(self.conn)

    # -- the import contract ------------------------------------------------------------------

    def insert_quick_response(self, account: str, region: str, kb_id: str, record: Record) -> None:
        """Inserts one quick response and its index entry.

        Guarantees: a duplicate name or shortcutKey in the knowledge base raises ConflictException
        naming the field; it is enforced by unique indexes in this transaction, so two concurrent
        creates can never both succeed. Nothing is written when it raises.
        """
        row = _row(self._kb_seq(account, region, kb_id), record, self._vocabulary().add)
        try:
            cur = self.conn.execute(_INSERT, row)
        except sqlite3.IntegrityError as exc:
            raise _conflict(exc, record) from None
        self.conn.execute(_FTS_INSERT, (cur.lastrowid, *_fts_values(row)))

    def quick_response_keys(self, account: str, region: str, kb_id: str) -> tuple[set[str], set[str], int]:
        """(names, shortcut keys, count) of the knowledge base's quick responses, from the indexes."""
        kb = self._kb_seq(account, region, kb_id)
        names = {n for (n,) in self.conn.execute("SELECT name FROM quick_responses WHERE kb = ?", (kb,))}
        keys = {
            k
            for (k,) in self.conn.execute(
                "SELECT shortcut_key FROM quick_responses WHERE kb = ? AND shortcut_key IS NOT NULL", (kb,)
            )
        }
        return names, keys, len(names)

    def count_quick_responses(self, account: str, region: str, kb_id: str, at_most: int | None = None) -> int:
        """How many quick responses the knowledge base holds; with `at_most`, counting stops there
        (the quota check on create needs no more than that, and a full count reads every row's
        index entry)."""
        kb = self._kb_seq(account, region, kb_id)
        if at_most is not None:
            return self.conn.execute(
                "SELECT count(*) FROM (SELECT 1 FROM quick_responses WHERE kb = ? LIMIT ?)", (kb, at_most)
            ).fetchone()[0]
        return self.conn.execute("SELECT count(*) FROM quick_responses WHERE kb = ?", (kb,)).fetchone()[0]

    def insert_quick_responses_bulk(self, account: str, region: str, kb_id: str, records: Iterable[Record]) -> int:
        """The import fast path for records already checked for uniqueness and quota, in the
        caller's write session (see `quick_response_loader`). Returns how many were inserted.

        A duplicate that slipped through still raises ConflictException, and the caller's
        transaction then rolls everything back."""
        loader = self.quick_response_loader(account, region, kb_id)
        loader.add([loader.build(r) for r in records])
        return loader.finish()

    def quick_response_loader(self, account: str, region: str, kb_id: str, expected_rows: int = 0) -> BulkLoader:
        """A bulk insert into the knowledge base, in this session's transaction: `build` rows
        (on any thread), `add` them batch by batch, then `finish`. `expected_rows`, a guess at
        how many rows will come, lets a big load start as one (see BulkLoader)."""
        return BulkLoader(self.conn, self._kb_seq(account, region, kb_id), self._vocabulary(), expected_rows)

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
            " WHERE q.id = ? AND k.id = ? AND k.account_id = ? AND k.region = ?",
            (qr_id, kb_id, account, region),
        ).fetchone()
        return record_from_row(*row) if row else None

    def update_quick_response(self, account: str, region: str, kb_id: str, record: Record) -> None:
        """Replaces a quick response (same id) and its index entry; ConflictException as for insert."""
        kb = self._kb_seq(account, region, kb_id)
        old = self.conn.execute(_FTS_OLD, (record["quickResponseId"], kb)).fetchone()
        if old is None:
            raise ResourceNotFoundException("Quick response not found", resource_name=record["quickResponseId"])
        row = _row(kb, record, self._vocabulary().add)
        self.conn.execute(_FTS_DELETE, old)
        try:
            self.conn.execute(
                f"UPDATE quick_responses SET {', '.join(f'{c} = ?' for c in _COLUMNS)} WHERE seq = ?",
                (*row, old[0]),
            )
        except sqlite3.IntegrityError as exc:
            raise _conflict(exc, record) from None
        self.conn.execute(_FTS_INSERT, (old[0], *_fts_values(row)))

    def delete_quick_response(self, account: str, region: str, kb_id: str, qr_id: str) -> bool:
        kb = self._kb_seq(account, region, kb_id)
        old = self.conn.execute(_FTS_OLD, (qr_id, kb)).fetchone()
        if old is None:
            return False
        self.conn.execute(_FTS_DELETE, old)
        self.conn.execute("DELETE FROM quick_responses WHERE seq = ?", (old[0],))
        return True

    def search_quick_responses(self, account: str, region: str, kb_id: str, plan: Any) -> list[tuple[Any, Record]]:
        """Runs a search/plan.py SearchPlan: up to plan.limit + 1 (SortKey, record) results after
        plan.after, in the plan's order (see search/sqlite.py)."""
        from qconnect_local.search import sqlite as search_sqlite

        return search_sqlite.search(self.conn, self._kb_seq(account, region, kb_id), plan)

    def list_quick_responses(
        self, account: str, region: str, kb_id: str, after: str | None, limit: int
    ) -> list[Record]:
        """Records in name order (names are unique in a knowledge base), after the given name
        (keyset pagination: stable while quick responses are added or removed)."""
        kb = self._kb_seq(account, region, kb_id)
        rows = self.conn.execute(
            f"SELECT {SELECT_RECORD} FROM quick_responses q JOIN knowledge_bases k ON k.seq = q.kb"
            " WHERE q.kb = ? AND q.name > ? ORDER BY q.name LIMIT ?",
            (kb, after if after is not None else "", limit),
        ).fetchall()
        return [record_from_row(*row) for row in rows]
