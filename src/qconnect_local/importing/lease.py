"""The heartbeat of a running import job: a thread that renews the job's lease, in short
transactions of its own, while the runner's process is alive.

Why a thread and committed renewals: the job's lease is what other runners (and health) see. A
renewal inside the import's own transaction would stay invisible until the job lands, so a
healthy long import would look expired after one lease; renewing it there also locked the job's
row for the whole import, so a taker could not tell a long import from a stalled one. With the
heartbeat, an expired lease means the runner stopped (SIGSTOP, a frozen machine, kill -9): the
next runner claims the job and ends the stalled runner's database sessions (on PostgreSQL, see
`end_stalled_import_sessions`), which releases the knowledge base at once.
"""

from __future__ import annotations

import logging
import threading
import time
from typing import Any

log = logging.getLogger("qconnect_local.importing")

BEATS_PER_LEASE = 3  # a renewal may fail or come late twice before the lease runs out


class LeaseKeeper(threading.Thread):
    """Renews the lease of the job its runner works on (`keep`) every lease / BEATS_PER_LEASE
    seconds. One thread per runner, started at the first job: a thread per job would leave a
    SQLite connection behind for each (the store's connections are per thread)."""

    def __init__(self, store: Any, owner: str, lease_seconds: float) -> None:
        super().__init__(name="qconnect-import-lease", daemon=True)
        self.store = store
        self.owner = owner
        self.lease_seconds = lease_seconds
        self._lock = threading.Lock()
        self._job: str | None = None
        self._lost = threading.Event()
        self._closing = threading.Event()

    def keep(self, job_id: str) -> threading.Event:
        """Renews `job_id`'s lease from now on; the returned event is set once a renewal finds
        the job no longer ours (taken over, deleted, ended)."""
        with self._lock:
            self._job, self._lost = job_id, threading.Event()
            lost = self._lost
        if not self.is_alive() and not self._closing.is_set():
            self.start()
        return lost

    def release(self) -> None:
        """Stops renewing (a renewal in flight changes nothing once the job has ended: it renews
        only a job in progress that this runner still holds)."""
        with self._lock:
            self._job = None

    def close(self) -> None:
        self._closing.set()

    def _current(self) -> tuple[str | None, threading.Event]:
        with self._lock:
            return self._job, self._lost

    def run(self) -> None:
        while not self._closing.wait(self.lease_seconds / BEATS_PER_LEASE):
            job_id, lost = self._current()
            if job_id is None:
                continue
            try:
                if not self.renew(job_id):
                    lost.set()
            except Exception as exc:  # a lock wait that ran out, the database away: try next beat
                log.debug("import job %s: lease not renewed this time: %s", job_id, exc)

    def renew(self, job_id: str) -> bool:
        with self.store.write() as session:
            if self._current()[0] != job_id:
                return True  # the job ended while this renewal waited for the lock
            return bool(session.renew_import_job_lease(job_id, self.owner, time.time() + self.lease_seconds))
