"""The SQLite store's quick-response rows and their search-index entries.

`quick_responses` has an integer rowid (`seq`, insertion order) and the UUID in a separate unique
column; the columns that search filters, orders or matches on are real columns, and `data` holds
only what the columns cannot give back (see quick_response_records.py). `content` holds the
plain text (what `contents.plainText` returns and what search matches) and `markdown` the raw
markdown when it differs.

`quick_responses_fts` is an external-content FTS5 index over name, shortcut_key, description,
content and exact_keys (unicode61 tokenizer, no diacritics folding, no prefix index; since
migration 102 `detail=column, columnsize=0`: no positions, as search makes no phrase or NEAR
queries). The session's methods keep it in step in the caller's transaction (not per-row
triggers: one INSERT…SELECT after a bulk insert is faster). A BEFORE DELETE trigger on
knowledge_bases clears the index entries of a knowledge base before the foreign-key cascade
removes its rows.

`quick_responses_index_state` holds one random *index token*, replaced by every bulk insert in
its transaction: the in-memory search vocabulary (search/vocabulary.py) compares it with the
tokens it knows to tell whether an import added words it lacks.
"""

from __future__ import annotations

import sqlite3
from collections import Counter
from collections.abc import Callable
from typing import Any

import orjson

from qconnect_local.errors import ConflictException
from qconnect_local.search.plan import tokenize
from qconnect_local.storage.quick_response_records import COLUMNS as RECORD_COLUMNS
from qconnect_local.storage.quick_response_records import (
    Record,
    data_extras,
    record_columns,
    record_from_columns,
)
from qconnect_local.storage.sql.search_tables import QUICK_RESPONSES, SearchTable
from qconnect_local.storage.sqlite.search.exact_keys import FTS_COLUMNS, exact_key, exact_keys

COLUMNS = (*RECORD_COLUMNS, *("data", "exact_keys"))
INSERT = f"INSERT INTO quick_responses ({', '.join(COLUMNS)}) VALUES ({', '.join('?' * len(COLUMNS))})"
FTS_INSERT = (
    "INSERT INTO quick_responses_fts (rowid, name, shortcut_key, description, content, exact_keys)"
    " VALUES (?, ?, ?, ?, ?, ?)"
)
FTS_DELETE = (
    "INSERT INTO quick_responses_fts (quick_responses_fts, rowid, name, shortcut_key, description, content, exact_keys)"
    " VALUES ('delete', ?, ?, ?, ?, ?, ?)"
)
FTS_OLD = (
    "SELECT seq, name, shortcut_key, description, content, exact_keys FROM quick_responses WHERE id = ? AND kb = ?"
)


def _data(record: Record, channels: str | None, criteria: str | None, values: str | None) -> bytes:
    """The `data` column (JSON): see quick_response_records.data_extras."""
    extras = data_extras(record, channels, criteria, values)
    return orjson.dumps(extras) if extras else b"{}"


WordSink = Callable[[str, list[str]], None]  # (column, the words of one row's field)


def build_row(kb_seq: int, record: Record, sink: WordSink | None = None) -> tuple[Any, ...]:
    columns = record_columns(kb_seq, record)
    return (*columns, _data(record, *columns[10:13]), index_words(columns[2:6], sink))


def count_words(docs: dict[str, Counter[str]], row: tuple[Any, ...]) -> None:
    """Adds a built row's words to per-column document counts (one per row and word)."""
    for column, text in zip(FTS_COLUMNS, (row[2], row[3], row[4], row[5]), strict=False):
        if text:
            docs[column].update(set(tokenize(text)))


def index_words(fields: tuple[str | None, ...], sink: WordSink | None = None) -> str:
    """The `exact_keys` text of a row (one exact-key word per non-empty searchable field, see
    search/exact_keys.py), handing each field's words to `sink` on the way (the vocabulary)."""
    if sink is None:  # the bulk path: keys only
        return exact_keys(fields)
    keys = []
    for column, text in zip(FTS_COLUMNS, fields, strict=False):
        if text:
            words = tokenize(text)
            if words:
                keys.append(exact_key(column, words))
                if sink is not None:
                    sink(column, words)
    return " ".join(keys)


def index_token(conn: sqlite3.Connection, table: SearchTable = QUICK_RESPONSES) -> str | None:
    """The index token (None before the first bulk insert, and after a reset)."""
    row = conn.execute(f"SELECT token FROM {table.index_state} WHERE id = 1").fetchone()
    return row[0] if row else None


def set_index_token(conn: sqlite3.Connection, token: str, table: SearchTable = QUICK_RESPONSES) -> None:
    conn.execute(
        f"INSERT INTO {table.index_state} (id, token) VALUES (1, ?)"
        " ON CONFLICT (id) DO UPDATE SET token = excluded.token",
        (token,),
    )


def record_from_row(*row: Any) -> Record:
    """The QuickResponseData record of a row selected with SELECT_RECORD (`data` last, as JSON)."""
    return record_from_columns(*row[:-1], orjson.loads(row[-1]))  # type: ignore[call-arg]  # row is 19 long


def fts_values(row: tuple[Any, ...]) -> tuple[Any, ...]:
    return (row[2], row[3], row[4], row[5], row[-1])


def conflict(exc: sqlite3.IntegrityError, record: Record) -> ConflictException:
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
