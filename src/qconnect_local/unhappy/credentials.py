"""The credentials file of `serve --verify-signatures`: which keys exist, and whom they name.

One key a line: `ACCESS_KEY_ID SECRET_ACCESS_KEY [ACCOUNT_ID [PRINCIPAL_ARN]] [token=SESSION_TOKEN]`.
Blank lines and lines starting with `#` are ignored. The account defaults to the server's
`--account-id`, the principal to that account's root.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

_ACCOUNT_RE = re.compile(r"\d{12}")


class CredentialsFileError(ValueError):
    """The file cannot be used (the message names the line)."""


@dataclass(frozen=True)
class Principal:
    access_key_id: str
    secret_access_key: str
    account_id: str
    arn: str
    session_token: str | None = None


def parse_credentials(text: str, default_account: str, source: str = "credentials file") -> dict[str, Principal]:
    keys: dict[str, Principal] = {}
    for number, raw in enumerate(text.splitlines(), start=1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        fields = line.split()
        token = None
        positional = []
        for field in fields:
            if field.startswith("token="):
                token = field[len("token=") :] or None
            else:
                positional.append(field)
        where = f"{source}, line {number}"
        if not 2 <= len(positional) <= 4:
            raise CredentialsFileError(
                f"{where}: expected ACCESS_KEY_ID SECRET_ACCESS_KEY [ACCOUNT_ID [PRINCIPAL_ARN]] [token=SESSION_TOKEN]"
            )
        key_id, secret = positional[0], positional[1]
        account = positional[2] if len(positional) > 2 else default_account
        if not _ACCOUNT_RE.fullmatch(account):
            raise CredentialsFileError(f"{where}: the account id must be 12 digits, not {account!r}")
        arn = positional[3] if len(positional) > 3 else f"arn:aws:iam::{account}:root"
        if not arn.startswith("arn:"):
            raise CredentialsFileError(f"{where}: the principal must be an ARN, not {arn!r}")
        if key_id in keys:
            raise CredentialsFileError(f"{where}: access key id {key_id} is listed twice")
        keys[key_id] = Principal(key_id, secret, account, arn, token)
    return keys


def load_credentials(path: str | Path, default_account: str) -> dict[str, Principal]:
    try:
        text = Path(path).read_text(encoding="utf-8")
    except OSError as exc:
        raise CredentialsFileError(f"cannot read the credentials file {path}: {exc.strerror or exc}") from exc
    return parse_credentials(text, default_account, str(path))
