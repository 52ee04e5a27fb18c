"""`qconnect-local qr list|get|search|delete`: quick responses without another tool.

`--knowledge-base` takes a name or an id (required: quick responses live in one knowledge base).
"""

from __future__ import annotations

import argparse
from typing import Any

from qconnect_local.commands.common import (
    EXIT_FAILED,
    EXIT_OK,
    CommandError,
    add_connection_args,
    error,
    make_client,
    service_errors,
)
from qconnect_local.commands.names import knowledge_base_id
from qconnect_local.console.table import print_json, print_table


def register(sub: Any) -> None:
    qr = sub.add_parser("qr", help="list, show, search or delete quick responses")
    actions = qr.add_subparsers(dest="qr_action", required=True, metavar="{list,get,search,delete}")

    listing = actions.add_parser("list", help="list the quick responses of a knowledge base")
    _kb_arg(listing)
    listing.add_argument("--json", action="store_true", help="print the summaries as JSON")
    add_connection_args(listing)
    listing.set_defaults(handler=list_quick_responses)

    get = actions.add_parser("get", help="show one quick response")
    get.add_argument("quick_response_id", metavar="ID")
    _kb_arg(get)
    get.add_argument("--json", action="store_true", help="print the quick response as JSON")
    add_connection_args(get)
    get.set_defaults(handler=get_quick_response)

    search = actions.add_parser("search", help="search quick responses (name, content, shortcut key, description)")
    search.add_argument("text")
    _kb_arg(search)
    search.add_argument("--max", type=int, default=20, metavar="N", help="results to show (default 20)")
    search.add_argument("--json", action="store_true", help="print the results as JSON")
    add_connection_args(search)
    search.set_defaults(handler=search_quick_responses)

    delete = actions.add_parser("delete", help="delete quick responses")
    delete.add_argument("quick_response_ids", nargs="+", metavar="ID")
    _kb_arg(delete)
    add_connection_args(delete)
    delete.set_defaults(handler=delete_quick_responses)


def _kb_arg(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--knowledge-base", required=True, metavar="NAME|ID", help="knowledge base name, id or ARN")


def list_quick_responses(args: argparse.Namespace) -> int:
    client = make_client(args)
    kb_id = knowledge_base_id(client, args.knowledge_base)
    with service_errors():
        summaries = [
            s
            for page in client.get_paginator("list_quick_responses").paginate(knowledgeBaseId=kb_id)
            for s in page["quickResponseSummaries"]
        ]
    summaries.sort(key=lambda s: (s["name"], s["quickResponseId"]))
    if args.json:
        print_json(summaries)
        return EXIT_OK
    print_table(
        ("QUICK RESPONSE ID", "NAME", "STATUS", "ACTIVE"),
        [(s["quickResponseId"], s["name"], s["status"], str(s.get("isActive", True)).lower()) for s in summaries],
    )
    return EXIT_OK


def get_quick_response(args: argparse.Namespace) -> int:
    client = make_client(args)
    kb_id = knowledge_base_id(client, args.knowledge_base)
    with service_errors():
        qr = client.get_quick_response(knowledgeBaseId=kb_id, quickResponseId=args.quick_response_id)["quickResponse"]
    if args.json:
        print_json(qr)
        return EXIT_OK
    for key in (
        "quickResponseId",
        "name",
        "shortcutKey",
        "description",
        "contentType",
        "status",
        "isActive",
        "language",
    ):
        if key in qr:
            print(f"{key}: {qr[key]}")
    if qr.get("channels"):
        print(f"channels: {', '.join(qr['channels'])}")
    profiles = (qr.get("groupingConfiguration") or {}).get("values") or []
    if profiles:
        print(f"routingProfiles: {', '.join(profiles)}")
    print("content:")
    print(_content(qr))
    return EXIT_OK


def search_quick_responses(args: argparse.Namespace) -> int:
    if args.max < 1:
        raise CommandError("--max must be at least 1", 2)
    client = make_client(args)
    kb_id = knowledge_base_id(client, args.knowledge_base)
    expression = {"queries": [{"name": "content", "values": [args.text], "operator": "CONTAINS_AND_PREFIX"}]}
    results: list[dict[str, Any]] = []
    with service_errors():
        for page in client.get_paginator("search_quick_responses").paginate(
            knowledgeBaseId=kb_id, searchExpression=expression
        ):
            results.extend(page["results"])
            if len(results) >= args.max:
                break
    results = results[: args.max]
    if args.json:
        print_json(results)
        return EXIT_OK
    print_table(
        ("QUICK RESPONSE ID", "NAME", "SHORTCUT", "CONTENT"),
        [(r["quickResponseId"], r["name"], r.get("shortcutKey", ""), _content(r)) for r in results],
        max_width=60,
    )
    return EXIT_OK


def delete_quick_responses(args: argparse.Namespace) -> int:
    client = make_client(args)
    kb_id = knowledge_base_id(client, args.knowledge_base)
    status = EXIT_OK
    for qr_id in args.quick_response_ids:
        try:
            with service_errors():
                client.delete_quick_response(knowledgeBaseId=kb_id, quickResponseId=qr_id)
        except CommandError as exc:
            error(f"{qr_id}: {exc}")
            status = EXIT_FAILED
            continue
        print(f"deleted {qr_id}")
    return status


def _content(qr: dict[str, Any]) -> str:
    contents = qr.get("contents") or {}
    for kind in ("markdown", "plainText"):
        text = (contents.get(kind) or {}).get("content")
        if text:
            return text
    return ""
