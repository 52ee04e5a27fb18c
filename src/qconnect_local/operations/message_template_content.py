"""What a message template's content means: its placeholders and their attribute namespaces,
the content checksum, and rendering (docs/message-templates.md).

A placeholder is the quick responses' `{{Attributes.KEY}}` (search/interpolation.py is the one
engine for both); a template's KEY is namespaced: `System.Name`, `Agent.FirstName`,
`Customer.FirstName`, `Customer.Custom.KEY`, `Custom.KEY` or `Case.KEY`, from the model's
MessageTemplateAttributes.
"""

from __future__ import annotations

import hashlib
import html
from collections.abc import Iterator
from typing import Any

import orjson

from qconnect_local.search.interpolation import interpolate_text, placeholder_keys

# MessageTemplateAttributes member -> the KEY's namespace.
NAMESPACES = {
    "systemAttributes": "System",
    "agentAttributes": "Agent",
    "customerProfileAttributes": "Customer",
    "customAttributes": "Custom",
    "caseAttributes": "Case",
}
# Namespace -> MessageTemplateAttributeType, in the model's enum order.
ATTRIBUTE_TYPES = {
    "System": "SYSTEM",
    "Agent": "AGENT",
    "Customer": "CUSTOMER_PROFILE",
    "Custom": "CUSTOM",
    "Case": "CASE",
}
# Members that are maps (their keys are kept as given, not capitalized).
_MAPS = frozenset({"customAttributes", "caseAttributes", "custom"})
# The one place where a value lands in HTML.
_HTML_PATH = ("email", "body", "html", "content")


def _capitalize(member: str) -> str:
    return member[:1].upper() + member[1:]


def flatten_attributes(attributes: dict[str, Any] | None) -> dict[str, str]:
    """MessageTemplateAttributes as {KEY: value}: `{"agentAttributes": {"firstName": "Ana"}}`
    gives `{"Agent.FirstName": "Ana"}`. Lists (profile recommendations) name no placeholder."""
    out: dict[str, str] = {}
    for member, namespace in NAMESPACES.items():
        group = (attributes or {}).get(member)
        if isinstance(group, dict):
            _walk(group, namespace, member in _MAPS, out)
    return out


def _walk(group: dict[str, Any], prefix: str, is_map: bool, out: dict[str, str]) -> None:
    for name, value in group.items():
        key = f"{prefix}.{name if is_map else _capitalize(name)}"
        if isinstance(value, str):
            out[key] = value
        elif isinstance(value, dict):
            _walk(value, key, name in _MAPS, out)


def _strings(value: Any, path: tuple[str, ...] = ()) -> Iterator[tuple[tuple[str, ...], str]]:
    """(path, text) of every string in a content tree, in document order."""
    if isinstance(value, str):
        yield path, value
    elif isinstance(value, dict):
        for name, child in value.items():
            yield from _strings(child, (*path, name))
    elif isinstance(value, list):
        for i, child in enumerate(value):
            yield from _strings(child, (*path, str(i)))


def attribute_types(content: dict[str, Any] | None) -> list[str]:
    """The attribute types the content's placeholders use, in the model's enum order."""
    found = {key.split(".", 1)[0] for _, text in _strings(content or {}) for key in placeholder_keys(text)}
    return [kind for namespace, kind in ATTRIBUTE_TYPES.items() if namespace in found]


def content_sha256(record: dict[str, Any]) -> str:
    """SHA-256 (hex) of the canonical JSON (sorted keys, no spaces) of the members AWS says the
    checksum covers: content, language, defaultAttributes and attachments (absent ones left out)."""
    covered = {k: record[k] for k in ("content", "language", "defaultAttributes") if record.get(k) is not None}
    attachments = [{"attachmentId": a["attachmentId"], "name": a["name"]} for a in record.get("attachments") or ()]
    if attachments:
        covered["attachments"] = attachments
    return hashlib.sha256(orjson.dumps(covered, option=orjson.OPT_SORT_KEYS)).hexdigest()


def render(
    content: dict[str, Any], defaults: dict[str, Any] | None, given: dict[str, Any] | None
) -> tuple[dict[str, Any], list[str]]:
    """(content with placeholders replaced, KEYs left verbatim). A given attribute wins over the
    template's default for the same KEY; values land HTML-escaped in the email's HTML body."""
    values = {**flatten_attributes(defaults), **flatten_attributes(given)}
    seen: dict[str, bool] = {}

    def rebuild(value: Any, path: tuple[str, ...]) -> Any:
        if isinstance(value, str):
            escape = _escape_html if path == _HTML_PATH else None
            return interpolate_text(value, values, seen, escape)
        if isinstance(value, dict):
            return {name: rebuild(child, (*path, name)) for name, child in value.items()}
        if isinstance(value, list):
            return [rebuild(child, (*path, str(i))) for i, child in enumerate(value)]
        return value

    rendered = rebuild(content, ())
    return rendered, [key for key, found in seen.items() if not found]


def _escape_html(value: str) -> str:
    return html.escape(value, quote=True)
