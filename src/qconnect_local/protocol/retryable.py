"""Lock waits that ran out, as a retryable AWS error instead of a 500.

When a write cannot get its lock in time (SQLite's busy timeout while another process writes;
PostgreSQL's lock_timeout or a deadlock), its transaction has already been rolled back by the
store, so the client may safely try again: it gets `RequestTimeoutException` (408), which
botocore's retry modes treat as transient.
"""

from __future__ import annotations

import sqlite3

from qconnect_local.errors import RequestTimeoutException, ServiceError

# lock_not_available, query_canceled (lock_timeout/statement_timeout), deadlock_detected,
# serialization_failure
_POSTGRES_RETRYABLE = frozenset({"55P03", "57014", "40P01", "40001"})


def as_retryable(exc: BaseException) -> ServiceError | None:
    if isinstance(exc, sqlite3.OperationalError):
        text = str(exc).lower()
        if "locked" in text or "busy" in text:
            return _busy()
    if getattr(exc, "sqlstate", None) in _POSTGRES_RETRYABLE:
        return _busy()
    return None


def _busy() -> RequestTimeoutException:
    return RequestTimeoutException(
        "The request could not get its lock in time (another writer, such as an import, holds it); "
        "nothing was changed: retry it"
    )
