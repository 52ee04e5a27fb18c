"""Two thread pools for blocking work, so that reads never queue behind blocked writes.

A write may wait a long time for the store's write lock (an import holds it on SQLite; on
PostgreSQL a row lock of the knowledge base). If reads, searches and the health check shared
the writers' threads, a handful of blocked writes would starve them all. So every API call is
routed to a lane before it runs: `reads` (Get*, List*, Search*, Query* and the health check) or
`writes` (everything else). Each lane has its own fixed number of threads.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from urllib.parse import parse_qs

from qconnect_local.hardening import HardeningSettings
from qconnect_local.protocol.routing import Router

# An operation whose name starts with one of these changes nothing (checked by a test against
# the model, so a new mutating operation with such a name cannot slip in unnoticed).
READ_ONLY_PREFIXES = ("Get", "List", "Search", "Query")


def is_read_only(operation_name: str) -> bool:
    return operation_name.startswith(READ_ONLY_PREFIXES)


class Lanes:
    def __init__(self, router: Router, settings: HardeningSettings) -> None:
        self._router = router
        self.reads = ThreadPoolExecutor(max_workers=settings.read_threads, thread_name_prefix="qconnect-read")
        self.writes = ThreadPoolExecutor(max_workers=settings.write_threads, thread_name_prefix="qconnect-write")

    def for_request(self, method: str, path: str, query_string: str) -> ThreadPoolExecutor:
        """The lane of an API call; an unroutable call (answered with an error) reads."""
        if method == "GET":
            return self.reads
        keys = set(parse_qs(query_string, keep_blank_values=True)) if query_string else set()
        matched = self._router.match(method, path, keys)
        if matched is None or is_read_only(matched[0].name):
            return self.reads
        return self.writes

    def shutdown(self) -> None:
        self.writes.shutdown(wait=True)
        self.reads.shutdown(wait=True)
