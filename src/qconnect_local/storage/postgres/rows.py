"""The PostgreSQL store's quick-response rows: their columns, and the lexemes of their search
words (search.py has how search uses them).

The same columns as the SQLite table. Text columns use the "C" collation, so ordering and
comparisons are byte-wise as in SQLite (ListQuickResponses pages in name order, and a name
compares equal only to itself), and prefix comparisons can use the btree indexes. `data` holds
only what the columns cannot give back (quick_response_records.py).
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from typing import Any

import orjson
import psycopg.errors

from qconnect_local.errors import ConflictException
from qconnect_local.search.plan import tokenize
from qconnect_local.storage.quick_response_records import COLUMNS as RECORD_COLUMNS
from qconnect_local.storage.quick_response_records import Record, data_extras, record_columns

# Searchable record fields -> (storage column, lexeme prefix).
FIELD_PREFIXES = {"name": "n", "shortcut_key": "s", "description": "d", "content": "c"}
# A longer word is indexed by its hash (a tsvector lexeme holds at most 2047 bytes); it can then
# be found whole, not by prefix or fuzzily.
MAX_WORD_BYTES = 500
# fuzzystrmatch's levenshtein takes strings of at most 255 characters.
MAX_FUZZY_WORD = 250


def word_lexeme(prefix: str, word: str) -> str:
    if len(word.encode("utf-8")) > MAX_WORD_BYTES:
        word = "#" + hashlib.blake2b(word.encode("utf-8"), digest_size=16).hexdigest()
    return f"{prefix}:{word}"


def exact_lexeme(prefix: str, words: Iterable[str]) -> str:
    digest = hashlib.blake2b(" ".join(words).encode("utf-8"), digest_size=8).hexdigest()
    return f"x{prefix}:{digest}"


COLUMNS = (*RECORD_COLUMNS, *("data", "search_words", "exact_words"))
INSERT = f"INSERT INTO quick_responses ({', '.join(COLUMNS)}) VALUES ({', '.join(['%s'] * len(COLUMNS))})"
UPDATE = f"UPDATE quick_responses SET {', '.join(f'{c} = %s' for c in COLUMNS)} WHERE seq = %s"


def _data(record: Record, channels: str | None, criteria: str | None, values: str | None) -> str:
    """The `data` column (JSON text for COPY and INSERT): see quick_response_records.data_extras."""
    extras = data_extras(record, channels, criteria, values)
    return orjson.dumps(extras).decode() if extras else "{}"


def index_words(fields: tuple[str | None, ...]) -> tuple[str, str, set[str]]:
    """(search_words, exact_words, the words) for (name, shortcut_key, description, content):
    the lexemes of `word_lexeme` / `exact_lexeme` for every word and field
    (tests compare them with a word-by-word build), the exact whole-field ones apart (see
    migration 101). Built with one join per field instead of a string per word: it
    runs for every imported row."""
    whole = MAX_WORD_BYTES // 4  # the longest word kept whole
    parts: list[str] = []
    exact: list[str] = []
    seen: set[str] = set()
    # In the tsvector's own order (fields c, d, n, s; words by code point, which is UTF-8's byte
    # order): the server sorts a tsvector's lexemes as it reads it, and the GIN index its
    # entries, and both sorts check for sorted input first (the import's database side is the
    # slower one; sorting here is on the import's checking thread).
    for prefix, text in sorted(zip("nsdc", fields, strict=False)):
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


def build_row(kb_seq: int, record: Record, words: set[str] | None = None) -> tuple[Any, ...]:
    """The column values of a record; its indexed words are added to `words` when given."""
    row, found = row_and_words(kb_seq, record)
    if words is not None:
        words.update(found)
    return row


def row_and_words(kb_seq: int, record: Record) -> tuple[tuple[Any, ...], set[str]]:
    """The column values of a record, and its indexed words."""
    columns = record_columns(kb_seq, record)
    search_words, exact_words, found = index_words(columns[2:6])
    # `data` as text, not Jsonb: COPY's text format and INSERT both let the server parse it as
    # jsonb (and the tsvector literals the same way).
    return (*columns, _data(record, *columns[10:13]), search_words, exact_words), found


# Adds words to the fuzzy-search vocabulary. Sorted, so that concurrent writers insert shared
# new words in one order and cannot deadlock on them.
ADD_WORDS = (
    "INSERT INTO quick_response_words (word) SELECT w FROM unnest(%s::text[]) AS w ORDER BY w ON CONFLICT DO NOTHING"
)


def fuzzy_words(words: Iterable[str]) -> list[str]:
    """The words fuzzy search keeps (fuzzystrmatch's length limit)."""
    return [w for w in words if len(w) <= MAX_FUZZY_WORD]


def conflict(exc: psycopg.errors.UniqueViolation, record: Record) -> ConflictException:
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


def bulk_conflict(exc: psycopg.errors.UniqueViolation, kb: int, last: tuple[Any, ...]) -> ConflictException:
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
    return conflict(exc, record)
