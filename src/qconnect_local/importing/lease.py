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
    """Renews `job_id`'s lease for `owner` every lease / BEATS_PER_LEASE seconds until stopped;
    `lost` is set once a renewal finds the job no longer ours (taken over, deleted, ended)."""

    def __init__(self, store: Any, job_id: str, owner: str, lease_seconds: float) -> None:
        super().__init__(name=f"qconnect-import-lease-{job_id[:8]}", daemon=True)
        self.store = store
        self.job_id = job_id
        self.owner = owner
        self.lease_seconds = lease_seconds
        self.lost = threading.Event()
        self._stop = threading.Event()

    def stop(self) -> None:
        """Stops renewing; never waits for a renewal in flight (a late one changes nothing: it
        renews only a job in progress that this runner still holds)."""
        self._stop.set()

    def run(self) -> None:
        interval = self.lease_seconds / BEATS_PER_LEASE
        while not self._stop.wait(interval):
            try:
                if not self.renew():
                    self.lost.set()
                    return
            except Exception as exc:  # a lock wait that ran out, the database away: try next beat
                log.debug("import job %s: lease not renewed this time: %s", self.job_id, exc)

    def renew(self) -> bool:
        with self.store.write() as session:
            if self._stop.is_set():
                return True  # the job ended while this renewal waited for the lock
            return bool(session.renew_import_job_lease(self.job_id, self.owner, time.time() + self.lease_seconds))
