"""The `serve` options of message templates (kept here so cli.py needs only two calls)."""

from __future__ import annotations

import argparse

from qconnect_local.config import Quotas, Settings


def add_arguments(parser: argparse.ArgumentParser) -> None:
    d = Quotas()
    group = parser.add_argument_group("message templates")
    group.add_argument(
        "--max-message-templates",
        type=int,
        default=d.message_templates_per_knowledge_base,
        help="message templates per knowledge base (quota)",
    )
    group.add_argument(
        "--max-template-attachments",
        type=int,
        default=d.attachments_per_message_template,
        help="attachments per message template",
    )
    group.add_argument(
        "--max-template-attachment-bytes",
        type=int,
        default=d.message_template_attachment_bytes,
        help="largest attachment file (decoded bytes)",
    )


def apply_arguments(args: argparse.Namespace, settings: Settings) -> None:
    # `worker` shares settings_from_args but serves no API calls: it has none of these options.
    if "max_message_templates" not in vars(args):
        return
    settings.quotas.message_templates_per_knowledge_base = args.max_message_templates
    settings.quotas.attachments_per_message_template = args.max_template_attachments
    settings.quotas.message_template_attachment_bytes = args.max_template_attachment_bytes
