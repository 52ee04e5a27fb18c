"""The `Gate` the request path goes through, and the faults endpoints (see the package docstring)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import orjson

from qconnect_local.errors import SerializationException, ValidationException
from qconnect_local.protocol.auth import caller_from_headers
from qconnect_local.unhappy import UnhappySettings
from qconnect_local.unhappy.credentials import CredentialsFileError, load_credentials
from qconnect_local.unhappy.faults import FaultRegistry
from qconnect_local.unhappy.sigv4 import SignatureVerifier, VerifiedCaller
from qconnect_local.unhappy.throttling import Throttle


class Gate:
    def __init__(self, settings: Any) -> None:
        self.settings = settings
        unhappy: UnhappySettings = settings.unhappy
        self.verifier: SignatureVerifier | None = None
        if unhappy.verify_signatures:
            if not unhappy.credentials_file:
                raise ValueError("verify_signatures needs a credentials file")
            try:
                keys = load_credentials(unhappy.credentials_file, settings.account_id)
            except CredentialsFileError as exc:
                raise ValueError(str(exc)) from exc
            self.verifier = SignatureVerifier(keys)
        self.throttle: Throttle | None = None
        if unhappy.throttle or unhappy.throttle_rates:
            self.throttle = Throttle(unhappy.throttle, unhappy.throttle_rates)
        self.faults = FaultRegistry()

    @property
    def delays(self) -> bool:
        """True while a fault rule may delay a call (such calls must not run on the event loop)."""
        return self.faults.has_latency

    def authenticate(
        self, method: str, path: str, query_string: str, headers: dict[str, str], body: bytes
    ) -> VerifiedCaller:
        if self.verifier is not None:
            return self.verifier.verify(method, path, query_string, headers, body)
        caller = caller_from_headers(headers.get("authorization"), self.settings.account_id, self.settings.region)
        return VerifiedCaller(caller.account_id, caller.region, caller.arn)

    def internal_caller(self, scope: dict[str, Any], headers: dict[str, str], body: bytes = b"") -> VerifiedCaller:
        """Whose data an internal endpoint of one account (the console's, the routing-profile
        directory) reads or changes: with signature checking on, the request is checked as an API
        call would be; otherwise the Authorization header's scope names it, as for the API."""
        raw = scope.get("raw_path") or scope["path"].encode()
        path = raw.decode("latin-1").split("?", 1)[0]
        query = scope.get("query_string", b"").decode("latin-1")
        return self.authenticate(scope["method"], path, query, headers, body)

    def admit(self, caller: VerifiedCaller, operation: str) -> None:
        if self.throttle is not None:
            self.throttle.admit(caller.account_id, caller.region, operation)

    def call(self, account: str, operation: str, run: Callable[[], Any]) -> Any:
        return self.faults.call(account, operation, run)

    def reset(self) -> None:
        self.faults.clear()
        if self.throttle is not None:
            self.throttle.reset()

    def account_of_request(self, query: dict[str, list[str]], headers: dict[str, str]) -> str:
        """Whose faults an internal call means: ?account=, else the signing key's, else the default."""
        if query.get("account"):
            account = query["account"][0]
            if not (len(account) == 12 and account.isdigit()):
                raise ValidationException(f"account must be a 12-digit account id, not {account!r}")
            return account
        if self.verifier is not None:
            principal = self.verifier.principal_of(headers.get("authorization"))
            if principal is not None:
                return principal.account_id
        return caller_from_headers(
            headers.get("authorization"), self.settings.account_id, self.settings.region
        ).account_id


def install(app: Any) -> Gate:
    """Creates the App's gate, registers the faults endpoints and hooks reset."""
    gate = Gate(app.settings)
    app.services.faults = gate.faults  # import jobs read their fault rules there
    app.reset_hooks.append(gate.reset)
    app.add_internal_route("POST", r"/_qconnect/faults", _post_faults)
    app.add_internal_route("GET", r"/_qconnect/faults", _get_faults)
    app.add_internal_route("DELETE", r"/_qconnect/faults", _delete_faults)
    return gate


async def _post_faults(req: Any) -> None:
    from qconnect_local.asgi import read_body, send_json

    gate: Gate = req.app.gate
    account = gate.account_of_request(req.query, req.headers)
    body = await read_body(req.receive, req.headers, req.app.settings.max_request_bytes)
    try:
        document = orjson.loads(body or b"null")
    except orjson.JSONDecodeError as exc:
        raise SerializationException(f"The body is not valid JSON: {exc}") from None
    rules = document.get("rules") if isinstance(document, dict) else document
    if not isinstance(rules, list):
        raise ValidationException('The body must be a list of fault rules, or {"rules": [...]}')
    await send_json(req.send, 200, {"account": account, "rules": gate.faults.add(account, rules)}, req.request_id)


async def _get_faults(req: Any) -> None:
    from qconnect_local.asgi import send_json

    gate: Gate = req.app.gate
    account = gate.account_of_request(req.query, req.headers)
    await send_json(req.send, 200, {"account": account, "rules": gate.faults.list(account)}, req.request_id)


async def _delete_faults(req: Any) -> None:
    from qconnect_local.asgi import send_json

    gate: Gate = req.app.gate
    account = gate.account_of_request(req.query, req.headers)
    gate.faults.clear(account)
    await send_json(req.send, 200, {"account": account, "rules": []}, req.request_id)
