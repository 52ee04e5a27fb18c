"""Exact keys: one word per searchable field in the `exact_keys` FTS column, so that an exact
whole-field match is one FTS lookup (collisions are harmless: candidates are checked in Python)."""

from __future__ import annotations

import hashlib
import zlib
from collections.abc import Iterable

from qconnect_local.search.plan import ASCII_WORD_BYTES, tokenize

EXACT_KEY_BUCKETS = 0xFFFF + 1
_EXACT_KEY_MASK = EXACT_KEY_BUCKETS - 1
FTS_COLUMNS = ("name", "shortcut_key", "description", "content")
_COLUMN_LETTER = {"name": "n", "shortcut_key": "s", "description": "d", "content": "c"}
# The key of a field is `y`, the column's letter and a hex bucket (see exact_key).
_EXACT_KEY_PREFIXES = tuple(f"y{_COLUMN_LETTER[column]}" for column in FTS_COLUMNS)
# ASCII_WORD_BYTES for text not lowered yet: upper-case letters lowered in the same pass.
_LOWERING_WORD_BYTES = bytes(ASCII_WORD_BYTES[c + 32] if 65 <= c <= 90 else ASCII_WORD_BYTES[c] for c in range(256))


def exact_key(column: str, words: Iterable[str]) -> str:
    """The word indexed in the `exact_keys` FTS column for a field whose words are `words`.

    A bucket (one of 65,536 per column), not a unique hash: a unique word per field makes FTS5
    keep four new terms per row, and the few extra candidates are checked like any collision."""
    bucket = zlib.crc32(" ".join(words).encode("utf-8")) & _EXACT_KEY_MASK
    return f"y{_COLUMN_LETTER[column]}{bucket:x}"


def exact_key_of_text(column: str, text: str) -> str | None:
    """`exact_key(column, tokenize(text))`, None for a text without words; ASCII text takes a
    bytes-only path (no word strings), as bulk inserts compute four of these per row."""
    lowered = text.lower()
    if not lowered.isascii():
        words = tokenize(text)
        return exact_key(column, words) if words else None
    parts = lowered.encode("ascii").translate(ASCII_WORD_BYTES).split()
    if not parts:
        return None
    bucket = zlib.crc32(b" ".join(parts)) & _EXACT_KEY_MASK
    return f"y{_COLUMN_LETTER[column]}{bucket:x}"


def legacy_exact_key(column: str, words: Iterable[str]) -> str:
    """The exact key of rows written before exact keys were bucketed (still searched for, so a
    database from then needs no rewrite)."""
    digest = hashlib.blake2b(" ".join(words).encode("utf-8"), digest_size=8).hexdigest()
    return f"x{_COLUMN_LETTER[column]}{digest}"


def exact_keys(fields: tuple[str | None, ...]) -> str:
    """The `exact_keys` text of (name, shortcut_key, description, content), for the bulk path
    (four per imported row): ASCII text goes bytes-only, one translate for lowering and word
    splitting, no word strings. Tests check it against `exact_key(column, tokenize(text))`."""
    keys = []
    for column, prefix, text in zip(FTS_COLUMNS, _EXACT_KEY_PREFIXES, fields, strict=False):
        if not text:
            continue
        if text.isascii():
            # The words joined by single spaces, without making a bytes object per word.
            joined = text.encode("ascii").translate(_LOWERING_WORD_BYTES)
            while b"  " in joined:
                joined = joined.replace(b"  ", b" ")
            joined = joined.strip(b" ")
            if joined:
                keys.append(f"{prefix}{zlib.crc32(joined) & _EXACT_KEY_MASK:x}")
        else:
            key = exact_key_of_text(column, text)
            if key is not None:
                keys.append(key)
    return " ".join(keys)
