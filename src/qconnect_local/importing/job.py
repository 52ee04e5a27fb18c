"""One import job, from the uploaded CSV to its final state.

Two phases, so that the database's single writer is held as briefly as possible:

1. **Check** (no write lock; API writes go on meanwhile). Stream the CSV; turn each row into a
   CreateQuickResponse input and put it through CreateQuickResponse's own checks: the model's
   constraints (the very validator and messages of the API), the operation's DB-free rules
   (`prepare_quick_response`), uniqueness of name and shortcut key against the knowledge base and
   the earlier rows of the file, and the per-knowledge-base quota. Good rows are spooled, as the
   records to insert, to an unlinked temporary file (so memory stays flat whatever the file's
   size); failed rows go to the report with their original cells.
2. **Land** (one write transaction). Re-check uniqueness and quota against anything the API
   created since phase 1 began (rows that now collide fail too), insert every good record in bulk,
   stamp the knowledge base's lastContentModificationTime, and set the job's final status and
   report. A crash anywhere before the commit leaves nothing behind, and the job is run again.

Status (project decision, reference §5.3): COMPLETE when every row was imported; FAILED when the
file could not be used (nothing imported) or when at least one row failed (the good rows are
imported all the same, and the report lists every failed row).
"""

from __future__ import annotations

import logging
import os
import tempfile
from dataclasses import dataclass, field
from typing import Any, BinaryIO, Callable, Iterator

import orjson

from qconnect_local.blobs import BlobNotFound, BlobStore, BlobWriter
from qconnect_local.errors import ServiceError
from qconnect_local.importing.csv_format import FileProblem, Header, Row, RowMapper, RowProblem, read_rows
from qconnect_local.importing.report import ReportWriter, report_key, write_file_problem
from qconnect_local.importing.routing_profiles import DirectoryError, RoutingProfileDirectory
from qconnect_local.operations.context import RequestContext

log = logging.getLogger("qconnect_local.importing")


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


@dataclass
class Keys:
    """Names and shortcut keys taken so far (knowledge base + good rows of the file)."""

    names: set[str]
    shortcuts: set[str]
    count: int


@dataclass
class Checked:
    """Phase 1's result."""

    header: Header
    spool: BinaryIO  # one orjson line per good row: [line, record]
    good: int = 0
    failed_lines: set[int] = field(default_factory=set)


class RowChecker:
    """CreateQuickResponse's rules, for the rows of one file."""

    def __init__(self, ctx: RequestContext, kb: dict[str, Any], keys: Keys, quota: int, rules: Any) -> None:
        self.ctx = ctx
        self.kb = kb
        self.keys = keys
        self.quota = quota
        self.rules = rules  # qconnect_local.importing.rules.QuickResponseRules

    def check(self, params: dict[str, Any]) -> dict[str, Any]:
        """The record to insert, or RowProblem."""
        try:
            record = self.rules.prepare(self.ctx, self.kb, params)
        except ServiceError as exc:
            raise RowProblem(exc.message, exc.code) from None
        # In CreateQuickResponse's order: quota, then name, then shortcut key.
        if self.keys.count >= self.quota:
            raise RowProblem(quota_exceeded(self.kb["knowledgeBaseId"], self.quota), "ServiceQuotaExceededException")
        name, shortcut = record["name"], record.get("shortcutKey")
        if name in self.keys.names:
            raise RowProblem(name_conflict(name), "ConflictException")
        if shortcut is not None and shortcut in self.keys.shortcuts:
            raise RowProblem(shortcut_conflict(shortcut), "ConflictException")
        self.keys.names.add(name)
        if shortcut is not None:
            self.keys.shortcuts.add(shortcut)
        self.keys.count += 1
        return record


class JobProcessor:
    """Runs one claimed job. `keep_lease()` is called often; it raises LostLease to abandon it."""

    def __init__(
        self, job: dict[str, Any], store: Any, blobs: BlobStore, directory: RoutingProfileDirectory,
        settings: Any, services: dict[str, Any], rules: Any, keep_lease: Callable[[], None],
        owner: str,
    ) -> None:
        self.job = job
        self.store = store
        self.blobs = blobs
        self.directory = directory
        self.settings = settings
        self.rules = rules
        self.keep_lease = keep_lease
        self.owner = owner
        self.account = job["_accountId"]
        self.region = job["_region"]
        self.kb_id = job["knowledgeBaseId"]
        self.job_id = job["importJobId"]
        self.ctx = RequestContext(
            account_id=self.account, region=self.region, caller_arn=job["_callerArn"], store=store,
            settings=settings, request_id=f"import-job-{self.job_id}", services=services,
        )
        self._profiles: dict[str, str] | DirectoryError | None = None

    # -- entry ------------------------------------------------------------------------------

    def run(self) -> Outcome | None:
        """Processes the job and lands it; None when it vanished or was taken away meanwhile."""
        key = report_key(self.job_id)
        try:
            source = self.blobs.open(f"uploads/{self.job['uploadId']}")
        except BlobNotFound:
            return self._land_file_problem("The uploaded file is no longer available")
        with source, self.blobs.writer(key) as report_out, tempfile.TemporaryFile(dir=self._spool_dir()) as spool:
            try:
                checked = self._check(source, spool, report_out)
            except FileProblem as exc:
                return self._land_file_problem(str(exc))
            if checked is None:
                return None
            return self._land(checked, report_out, key)

    # -- phase 1: check ---------------------------------------------------------------------

    def _check(self, source: BinaryIO, spool: BinaryIO, report_out: BlobWriter) -> Checked | None:
        with self.store.read() as session:
            kb = session.get_knowledge_base(self.account, self.region, self.kb_id)
            if kb is None:
                return None
            names, shortcuts, count = session.quick_response_keys(self.account, self.region, self.kb_id)
        # The sets live only for this phase: phase 2 checks against the database afresh.
        checker = RowChecker(self.ctx, kb, Keys(names, shortcuts, count), self._quota(), self.rules)
        return self._check_rows(source, checker, spool, report_out)

    def _quota(self) -> int:
        return self.settings.quotas.quick_responses_per_knowledge_base

    def _spool_dir(self) -> str | None:
        if self.settings.in_memory:
            return None
        path = os.path.join(str(self.settings.data_dir), "tmp")
        os.makedirs(path, exist_ok=True)
        return path

    def _check_rows(self, source: BinaryIO, checker: RowChecker, spool: BinaryIO, report_out: BlobWriter) -> Checked:
        header, rows = read_rows(source)
        mapper = RowMapper(header, self.kb_id, self._resolve_routing_profiles)
        report = ReportWriter(report_out)
        report.start(header)
        checked = Checked(header, spool)
        max_rows = self.settings.imports.max_rows
        write = spool.write
        dumps = orjson.dumps
        for n, row in enumerate(rows, start=1):
            if n % 2000 == 0:
                self.keep_lease()
            if max_rows and n > max_rows:
                raise FileProblem(f"The file has more than {max_rows} data rows, the limit of one import")
            try:
                record = checker.check(mapper.to_input(row))
            except RowProblem as exc:
                report.add(row, f"{exc.code}: {exc.message}")
                checked.failed_lines.add(row.line)
                continue
            write(dumps([row.line, record]))
            write(b"\n")
            checked.good += 1
        report.flush()
        spool.flush()
        return checked

    def _resolve_routing_profiles(self, names: list[str]) -> list[str]:
        instance = ((self.job.get("externalSourceConfiguration") or {}).get("configuration") or {}).get(
            "connectConfiguration", {}).get("instanceId")
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

    # -- phase 2: land ----------------------------------------------------------------------

    def _land(self, checked: Checked, report_out: BlobWriter, key: str) -> Outcome | None:
        now = RequestContext.now()
        with self.store.write() as session:
            self._still_ours(session)
            late = self._late_failures(session, checked)
            if late:
                self._append_late_failures(report_out, checked, late)
            checked.spool.seek(0)
            imported = session.insert_quick_responses_bulk(
                self.account, self.region, self.kb_id, self._spooled_records(checked.spool, late)
            )
            failed = len(checked.failed_lines) + len(late)
            if imported:
                session.touch_knowledge_base_content(self.account, self.region, self.kb_id, now)
            status = "FAILED" if failed else "COMPLETE"
            if failed:
                report_out.commit()
            else:
                self.blobs.delete(key)  # the report of an earlier, interrupted attempt
            if not session.finish_import_job(self.job_id, self.owner, status, key if failed else None, now):
                raise LostLease(self.job_id)
        return Outcome(status, imported, failed, key if failed else None)

    def _still_ours(self, session: Any) -> None:
        job = session.get_import_job_by_id(self.job_id)
        if job is None or job["status"] != "START_IN_PROGRESS" or job["_leaseOwner"] != self.owner:
            raise LostLease(self.job_id)

    def _late_failures(self, session: Any, checked: Checked) -> dict[int, str]:
        """Rows that no longer fit because the API changed the knowledge base during phase 1:
        line -> error. Usually none; checked against the database inside the landing
        transaction, so nothing can slip in between."""
        if not checked.good:
            return {}
        names, shortcuts, count = session.quick_response_keys(self.account, self.region, self.kb_id)
        quota = self._quota()
        allowed = quota - count
        late: dict[int, str] = {}
        if not names and not shortcuts and allowed >= checked.good:
            return late  # an empty knowledge base: phase 1's checks still hold
        checked.spool.seek(0)
        kept = 0
        for line, record in self._spool_lines(checked.spool):
            shortcut = record.get("shortcutKey")
            if kept >= allowed:
                late[line] = f"ServiceQuotaExceededException: {quota_exceeded(self.kb_id, quota)}"
            elif record["name"] in names:
                late[line] = f"ConflictException: {name_conflict(record['name'])}"
            elif shortcut is not None and shortcut in shortcuts:
                late[line] = f"ConflictException: {shortcut_conflict(shortcut)}"
            else:
                kept += 1
        return late

    def _append_late_failures(self, report_out: BlobWriter, checked: Checked, late: dict[int, str]) -> None:
        """Adds the late failures' original cells to the report (read again from the upload)."""
        report = ReportWriter(report_out)
        report.start(checked.header, write_header=False)
        with self.blobs.open(f"uploads/{self.job['uploadId']}") as source:
            _, rows = read_rows(source)
            for row in rows:
                if row.line in late:
                    report.add(row, late[row.line])
        report.flush()

    @staticmethod
    def _spool_lines(spool: BinaryIO) -> Iterator[tuple[int, dict[str, Any]]]:
        loads = orjson.loads
        for line in spool:
            yield loads(line)

    def _spooled_records(self, spool: BinaryIO, late: dict[int, str]) -> Iterator[dict[str, Any]]:
        for line, record in self._spool_lines(spool):
            if line not in late:
                yield record

    def _land_file_problem(self, message: str) -> Outcome | None:
        key = report_key(self.job_id)
        with self.blobs.writer(key) as out:
            write_file_problem(out, message)
            with self.store.write() as session:
                self._still_ours(session)
                out.commit()
                if not session.finish_import_job(self.job_id, self.owner, "FAILED", key, RequestContext.now()):
                    raise LostLease(self.job_id)
        return Outcome("FAILED", 0, 0, key)
