"""Fault injection: rules, per account, that make API calls fail or slow, and import jobs fail or stall.

A rule: `{"operation": "CreateQuickResponse" | "*", "error": "<code>", "probability": 0..1,
"count": N, "latencyMs": N, "importFailAtRow": N, "importStall": true | SECONDS}`. For each call
the account's rules are tried in order; the first that matches the operation and fires (by its
probability) applies: it waits `latencyMs`, then raises `error`, or marks the import job that the
call starts. A rule with a `count` is used up after that many firings.
"""

from __future__ import annotations

import itertools
import random
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from qconnect_local.errors import ServiceError, ValidationException
from qconnect_local.protocol.model import service_model
from qconnect_local.unhappy.throttling import ThrottlingException

# Errors any AWS API can answer whether or not the model lists them for the operation.
COMMON_ERRORS = {"InternalServerException": 500, "ServiceUnavailableException": 503, "ThrottlingException": 429}
_RULE_FIELDS = {"operation", "error", "probability", "count", "latencyMs", "importFailAtRow", "importStall"}
_IMPORT_OPERATION = "StartImportJob"


@dataclass
class FaultRule:
    id: int
    operation: str
    error: str | None = None
    probability: float = 1.0
    count: int | None = None  # firings left; None = unlimited
    latency_ms: int = 0
    import_fail_at_row: int | None = None
    import_stall: bool | float = False  # True: until the faults are cleared; a number: seconds

    def view(self) -> dict[str, Any]:
        out: dict[str, Any] = {"id": self.id, "operation": self.operation, "probability": self.probability}
        for key, value in (
            ("error", self.error),
            ("count", self.count),
            ("latencyMs", self.latency_ms or None),
            ("importFailAtRow", self.import_fail_at_row),
            ("importStall", self.import_stall or None),
        ):
            if value is not None:
                out[key] = value
        return out


@dataclass
class ImportFault:
    fail_at_row: int | None
    stall: bool | float
    released: threading.Event = field(default_factory=threading.Event)


class _Errors:
    """Which errors the model lists for each operation, and their statuses."""

    def __init__(self) -> None:
        model = service_model()
        self.by_operation: dict[str, dict[str, int]] = {}
        for name in model.operation_names:
            op = model.operation_model(name)
            self.by_operation[name] = {
                e.name: int(e.metadata.get("error", {}).get("httpStatusCode", 400)) for e in op.error_shapes
            }
        self.any_operation: dict[str, int] = {}
        for errors in self.by_operation.values():
            self.any_operation.update(errors)

    def status(self, operation: str, error: str) -> int | None:
        if error in COMMON_ERRORS:
            return COMMON_ERRORS[error]
        table = self.any_operation if operation == "*" else self.by_operation.get(operation, {})
        return table.get(error)


class FaultRegistry:
    def __init__(self, rng: random.Random | None = None, sleep: Callable[[float], None] = time.sleep) -> None:
        self._rules: dict[str, list[FaultRule]] = {}
        self._imports: dict[str, ImportFault] = {}  # import job id -> what to do to it
        self._import_accounts: dict[str, str] = {}
        self._lock = threading.Lock()
        self._ids = itertools.count(1)
        self._errors = _Errors()
        self.rng = rng or random.Random()
        self.sleep = sleep
        self.has_latency = False  # any rule delays: the server then answers reads off the event loop

    # -- managing rules -----------------------------------------------------------------------

    def add(self, account: str, rules: list[dict[str, Any]]) -> list[dict[str, Any]]:
        """Checks every rule first (all or none are added); returns the account's rules."""
        parsed = [self._parse(rule, n) for n, rule in enumerate(rules)]
        with self._lock:
            for rule in parsed:
                rule.id = next(self._ids)
            self._rules.setdefault(account, []).extend(parsed)
            self._update_flags()
            return [r.view() for r in self._rules[account]]

    def list(self, account: str) -> list[dict[str, Any]]:
        with self._lock:
            return [r.view() for r in self._rules.get(account, [])]

    def clear(self, account: str | None = None) -> None:
        """Drops the account's rules (all accounts' when None) and releases their stalled imports."""
        with self._lock:
            if account is None:
                self._rules.clear()
            else:
                self._rules.pop(account, None)
            for job_id, fault in list(self._imports.items()):
                if account is None or self._import_accounts.get(job_id) == account:
                    fault.released.set()
                    del self._imports[job_id]
                    self._import_accounts.pop(job_id, None)
            self._update_flags()

    def _update_flags(self) -> None:
        self.has_latency = any(r.latency_ms for rules in self._rules.values() for r in rules)

    def _parse(self, raw: Any, n: int) -> FaultRule:
        where = f"rules[{n}]"
        if not isinstance(raw, dict):
            raise ValidationException(f"{where} must be an object")
        unknown = sorted(set(raw) - _RULE_FIELDS)
        if unknown:
            raise ValidationException(f"{where} has unknown fields {unknown}; a rule has {sorted(_RULE_FIELDS)}")
        operation = raw.get("operation")
        if operation != "*" and operation not in self._errors.by_operation:
            raise ValidationException(
                f"{where}.operation must be an operation of the qconnect API or '*', not {operation!r}"
            )
        rule = FaultRule(0, operation)
        error = raw.get("error")
        if error is not None:
            if not isinstance(error, str) or self._errors.status(operation, error) is None:
                listed = sorted(
                    set(self._errors.by_operation.get(operation, self._errors.any_operation)) | set(COMMON_ERRORS)
                )
                raise ValidationException(
                    f"{where}.error {error!r} is not an error {operation} can return: one of {listed}"
                )
            rule.error = error
        probability = raw.get("probability", 1.0)
        if isinstance(probability, bool) or not isinstance(probability, int | float) or not 0 <= probability <= 1:
            raise ValidationException(f"{where}.probability must be a number from 0 to 1")
        rule.probability = float(probability)
        count = raw.get("count")
        if count is not None and (isinstance(count, bool) or not isinstance(count, int) or count < 1):
            raise ValidationException(f"{where}.count must be a whole number of at least 1")
        rule.count = count
        latency = raw.get("latencyMs", 0)
        if isinstance(latency, bool) or not isinstance(latency, int) or not 0 <= latency <= 600_000:
            raise ValidationException(f"{where}.latencyMs must be a whole number from 0 to 600000")
        rule.latency_ms = latency
        fail_at = raw.get("importFailAtRow")
        stall = raw.get("importStall", False)
        if fail_at is not None or stall:
            if operation != _IMPORT_OPERATION:
                raise ValidationException(
                    f"{where}: importFailAtRow and importStall need operation {_IMPORT_OPERATION!r}"
                )
            if error is not None:
                raise ValidationException(f"{where}: a rule that fails the call cannot also mark the job it starts")
        if fail_at is not None and (isinstance(fail_at, bool) or not isinstance(fail_at, int) or fail_at < 1):
            raise ValidationException(f"{where}.importFailAtRow must be a data row number of at least 1")
        rule.import_fail_at_row = fail_at
        if not (stall is True or stall is False or (isinstance(stall, int | float) and stall > 0)):
            raise ValidationException(f"{where}.importStall must be true or a number of seconds")
        rule.import_stall = stall
        if error is None and not latency and fail_at is None and not stall:
            raise ValidationException(f"{where} does nothing: give error, latencyMs, importFailAtRow or importStall")
        return rule

    # -- applying rules -----------------------------------------------------------------------

    def _fire(self, account: str, operation: str) -> FaultRule | None:
        rules = self._rules.get(account)
        if not rules:
            return None
        with self._lock:
            for rule in rules:
                if rule.operation not in ("*", operation):
                    continue
                if rule.operation == "*" and rule.error and self._errors.status(operation, rule.error) is None:
                    continue  # '*' only raises what each operation can return
                if rule.probability < 1 and self.rng.random() >= rule.probability:
                    continue
                if rule.count is not None:
                    rule.count -= 1
                    if rule.count == 0:
                        rules.remove(rule)
                        self._update_flags()
                return rule
        return None

    def call(self, account: str, operation: str, run: Callable[[], dict[str, Any] | None]) -> dict[str, Any] | None:
        """Runs the operation (`run`) under the account's rules."""
        rule = self._fire(account, operation)
        if rule is None:
            return run()
        if rule.latency_ms:
            self.sleep(rule.latency_ms / 1000)
        if rule.error:
            raise self._error(operation, rule)
        output = run()
        if rule.import_fail_at_row is not None or rule.import_stall:
            job_id = ((output or {}).get("importJob") or {}).get("importJobId")
            if job_id:
                with self._lock:
                    self._imports[job_id] = ImportFault(rule.import_fail_at_row, rule.import_stall)
                    self._import_accounts[job_id] = account
        return output

    def _error(self, operation: str, rule: FaultRule) -> ServiceError:
        assert rule.error is not None
        if rule.error == "ThrottlingException":
            return ThrottlingException("Rate exceeded")
        error = ServiceError(f"Injected fault: {rule.error} for {operation} (qconnect-local fault rule {rule.id})")
        error.code = rule.error
        error.status = self._errors.status(operation, rule.error) or 500
        error.exact_status = True  # type: ignore[attr-defined]  # the model's status, or a common error's
        return error

    # -- import jobs --------------------------------------------------------------------------

    def import_fault(self, job_id: str) -> ImportFault | None:
        with self._lock:
            return self._imports.get(job_id)


def prepare_import(processor: Any, registry: FaultRegistry) -> int | None:
    """Called by a job's processor before it imports: stalls the job if told to, and returns
    the data row to fail (None for none)."""
    fault = registry.import_fault(processor.job_id)
    if fault is None:
        return None
    if fault.stall:
        _stall(processor, fault)
    return fault.fail_at_row


def _stall(processor: Any, fault: ImportFault) -> None:
    """Holds the job in START_IN_PROGRESS, keeping its lease, until released or the time is up."""
    lease = processor.settings.imports.lease_seconds
    deadline = None if fault.stall is True else time.monotonic() + float(fault.stall)
    step = max(0.05, min(1.0, lease / 3))
    while not fault.released.is_set():
        processor.check_stop()
        if deadline is not None and time.monotonic() >= deadline:
            return
        processor.renew_lease()
        fault.released.wait(step if deadline is None else min(step, max(0.0, deadline - time.monotonic())))


def failed_row_message(row: int) -> str:
    return f"InternalServerException: row {row} failed: injected by a qconnect-local fault rule (importFailAtRow)"


class Faults:
    """The handle tests get (`mock_qconnect().faults`, the `qconnect_faults` fixture): the rules of
    one account by default (the server's default account, which unsigned-checked clients act in)."""

    def __init__(self, registry: FaultRegistry, account: str) -> None:
        self.registry = registry
        self.account = account

    def add(self, *rules: dict[str, Any], account: str | None = None) -> list[dict[str, Any]]:
        return self.registry.add(account or self.account, list(rules))

    def list(self, account: str | None = None) -> list[dict[str, Any]]:
        return self.registry.list(account or self.account)

    def clear(self, account: str | None = None) -> None:
        self.registry.clear(account or self.account)

    def clear_all(self) -> None:
        self.registry.clear()
