"""StartImportJob, GetImportJob, ListImportJobs, DeleteImportJob, and StartContentUpload
(operations/uploads.py).

StartImportJob records the job and returns at once with status START_IN_PROGRESS; the import
runner (importing/runner.py) does the work in the background.

Choices where AWS documents nothing:
- The uploadId must be one of this knowledge base's uploads, with a file PUT to it, used before
  its URL expiry plus a grace period (`--upload-grace`, 1 hour by default); each failure has
  its own ValidationException message. One upload may feed several jobs.
- One START_IN_PROGRESS job per knowledge base (`--max-import-jobs-in-progress`); another
  → ConflictException. clientToken: same token + same request → the same job; a different
  request → ConflictException; a token whose job was deleted → ConflictException.
- `url` (a download link to the uploaded file) and `failedRecordReport` (a download link to the
  report, present when the job has one) are signed afresh, with a fresh `urlExpiry`, on every
  Start/GetImportJob; ListImportJobs leaves them out, as its shape does.
- DeleteImportJob: ConflictException while START_IN_PROGRESS; otherwise the job, its report and
  its upload (unless another job uses it) are deleted; the quick responses it created stay.
"""

from __future__ import annotations

from typing import Any

from qconnect_local import ids
from qconnect_local.blobs import Link
from qconnect_local.errors import ConflictException, ResourceNotFoundException, ValidationException
from qconnect_local.operations import idempotency, pagination
from qconnect_local.operations.context import RequestContext
from qconnect_local.operations.knowledge_bases import load_knowledge_base
from qconnect_local.operations.uploads import OPERATIONS as UPLOAD_OPERATIONS
from qconnect_local.operations.uploads import (
    check_upload,
    direct_upload,
    report_path,
    upload_key,
    upload_path,
    url_lifetime,
)
from qconnect_local.storage.base import Record, Session, Store


def _check_quick_responses_kb(kb: Record) -> None:
    if kb["knowledgeBaseType"] != "QUICK_RESPONSES":
        raise ValidationException(
            f"Import jobs need a knowledge base of type QUICK_RESPONSES; knowledge base "
            f"{kb['knowledgeBaseId']} is of type {kb['knowledgeBaseType']}"
        )


def _check_no_job_in_progress(session: Session, ctx: RequestContext, kb_id: str) -> None:
    limit = ctx.settings.imports.max_jobs_in_progress
    if limit and session.count_import_jobs_in_progress(ctx.account_id, ctx.region, kb_id) >= limit:
        raise ConflictException(
            f"An import job is already in progress (START_IN_PROGRESS) for knowledge base {kb_id}; "
            "wait for it to finish before starting another"
        )


def job_view(ctx: RequestContext, job: Record) -> Record:
    """ImportJobData with freshly signed download links."""
    out = {k: v for k, v in job.items() if not k.startswith("_")}
    blobs = ctx.require_services().blobs
    lifetime = url_lifetime(ctx, ctx.settings.imports.download_url_seconds)
    expires = int(ctx.now() + lifetime)
    upload_link = Link(ctx.endpoint, upload_path(job["uploadId"]), expires, lifetime)
    out["url"] = blobs.download_url(upload_key(job["uploadId"]), upload_link)
    out["urlExpiry"] = expires
    if job.get("_reportKey"):
        report_link = Link(ctx.endpoint, report_path(job["importJobId"]), expires, lifetime)
        out["failedRecordReport"] = blobs.download_url(job["_reportKey"], report_link)
    return out


def summary_view(job: Record) -> Record:
    return {k: v for k, v in job.items() if not k.startswith("_")}


def start_import_job(ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
    imports = ctx.settings.imports
    direct = direct_upload(ctx, params["uploadId"])
    with ctx.store.write() as session:
        kb = load_knowledge_base(session, ctx, params["knowledgeBaseId"])
        _check_quick_responses_kb(kb)
        kb_id = kb["knowledgeBaseId"]
        token_params = {k: v for k, v in params.items() if k != "knowledgeBaseId"}
        replayed = idempotency.replay(
            session,
            ctx,
            "StartImportJob",
            kb_id,
            token_params,
            lambda job_id: session.get_import_job(ctx.account_id, ctx.region, kb_id, job_id),
        )
        if replayed is not None:
            return {"importJob": job_view(ctx, replayed)}
        check_upload(session, ctx, kb_id, params["uploadId"], direct)
        _check_no_job_in_progress(session, ctx, kb_id)
        now = ctx.now()
        job: Record = {
            "importJobId": ids.new_id(),
            "knowledgeBaseId": kb_id,
            "knowledgeBaseArn": kb["knowledgeBaseArn"],
            "uploadId": params["uploadId"],
            "importJobType": params["importJobType"],
            "status": "START_IN_PROGRESS",
            "createdTime": now,
            "lastModifiedTime": now,
        }
        for member in ("metadata", "externalSourceConfiguration"):
            if params.get(member) is not None:
                job[member] = params[member]
        run_after = None if imports.mode == "manual" else now + imports.delay_seconds
        session.insert_import_job(ctx.account_id, ctx.region, job, ctx.caller_arn, run_after)
        idempotency.remember(session, ctx, "StartImportJob", kb_id, token_params, job["importJobId"])
    ctx.require_services().runner.wake()
    return {"importJob": job_view(ctx, job)}


def _load_job(session: Session, ctx: RequestContext, params: dict[str, Any]) -> Record:
    kb = load_knowledge_base(session, ctx, params["knowledgeBaseId"])
    job = session.get_import_job(ctx.account_id, ctx.region, kb["knowledgeBaseId"], params["importJobId"])
    if job is None:
        raise ResourceNotFoundException("Import job not found", resource_name=params["importJobId"])
    return job


def get_import_job(ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
    with ctx.store.read() as session:
        job = _load_job(session, ctx, params)
    return {"importJob": job_view(ctx, job)}


def list_import_jobs(ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
    with ctx.store.read() as session:
        kb_id = load_knowledge_base(session, ctx, params["knowledgeBaseId"])["knowledgeBaseId"]
        return pagination.seq_page(
            ctx,
            "ListImportJobs",
            "importJobSummaries",
            params,
            lambda after, limit: session.list_import_jobs(ctx.account_id, ctx.region, kb_id, after, limit),
            summary_view,
        )


def delete_import_job(ctx: RequestContext, params: dict[str, Any]) -> None:
    with ctx.store.write() as session:
        job = _load_job(session, ctx, params)
        if job["status"] == "START_IN_PROGRESS":
            raise ConflictException(
                f"Import job {job['importJobId']} is in progress (START_IN_PROGRESS) and cannot be deleted yet"
            )
        session.delete_import_job(ctx.account_id, ctx.region, job["importJobId"])
        upload_gone = session.delete_upload_unless_used(ctx.account_id, ctx.region, job["uploadId"])
    # Files go after the commit: a failed transaction must not lose them.
    blobs = ctx.require_services().blobs
    if job.get("_reportKey"):
        blobs.delete(job["_reportKey"])
    if upload_gone:
        blobs.delete(upload_key(job["uploadId"]))
    return None


def get_import_job_by_id(store: Store, job_id: str) -> Record | None:
    """A job of any account (the internal endpoints know only its id)."""
    with store.read() as session:
        return session.get_import_job_by_id(job_id)


def release_import_job(store: Store, job_id: str) -> bool:
    """`--import-mode manual`: lets a held job run; False when it is not held any more."""
    with store.write() as session:
        return session.release_import_job(job_id)


OPERATIONS = {
    **UPLOAD_OPERATIONS,
    "StartImportJob": start_import_job,
    "GetImportJob": get_import_job,
    "ListImportJobs": list_import_jobs,
    "DeleteImportJob": delete_import_job,
}
