"""AWS's request-rate quotas: a token bucket per account, region and operation.

The documented quota (reference §6) is 10 requests per second for every API, 20 for
SearchQuickResponses and DeleteQuickResponse. A bucket holds one second's worth of tokens (at least
one), so a burst up to the rate passes and the next call in the same second is throttled.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

from qconnect_local.errors import ServiceError

DEFAULT_TPS = 10.0
DOCUMENTED_TPS = {"SearchQuickResponses": 20.0, "DeleteQuickResponse": 20.0}


class ThrottlingException(ServiceError):
    code = "ThrottlingException"
    status = 429
    # The model gives ThrottlingException 400; the service's front door answers a rate limit with 429.
    exact_status = True


def parse_rate(text: str) -> tuple[str, float]:
    """`OPERATION=TPS` (the --throttle-rate option)."""
    operation, eq, value = text.partition("=")
    try:
        rate = float(value)
    except ValueError:
        rate = -1.0
    if not eq or not operation or rate < 0:
        raise ValueError(f"expected OPERATION=TPS with TPS >= 0, not {text!r}")
    return operation, rate


class Throttle:
    def __init__(
        self,
        documented: bool,
        overrides: dict[str, float],
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.documented = documented  # --throttle: every operation at its documented rate
        self.overrides = dict(overrides)
        self.clock = clock
        self._buckets: dict[tuple[str, str, str], list[float]] = {}  # key -> [tokens, last refill]
        self._lock = threading.Lock()

    def rate_of(self, operation: str) -> float | None:
        if operation in self.overrides:
            return self.overrides[operation]
        if self.documented:
            return DOCUMENTED_TPS.get(operation, DEFAULT_TPS)
        return None

    def admit(self, account: str, region: str, operation: str) -> None:
        """Takes a token for the call, or raises ThrottlingException."""
        rate = self.rate_of(operation)
        if rate is None:
            return
        capacity = max(rate, 1.0) if rate > 0 else 0.0
        key = (account, region, operation)
        now = self.clock()
        with self._lock:
            bucket = self._buckets.get(key)
            if bucket is None:
                bucket = self._buckets[key] = [capacity, now]
            tokens = min(capacity, bucket[0] + (now - bucket[1]) * rate)
            bucket[1] = now
            if tokens >= 1.0:
                bucket[0] = tokens - 1.0
                return
            bucket[0] = tokens
        raise ThrottlingException("Rate exceeded")

    def reset(self) -> None:
        with self._lock:
            self._buckets.clear()
