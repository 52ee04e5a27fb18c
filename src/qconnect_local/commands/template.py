"""`qconnect-local template`: the import CSV's header row and one example row.

The columns come from the import's own format definition (`importing.csv_format`), so the
template cannot drift from what the import accepts. The example row is a valid row (it imports
as it is, and `validate` passes it), not the console template's `<*Required field>` markers,
which an import refuses until they are removed.
"""

from __future__ import annotations

import argparse
import csv
import sys
from typing import Any

from qconnect_local.commands.common import EXIT_OK

EXAMPLE = {
    "Name": "Greeting",
    "Content": "Hello {{Attributes.Customer}}, thank you for contacting us. How can I help?",
    "Shortcut key": "greet",
    "Description": "Opening line for chats and emails",
    "Routing Profile": "All",
    "Channels": "Chat|Email",
    "Content type": "plain",
    "Language": "en_US",
    "Active": "true",
}


def register(sub: Any) -> None:
    parser = sub.add_parser("template", help="print the import CSV template with one example row")
    parser.add_argument("-o", "--output", default=None, help="write to this file instead of standard output")
    parser.add_argument("--header-only", action="store_true", help="leave out the example row")
    parser.set_defaults(handler=print_template)


def template_rows(header_only: bool = False) -> list[list[str]]:
    from qconnect_local.importing.csv_format import TEMPLATE_HEADER

    rows = [list(TEMPLATE_HEADER)]
    if not header_only:
        rows.append([EXAMPLE.get(name, "") for name in TEMPLATE_HEADER])
    return rows


def print_template(args: argparse.Namespace) -> int:
    rows = template_rows(args.header_only)
    if args.output:
        with open(args.output, "w", newline="", encoding="utf-8") as out:
            csv.writer(out).writerows(rows)
    else:
        csv.writer(sys.stdout, lineterminator="\n").writerows(rows)
    return EXIT_OK
