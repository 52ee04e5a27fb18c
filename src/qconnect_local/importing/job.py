"""One import job, from the uploaded CSV to its final state, in one write transaction.

Two threads work on a job at once, on the machine's two cores:

- the **checker** streams the CSV and puts every row through CreateQuickResponse's own checks:
  the model's constraints (the API's validator and messages), the operation's DB-free rules
  (`prepare_quick_response`), uniqueness of name and shortcut key against the knowledge base
  and the earlier rows of the file, and the per-knowledge-base quota. Good rows go, in batches,
  onto a small bounded queue; failed rows go to the report with their original cells.
- the **writer** (the runner's thread) holds the store's write transaction and hands each batch
  to the store's bulk loader as it comes (SQLite's own work, done with the GIL released, runs
  beside the checker's Python), and at the end stamps the knowledge base's
  lastContentModificationTime and sets the job's final status and report — so a job lands
  completely or not at all, and a crash leaves nothing.

Why one transaction from the start rather than "check first, then land": landing the rows is
dominated by SQLite's index and full-text work, so the write lock would be held nearly as long
either way, while overlapping the two halves the job's time (the job logs how long each side
waited for the other). Memory stays flat: the queue holds a few batches, and the only per-row
state is the set of names and shortcut keys (a compact `KeySet`). Because the names and shortcut
keys are read inside the same transaction, nothing can slip in between check and insert. API
reads go on meanwhile (WAL); API writes wait for the job to land.

Status (a choice, docs/behaviour.md): COMPLETE when every row was imported; FAILED when the
file could not be used (nothing imported) or when at least one row failed (the good rows are
imported all the same, and the report lists every failed row).
"""

from __future__ import annotations

import contextlib
import logging
import queue
import sys
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, BinaryIO

from qconnect_local.blobs import BlobNotFound, BlobWriter
from qconnect_local.errors import ServiceError
from qconnect_local.importing.csv_format import FileProblem, RowMapper, RowProblem, read_rows
from qconnect_local.importing.keyset import KeySet
from qconnect_local.importing.report import ReportWriter, report_key, write_file_problem
from qconnect_local.importing.routing_profiles import DirectoryError
from qconnect_local.operations.context import RequestContext, wall_clock
from qconnect_local.storage.base import Session
from qconnect_local.unhappy.faults import failed_row_message, prepare_import

if TYPE_CHECKING:
    from qconnect_local.services import Services

log = logging.getLogger("qconnect_local.importing")

BATCH_ROWS = 2000
# The first batch's rows; each next batch doubles up to BATCH_ROWS, so the writer starts after a
# few milliseconds of checking rather than a whole batch's (a fixed cost of every job).
FIRST_BATCH_ROWS = 250
QUEUE_BATCHES = 4
# The interpreter's GIL switch interval while an import's two threads run (see quick_gil_handoff).
IMPORT_SWITCH_INTERVAL = 0.0005


class LostLease(Exception):
    """The job was taken from this runner (deleted, reset, or its lease ran out)."""


@dataclass
class Outcome:
    status: str  # COMPLETE | FAILED
    imported: int = 0
    failed: int = 0
    report: str | None = None  # blob key


# CreateQuickResponse's messages for the checks the import does in bulk (tests compare them
# with what CreateQuickResponse answers for the same input).
def name_conflict(name: str) -> str:
    return f"A quick response with the name '{name}' already exists in this knowledge base"


def shortcut_conflict(key: str) -> str:
    return f"A quick response with the shortcutKey '{key}' already exists in this knowledge base"


def quota_exceeded(kb_id: str, limit: int) -> str:
    return f"The knowledge base {kb_id} has reached the limit of {limit} quick responses"


class RowChecker:
    """CreateQuickResponse's rules, for the rows of one file."""

    def __init__(
        self,
        ctx: RequestContext,
        kb: dict[str, Any],
        names: KeySet,
        shortcuts: KeySet,
        count: int,
        quota: int,
        rules: Any,
    ) -> None:
        self.ctx = ctx
        self.kb = kb
        self.names = names  # taken so far: the knowledge base's and the file's good rows'
        self.shortcuts = shortcuts
        self.count = count
        self.quota = quota
        self.rules = rules  # qconnect_local.importing.rules.QuickResponseRules

    def check(self, params: dict[str, Any]) -> dict[str, Any]:
        """The record to insert, or RowProblem."""
        try:
            record = self.rules.prepare(self.ctx, self.kb, params)
        except ServiceError as exc:
            raise RowProblem(exc.message, exc.code) from None
        # In CreateQuickResponse's order: quota, then name, then shortcut key.
        if self.count >= self.quota:
            raise RowProblem(quota_exceeded(self.kb["knowledgeBaseId"], self.quota), "ServiceQuotaExceededException")
        name, shortcut = record["name"], record.get("shortcutKey")
        names, shortcuts = self.names, self.shortcuts
        name_slot = names.vacancy(name)
        if name_slot < 0:
            raise RowProblem(name_conflict(name), "ConflictException")
        if shortcut is not None:
            shortcut_slot = shortcuts.vacancy(shortcut)
            if shortcut_slot < 0:
                raise RowProblem(shortcut_conflict(shortcut), "ConflictException")
            shortcuts.fill(shortcut_slot, shortcut)
        names.fill(name_slot, name)  # two sets: filling one leaves the other's slot good
        self.count += 1
        return record


_DONE = object()


_handoff_lock = threading.Lock()
_handoff_users = 0
_handoff_saved = 0.0


@contextlib.contextmanager
def quick_gil_handoff() -> Iterator[None]:
    """Lowers the interpreter's GIL switch interval (process-wide) while at least one import runs.

    Why: the writer thread gives up the GIL for each statement it runs in the database and needs
    it back afterwards, while the checking thread runs Python without pause; with the default
    5 ms interval the writer waits up to 5 ms after every statement (docs/performance.md). A
    lower interval costs a little more switching while several threads want the GIL, so the
    default comes back when the last import ends."""
    global _handoff_users, _handoff_saved
    with _handoff_lock:
        if _handoff_users == 0:
            _handoff_saved = sys.getswitchinterval()
            sys.setswitchinterval(min(_handoff_saved, IMPORT_SWITCH_INTERVAL))
        _handoff_users += 1
    try:
        yield
    finally:
        with _handoff_lock:
            _handoff_users -= 1
            if _handoff_users == 0:
                sys.setswitchinterval(_handoff_saved)


class _Checker(threading.Thread):
    """Checks the rows of the file and hands good records to the writer in batches."""

    def __init__(
        self,
        processor: JobProcessor,
        source: BinaryIO,
        checker: RowChecker,
        report_out: BlobWriter,
        build: Callable[[dict[str, Any]], Any],
    ) -> None:
        super().__init__(name=f"qconnect-import-check-{processor.job_id[:8]}", daemon=True)
        self.processor = processor
        self.source = source
        self.checker = checker
        self.report_out = report_out
        self.build = build  # checked record -> the store's row (Python work, done on this thread)
        self.queue: queue.Queue[Any] = queue.Queue(maxsize=QUEUE_BATCHES)
        self.cancelled = threading.Event()
        self.failed = 0
        self.blocked = 0.0  # seconds spent waiting for the writer to take a batch
        self.waited = 0.0  # seconds the writer spent waiting for a batch

    def run(self) -> None:
        try:
            self._check_rows()
            item: Any = _DONE
        except BaseException as exc:  # handed to the writer, which re-raises it
            item = exc
        try:
            self._put(item)
        except LostLease:
            pass  # the writer gave up first

    def _put(self, item: Any) -> None:
        try:
            self.queue.put_nowait(item)
            return
        except queue.Full:
            pass
        started = time.perf_counter()
        try:
            while not self.cancelled.is_set():
                try:
                    self.queue.put(item, timeout=0.1)
                    return
                except queue.Full:
                    continue
            raise LostLease("cancelled")
        finally:
            self.blocked += time.perf_counter() - started

    def _check_rows(self) -> None:
        p = self.processor
        header, rows = read_rows(self.source)
        mapper = RowMapper(header, p.kb_id, p.resolve_routing_profiles)
        report = ReportWriter(self.report_out)
        report.start(header)
        max_rows = p.settings.imports.max_rows
        check, to_input, build = self.checker.check, mapper.to_input, self.build
        batch: list[Any] = []
        batch_rows = FIRST_BATCH_ROWS
        for n, row in enumerate(rows, start=1):
            if max_rows and n > max_rows:
                raise FileProblem(f"The file has more than {max_rows} data rows, the limit of one import")
            if n % BATCH_ROWS == 0:  # every so many rows read, good or not: a stop is seen soon
                p.check_stop()
            if n == p.fail_at_row:  # a fault rule (importFailAtRow) fails this row
                report.add(row, failed_row_message(n))
                self.failed += 1
                continue
            try:
                batch.append(build(check(to_input(row))))
            except RowProblem as exc:
                report.add(row, f"{exc.code}: {exc.message}")
                self.failed += 1
            if len(batch) >= batch_rows:
                self._put(batch)
                batch = []
                batch_rows = min(batch_rows * 2, BATCH_ROWS)
        if batch:
            self._put(batch)
        report.flush()

    def batches(self, idle: Callable[[], None]) -> Iterator[list[Any]]:
        """The checked records' rows, batch by batch; re-raises what stopped the checker.

        `idle()` is called when the writer would otherwise wait for the next batch: work it can
        do early instead of after the last batch, when nothing overlaps it."""
        try:
            while True:
                if self.queue.empty():
                    idle()
                started = time.perf_counter()
                item = self.queue.get()
                self.waited += time.perf_counter() - started
                if item is _DONE:
                    return
                if isinstance(item, BaseException):
                    raise item
                yield item
        finally:
            self.cancelled.set()
            self.join()


class JobProcessor:
    """Runs one claimed job. `check_stop()` raises (a LostLease) to abandon it."""

    def __init__(
        self,
        job: dict[str, Any],
        services: Services,
        rules: Any,
        check_stop: Callable[[], None],
        owner: str,
    ) -> None:
        self.job = job
        self.store = store = services.store
        self.blobs = services.blobs
        self.directory = services.directory
        self.faults = services.faults
        self.settings = settings = services.settings
        self.rules = rules
        self.check_stop = check_stop
        self.owner = owner
        self.account = job["_accountId"]
        self.region = job["_region"]
        self.kb_id = job["knowledgeBaseId"]
        self.job_id = job["importJobId"]
        self.ctx = RequestContext(
            account_id=self.account,
            region=self.region,
            caller_arn=job["_callerArn"],
            store=store,
            settings=settings,
            request_id=f"import-job-{self.job_id}",
            services=services,
        )
        self._profiles: dict[str, str] | DirectoryError | None = None
        self.fail_at_row: int | None = None

    def run(self) -> Outcome:
        # Fault rules: stall here, or fail a row later.
        self.fail_at_row = prepare_import(self, self.faults) if self.faults is not None else None
        key = report_key(self.job_id)
        try:
            source = self.blobs.open(f"uploads/{self.job['uploadId']}")
        except BlobNotFound:
            return self._land_file_problem("The uploaded file is no longer available")
        with source, self.blobs.writer(key) as report_out:
            try:
                return self._import(source, report_out, key)
            except FileProblem as exc:  # the transaction rolled back: nothing was imported
                return self._land_file_problem(str(exc))

    def _import(self, source: BinaryIO, report_out: BlobWriter, key: str) -> Outcome:
        lease = self.settings.imports.lease_seconds
        # Patient: an API write holding a lock for a moment must not fail the job. Stall limit:
        # if this process stops (SIGSTOP) the database ends the transaction within a lease.
        with self.store.write(patient=True, stall_limit=lease) as session:
            # The lease is the runner's heartbeat's (importing/lease.py): the job's row stays
            # unlocked. Named for this runner, so a runner taking the job over ends the sessions.
            session.tag_import_session(self.job_id, self.owner)
            self._still_ours(session)
            kb = session.get_knowledge_base(self.account, self.region, self.kb_id)
            if kb is None:
                raise LostLease(self.job_id)
            known_names, known_shortcuts, count = session.quick_response_keys(self.account, self.region, self.kb_id)
            # Held until the job lands, with the file's names added: compact (see KeySet).
            expected = self._expected_rows()
            names, shortcuts = KeySet(known_names, expected), KeySet(known_shortcuts, expected)
            quota = self.settings.quotas.quick_responses_per_knowledge_base
            with session.quick_response_loader(self.account, self.region, self.kb_id, expected) as loader:
                checker = _Checker(
                    self,
                    source,
                    RowChecker(self.ctx, kb, names, shortcuts, count, quota, self.rules),
                    report_out,
                    loader.build,
                )
                started = time.perf_counter()
                with quick_gil_handoff():
                    checker.start()
                    for batch in checker.batches(loader.idle):
                        # Also here: at shutdown the queued batches are not worth landing (it all rolls back).
                        self.check_stop()
                        loader.add(batch)
                rows_done = time.perf_counter()
                imported = loader.finish()
            finished = time.perf_counter()
            failed = checker.failed
            now = wall_clock()  # the runner works on real time, as its leases do
            if imported:
                session.touch_knowledge_base_content(self.account, self.region, self.kb_id, now)
            status = "FAILED" if failed else "COMPLETE"
            if failed:
                report_out.commit()
            else:
                self.blobs.delete(key)  # the report of an earlier, interrupted attempt
            if not session.finish_import_job(self.job_id, self.owner, status, key if failed else None, now):
                raise LostLease(self.job_id)
            landing = time.perf_counter()
        done = time.perf_counter()
        # Where the time went, for tuning: if the checker waited, the writer (SQLite) is the
        # bottleneck; if the writer waited, the checker (Python) is.
        log.info(
            "import job %s: %d rows imported, %d failed in %.2f s (rows %.2f s, checker waited %.2f s for the"
            " writer, writer waited %.2f s for rows; loader's finish %.2f s, landing %.2f s, commit %.2f s)",
            self.job_id,
            imported,
            failed,
            done - started,
            rows_done - started,
            checker.blocked,
            checker.waited,
            finished - rows_done,
            landing - finished,
            done - landing,
        )
        return Outcome(status, imported, failed, key if failed else None)

    def _expected_rows(self) -> int:
        """A guess at the file's rows, to size the key sets and to tell the store's loader how big
        the load will be: ~400 bytes a row (a typical quick response). A guess too high would
        hold memory for nothing, so it errs low."""
        size = self.blobs.size(f"uploads/{self.job['uploadId']}") or 0
        return min(size // 400, self.settings.quotas.quick_responses_per_knowledge_base)

    def resolve_routing_profiles(self, names: list[str]) -> list[str]:
        instance = (
            ((self.job.get("externalSourceConfiguration") or {}).get("configuration") or {})
            .get("connectConfiguration", {})
            .get("instanceId")
        )
        if not instance:
            raise RowProblem(
                "Routing profiles need an Amazon Connect instance: give StartImportJob "
                "externalSourceConfiguration.configuration.connectConfiguration.instanceId"
            )
        if self._profiles is None:  # one directory lookup per job
            try:
                self._profiles = self.directory.profiles(self.account, self.region, instance)
            except DirectoryError as exc:
                self._profiles = exc
        if isinstance(self._profiles, DirectoryError):
            raise RowProblem(str(self._profiles))
        arns = []
        for name in names:
            arn = self._profiles.get(name)
            if arn is None:
                raise RowProblem(
                    f"Routing profile '{name}' was not found in Amazon Connect instance '{instance}' "
                    "(names are case-sensitive)"
                )
            arns.append(arn)
        return arns

    def renew_lease(self) -> None:
        """Keeps the job this runner's for another lease (a stalled job, see unhappy/faults.py)."""
        with self.store.write() as session:
            if not session.renew_import_job_lease(
                self.job_id, self.owner, wall_clock() + self.settings.imports.lease_seconds
            ):
                raise LostLease(self.job_id)

    def _still_ours(self, session: Session) -> None:
        job = session.get_import_job_by_id(self.job_id)
        if job is None or job["status"] != "START_IN_PROGRESS" or job["_leaseOwner"] != self.owner:
            raise LostLease(self.job_id)

    def _land_file_problem(self, message: str) -> Outcome:
        key = report_key(self.job_id)
        with self.blobs.writer(key) as out:
            write_file_problem(out, message)
            with self.store.write() as session:
                self._still_ours(session)
                out.commit()
                if not session.finish_import_job(self.job_id, self.owner, "FAILED", key, wall_clock()):
                    raise LostLease(self.job_id)
        return Outcome("FAILED", 0, 0, key)
