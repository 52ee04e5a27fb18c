"""Resource identity: IDs, ARNs and the 'ID or ARN' path labels (docs/behaviour.md)."""

from __future__ import annotations

import os
import re
import threading

UUID_RE = re.compile(r"[a-f0-9]{8}-[a-f0-9]{4}-[a-f0-9]{4}-[a-f0-9]{4}-[a-f0-9]{12}")
_ARN_RE = re.compile(
    r"arn:(?P<partition>[a-z-]*?):wisdom:(?P<region>[a-z0-9-]*?):(?P<account>[0-9]{12}):"
    r"(?P<type>[a-z-]*?)/(?P<ids>[a-f0-9-]+(?:/[a-f0-9-]+){0,2})"
)


_BATCH = 256  # ids made from one os.urandom call
_VARIANT = {d: "89ab"[int(d, 16) & 3] for d in "0123456789abcdef"}
_made = threading.local()


def _forget_made_ids() -> None:
    """A forked child must not hand out the ids its parent still holds."""
    global _made
    _made = threading.local()


os.register_at_fork(after_in_child=_forget_made_ids)


def _make_ids() -> list[str]:
    digits = os.urandom(16 * _BATCH).hex()
    return [
        f"{h[:8]}-{h[8:12]}-4{h[13:16]}-{_VARIANT[h[16]]}{h[17:20]}-{h[20:]}"
        for h in (digits[i : i + 32] for i in range(0, len(digits), 32))
    ]


def new_id() -> str:
    """A random (version 4) UUID, as `str(uuid.uuid4())` makes. The OS's random bytes are read
    for _BATCH ids at a time, per thread: os.urandom releases the GIL, and one call per id made an
    import's checker thread queue for the GIL behind its writer thread on every row."""
    made = getattr(_made, "ids", None)
    if not made:
        made = _made.ids = _make_ids()
    return made.pop()


def knowledge_base_arn(region: str, account: str, kb_id: str) -> str:
    return f"arn:aws:wisdom:{region}:{account}:knowledge-base/{kb_id}"


def quick_response_arn(region: str, account: str, kb_id: str, qr_id: str) -> str:
    return f"arn:aws:wisdom:{region}:{account}:quick-response/{kb_id}/{qr_id}"


class ParsedArn:
    __slots__ = ("region", "account", "resource_type", "ids")

    def __init__(self, region: str, account: str, resource_type: str, ids: list[str]) -> None:
        self.region = region
        self.account = account
        self.resource_type = resource_type
        self.ids = ids


def parse_arn(value: str) -> ParsedArn | None:
    m = _ARN_RE.fullmatch(value)
    if not m:
        return None
    ids = m.group("ids").split("/")
    if not all(UUID_RE.fullmatch(i) for i in ids):
        return None
    return ParsedArn(m.group("region"), m.group("account"), m.group("type"), ids)


def id_from_label(value: str) -> str:
    """The bare UUID of an 'ID or ARN' label (validated by the model's pattern before this).

    An ARN names its resource by its last UUID segment.
    """
    if value.startswith("arn:"):
        parsed = parse_arn(value)
        if parsed is not None:
            return parsed.ids[-1]
    return value
