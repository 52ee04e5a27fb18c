"""The `serve` options of assistants, their associations and content: the service's quotas."""

from __future__ import annotations

import argparse

from qconnect_local.config import Quotas, Settings


def add_arguments(parser: argparse.ArgumentParser) -> None:
    d = Quotas()
    group = parser.add_argument_group("assistants")
    group.add_argument(
        "--max-assistants", type=int, default=d.assistants, metavar="N", help="quota per account and region"
    )
    group.add_argument(
        "--max-assistant-associations",
        type=int,
        default=d.assistant_associations,
        metavar="N",
        help="assistant associations per account and region (quota)",
    )
    group.add_argument(
        "--max-contents",
        type=int,
        default=d.contents_per_knowledge_base,
        metavar="N",
        help="content per knowledge base (quota)",
    )


def apply_arguments(args: argparse.Namespace, settings: Settings) -> None:
    # The worker shares settings_from_args but has no use for these options.
    settings.quotas.assistants = getattr(args, "max_assistants", settings.quotas.assistants)
    settings.quotas.assistant_associations = getattr(
        args, "max_assistant_associations", settings.quotas.assistant_associations
    )
    settings.quotas.contents_per_knowledge_base = getattr(
        args, "max_contents", settings.quotas.contents_per_knowledge_base
    )
