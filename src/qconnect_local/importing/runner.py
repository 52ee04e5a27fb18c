"""The import runner: a background thread that claims import jobs and runs them.

It never runs on the event loop, so API requests are served while a job runs (API *writes* wait
only while a job lands its rows, in one transaction).

Claiming is done with a lease in the database: the runner takes a job only if nobody holds an
unexpired lease on it, renews the lease while it works, and lands the job only if it still holds
it (a heartbeat thread, importing/lease.py). A job whose runner died (crash, `kill -9`) or
stopped (SIGSTOP) is taken over when the lease runs out (the taker ends the stalled runner's
database sessions), or at once when a runner starts on the same host and sees the lease owner's
process is gone; since the job lands in one transaction, the interrupted run left nothing behind
and the next run imports every row exactly once. A job interrupted
`max_attempts` times is failed rather than retried forever.
"""

from __future__ import annotations

import logging
import os
import socket
import threading
import time
import uuid
from typing import TYPE_CHECKING, Any

from qconnect_local.importing.content_tasks import ContentExtraction
from qconnect_local.importing.job import JobProcessor, LostLease
from qconnect_local.importing.lease import LeaseKeeper
from qconnect_local.importing.report import report_key, write_file_problem
from qconnect_local.leftovers import is_dead_local_runner

if TYPE_CHECKING:
    from qconnect_local.services import Services

log = logging.getLogger("qconnect_local.importing")

IDLE_POLL_SECONDS = 1.0  # also picks up jobs other processes released or left behind
GC_EVERY_SECONDS = 60.0


class Stopping(LostLease):
    """The server is shutting down: give the job back."""


class ImportRunner:
    def __init__(self, services: Services) -> None:
        self.services = services
        self.store = services.store
        self.blobs = services.blobs
        self.settings = services.settings
        self.directory = services.directory
        self.owner = f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._rules: Any = None
        self._last_gc = 0.0
        self.contents = ContentExtraction(services, self.owner)
        self.lease_keeper = LeaseKeeper(self.store, self.owner, self.settings.imports.lease_seconds)

    # -- life cycle -------------------------------------------------------------------------

    def start(self) -> None:
        self._thread = threading.Thread(target=self._loop, name="qconnect-import-runner", daemon=True)
        self._thread.start()

    def stop(self, timeout: float = 5.0) -> None:
        self._stop.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout)
        self.lease_keeper.close()

    def wake(self) -> None:
        """A job was started or released: look now rather than at the next poll."""
        self._wake.set()

    def _loop(self) -> None:
        self._expire_dead_local_leases()
        while not self._stop.is_set():
            try:
                soonest = self.run_next()
            except Exception:  # a broken database must not kill the runner for good
                log.exception("import runner: unexpected error")
                soonest = time.time() + IDLE_POLL_SECONDS
            if soonest is None:
                continue  # did some work; look for more at once
            self._collect_garbage()
            timeout = min(max(soonest - time.time(), 0.01), IDLE_POLL_SECONDS)
            self._wake.wait(timeout)
            self._wake.clear()

    # -- one job ----------------------------------------------------------------------------

    def run_next(self) -> float | None:
        """Runs one import job or one content's text extraction; None if it did, else when to
        look again (epoch seconds)."""
        soonest = self.run_next_import()
        if soonest is None:
            return None
        content_soonest = self.contents.run_next(IDLE_POLL_SECONDS)
        return None if content_soonest is None else min(soonest, content_soonest)

    def run_next_import(self) -> float | None:
        """Runs one runnable job; None if it did, else when to look again (epoch seconds)."""
        now = time.time()
        with self.store.read() as session:
            job_id, soonest = session.next_runnable_import_job(now)
        if job_id is None:
            return soonest if soonest is not None else now + IDLE_POLL_SECONDS
        lease = self.settings.imports.lease_seconds
        with self.store.write() as session:
            job = session.claim_import_job(job_id, self.owner, now, now + lease)
        if job is not None:
            self._run(job)
        return None

    def _run(self, job: dict[str, Any]) -> None:
        job_id = job["importJobId"]
        if job["_attempts"] > 1:  # an earlier runner lost its lease: end what it left running
            self._end_stalled_sessions(job_id)
        limit = self.settings.imports.max_attempts
        if job["_attempts"] > limit:
            self._fail(
                job,
                f"The import was interrupted {limit} times (the server stopped while it ran); it is not tried again",
            )
            return
        started = time.monotonic()
        lost = self.lease_keeper.keep(job_id)
        try:
            processor = JobProcessor(
                job,
                self.services,
                self._rules_(),
                self._stop_checker(job_id, lost),
                self.owner,
            )
            outcome = processor.run()
        except Stopping:
            with self.store.write() as session:
                session.abandon_import_job(job_id, self.owner)
            log.info("import job %s given back at shutdown", job_id)
            return
        except LostLease:
            log.info("import job %s was deleted or taken over while it ran", job_id)
            return
        except Exception as exc:
            log.exception("import job %s failed unexpectedly", job_id)
            self._fail(job, f"Internal error while importing: {type(exc).__name__}: {exc}")
            return
        finally:
            self.lease_keeper.release()
        if outcome is not None:
            log.info(
                "import job %s: %s, %d imported, %d failed in %.2fs",
                job_id,
                outcome.status,
                outcome.imported,
                outcome.failed,
                time.monotonic() - started,
            )

    def _rules_(self) -> Any:
        if self._rules is None:
            from qconnect_local.importing.rules import QuickResponseRules

            self._rules = QuickResponseRules()
        return self._rules

    def _stop_checker(self, job_id: str, lost: threading.Event):  # noqa: ANN202
        def check_stop() -> None:
            if self._stop.is_set():
                raise Stopping(job_id)
            if lost.is_set():  # another runner has it now: this run could never land
                raise LostLease(job_id)

        return check_stop

    def _end_stalled_sessions(self, job_id: str) -> None:
        """Ends the database sessions an earlier runner of the job left open (PostgreSQL: a
        stopped worker's transaction, even mid-COPY, holds the knowledge base's row)."""
        try:
            with self.store.read() as session:
                ended = session.end_stalled_import_sessions(job_id, self.owner)
            if ended:
                log.info("import job %s: ended %d database session(s) of its earlier runner", job_id, ended)
        except Exception:  # e.g. no right to end them: the stall limit (a lease) still applies
            log.warning("import job %s: could not end its earlier runner's sessions", job_id, exc_info=True)

    def _fail(self, job: dict[str, Any], message: str) -> None:
        """Lands a job as FAILED with `message` as its report (nothing imported)."""
        job_id = job["importJobId"]
        key = report_key(job_id)
        try:
            with self.blobs.writer(key) as out:
                write_file_problem(out, message)
                with self.store.write() as session:
                    now = session.get_import_job_by_id(job_id)
                    if now is None or now["_leaseOwner"] != self.owner or now["status"] != "START_IN_PROGRESS":
                        log.info("import job %s was taken over: its failure is not recorded", job_id)
                        return  # (a stalled runner woken up) the report is the new owner's key
                    out.commit()
                    session.finish_import_job(job_id, self.owner, "FAILED", key, time.time())
        except Exception:
            log.exception("import job %s: could not record its failure", job_id)

    # -- housekeeping -----------------------------------------------------------------------

    def _expire_dead_local_leases(self) -> None:
        """At start: the jobs of this host's runners that were killed (kill -9, a crash) are
        claimable at once, rather than shown as running until their lease runs out."""
        try:
            self.contents.expire_dead_local_leases()
            with self.store.read() as session:
                dead = [(j, o) for j, o in session.import_job_leases() if is_dead_local_runner(o)]
            if not dead:
                return
            with self.store.write() as session:
                expired = [j for j, o in dead if session.expire_import_job_lease(j, o)]
            if expired:
                log.info("import jobs %s: their runner on this host is dead; taken over now", ", ".join(expired))
        except Exception:  # e.g. the job's row still locked by the dead runner's backend: the lease runs out
            log.warning("import runner: could not expire the leases of dead runners", exc_info=True)

    def _collect_garbage(self) -> None:
        """Deletes blobs no row refers to any more (a deleted knowledge base's uploads and
        reports, the report of a landing that crashed)."""
        if time.monotonic() - self._last_gc < GC_EVERY_SECONDS:
            return
        self._last_gc = time.monotonic()
        try:
            # Blobs first, rows second: an upload's row is written before its file, so a file
            # listed here whose row is missing is garbage, never an upload in flight.
            keys = list(self.blobs.keys())
            with self.store.read() as session:
                live = session.live_blob_keys()
            for key in keys:
                if key not in live:
                    self.blobs.delete(key)
        except Exception:
            log.exception("import runner: blob garbage collection failed")
