"""`serve --init FILE` (repeatable): knowledge bases and quick responses created at start, the way
LocalStack's init hooks seed state. Idempotent: a knowledge base is matched by name, a quick
response by name within its knowledge base; what exists is left as it is, so starting twice
with the same files gives the same state.

FILE is either JSON:

    {"knowledgeBases": [{"name": "support", "description": "...", "tags": {"team": "care"},
                         "quickResponses": [{"name": "hello", "content": "Hello!", "shortcutKey": "hi"}]}]}

(a knowledge base takes CreateKnowledgeBase's members, `knowledgeBaseType` defaulting to
QUICK_RESPONSES; a quick response takes CreateQuickResponse's, `content` as text or as
`{"content": ...}`), or an import CSV (`qconnect-local template`) whose rows go into the knowledge
base named after the file (`support.csv` -> `support`), or `NAME=FILE.csv` to name it.

Every call goes through the API's own code path (`App.dispatch`), so the rules, quotas and
errors are those of the API; a failure stops the server with one line naming the file.
"""

from __future__ import annotations

import argparse
import json
import os
import uuid
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import orjson


class InitError(Exception):
    """A seed file that cannot be applied (the message names the file)."""


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--init",
        action="append",
        default=None,
        metavar="FILE",
        help="create the knowledge bases and quick responses of FILE at start, idempotently "
        "(JSON, or an import CSV for the knowledge base named after the file, or NAME=FILE.csv; repeatable)",
    )


def apply_arguments(args: argparse.Namespace, settings: Any) -> None:
    settings.init_files = list(getattr(args, "init", None) or [])


class _Api:
    """API calls through `App.dispatch`, serialized by botocore as a client would send them."""

    def __init__(self, app: Any) -> None:
        from botocore.serialize import create_serializer

        self.app = app
        self.serializer = create_serializer("rest-json", include_validation=True)

    def call(self, operation: str, params: dict[str, Any]) -> dict[str, Any]:
        from botocore.exceptions import ParamValidationError

        model = self.app.model.operation_model(operation)
        try:
            request = self.serializer.serialize_to_request(params, model)
        except ParamValidationError as exc:
            raise InitError(f"{operation}: {' '.join(str(exc).split())}") from None
        body = request["body"] if isinstance(request["body"], bytes) else request["body"].encode()
        query = urlencode(request["query_string"], doseq=True)
        headers = {k.lower(): v for k, v in request["headers"].items()}
        status, _, payload = self.app.dispatch(
            request["method"], request["url_path"], query, headers, body, str(uuid.uuid4())
        )
        result = orjson.loads(payload) if payload else {}
        if status >= 300:
            raise InitError(f"{operation}: {result.get('message', status)}")
        return result

    def pages(self, operation: str, params: dict[str, Any], key: str) -> list[dict[str, Any]]:
        items: list[dict[str, Any]] = []
        token = None
        while True:
            page = self.call(operation, {**params, **({"nextToken": token} if token else {})})
            items.extend(page.get(key, []))
            token = page.get("nextToken")
            if not token:
                return items


def seed(app: Any, files: list[str]) -> list[str]:
    """Applies every file in order; returns one summary line per file. Raises InitError."""
    api = _Api(app)
    return [_seed_one(api, spec) for spec in files]


def _seed_one(api: _Api, spec: str) -> str:
    name, sep, path = spec.partition("=")
    if not sep or not path:
        name, path = "", spec
    if not os.path.isfile(path):
        raise InitError(f"--init {spec}: no such file")
    try:
        if path.lower().endswith(".json"):
            knowledge_bases = _from_json(path)
        else:
            knowledge_bases = [_from_csv(path, name or Path(path).stem)]
        created_kbs = created_qrs = 0
        for kb in knowledge_bases:
            kb_created, qrs_created = _apply(api, kb)
            created_kbs += kb_created
            created_qrs += qrs_created
    except InitError as exc:
        raise InitError(f"--init {spec}: {exc}") from None
    return f"--init {spec}: {created_kbs} knowledge bases and {created_qrs} quick responses created"


def _from_json(path: str) -> list[dict[str, Any]]:
    try:
        with open(path, encoding="utf-8") as f:
            doc = json.load(f)
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise InitError(f"not valid JSON: {exc}") from None
    kbs = doc.get("knowledgeBases") if isinstance(doc, dict) else None
    if not isinstance(kbs, list) or not all(isinstance(kb, dict) and kb.get("name") for kb in kbs):
        raise InitError('expected {"knowledgeBases": [{"name": ..., "quickResponses": [...]}, ...]}')
    return kbs


def _from_csv(path: str, kb_name: str) -> dict[str, Any]:
    from qconnect_local.importing.csv_format import FileProblem, RowMapper, RowProblem, read_rows

    def no_directory(names: list[str]) -> list[str]:
        raise RowProblem("routing-profile names need a Connect instance; give ARNs in a JSON --init file instead")

    quick_responses = []
    try:
        with open(path, "rb") as source:
            header, rows = read_rows(source)
            mapper = RowMapper(header, "init", no_directory)
            for row in rows:
                try:
                    params = mapper.to_input(row)
                except RowProblem as exc:
                    raise InitError(f"line {row.line}: {exc.message}") from None
                params.pop("knowledgeBaseId", None)
                quick_responses.append(params)
    except FileProblem as exc:
        raise InitError(str(exc)) from None
    return {"name": kb_name, "quickResponses": quick_responses}


def _apply(api: _Api, spec: dict[str, Any]) -> tuple[int, int]:
    spec = dict(spec)
    quick_responses = spec.pop("quickResponses", None) or []
    spec.setdefault("knowledgeBaseType", "QUICK_RESPONSES")
    existing = [
        s
        for s in api.pages("ListKnowledgeBases", {}, "knowledgeBaseSummaries")
        if s["name"] == spec["name"] and s.get("status") != "DELETED"
    ]
    created = 0
    if existing:
        kb_id = existing[0]["knowledgeBaseId"]
    else:
        kb_id = api.call("CreateKnowledgeBase", spec)["knowledgeBase"]["knowledgeBaseId"]
        created = 1
    names = {s["name"] for s in api.pages("ListQuickResponses", {"knowledgeBaseId": kb_id}, "quickResponseSummaries")}
    made = 0
    for qr in quick_responses:
        if not isinstance(qr, dict) or not qr.get("name"):
            raise InitError(f"knowledge base {spec['name']!r}: every quick response needs a name")
        if qr["name"] in names:
            continue
        params = {**qr, "knowledgeBaseId": kb_id}
        if isinstance(params.get("content"), str):
            params["content"] = {"content": params["content"]}
        api.call("CreateQuickResponse", params)
        names.add(qr["name"])
        made += 1
    return created, made
