"""The web console: static pages under `/_qconnect/ui/` that call the public API same-origin.

The pages are plain JavaScript modules shipped in the package (no build step). The server adds
only what the public API cannot answer:

| endpoint | what it does |
|---|---|
| `GET /_qconnect/ui/...` | the console's files (`GET /` redirects here when the client asks for HTML) |
| `GET /_qconnect/console/config` | the server's default account and region, quotas, import mode |
| `GET /_qconnect/console/quick-response-counts?ids=a,b` | quick responses per knowledge base (the quota gauge) |
| `GET /_qconnect/console/template.csv` | the import template (as `qconnect-local template` writes it) |
| `POST /_qconnect/validate[?instanceId=..&knowledgeBaseId=..]` | the offline checker (`validate`) run on a CSV body |

Account and region of the count and validate endpoints come from the SigV4 `Authorization`
header, as for the API, so the console's scope picker applies to them too; with
`--verify-signatures` their signature is checked like an API call's (the console signs them).
"""

from __future__ import annotations

import argparse
import csv
import io
import os
import tempfile
from importlib import resources
from typing import Any

import orjson

from qconnect_local.errors import RequestEntityTooLargeException
from qconnect_local.protocol.auth import caller_from_headers

STATIC = "static"
_TYPES = {
    ".html": "text/html; charset=utf-8",
    ".js": "text/javascript; charset=utf-8",
    ".css": "text/css; charset=utf-8",
    ".svg": "image/svg+xml",
    ".csv": "text/csv; charset=utf-8",
}
_MAX_SHOWN_REPORT_ROWS = 1000


def add_arguments(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group("web console")
    group.add_argument(
        "--no-console",
        action="store_true",
        help="do not serve the web console at /_qconnect/ui/ (nor its /_qconnect/console and validate endpoints)",
    )


def apply_arguments(args: argparse.Namespace, settings: Any) -> None:
    settings.console = not getattr(args, "no_console", False)


def install(app: Any) -> None:
    """Registers the console's routes and the `GET /` redirect (only for clients asking for HTML)."""
    console = Console(app)
    app.add_internal_route("GET", r"/_qconnect/ui", console.redirect_to_ui)
    app.add_internal_route("GET", r"/_qconnect/ui/(?P<file>[A-Za-z0-9_./-]*)", console.static_file)
    app.add_internal_route("GET", r"/_qconnect/console/config", console.config)
    app.add_internal_route("GET", r"/_qconnect/console/quick-response-counts", console.counts)
    app.add_internal_route("GET", r"/_qconnect/console/template\.csv", console.template)
    app.add_internal_route("POST", r"/_qconnect/validate", console.validate)
    app.html_root = console.root


def _load_static() -> dict[str, bytes]:
    """Every file of the console, read once (about 70 KB): answering from memory keeps the first
    page load off the worker threads that API calls use."""
    files: dict[str, bytes] = {}

    def walk(node: Any, prefix: str) -> None:
        for child in node.iterdir():
            if child.is_dir():
                walk(child, f"{prefix}{child.name}/")
            else:
                files[prefix + child.name] = child.read_bytes()

    walk(resources.files(__package__).joinpath(STATIC), "")
    return files


async def _respond(send: Any, status: int, body: bytes, content_type: str | None, headers: dict[str, str]) -> None:
    out = [(b"content-length", str(len(body)).encode())]
    if content_type:
        out.append((b"content-type", content_type.encode()))
    out += [(k.encode("latin-1"), v.encode("latin-1")) for k, v in headers.items()]
    await send({"type": "http.response.start", "status": status, "headers": out})
    await send({"type": "http.response.body", "body": body})


async def _json(req: Any, status: int, body: Any) -> None:
    await _respond(req.send, status, orjson.dumps(body), "application/json", {"x-amzn-requestid": req.request_id})


async def _drain(receive: Any, limit: int = 64 * 1024 * 1024) -> None:
    """Reads and drops the rest of a refused body (bounded), so the client reads the answer
    instead of a reset connection."""
    dropped = 0
    while dropped <= limit:
        message = await receive()
        dropped += len(message.get("body", b""))
        if message["type"] == "http.disconnect" or not message.get("more_body"):
            return


def _wants_html(scope: dict[str, Any]) -> bool:
    for key, value in scope.get("headers", []):
        if key.lower() == b"accept":
            return b"text/html" in value.lower()
    return False


class Console:
    def __init__(self, app: Any) -> None:
        self.app = app
        self.files = _load_static()

    async def root(self, scope: dict[str, Any], send: Any) -> bool:
        """`GET /` from a browser: a redirect to the console. API clients keep the API's answer."""
        if scope.get("method") != "GET" or not _wants_html(scope):
            return False
        await _respond(send, 302, b"", None, {"location": "/_qconnect/ui/"})
        return True

    async def redirect_to_ui(self, req: Any) -> None:
        await _respond(req.send, 301, b"", None, {"location": "/_qconnect/ui/"})

    async def static_file(self, req: Any) -> None:
        name = req.match["file"] or "index.html"
        body = self.files.get(name)
        if body is None:
            await _respond(req.send, 404, b"Not found\n", "text/plain; charset=utf-8", {})
            return
        suffix = os.path.splitext(name)[1]
        content_type = _TYPES.get(suffix, "application/octet-stream")
        # The files change with the package version: revalidating each load keeps an upgrade visible.
        await _respond(req.send, 200, body, content_type, {"cache-control": "no-cache"})

    async def template(self, req: Any) -> None:
        from qconnect_local.commands.template import template_rows

        out = io.StringIO()
        csv.writer(out).writerows(template_rows())  # the CLI's template: the import's own columns
        body = out.getvalue().encode("utf-8")
        disposition = 'attachment; filename="Response Import Template.csv"'
        await _respond(req.send, 200, body, _TYPES[".csv"], {"content-disposition": disposition})

    def _caller(self, req: Any, body: bytes = b"") -> Any:
        return self.app.gate.internal_caller(req.scope, req.headers, body)

    async def config(self, req: Any) -> None:
        settings = self.app.settings
        signatures = settings.unhappy.verify_signatures
        if signatures and "authorization" not in req.headers:  # the page's first call, before a key is given
            caller: Any = caller_from_headers(None, settings.account_id, settings.region)
        else:  # a signed call: the key's account, or AWS's error for a wrong key
            caller = self._caller(req)
        await _json(
            req,
            200,
            {
                "defaultAccountId": settings.account_id,
                "defaultRegion": settings.region,
                "accountId": caller.account_id,
                "region": caller.region,
                "signaturesRequired": signatures,
                "quotas": {
                    "knowledgeBases": settings.quotas.knowledge_bases,
                    "quickResponsesPerKnowledgeBase": settings.quotas.quick_responses_per_knowledge_base,
                },
                "importMode": settings.imports.mode,
                "maxUploadBytes": settings.imports.max_upload_bytes,
            },
        )

    async def counts(self, req: Any) -> None:
        caller = self._caller(req)
        ids = [i for i in ",".join(req.query.get("ids", [])).split(",") if i][:100]
        quota = self.app.settings.quotas.quick_responses_per_knowledge_base

        def count() -> dict[str, int | None]:
            out: dict[str, int | None] = {}
            with self.app.store.read() as session:
                for kb_id in ids:
                    if session.get_knowledge_base(caller.account_id, caller.region, kb_id) is None:
                        out[kb_id] = None
                    else:  # counting stops at the quota: a full count of a big base reads every row
                        out[kb_id] = session.count_quick_responses(caller.account_id, caller.region, kb_id, quota)
            return out

        await _json(req, 200, {"counts": await self.app.run_sync(count), "quota": quota})

    async def validate(self, req: Any) -> None:
        from qconnect_local.asgi import read_body

        settings = self.app.settings
        limit = settings.imports.max_upload_bytes
        try:
            body = await read_body(req.receive, req.headers, limit)
        except RequestEntityTooLargeException:  # the presigned upload would refuse it too
            await _drain(req.receive)
            await _json(req, 413, {"message": f"The file is larger than the upload limit of {limit} bytes"})
            return
        caller = self._caller(req, body)
        instance_id = (req.query.get("instanceId") or [None])[0] or None
        kb_id = (req.query.get("knowledgeBaseId") or [None])[0] or None
        result = await self.app.run_sync(self._check, body, caller, instance_id, kb_id)
        await _json(req, 200, result)

    def _check(self, body: bytes, caller: Any, instance_id: str | None, kb_id: str | None) -> dict[str, Any]:
        import csv
        import io

        from qconnect_local.commands.validation import Validator

        settings = self.app.settings
        profiles = None
        if instance_id:
            with self.app.store.read() as session:
                profiles = session.routing_profiles(instance_id)
        room = settings.quotas.quick_responses_per_knowledge_base
        if kb_id:
            with self.app.store.read() as session:
                if session.get_knowledge_base(caller.account_id, caller.region, kb_id) is not None:
                    room -= session.count_quick_responses(caller.account_id, caller.region, kb_id, room)
        validator = Validator(profiles, instance_id, max(room, 0) or None, keep_errors=_MAX_SHOWN_REPORT_ROWS)
        with tempfile.NamedTemporaryFile(suffix=".csv") as source:
            source.write(body)
            source.flush()
            report = io.BytesIO()
            # One process: forking a threaded server is unsafe, and uploads are small (5 MiB).
            result = validator.run(source.name, report, workers=1)
        rows = list(csv.reader(io.StringIO(report.getvalue().decode("utf-8-sig"))))
        return {
            "rows": result.rows,
            "valid": result.good,
            "failed": result.failed,
            "fileProblem": result.file_problem,
            "routingProfilesChecked": result.routing_profiles_checked,
            "quotaRoom": room,
            "errors": [
                {"line": e.line, "column": e.column, "code": e.code, "message": e.message} for e in result.errors
            ],
            "report": {"header": rows[0] if rows else [], "rows": rows[1 : _MAX_SHOWN_REPORT_ROWS + 1]},
            "reportCsv": report.getvalue().decode("utf-8-sig") if result.failed or result.file_problem else None,
        }
