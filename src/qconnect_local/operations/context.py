"""What an operation knows about the request it serves (no HTTP)."""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import TYPE_CHECKING

from qconnect_local.config import Settings
from qconnect_local.storage.base import Store

if TYPE_CHECKING:
    from qconnect_local.services import Services


@dataclass
class RequestContext:
    account_id: str
    region: str
    caller_arn: str
    store: Store
    settings: Settings
    request_id: str = ""
    # The blob store, URL signer and import runner beside the store (None offline: `validate`).
    services: Services | None = None
    # scheme://host[:port] as the client reached us (from the Host header): where the signed
    # upload/download URLs must point for that client.
    endpoint: str = ""

    def require_services(self) -> Services:
        if self.services is None:
            raise RuntimeError("this operation needs a server's services (blob store, import runner)")
        return self.services

    def now(self) -> float:
        """The request's time, from the services' clock (tests move it instead of sleeping)."""
        return round(self.services.clock() if self.services is not None else time.time(), 3)


def wall_clock() -> float:
    # Millisecond precision: what AWS returns, and stable through JSON round trips.
    return round(time.time(), 3)
