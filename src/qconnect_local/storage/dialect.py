"""What differs in spelling between the two stores' SQL: the shared queries (storage/sql/) are
written once, in SQLite's spelling with `?` placeholders, and ask their session's dialect for
the rest."""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

Record = dict[str, Any]


@dataclass(frozen=True)
class Dialect:
    name: str
    # The placeholder of a query parameter as the driver wants it ("?" or "%s").
    placeholder: str
    # Column types of the shared schema steps (sql/schema.py).
    serial_key: str  # an auto-numbered integer primary key
    big_int: str
    real: str
    json_type: str
    # The larger of two values: SQLite's two-argument max(), PostgreSQL's greatest().
    greatest: str
    # The current time in epoch seconds, as an SQL expression.
    now_epoch: str
    # The clause that locks the rows a write session reads before it changes them ("" if none).
    row_lock: str
    # The clause that lets concurrent writers each take a different row ("" if none).
    skip_locked: str
    # A literal that is false in a WHERE clause.
    false: str
    # JSON for a parameter, and a selected JSON value back as a dict.
    json_param: Callable[[Any], Any]
    json_value: Callable[[Any], Any]
    # `instr(text, ?) > 0` spelled for the dialect: the column holds the parameter.
    contains: Callable[[str], str]
    # A prefix test of a column against one parameter; `prefix_params` gives its parameters.
    starts_with: Callable[[str], str]
    prefix_params: Callable[[str], tuple[Any, ...]]
    # After `FROM table alias`: make the query read that index (SQLite's INDEXED BY), or "".
    index_hint: Callable[[str], str] = lambda index: ""

    def sql(self, text: str) -> str:
        """A shared query in this dialect's spelling (placeholders)."""
        if self.placeholder == "?":
            return text
        return _with_placeholder(text, self.placeholder)


@functools.lru_cache(maxsize=1024)
def _with_placeholder(text: str, placeholder: str) -> str:
    return text.replace("?", placeholder)
