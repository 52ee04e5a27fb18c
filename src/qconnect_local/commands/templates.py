"""`qconnect-local templates list|get|render|export|import`: message templates from the shell,
and as a directory of files per template (so they can live in a repository).

Export layout, one directory per template (named after the template):
  template.json   name, channelSubtype and the other members, content without the bodies
  subject.txt, body.txt, body.html   the email's subject and bodies (EMAIL)
  body.txt        the SMS body (SMS)
Import reads the same layout: a template whose name is already taken in the knowledge base is
updated (content and metadata), any other is created. Export writes the `$LATEST` drafts only
(no versions, no attachments).
"""

from __future__ import annotations

import argparse
import json
import re
from pathlib import Path
from typing import Any

from qconnect_local.commands.common import (
    EXIT_FAILED,
    EXIT_OK,
    EXIT_USAGE,
    CommandError,
    add_connection_args,
    error,
    make_client,
    service_errors,
)
from qconnect_local.console.table import print_json, print_table

METADATA = "template.json"
# (content path, file) of the bodies kept in files of their own.
_BODY_FILES = {
    "EMAIL": ((("email", "subject"), "subject.txt"), (("email", "body", "plainText", "content"), "body.txt")),
    "SMS": ((("sms", "body", "plainText", "content"), "body.txt"),),
}
_HTML = (("email", "body", "html", "content"), "body.html")
_EXPORTED = ("name", "description", "channelSubtype", "language", "defaultAttributes", "groupingConfiguration", "tags")


def register(sub: Any) -> None:
    parser = sub.add_parser("templates", help="list, get, render, export or import message templates")
    actions = parser.add_subparsers(dest="templates_action", required=True, metavar="{list,get,render,export,import}")

    listing = actions.add_parser("list", help="list a knowledge base's message templates")
    listing.add_argument("knowledge_base_id", metavar="KB")
    listing.add_argument("--json", action="store_true", help="print the summaries as JSON")
    add_connection_args(listing)
    listing.set_defaults(handler=list_templates)

    get = actions.add_parser("get", help="print a message template (ID, ID:N or ID:$ACTIVE_VERSION) as JSON")
    get.add_argument("knowledge_base_id", metavar="KB")
    get.add_argument("message_template_id", metavar="TEMPLATE")
    add_connection_args(get)
    get.set_defaults(handler=get_template)

    render = actions.add_parser("render", help="render a message template and print the result as JSON")
    render.add_argument("knowledge_base_id", metavar="KB")
    render.add_argument("message_template_id", metavar="TEMPLATE")
    render.add_argument(
        "--attributes",
        default="{}",
        metavar="JSON",
        help='MessageTemplateAttributes, e.g. \'{"customAttributes": {"X": "1"}}\'',
    )
    add_connection_args(render)
    render.set_defaults(handler=render_template)

    export = actions.add_parser("export", help="write every template's draft to a directory of files")
    export.add_argument("knowledge_base_id", metavar="KB")
    export.add_argument("directory", type=Path, metavar="DIR")
    add_connection_args(export)
    export.set_defaults(handler=export_templates)

    load = actions.add_parser("import", help="create or update templates from an exported directory")
    load.add_argument("knowledge_base_id", metavar="KB")
    load.add_argument("directory", type=Path, metavar="DIR")
    add_connection_args(load)
    load.set_defaults(handler=import_templates)


def _summaries(client: Any, kb: str) -> list[dict[str, Any]]:
    with service_errors():
        return [
            s
            for page in client.get_paginator("list_message_templates").paginate(knowledgeBaseId=kb)
            for s in page["messageTemplateSummaries"]
        ]


def list_templates(args: argparse.Namespace) -> int:
    summaries = _summaries(make_client(args), args.knowledge_base_id)
    if args.json:
        print_json(summaries)
    else:
        print_table(
            ("MESSAGE TEMPLATE ID", "NAME", "SUBTYPE", "ACTIVE VERSION"),
            [
                (s["messageTemplateId"], s["name"], s["channelSubtype"], str(s.get("activeVersionNumber", "-")))
                for s in summaries
            ],
        )
    return EXIT_OK


def get_template(args: argparse.Namespace) -> int:
    client = make_client(args)
    with service_errors():
        template = client.get_message_template(
            knowledgeBaseId=args.knowledge_base_id, messageTemplateId=args.message_template_id
        )["messageTemplate"]
    print_json(template)
    return EXIT_OK


def render_template(args: argparse.Namespace) -> int:
    try:
        attributes = json.loads(args.attributes)
    except ValueError as exc:
        raise CommandError(f"--attributes is not JSON: {exc}", EXIT_USAGE) from None
    client = make_client(args)
    with service_errors():
        out = client.render_message_template(
            knowledgeBaseId=args.knowledge_base_id, messageTemplateId=args.message_template_id, attributes=attributes
        )
    out.pop("ResponseMetadata", None)
    print_json(out)
    return EXIT_OK


def _slug(name: str, taken: set[str]) -> str:
    base = re.sub(r"[^A-Za-z0-9._-]+", "-", name).strip("-.") or "template"
    slug, n = base, 1
    while slug in taken:
        n += 1
        slug = f"{base}-{n}"
    taken.add(slug)
    return slug


def _pop_path(tree: dict[str, Any], path: tuple[str, ...]) -> str | None:
    node: Any = tree
    for key in path[:-1]:
        node = node.get(key) if isinstance(node, dict) else None
    if not isinstance(node, dict):
        return None
    value = node.pop(path[-1], None)
    return value if isinstance(value, str) else None


def _set_path(tree: dict[str, Any], path: tuple[str, ...], value: str) -> None:
    node = tree
    for key in path[:-1]:
        node = node.setdefault(key, {})
    node[path[-1]] = value


def _files_of(subtype: str) -> tuple[tuple[tuple[str, ...], str], ...]:
    return (*_BODY_FILES.get(subtype, ()), *((_HTML,) if subtype == "EMAIL" else ()))


def export_templates(args: argparse.Namespace) -> int:
    client = make_client(args)
    kb = args.knowledge_base_id
    args.directory.mkdir(parents=True, exist_ok=True)
    taken: set[str] = set()
    for summary in _summaries(client, kb):
        with service_errors():
            template = client.get_message_template(knowledgeBaseId=kb, messageTemplateId=summary["messageTemplateId"])[
                "messageTemplate"
            ]
        folder = args.directory / _slug(template["name"], taken)
        folder.mkdir(exist_ok=True)
        meta = {k: template[k] for k in _EXPORTED if template.get(k)}
        if summary.get("sourceConfiguration"):
            meta["sourceConfiguration"] = summary["sourceConfiguration"]
        content = json.loads(json.dumps(template.get("content") or {}))
        for path, filename in _files_of(template["channelSubtype"]):
            text = _pop_path(content, path)
            if text is not None:
                (folder / filename).write_text(text, encoding="utf-8")
        meta["content"] = content
        (folder / METADATA).write_text(json.dumps(meta, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
        print(f"exported {template['name']} -> {folder}")
    return EXIT_OK


def _read_template(folder: Path) -> dict[str, Any]:
    try:
        meta = json.loads((folder / METADATA).read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise CommandError(f"{folder / METADATA}: {exc}") from None
    content = meta.pop("content", None) or {}
    for path, filename in _files_of(meta.get("channelSubtype", "")):
        file = folder / filename
        if file.is_file():
            _set_path(content, path, file.read_text(encoding="utf-8"))
    if content:
        meta["content"] = content
    return meta


def import_templates(args: argparse.Namespace) -> int:
    """Creates or updates each template; carries on past a failure and exits 1 if any failed."""
    client = make_client(args)
    kb = args.knowledge_base_id
    if not args.directory.is_dir():
        raise CommandError(f"{args.directory} is not a directory", EXIT_USAGE)
    existing = {s["name"]: s["messageTemplateId"] for s in _summaries(client, kb)}
    status = EXIT_OK
    for folder in sorted(p for p in args.directory.iterdir() if (p / METADATA).is_file()):
        try:
            params = _read_template(folder)
            with service_errors():
                if params.get("name") in existing:
                    verb = _update(client, kb, existing[params["name"]], params)
                else:
                    client.create_message_template(knowledgeBaseId=kb, **params)
                    verb = "created"
        except CommandError as exc:
            error(f"{folder.name}: {exc}")
            status = EXIT_FAILED
            continue
        print(f"{verb} {params['name']}")
    return status


def _update(client: Any, kb: str, mt_id: str, params: dict[str, Any]) -> str:
    ids = {"knowledgeBaseId": kb, "messageTemplateId": mt_id}
    content = {k: params[k] for k in ("content", "language", "sourceConfiguration", "defaultAttributes") if k in params}
    if content:
        client.update_message_template(**ids, **content)
    metadata = {k: params[k] for k in ("description", "groupingConfiguration") if k in params}
    if metadata:
        client.update_message_template_metadata(**ids, **metadata)
    return "updated"
