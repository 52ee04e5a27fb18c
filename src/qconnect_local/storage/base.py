"""The storage interface operations are written against.

A store hands out sessions; a write session is one transaction that commits when its block ends
without an exception and rolls back otherwise, and writers are serialized (so quota checks and
inserts inside one write session cannot race). Records are plain dicts in the API's own member
names, with timestamps as epoch seconds (floats), so a store never needs to know the API.
"""

from __future__ import annotations

from contextlib import AbstractContextManager
from typing import Any, Protocol

Record = dict[str, Any]


class Session(Protocol):
    # knowledge bases
    def insert_knowledge_base(self, account: str, region: str, kb: Record) -> None: ...
    def get_knowledge_base(self, account: str, region: str, kb_id: str) -> Record | None: ...
    def update_knowledge_base(self, account: str, region: str, kb: Record) -> None: ...
    def delete_knowledge_base(self, account: str, region: str, kb_id: str) -> bool: ...
    def count_knowledge_bases(self, account: str, region: str) -> int: ...
    def list_knowledge_bases(self, account: str, region: str, after: int, limit: int) -> list[tuple[int, Record]]: ...

    # idempotency tokens
    def get_idempotency(
        self, account: str, region: str, operation: str, scope: str, token: str
    ) -> tuple[str, str] | None: ...
    def put_idempotency(
        self,
        account: str,
        region: str,
        operation: str,
        scope: str,
        token: str,
        request_hash: str,
        resource_id: str,
        created: float,
    ) -> None: ...


class Store(Protocol):
    kind: str

    def read(self) -> AbstractContextManager[Session]: ...
    def write(self) -> AbstractContextManager[Session]: ...
    def reset(self) -> None: ...
    def ping(self) -> bool: ...
    def close(self) -> None: ...
