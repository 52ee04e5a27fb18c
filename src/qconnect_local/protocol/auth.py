"""Reads who is calling from the SigV4 `Authorization` header (signatures are not verified).

The region comes from the credential scope, so a client's `region_name` is honoured. An access key
id of exactly 12 digits names the account to act in (LocalStack's convention), so tests can
isolate accounts; any other key acts in the server's default account.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

_CREDENTIAL_RE = re.compile(r"Credential=([^/,\s]+)/\d{8}/([a-z0-9-]+)/")


@dataclass(frozen=True)
class Caller:
    account_id: str
    region: str

    @property
    def arn(self) -> str:
        return f"arn:aws:iam::{self.account_id}:root"


def caller_from_headers(authorization: str | None, default_account: str, default_region: str) -> Caller:
    if authorization:
        m = _CREDENTIAL_RE.search(authorization)
        if m:
            access_key, region = m.group(1), m.group(2)
            account = access_key if (len(access_key) == 12 and access_key.isdigit()) else default_account
            return Caller(account, region)
    return Caller(default_account, default_region)
