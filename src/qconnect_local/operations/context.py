"""What an operation knows about the request it serves (no HTTP)."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

from qconnect_local.blobs import BlobStore
from qconnect_local.blobs.signed_urls import UrlSigner
from qconnect_local.config import Settings
from qconnect_local.storage.base import Store


class JobRunner(Protocol):
    def wake(self) -> None:
        """A job was queued: look for it now rather than at the next poll."""
        ...


class Services(Protocol):
    """What operations use of the composition root (services.Services), seen from below it."""

    @property
    def blobs(self) -> BlobStore: ...
    @property
    def signer(self) -> UrlSigner: ...
    @property
    def runner(self) -> JobRunner: ...
    @property
    def clock(self) -> Callable[[], float]: ...


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
