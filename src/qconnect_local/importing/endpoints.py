"""The import pipeline's HTTP endpoints under `/_qconnect/`.

| endpoint | what it does |
|---|---|
| `PUT /_qconnect/uploads/{uploadId}?<signature>` | the presigned upload URL of StartContentUpload |
| `GET /_qconnect/uploads/{uploadId}?<signature>` | ImportJobData.url: the uploaded file |
| `GET /_qconnect/import-jobs/{id}/failed-record-report?<signature>` | ImportJobData.failedRecordReport |
| `POST /_qconnect/import-jobs/{id}/run[?wait=true]` | manual mode: let a held job run (wait: until it ends) |
| `GET /_qconnect/connect-instances` | the caller's instances in the local routing-profile directory |
| `POST /_qconnect/contents/{contentId}/run[?wait=true]` | manual mode: let a content's held text extraction run |
| `PUT/GET/DELETE /_qconnect/connect-instances/{instanceId}/routing-profiles` | the local routing-profile directory |

The signed URLs behave like S3 presigned URLs: 403 with an S3 XML error (`AccessDenied`
"Request has expired", `SignatureDoesNotMatch`) when expired, tampered with or sent without a
signed header; 400 `EntityTooLarge` past the upload limit; 200 with an `ETag` (the body's MD5)
on success. A second PUT before expiry replaces the file. Bodies stream to blob storage.
The handlers speak HTTP only: what they read or change in the store goes through operations.
"""

from __future__ import annotations

import asyncio
import functools
import hashlib
import time
from typing import TYPE_CHECKING, Any
from xml.sax.saxutils import escape

import orjson

from qconnect_local.blobs import BlobNotFound, iter_chunks
from qconnect_local.blobs.signed_urls import SignatureProblem
from qconnect_local.importing.routing_profiles import parse_instance
from qconnect_local.operations import content_tasks, import_jobs, routing_profiles, uploads
from qconnect_local.public_urls import signing_host

if TYPE_CHECKING:
    from qconnect_local.server import App

UUIDISH = r"[A-Za-z0-9-]{1,128}"
# How much of an over-limit body is read and dropped so the client sees the error response
# rather than a reset connection; past this the connection is simply closed.
_DRAIN_LIMIT = 64 * 1024 * 1024
_WRITE_BATCH = 1024 * 1024
# What an EntityTooLarge message tells the user to change.
_LIMIT_HINT = "qconnect-local: serve --max-upload-bytes N or QCONNECT_LOCAL_MAX_UPLOAD_BYTES raises it"


def add_routes(app: App) -> None:
    """Registers the endpoints on the App (they use `app.services`)."""
    endpoints = Endpoints(app)
    app.add_internal_route("PUT", rf"/_qconnect/uploads/(?P<upload_id>{UUIDISH})", endpoints.put_upload)
    app.add_internal_route("GET", rf"/_qconnect/uploads/(?P<upload_id>{UUIDISH})", endpoints.get_upload)
    app.add_internal_route(
        "GET", rf"/_qconnect/import-jobs/(?P<job_id>{UUIDISH})/failed-record-report", endpoints.get_report
    )
    app.add_internal_route("POST", rf"/_qconnect/import-jobs/(?P<job_id>{UUIDISH})/run", endpoints.run_job)
    app.add_internal_route("POST", rf"/_qconnect/contents/(?P<content_id>{UUIDISH})/run", endpoints.run_content)
    instance_route = r"/_qconnect/connect-instances/(?P<instance_id>[^/]{1,256})/routing-profiles"
    app.add_internal_route("PUT", instance_route, endpoints.put_routing_profiles)
    app.add_internal_route("GET", instance_route, endpoints.get_routing_profiles)
    app.add_internal_route("DELETE", instance_route, endpoints.delete_routing_profiles)
    app.add_internal_route("GET", r"/_qconnect/connect-instances", endpoints.list_instances)


# -- responses ----------------------------------------------------------------------------


def _s3_error(code: str, message: str, request_id: str, **extra: Any) -> bytes:
    """S3's error document."""
    fields = "".join(f"<{k}>{escape(str(v))}</{k}>" for k, v in extra.items())
    return (
        f'<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>{code}</Code><Message>{escape(message)}</Message>'
        f"{fields}<RequestId>{request_id}</RequestId></Error>"
    ).encode()


async def _respond(
    req: Any, status: int, body: bytes, content_type: str | None, headers: dict[str, str] | None = None
) -> None:
    out = [
        (b"x-amzn-requestid", req.request_id.encode()),
        (b"x-amz-request-id", req.request_id.encode()),
        (b"content-length", str(len(body)).encode()),
    ]
    if content_type:
        out.append((b"content-type", content_type.encode()))
    out += [(k.encode("latin-1"), v.encode("latin-1")) for k, v in (headers or {}).items()]
    await req.send({"type": "http.response.start", "status": status, "headers": out})
    await req.send({"type": "http.response.body", "body": body})


async def _xml_error(req: Any, status: int, code: str, message: str, **extra: Any) -> None:
    await _drain(req)
    await _respond(req, status, _s3_error(code, message, req.request_id, **extra), "application/xml")


async def _json(req: Any, status: int, body: Any) -> None:
    await _respond(req, status, orjson.dumps(body), "application/json")


async def _drain(req: Any) -> None:
    """Reads and drops what is left of the request body (bounded)."""
    if getattr(req, "_drained", False) or req.method in ("GET", "HEAD", "DELETE"):
        return
    req._drained = True
    dropped = 0
    while dropped <= _DRAIN_LIMIT:
        message = await req.receive()
        if message["type"] == "http.disconnect":
            return
        dropped += len(message.get("body", b""))
        if not message.get("more_body"):
            return


async def _read_raw(req: Any) -> bytes:
    chunks, size = [], 0
    while True:
        message = await req.receive()
        chunk = message.get("body", b"")
        size += len(chunk)
        if size > 10 * 1024 * 1024:
            raise ValueError("body too large")
        chunks.append(chunk)
        if not message.get("more_body"):
            break
    req._drained = True
    return b"".join(chunks)


class Endpoints:
    def __init__(self, app: App) -> None:
        self.app = app
        self.store = app.store
        self.blobs = app.services.blobs
        self.signer = app.services.signer
        self.runner = app.services.runner
        self.clock = app.services.clock
        # Downloads and lookups never queue behind blocked writes.
        self._read = functools.partial(app.run_sync, executor=app.lanes.reads)

    async def _signature_ok(self, req: Any) -> bool:
        """Checks the signed URL; when it fails, answers with S3's XML error and returns False."""
        try:
            host = signing_host(self.app.settings, req.headers)
            self.signer.verify(req.method, host, req.path, req.query, req.headers, self.clock())
        except SignatureProblem as problem:
            await _xml_error(req, problem.status, problem.code, problem.message)
            return False
        return True

    # -- uploads ----------------------------------------------------------------------------

    async def put_upload(self, req: Any) -> None:
        upload_id = req.match["upload_id"]
        if not await self._signature_ok(req):
            return
        upload = await self.app.run_sync(uploads.get_upload_by_id, self.store, upload_id)
        if upload is None:
            await _xml_error(
                req, 404, "NoSuchUpload", "The upload does not exist (its knowledge base may have been deleted)"
            )
            return
        limit = self.app.settings.imports.max_upload_bytes
        declared = req.headers.get("content-length", "")
        if declared.isdigit() and int(declared) > limit:
            await _xml_error(
                req,
                400,
                "EntityTooLarge",
                f"Your proposed upload of {declared} bytes exceeds the maximum allowed size of {limit} bytes"
                f" ({_LIMIT_HINT})",
                ProposedSize=declared,
                MaxSizeAllowed=limit,
            )
            return
        stored = await self._receive_into_blob(req, uploads.upload_key(upload_id), limit)
        if stored is None:
            await _xml_error(
                req,
                400,
                "EntityTooLarge",
                f"Your proposed upload exceeds the maximum allowed size of {limit} bytes ({_LIMIT_HINT})",
                MaxSizeAllowed=limit,
            )
            return
        size, etag = stored
        await self.app.run_sync(uploads.mark_uploaded, self.store, upload_id, size, etag)
        await _respond(req, 200, b"", None, {"etag": f'"{etag}"'})

    async def _receive_into_blob(self, req: Any, key: str, limit: int) -> tuple[int, str] | None:
        """Streams the body into the blob (file writes off the event loop, in 1 MiB batches);
        (size, md5 hex), or None when it was larger than `limit` (nothing is stored then)."""
        run = self.app.run_sync
        md5 = hashlib.md5()
        with self.blobs.writer(key) as out:
            batch: list[bytes] = []
            pending = 0
            size = 0
            while True:
                message = await req.receive()
                if message["type"] == "http.disconnect":
                    raise ConnectionAbortedError("client went away during the upload")
                chunk = message.get("body", b"")
                size += len(chunk)
                if size > limit:
                    if message.get("more_body"):
                        await _drain(req)
                    req._drained = True
                    return None
                if chunk:
                    md5.update(chunk)
                    batch.append(chunk)
                    pending += len(chunk)
                if pending >= _WRITE_BATCH or not message.get("more_body"):
                    if batch:
                        await run(out.write, b"".join(batch))
                    batch, pending = [], 0
                if not message.get("more_body"):
                    break
            req._drained = True
            await run(out.commit)
        return size, md5.hexdigest()

    async def get_upload(self, req: Any) -> None:
        upload_id = req.match["upload_id"]
        if not await self._signature_ok(req):
            return
        upload = await self._read(uploads.get_upload_by_id, self.store, upload_id)
        content_type = (upload or {}).get("contentType") or "application/octet-stream"
        await self._send_blob(req, uploads.upload_key(upload_id), content_type, (upload or {}).get("etag"))

    async def get_report(self, req: Any) -> None:
        job_id = req.match["job_id"]
        if not await self._signature_ok(req):
            return
        job = await self._read(self._get_job, job_id)
        key = (job or {}).get("_reportKey")
        if not key:
            await _xml_error(req, 404, "NoSuchKey", "The specified key does not exist.")
            return
        await self._send_blob(req, key, "text/csv; charset=utf-8", None)

    async def _send_blob(self, req: Any, key: str, content_type: str, etag: str | None) -> None:
        run = self._read
        try:
            stream = await run(self.blobs.open, key)
        except BlobNotFound:
            await _xml_error(req, 404, "NoSuchKey", "The specified key does not exist.")
            return
        try:
            size = await run(lambda: stream.seek(0, 2))
            await run(stream.seek, 0)
            headers = [
                (b"content-type", content_type.encode()),
                (b"content-length", str(size).encode()),
                (b"x-amz-request-id", req.request_id.encode()),
            ]
            if etag:
                headers.append((b"etag", f'"{etag}"'.encode()))
            await req.send({"type": "http.response.start", "status": 200, "headers": headers})
            chunks = iter_chunks(stream)
            while True:
                chunk = await run(next, chunks, b"")
                if not chunk:
                    break
                await req.send({"type": "http.response.body", "body": chunk, "more_body": True})
            await req.send({"type": "http.response.body", "body": b""})
        finally:
            stream.close()

    # -- manual mode ------------------------------------------------------------------------

    def _get_job(self, job_id: str) -> dict[str, Any] | None:
        return import_jobs.get_import_job_by_id(self.store, job_id)

    def _release(self, job_id: str) -> bool:
        return import_jobs.release_import_job(self.store, job_id)

    async def run_job(self, req: Any) -> None:
        job_id = req.match["job_id"]
        await _drain(req)
        job = await self.app.run_sync(self._get_job, job_id)
        if job is None:
            await _json(req, 404, {"message": "Import job not found", "importJobId": job_id})
            return
        if job["status"] != "START_IN_PROGRESS" or not await self.app.run_sync(self._release, job_id):
            await _json(
                req,
                409,
                {
                    "message": f"Import job {job_id} has already finished ({job['status']})",
                    "importJobId": job_id,
                    "status": job["status"],
                },
            )
            return
        self.runner.wake()
        wait = (req.query.get("wait") or ["false"])[-1].lower() in ("1", "true", "yes")
        deadline = time.monotonic() + 300
        while wait and time.monotonic() < deadline:
            job = await self.app.run_sync(self._get_job, job_id)
            if job is None or job["status"] != "START_IN_PROGRESS":
                break
            await asyncio.sleep(0.05)
        status = job["status"] if job else "DELETED"
        await _json(req, 202 if status == "START_IN_PROGRESS" else 200, {"importJobId": job_id, "status": status})

    async def run_content(self, req: Any) -> None:
        content_id = req.match["content_id"]
        await _drain(req)
        state = await self.app.run_sync(content_tasks.content_task_state, self.store, content_id)
        if state is None:
            await _json(req, 404, {"message": "Content not found", "contentId": content_id})
            return
        if not state[1] or not await self.app.run_sync(content_tasks.release_content_task, self.store, content_id):
            await _json(
                req,
                409,
                {"message": f"Content {content_id} has no text extraction pending ({state[0]})", "status": state[0]},
            )
            return
        self.runner.wake()
        wait = (req.query.get("wait") or ["false"])[-1].lower() in ("1", "true", "yes")
        deadline = time.monotonic() + 300
        while wait and state is not None and state[1] and time.monotonic() < deadline:
            await asyncio.sleep(0.02)
            state = await self.app.run_sync(content_tasks.content_task_state, self.store, content_id)
        body = {"contentId": content_id, "status": state[0] if state else "DELETED"}
        await _json(req, 202 if state is not None and state[1] else 200, body)

    # -- the local routing-profile directory ------------------------------------------------

    # The directory is per account: an instance belongs to the account of its profiles' ARNs.

    def _caller(self, req: Any) -> Any:
        return self.app.gate.internal_caller(req.scope, req.headers)

    async def put_routing_profiles(self, req: Any) -> None:
        instance_id = req.match["instance_id"]
        try:
            raw = await _read_raw(req)
        except ValueError as exc:
            await _json(req, 400, {"message": f"Invalid routing-profile list: {exc}"})
            return
        caller = self.app.gate.internal_caller(req.scope, req.headers, raw)  # signed over the body
        try:
            doc = orjson.loads(raw or b"null")
            _, profiles = parse_instance(doc, caller.account_id, caller.region, instance_id)
        except ValueError as exc:
            await _json(req, 400, {"message": f"Invalid routing-profile list: {exc}"})
            return
        replace = routing_profiles.replace_routing_profiles
        if not await self.app.run_sync(replace, self.store, caller.account_id, instance_id, profiles):
            await _json(req, 409, {"message": f"Amazon Connect instance '{instance_id}' belongs to another account"})
            return
        await _json(req, 200, _instance_body(instance_id, profiles))

    async def get_routing_profiles(self, req: Any) -> None:
        instance_id = req.match["instance_id"]
        account = self._caller(req).account_id
        profiles = await self._read(routing_profiles.account_routing_profiles, self.store, account, instance_id)
        if profiles is None:
            await _json(req, 404, {"message": f"Amazon Connect instance '{instance_id}' is not in the directory"})
            return
        await _json(req, 200, _instance_body(instance_id, profiles))

    async def delete_routing_profiles(self, req: Any) -> None:
        instance_id = req.match["instance_id"]
        account = self._caller(req).account_id
        if not await self.app.run_sync(routing_profiles.delete_routing_profiles, self.store, account, instance_id):
            await _json(req, 404, {"message": f"Amazon Connect instance '{instance_id}' is not in the directory"})
            return
        await _respond(req, 204, b"", None)

    async def list_instances(self, req: Any) -> None:
        account = self._caller(req).account_id
        instances = await self._read(routing_profiles.list_instances, self.store, account)
        await _json(req, 200, {"instances": instances})


def _instance_body(instance_id: str, profiles: dict[str, str]) -> dict[str, Any]:
    return {
        "instanceId": instance_id,
        "routingProfiles": [{"name": name, "arn": arn} for name, arn in sorted(profiles.items())],
    }
