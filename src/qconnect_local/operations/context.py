"""What an operation knows about the request it serves (no HTTP)."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any

from qconnect_local.config import Settings
from qconnect_local.storage.base import Store


@dataclass
class RequestContext:
    account_id: str
    region: str
    caller_arn: str
    store: Store
    settings: Settings
    request_id: str = ""
    # Services beside storage that operations may need (blob store, URL signer, ...), by name.
    services: dict[str, Any] = field(default_factory=dict)
    # scheme://host[:port] as the client reached us (from the Host header): where the signed
    # upload/download URLs must point for that client.
    endpoint: str = ""

    @staticmethod
    def now() -> float:
        # Millisecond precision: what AWS returns, and stable through JSON round trips.
        return round(time.time(), 3)
