"""Knowledge bases by name or id: wherever a command takes a knowledge base, a name works too."""

from __future__ import annotations

import re
from typing import Any

from qconnect_local.commands.common import EXIT_USAGE, CommandError, service_errors

_ID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")


def looks_like_id(value: str) -> bool:
    return bool(_ID.fullmatch(value)) or value.startswith("arn:")


def knowledge_base_id(client: Any, value: str) -> str:
    """The id of the knowledge base `value` names (an id or ARN is returned as it is)."""
    if looks_like_id(value):
        return value
    with service_errors():
        matches = [
            s["knowledgeBaseId"]
            for page in client.get_paginator("list_knowledge_bases").paginate()
            for s in page["knowledgeBaseSummaries"]
            if s["name"] == value
        ]
    if not matches:
        raise CommandError(
            f"no knowledge base is named {value!r} (hint: `qconnect-local kb list` shows the knowledge bases)"
        )
    if len(matches) > 1:
        raise CommandError(
            f"{len(matches)} knowledge bases are named {value!r}: give one of their ids ({', '.join(matches)})",
            EXIT_USAGE,
        )
    return matches[0]


def all_knowledge_base_ids(client: Any) -> list[str]:
    with service_errors():
        return [
            s["knowledgeBaseId"]
            for page in client.get_paginator("list_knowledge_bases").paginate()
            for s in page["knowledgeBaseSummaries"]
        ]
