"""PostgreSQL for the test suite: with QCONNECT_TEST_DATABASE_URL set, every test server runs on
PostgreSQL, each `ServerProcess` in a database of its own (created on first start, dropped when
the test run ends), so tests stay as isolated as they are with one SQLite file per server.
"""

from __future__ import annotations

import atexit
import itertools
import os
import threading
from urllib.parse import urlsplit, urlunsplit

TEST_DATABASE_URL = os.environ.get("QCONNECT_TEST_DATABASE_URL") or None

_counter = itertools.count(1)
_created: list[str] = []
_lock = threading.Lock()


def _admin_connect():
    import psycopg

    return psycopg.connect(TEST_DATABASE_URL, autocommit=True)


def _url_with_database(url: str, dbname: str) -> str:
    """The same postgresql:// URL with another database name."""
    parts = urlsplit(url)
    return urlunsplit(parts._replace(path="/" + dbname))


def new_database(label: str = "srv") -> str:
    """Creates an empty database beside the test database; returns its URL."""
    assert TEST_DATABASE_URL, "QCONNECT_TEST_DATABASE_URL is not set"
    base = urlsplit(TEST_DATABASE_URL).path.lstrip("/") or "postgres"
    name = f"{base}_{label}_{os.getpid()}_{next(_counter)}"[:63]
    with _lock, _admin_connect() as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
        _created.append(name)
    return _url_with_database(TEST_DATABASE_URL, name)


_by_key: dict[str, str] = {}


def database_for(key: str) -> str:
    """The same database for the same key (a server's data dir), created the first time."""
    with _lock:
        url = _by_key.get(key)
    if url is None:
        url = new_database()
        with _lock:
            url = _by_key.setdefault(key, url)
    return url


def _drop_all() -> None:
    if not _created:
        return
    try:
        with _admin_connect() as conn:
            for name in _created:
                conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    except Exception:  # the server may be gone at exit; the CI run drops its databases anyway
        pass


atexit.register(_drop_all)
