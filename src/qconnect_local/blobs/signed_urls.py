"""Presigned URLs for the upload and download endpoints, in the manner of S3's.

A URL carries its expiry, the names of the headers it was signed with, and an HMAC-SHA256 over
the method, the host *with its port*, the path, the expiry and those headers' values:

    {endpoint}{path}?X-Qc-Expires=1700003600&X-Qc-SignedHeaders=content-type&X-Qc-Signature=<hex>

As with S3, the header values are not in the URL: the client must send them (they are what
StartContentUpload returns in `headersToInclude`), and a request that leaves one out or changes
it no longer matches the signature. The key is `Settings.secret_key()`, kept in the data dir, so
URLs stay valid across restarts.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Mapping
from dataclasses import dataclass
from urllib.parse import urlencode, urlsplit

EXPIRES = "X-Qc-Expires"
SIGNED_HEADERS = "X-Qc-SignedHeaders"
SIGNATURE = "X-Qc-Signature"


_MISMATCH = (
    "The request signature we calculated does not match the signature you provided. Check your key and signing method."
)


@dataclass
class SignatureProblem(Exception):
    """Why a presigned request is refused, in S3's words (code, message, HTTP status)."""

    code: str
    message: str
    status: int = 403


class UrlSigner:
    def __init__(self, key: bytes) -> None:
        self._key = key

    def _signature(self, method: str, host: str, path: str, expires: str, headers: Mapping[str, str]) -> str:
        lines = [method.upper(), host.lower(), path, expires]
        lines += [f"{name}:{headers[name].strip()}" for name in sorted(headers)]
        return hmac.new(self._key, "\n".join(lines).encode("utf-8"), hashlib.sha256).hexdigest()

    def sign(
        self, method: str, endpoint: str, path: str, expires: int, headers: Mapping[str, str] | None = None
    ) -> str:
        """The full URL: `endpoint` is scheme://host[:port] as the client reaches the server."""
        headers = {k.lower(): v for k, v in (headers or {}).items()}
        host = urlsplit(endpoint).netloc
        query = {EXPIRES: str(expires)}
        if headers:
            query[SIGNED_HEADERS] = ";".join(sorted(headers))
        query[SIGNATURE] = self._signature(method, host, path, str(expires), headers)
        return f"{endpoint.rstrip('/')}{path}?{urlencode(query)}"

    def verify(
        self,
        method: str,
        host: str,
        path: str,
        query: Mapping[str, list[str]],
        headers: Mapping[str, str],
        now: float,
    ) -> None:
        """Raises SignatureProblem unless the request is the one the URL was signed for."""
        expires = _one(query, EXPIRES)
        signature = _one(query, SIGNATURE)
        if expires is None or signature is None:
            raise SignatureProblem(
                "AccessDenied",
                "Query-string authentication requires the X-Qc-Signature and X-Qc-Expires parameters",
            )
        if not (signature.isascii() and expires.isascii()):  # compare_digest refuses non-ASCII text
            raise SignatureProblem("SignatureDoesNotMatch", _MISMATCH)
        names = [n for n in (_one(query, SIGNED_HEADERS) or "").split(";") if n]
        sent = {name: headers.get(name.lower(), "") for name in names}
        expected = self._signature(method, host, path, expires, sent)
        if not hmac.compare_digest(expected, signature):
            raise SignatureProblem("SignatureDoesNotMatch", _MISMATCH)
        missing = [name for name in names if name.lower() not in headers]
        if missing:  # only reachable when a header was signed with an empty value
            raise SignatureProblem(
                "SignatureDoesNotMatch", f"The request is missing the signed header(s): {', '.join(missing)}"
            )
        if not expires.isdigit() or int(expires) < now:
            raise SignatureProblem("AccessDenied", "Request has expired")


def _one(query: Mapping[str, list[str]], name: str) -> str | None:
    values = query.get(name)
    return values[-1] if values else None
