"""What `GET /_qconnect/health` reports: enough to monitor a team's deployment.

- `database` and `blobStore`: their kind and whether this process reaches them now;
- `importQueue`: import jobs waiting for a runner and being run (shared by every server and
  worker of one database), `null` when the store cannot tell;
- `contentQueue`: content whose file waits for a runner to read it (`CREATE_IN_PROGRESS` after
  CreateContent or UpdateContent with a new upload) and being read, counted the same way, `null`
  when the store cannot tell;
- `importRunner`: whether this process runs import jobs (false under `serve --no-worker`);
- `searchVocabulary` (SQLite store): whether the search vocabulary is "loading", "ready" or
  "none" (not needed yet); null for the PostgreSQL store.

`status` is "ok" when both the database and the blob store answer, else "degraded", and then the
HTTP status is 503, so a load balancer's health check takes the server out of rotation.
"""

from __future__ import annotations

import logging
import time
from typing import Any

from qconnect_local import __version__

log = logging.getLogger("qconnect_local.health")


def _blob_store(app: Any) -> dict[str, Any]:
    blobs = app.services.blobs
    try:
        reachable = blobs.ping()
    except Exception:  # any failure to answer is "not reachable", never a 500
        log.warning("blob store health check failed", exc_info=True)
        reachable = False
    return {"kind": blobs.kind, "reachable": reachable}


def _queue(app: Any, depth: str) -> dict[str, int] | None:
    """{waiting, running} of a background queue (`depth` names the session's method)."""
    try:
        with app.store.read() as session:
            result: dict[str, int] = getattr(session, depth)()
            return result
    except Exception:  # the report says null rather than failing
        log.warning("%s health check failed", depth, exc_info=True)
        return None


def _search_vocabulary(app: Any) -> str | None:
    """The SQLite store's in-memory search vocabulary: "loading" (searches run without it, more
    slowly), "ready", or "none" (no search needed it yet); null for other stores."""
    return app.store.search_vocabulary_state()


def health_report(app: Any) -> tuple[int, dict[str, Any]]:
    """(HTTP status, body). Blocking: run it off the event loop."""
    database_ok = app.store.ping()
    blobs = _blob_store(app)
    ok = database_ok and blobs["reachable"]
    body = {
        "status": "ok" if ok else "degraded",
        "version": __version__,
        "storage": app.store.kind,
        "inMemory": app.settings.in_memory,
        "uptimeSeconds": round(time.time() - app.started, 3),
        "database": {"kind": app.store.kind, "reachable": database_ok},
        "blobStore": blobs,
        "importQueue": _queue(app, "import_queue_depth") if database_ok else None,
        "contentQueue": _queue(app, "content_queue_depth") if database_ok else None,
        "importRunner": bool(getattr(app.settings, "run_import_runner", True)),
        "searchVocabulary": _search_vocabulary(app),
    }
    return (200 if ok else 503), body
