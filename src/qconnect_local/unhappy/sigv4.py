"""Checks the AWS Signature Version 4 of an API request, as the service's front door does.

The signature is recomputed with botocore's own signer (`SigV4Auth` for the `Authorization`
header form, `SigV4QueryAuth` for the presigned query-string form) over the request as received:
the same method, raw path, query, the headers the client says it signed, and the body. Nothing
here does crypto of its own. Errors carry AWS's codes, statuses and wording (see
docs/unhappy-paths.md for the few messages AWS does not document and we had to word).
"""

from __future__ import annotations

import datetime as dt
import functools
import hashlib
import hmac
import re
import time
from collections.abc import Callable
from dataclasses import dataclass
from email.utils import parsedate_to_datetime
from typing import Any
from urllib.parse import unquote

from botocore.auth import UNSIGNED_PAYLOAD, SigV4Auth, SigV4QueryAuth
from botocore.credentials import Credentials

from qconnect_local.errors import ServiceError
from qconnect_local.unhappy.credentials import Principal

SIGNING_NAME = "wisdom"
ALGORITHM = "AWS4-HMAC-SHA256"
MAX_SKEW_SECONDS = 300  # AWS refuses a request signed more than 5 minutes away from its clock
AMZ_DATE = "%Y%m%dT%H%M%SZ"

MISMATCH = (
    "The request signature we calculated does not match the signature you provided. Check your AWS "
    "Secret Access Key and signing method. Consult the service documentation for details."
)
BAD_TOKEN = "The security token included in the request is invalid."


# The Authorization header as the SDKs write it; anything else goes through the general parse.
_USUAL_HEADER = re.compile(r"AWS4-HMAC-SHA256 Credential=([^,\s]+), ?SignedHeaders=([^,\s]+), ?Signature=([^,\s]+)")


class MissingAuthenticationTokenException(ServiceError):
    code = "MissingAuthenticationTokenException"
    status = 403


class IncompleteSignatureException(ServiceError):
    code = "IncompleteSignatureException"
    status = 403


class UnrecognizedClientException(ServiceError):
    code = "UnrecognizedClientException"
    status = 403


class InvalidSignatureException(ServiceError):
    code = "InvalidSignatureException"
    status = 403


@dataclass(frozen=True)
class VerifiedCaller:
    account_id: str
    region: str
    arn: str


@dataclass(frozen=True)
class _Signed:
    """What the client claims: parsed from the Authorization header or the query string."""

    key_id: str
    date: str
    region: str
    service: str
    terminator: str
    signed_headers: list[str]
    signature: str
    timestamp: str
    expires: int | None  # query form only
    token: str | None
    query: list[tuple[str, str]]  # decoded, without X-Amz-Signature


class _SignedHeaders(dict[str, str]):
    """The headers to sign, in the mapping shape botocore's canonical_headers reads."""

    def get_all(self, name: str) -> list[str]:
        return [self[name]]


@dataclass
class _ReceivedRequest:
    """The request as botocore's signer reads it (method, url, headers, params, body, context);
    lighter than an AWSRequest, which would parse every header into an email.message."""

    method: str
    url: str
    headers: dict[str, str]
    params: list[tuple[str, str]]
    body: bytes
    context: dict[str, Any]


@functools.lru_cache(maxsize=4096)
def _derived(key: bytes, msg: str) -> bytes:
    """One step of the signing-key derivation (botocore's `_sign`), memoized: the key of a day,
    region and service is the same for every request, as SDKs that cache it know."""
    return SigV4Auth._sign(None, key, msg)  # `_sign` does not use self


class _ReceivedHeaderAuth(SigV4Auth):
    """botocore's signer, limited to the headers the client listed in SignedHeaders."""

    def __init__(self, credentials: Credentials, region: str, signed: _SignedHeaders) -> None:
        super().__init__(credentials, SIGNING_NAME, region)
        self._signed = signed

    def headers_to_sign(self, request: Any) -> Any:
        return self._signed

    def _sign(self, key: bytes, msg: str, hex: bool = False) -> Any:
        return super()._sign(key, msg, hex=True) if hex else _derived(key, msg)


class _ReceivedQueryAuth(SigV4QueryAuth):
    def __init__(self, credentials: Credentials, region: str, signed: _SignedHeaders) -> None:
        super().__init__(credentials, SIGNING_NAME, region)
        self._signed = signed

    def headers_to_sign(self, request: Any) -> Any:
        return self._signed

    def _sign(self, key: bytes, msg: str, hex: bool = False) -> Any:
        return super()._sign(key, msg, hex=True) if hex else _derived(key, msg)


def _decoded_query(query_string: str) -> list[tuple[str, str]]:
    pairs = []
    for part in query_string.split("&") if query_string else ():
        key, _, value = part.partition("=")
        pairs.append((unquote(key), unquote(value)))
    return pairs


class SignatureVerifier:
    def __init__(
        self,
        keys: dict[str, Principal],
        clock: Callable[[], float] = time.time,
        max_skew: int = MAX_SKEW_SECONDS,
    ) -> None:
        self.keys = keys
        self.clock = clock
        self.max_skew = max_skew
        self._credentials = {
            key_id: Credentials(p.access_key_id, p.secret_access_key, p.session_token) for key_id, p in keys.items()
        }

    def principal_of(self, authorization: str | None) -> Principal | None:
        """The key's principal named by an Authorization header, unchecked (internal endpoints)."""
        if not authorization or "Credential=" not in authorization:
            return None
        key_id = authorization.split("Credential=", 1)[1].split("/", 1)[0]
        return self.keys.get(key_id)

    def verify(
        self, method: str, raw_path: str, query_string: str, headers: dict[str, str], body: bytes
    ) -> VerifiedCaller:
        query = _decoded_query(query_string)
        authorization = headers.get("authorization")
        if authorization is not None:
            signed = self._from_header(authorization, headers, query)
        elif any(k == "X-Amz-Algorithm" for k, _ in query):
            signed = self._from_query(query)
        else:
            raise MissingAuthenticationTokenException("Missing Authentication Token")
        self._check_scope(signed)
        self._check_clock(signed)
        principal = self.keys.get(signed.key_id)
        if principal is None or signed.token != principal.session_token:
            raise UnrecognizedClientException(BAD_TOKEN)
        self._check_signature(signed, principal, method, raw_path, headers, body)
        return VerifiedCaller(principal.account_id, signed.region, principal.arn)

    # -- parsing ------------------------------------------------------------------------------

    def _from_header(self, authorization: str, headers: dict[str, str], query: list[tuple[str, str]]) -> _Signed:
        timestamp = headers.get("x-amz-date")
        usual = _USUAL_HEADER.fullmatch(authorization)
        if usual is not None and timestamp:  # what SDKs send: no need for the general parse
            credential, signed_headers, signature = usual.groups()
            return self._signed(
                credential, signed_headers, signature, timestamp, None, headers.get("x-amz-security-token"), query
            )
        algorithm, _, rest = authorization.strip().partition(" ")
        params: dict[str, str] = {}
        if algorithm == ALGORITHM:
            for part in rest.split(","):
                part = part.strip()
                if not part:
                    continue
                key, eq, value = part.partition("=")
                if not eq:
                    raise IncompleteSignatureException(
                        f"'{part}' not a valid key=value pair (missing equal-sign) in Authorization header: "
                        f"'{authorization}'."
                    )
                params[key] = value
        missing = [
            f"Authorization header requires '{name}' parameter."
            for name in ("Credential", "Signature", "SignedHeaders")
            if not params.get(name)
        ]
        timestamp = headers.get("x-amz-date") or _amz_date_from_http_date(headers.get("date"))
        if not headers.get("x-amz-date") and not headers.get("date"):
            missing.append("Authorization header requires existence of either a 'X-Amz-Date' or a 'Date' header.")
        if missing:
            raise IncompleteSignatureException(" ".join(missing) + f" Authorization={authorization}")
        return self._signed(
            params["Credential"],
            params["SignedHeaders"],
            params["Signature"],
            timestamp or "",
            None,
            headers.get("x-amz-security-token"),
            query,
        )

    def _from_query(self, query: list[tuple[str, str]]) -> _Signed:
        values = dict(query)
        required = ("X-Amz-Algorithm", "X-Amz-Credential", "X-Amz-Signature", "X-Amz-Date", "X-Amz-SignedHeaders")
        absent = [name for name in required if not values.get(name)]
        if absent or values["X-Amz-Algorithm"] != ALGORITHM:
            needed = ", ".join(f"'{name}'" for name in (absent or ["X-Amz-Algorithm"]))
            raise IncompleteSignatureException(
                f"AWS query-string parameters must include {needed}. Re-examine the query-string parameters."
            )
        expires = values.get("X-Amz-Expires")
        if expires is not None and not expires.isdigit():
            raise IncompleteSignatureException(
                f"X-Amz-Expires must be a whole number of seconds, not '{expires}'. "
                "Re-examine the query-string parameters."
            )
        return self._signed(
            values["X-Amz-Credential"],
            values["X-Amz-SignedHeaders"],
            values["X-Amz-Signature"],
            values["X-Amz-Date"],
            int(expires) if expires is not None else None,
            values.get("X-Amz-Security-Token"),
            [(k, v) for k, v in query if k != "X-Amz-Signature"],
        )

    @staticmethod
    def _signed(
        credential: str,
        signed_headers: str,
        signature: str,
        timestamp: str,
        expires: int | None,
        token: str | None,
        query: list[tuple[str, str]],
    ) -> _Signed:
        parts = credential.split("/")
        if len(parts) != 5:
            raise IncompleteSignatureException(
                f"Credential '{credential}' is malformed: it must be ACCESS_KEY_ID/YYYYMMDD/REGION/SERVICE/aws4_request."
            )
        key_id, date, region, service, terminator = parts
        return _Signed(
            key_id,
            date,
            region,
            service,
            terminator,
            [h.strip().lower() for h in signed_headers.split(";") if h.strip()],
            signature,
            timestamp,
            expires,
            token,
            query,
        )

    # -- checks -------------------------------------------------------------------------------

    @staticmethod
    def _check_scope(signed: _Signed) -> None:
        if signed.terminator != "aws4_request":
            raise InvalidSignatureException(
                f"Credential should be scoped with a valid terminator: 'aws4_request', not '{signed.terminator}'. "
            )
        if signed.service != SIGNING_NAME:
            raise InvalidSignatureException(f"Credential should be scoped to correct service: '{SIGNING_NAME}'. ")
        if not signed.region:
            raise InvalidSignatureException("Credential should be scoped to a valid region. ")
        if "host" not in signed.signed_headers:
            raise IncompleteSignatureException(
                "'Host' or ':authority' must be a 'SignedHeader' in the AWS Authorization."
            )
        if _parse_amz_date(signed.timestamp) is None:
            raise IncompleteSignatureException(
                f"Date must be in ISO-8601 'basic format'. Got '{signed.timestamp}'. See http://en.wikipedia.org/wiki/ISO_8601"
            )
        if signed.date != signed.timestamp[:8]:
            raise InvalidSignatureException(
                "Date in Credential scope does not match YYYYMMDD from ISO-8601 version of date from HTTP: "
                f"'{signed.date}' != '{signed.timestamp[:8]}', from '{signed.timestamp}'."
            )

    def _check_clock(self, signed: _Signed) -> None:
        signed_at = _parse_amz_date(signed.timestamp)
        assert signed_at is not None  # checked by _check_scope
        at, now = signed_at.timestamp(), self.clock()
        if signed.expires is not None:  # a presigned URL lives X-Amz-Expires seconds
            if at + signed.expires < now:
                raise InvalidSignatureException(
                    f"Signature expired: {signed.timestamp} is now earlier than {_fmt(now - signed.expires)} "
                    f"({_fmt(now)} - {signed.expires} sec.)"
                )
        elif at < now - self.max_skew:
            raise InvalidSignatureException(
                f"Signature expired: {signed.timestamp} is now earlier than {_fmt(now - self.max_skew)} "
                f"({_fmt(now)} - {self.max_skew // 60} min.)"
            )
        if at > now + self.max_skew:
            raise InvalidSignatureException(
                f"Signature not yet current: {signed.timestamp} is still later than {_fmt(now + self.max_skew)} "
                f"({_fmt(now)} + {self.max_skew // 60} min.)"
            )

    def _check_signature(
        self,
        signed: _Signed,
        principal: Principal,
        method: str,
        raw_path: str,
        headers: dict[str, str],
        body: bytes,
    ) -> None:
        declared = headers.get("x-amz-content-sha256")
        if declared is not None and declared != UNSIGNED_PAYLOAD and declared != hashlib.sha256(body).hexdigest():
            raise InvalidSignatureException(
                "The provided 'x-amz-content-sha256' header does not match what was computed."
            )
        credentials = self._credentials[principal.access_key_id]
        host = headers.get("host", "localhost")
        to_sign = _SignedHeaders((name, headers[name]) for name in signed.signed_headers if name in headers)
        received: dict[str, str] = to_sign
        if declared is not None:  # botocore then takes the payload hash from the header, as AWS does
            received = {**to_sign, "X-Amz-Content-SHA256": declared}
        request = _ReceivedRequest(
            method,
            f"http://{host}{raw_path}",
            received,
            signed.query,  # the canonical query string is built from the decoded pairs
            body,
            {"timestamp": signed.timestamp},
        )
        auth_class = (
            _ReceivedHeaderAuth if signed.expires is None and "authorization" in headers else _ReceivedQueryAuth
        )
        auth = auth_class(credentials, signed.region, to_sign)
        canonical = auth.canonical_request(request)
        string_to_sign = auth.string_to_sign(request, canonical)
        expected = auth.signature(string_to_sign, request)
        if not hmac.compare_digest(expected, signed.signature):
            raise InvalidSignatureException(
                f"{MISMATCH}\n\nThe Canonical String for this request should have been\n'{canonical}'\n\n"
                f"The String-to-Sign should have been\n'{string_to_sign}'\n"
            )


@functools.lru_cache(maxsize=256)  # a second's requests share their timestamp
def _parse_amz_date(value: str) -> dt.datetime | None:
    """`YYYYMMDDTHHMMSSZ` (ISO 8601 basic format, UTC), or None."""
    if len(value) != 16 or value[8] != "T" or value[15] != "Z" or not (value[:8] + value[9:15]).isdigit():
        return None
    try:
        return dt.datetime(
            int(value[0:4]),
            int(value[4:6]),
            int(value[6:8]),
            int(value[9:11]),
            int(value[11:13]),
            int(value[13:15]),
            tzinfo=dt.UTC,
        )
    except ValueError:
        return None


def _fmt(epoch: float) -> str:
    return dt.datetime.fromtimestamp(epoch, dt.UTC).strftime(AMZ_DATE)


def _amz_date_from_http_date(value: str | None) -> str | None:
    if not value:
        return None
    try:
        return _fmt(parsedate_to_datetime(value).timestamp())
    except (TypeError, ValueError):
        return value  # reported as a malformed date by the scope check
