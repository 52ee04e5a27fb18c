"""The unhappy paths of the real service, on demand: signature checking, throttling, fault injection.

All three are off by default. The App holds one `Gate` (`app.gate`, in gate.py) that the request path calls
at three points: `authenticate` before routing (who is calling: checked when signatures are
verified, read from the Authorization header otherwise), `admit` once the operation is known
(throttling), and `call` around the operation (fault rules). Internal endpoints:

| `POST /_qconnect/faults[?account=ID]` | add rules (a JSON list, or `{"rules": [...]}`) |
| `GET /_qconnect/faults[?account=ID]` | the account's rules |
| `DELETE /_qconnect/faults[?account=ID]` | clear them (and release stalled imports) |
"""

from __future__ import annotations

import argparse
from dataclasses import dataclass, field
from typing import Any


@dataclass
class UnhappySettings:
    verify_signatures: bool = False
    credentials_file: str | None = None
    throttle: bool = False  # every operation at its documented rate
    throttle_rates: dict[str, float] = field(default_factory=dict)  # OPERATION -> TPS overrides


def add_arguments(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group("unhappy paths (signatures, throttling; see docs/unhappy-paths.md)")
    group.add_argument(
        "--verify-signatures",
        action="store_true",
        help="refuse API calls without a valid AWS Signature V4 by a key of --credentials-file",
    )
    group.add_argument(
        "--credentials-file",
        metavar="FILE",
        default=None,
        help="keys for --verify-signatures: 'ACCESS_KEY_ID SECRET_ACCESS_KEY [ACCOUNT_ID [PRINCIPAL_ARN]] "
        "[token=SESSION_TOKEN]' a line",
    )
    group.add_argument(
        "--throttle",
        action="store_true",
        help="throttle each account's calls at the documented rates (10 TPS per API; 20 for "
        "SearchQuickResponses and DeleteQuickResponse)",
    )
    group.add_argument(
        "--throttle-rate",
        action="append",
        default=[],
        metavar="OPERATION=TPS",
        help="throttle OPERATION at TPS per account and region (repeatable; 0 throttles every call)",
    )


def apply_arguments(args: argparse.Namespace, settings: Any) -> None:
    unhappy = settings.unhappy
    unhappy.verify_signatures = bool(getattr(args, "verify_signatures", False))
    unhappy.credentials_file = getattr(args, "credentials_file", None)
    unhappy.throttle = bool(getattr(args, "throttle", False))
    from qconnect_local.unhappy.credentials import CredentialsFileError, load_credentials
    from qconnect_local.unhappy.throttling import parse_rate

    rates = getattr(args, "throttle_rate", None) or []
    if isinstance(rates, str):  # one value from the environment: comma-separated
        rates = [r for r in rates.split(",") if r.strip()]
    try:
        unhappy.throttle_rates = dict(parse_rate(r.strip()) for r in rates)
    except ValueError as exc:
        raise SystemExit(f"qconnect-local: --throttle-rate: {exc}") from None
    if unhappy.verify_signatures and not unhappy.credentials_file:
        raise SystemExit("qconnect-local: --verify-signatures needs --credentials-file FILE")
    if unhappy.credentials_file:
        try:
            load_credentials(unhappy.credentials_file, settings.account_id)
        except CredentialsFileError as exc:
            raise SystemExit(f"qconnect-local: {exc}") from None
