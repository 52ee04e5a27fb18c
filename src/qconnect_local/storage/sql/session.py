"""The base of both stores' sessions: a connection, whether the session writes, and the dialect."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any, ClassVar, Self

from qconnect_local.storage.dialect import Dialect


class SqlSession:
    """One connection inside one transaction (or, for PostgreSQL reads, statement by statement).

    `execute(sql, params)` runs a shared query written with `?` placeholders."""

    dialect: ClassVar[Dialect]

    def __init__(self, conn: Any, writing: bool) -> None:
        self.conn = conn
        self.writing = writing

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        return None

    def execute(self, sql: str, params: Sequence[Any] = ()) -> Any:
        return self.conn.execute(self.dialect.sql(sql), params)

    def executemany(self, sql: str, rows: Iterable[Sequence[Any]]) -> None:
        self.conn.executemany(self.dialect.sql(sql), rows)

    def lock(self, *key: str) -> None:
        """A lock on a logical key until the write session ends (a no-op where writers are
        serialized anyway)."""

    def row_lock(self) -> str:
        """The clause that locks the rows a write session reads before it changes them."""
        return self.dialect.row_lock if self.writing else ""

    def skip_locked(self) -> str:
        """The clause that hands concurrent writers different rows instead of queueing them."""
        return self.dialect.skip_locked if self.writing else ""
