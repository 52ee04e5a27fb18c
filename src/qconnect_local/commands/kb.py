"""`qconnect-local kb list|create|delete`: the common knowledge-base chores."""

from __future__ import annotations

import argparse
from typing import Any

from qconnect_local.commands.common import (
    EXIT_FAILED,
    EXIT_OK,
    add_connection_args,
    error,
    make_client,
    parse_pairs,
    service_errors,
)
from qconnect_local.console.table import print_json, print_table

KB_TYPES = ("QUICK_RESPONSES", "CUSTOM", "EXTERNAL", "MESSAGE_TEMPLATES", "MANAGED")


def register(sub: Any) -> None:
    kb = sub.add_parser("kb", help="list, create or delete knowledge bases")
    actions = kb.add_subparsers(dest="kb_action", required=True, metavar="{list,create,delete}")

    listing = actions.add_parser("list", help="list the knowledge bases")
    listing.add_argument("--json", action="store_true", help="print the summaries as JSON")
    add_connection_args(listing)
    listing.set_defaults(handler=list_knowledge_bases)

    create = actions.add_parser("create", help="create a knowledge base and print its id")
    create.add_argument("name")
    create.add_argument("--type", default="QUICK_RESPONSES", choices=KB_TYPES, dest="kb_type")
    create.add_argument("--description", default=None)
    create.add_argument("--tag", action="append", metavar="KEY=VALUE", help="a tag (repeatable)")
    create.add_argument("--json", action="store_true", help="print the whole knowledge base as JSON")
    add_connection_args(create)
    create.set_defaults(handler=create_knowledge_base)

    delete = actions.add_parser("delete", help="delete knowledge bases by name, id or ARN")
    delete.add_argument("knowledge_base_ids", nargs="+", metavar="NAME|ID")
    add_connection_args(delete)
    delete.set_defaults(handler=delete_knowledge_bases)


def list_knowledge_bases(args: argparse.Namespace) -> int:
    client = make_client(args)
    with service_errors():
        summaries = [
            s
            for page in client.get_paginator("list_knowledge_bases").paginate()
            for s in page["knowledgeBaseSummaries"]
        ]
    if args.json:
        print_json(summaries)
    else:
        print_table(
            ("KNOWLEDGE BASE ID", "NAME", "TYPE", "STATUS"),
            [(s["knowledgeBaseId"], s["name"], s["knowledgeBaseType"], s["status"]) for s in summaries],
        )
    return EXIT_OK


def create_knowledge_base(args: argparse.Namespace) -> int:
    params: dict[str, Any] = {"name": args.name, "knowledgeBaseType": args.kb_type}
    if args.description is not None:
        params["description"] = args.description
    tags = parse_pairs(args.tag, "--tag")
    if tags:
        params["tags"] = tags
    client = make_client(args)
    with service_errors():
        kb = client.create_knowledge_base(**params)["knowledgeBase"]
    if args.json:
        print_json(kb)
    else:
        print(kb["knowledgeBaseId"])
    return EXIT_OK


def delete_knowledge_bases(args: argparse.Namespace) -> int:
    """Deletes each one; carries on past a failure and exits 1 if any failed."""
    from qconnect_local.commands.common import CommandError

    client = make_client(args)
    status = EXIT_OK
    for kb_id in args.knowledge_base_ids:
        try:
            from qconnect_local.commands.names import knowledge_base_id

            resolved = knowledge_base_id(client, kb_id)
            with service_errors():
                client.delete_knowledge_base(knowledgeBaseId=resolved)
        except CommandError as exc:
            error(f"{kb_id}: {exc}")
            status = EXIT_FAILED
            continue
        print(f"deleted {kb_id}")
    return status
