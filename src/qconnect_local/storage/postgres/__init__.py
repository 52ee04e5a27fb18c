"""The PostgreSQL store, for several servers and workers sharing one database: connection pool
and locks (store.py), schema and migrations, the quick-response rows and writes, the COPY bulk
loader and the tsvector search executor."""

from qconnect_local.storage.postgres.store import PostgresSession, PostgresStore, redact

__all__ = ["PostgresSession", "PostgresStore", "redact"]
