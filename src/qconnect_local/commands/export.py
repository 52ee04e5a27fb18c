"""`qconnect-local export --knowledge-base ID [-o FILE.csv]`: every quick response of a knowledge
base, in the import format (columns of `importing.csv_format`), so that exporting and importing
the file into an empty knowledge base gives the same quick responses.

ListQuickResponses summaries lack content, shortcut key, routing profiles and language, so each
quick response is read with GetQuickResponse. Rows come in name order (stable, diff-friendly).

Routing profiles: a quick response stores routing-profile ARNs; the import file names them (the
import resolves names through the Connect instance). The instance is read from the ARNs and its
names are asked of the server's routing-profile directory (qconnect-local) or of Amazon Connect's
ListRoutingProfiles (`--endpoint-url aws`). An ARN without a name is written as it is, with a
warning: the import will refuse that row until it is fixed.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import re
import sys
import urllib.request
from collections.abc import Iterator
from contextlib import nullcontext
from typing import Any, TextIO

from qconnect_local.commands.common import (
    EXIT_OK,
    add_connection_args,
    error,
    make_client,
    resolve_endpoint,
    service_errors,
)
from qconnect_local.commands.names import knowledge_base_id

MARKDOWN = "application/x.quickresponse;format=markdown"
_ROUTING_PROFILE_ARN = re.compile(r"arn:[^:]+:connect:[^:]*:[^:]*:instance/(?P<instance>[^/]+)/routing-profile/[^/]+")


def register(sub: Any) -> None:
    parser = sub.add_parser("export", help="write a knowledge base's quick responses as an import CSV")
    parser.add_argument("--knowledge-base", required=True, metavar="NAME|ID", help="knowledge base name, id or ARN")
    parser.add_argument("-o", "--output", default=None, help="file to write (default: standard output)")
    add_connection_args(parser)
    parser.set_defaults(handler=export)


def export(args: argparse.Namespace) -> int:
    from qconnect_local.commands.common import CommandError
    from qconnect_local.importing.csv_format import TEMPLATE_HEADER

    client = make_client(args)
    args.knowledge_base = knowledge_base_id(client, args.knowledge_base)
    with service_errors():
        client.get_knowledge_base(knowledgeBaseId=args.knowledge_base)  # fail before creating the file
        quick_responses = list(_quick_responses(client, args.knowledge_base))
        names = RoutingProfileNames(args, client)
        rows = [to_row(qr, names) for qr in quick_responses]
    try:
        target = open(args.output, "w", newline="", encoding="utf-8") if args.output else nullcontext(sys.stdout)
    except OSError as exc:
        raise CommandError(f"cannot write {args.output}: {exc.strerror}") from None
    with target as out:
        write_csv(out, TEMPLATE_HEADER, rows)
    if args.output:
        print(f"exported {len(rows)} quick responses to {args.output}", file=sys.stderr)
    return EXIT_OK


def write_csv(out: TextIO, header: list[str], rows: list[dict[str, str]]) -> None:
    writer = csv.writer(out)
    writer.writerow(header)
    for row in rows:
        writer.writerow([row.get(name, "") for name in header])


def _quick_responses(client: Any, kb_id: str) -> Iterator[dict[str, Any]]:
    summaries = [
        s
        for page in client.get_paginator("list_quick_responses").paginate(knowledgeBaseId=kb_id)
        for s in page["quickResponseSummaries"]
    ]
    for summary in sorted(summaries, key=lambda s: (s["name"], s["quickResponseId"])):
        yield client.get_quick_response(knowledgeBaseId=kb_id, quickResponseId=summary["quickResponseId"])[
            "quickResponse"
        ]


def to_row(qr: dict[str, Any], names: RoutingProfileNames) -> dict[str, str]:
    """One quick response -> the import row that recreates it (keyed by canonical column)."""
    markdown = qr.get("contentType") == MARKDOWN
    contents = qr.get("contents") or {}
    body = (contents.get("markdown") if markdown else contents.get("plainText")) or contents.get("markdown") or {}
    grouping = qr.get("groupingConfiguration") or {}
    profiles = grouping.get("values") or []
    return {
        "Name": qr["name"],
        "Content": body.get("content", ""),
        "Shortcut key": qr.get("shortcutKey", ""),
        "Description": qr.get("description", ""),
        "Routing Profile": "|".join(names.name_of(arn) for arn in profiles),
        "Channels": "|".join(qr.get("channels") or []),
        "Content type": "markdown" if markdown else "plain",
        "Language": qr.get("language", ""),
        "Active": "true" if qr.get("isActive", True) else "false",
    }


class RoutingProfileNames:
    """ARN -> name, one directory look-up per Connect instance."""

    def __init__(self, args: argparse.Namespace, client: Any) -> None:
        self.args = args
        self.client = client
        self.endpoint = resolve_endpoint(args)
        self.region = client.meta.region_name
        self.by_instance: dict[str, dict[str, str]] = {}

    def name_of(self, arn: str) -> str:
        m = _ROUTING_PROFILE_ARN.fullmatch(arn)
        if not m:
            error(f"warning: '{arn}' is not a routing-profile ARN; written as it is")
            return arn
        instance = m.group("instance")
        if instance not in self.by_instance:
            self.by_instance[instance] = {a: n for n, a in self._profiles(instance).items()}
        name = self.by_instance[instance].get(arn)
        if name is None:
            error(f"warning: routing profile {arn} has no name in instance {instance}; written as the ARN")
            return arn
        return name

    def _profiles(self, instance: str) -> dict[str, str]:
        """name -> ARN of one instance; {} (with a warning) when it cannot be known."""
        try:
            if self.endpoint is None:
                return self._from_amazon_connect(instance)
            url = f"{self.endpoint.rstrip('/')}/_qconnect/connect-instances/{instance}/routing-profiles"
            request = urllib.request.Request(url, headers=self._directory_headers(url))
            with urllib.request.urlopen(request, timeout=30) as response:
                doc = json.load(response)
            return {p["name"]: p["arn"] for p in doc.get("routingProfiles", [])}
        except Exception as exc:  # a missing directory must not lose the rest of the export
            error(f"warning: cannot read the routing profiles of instance {instance}: {exc}")
            return {}

    def _directory_headers(self, url: str) -> dict[str, str]:
        """The directory is per account: the export's key signs the look-up (as the API is signed;
        checked with --verify-signatures), plus the admin token a guarded server asks for."""
        from botocore.auth import SigV4Auth
        from botocore.awsrequest import AWSRequest

        headers: dict[str, str] = {}
        token = os.environ.get("QCONNECT_LOCAL_ADMIN_TOKEN")
        if token:
            headers["X-Qc-Admin-Token"] = token
        credentials = self.client._request_signer._credentials  # the key boto3 signs the API calls with
        if credentials is not None:
            request = AWSRequest("GET", url)
            SigV4Auth(credentials.get_frozen_credentials(), "wisdom", self.region).add_auth(request)
            headers.update(request.headers.items())
        return headers

    def _from_amazon_connect(self, instance: str) -> dict[str, str]:
        connect = make_client(self.args, "connect")
        out: dict[str, str] = {}
        for page in connect.get_paginator("list_routing_profiles").paginate(InstanceId=instance):
            for summary in page.get("RoutingProfileSummaryList", []):
                out[summary["Name"]] = summary["Arn"]
        return out
