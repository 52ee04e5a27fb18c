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
import time
from collections.abc import Callable
from dataclasses import dataclass
from email.utils import parsedate_to_datetime
from typing import Any, NamedTuple
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


_USUAL_PREFIX = ALGORITHM + " Credential="


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


class _Signed(NamedTuple):
    """What the client claims: parsed from the Authorization header or the query string."""

    key_id: str
    date: str
    region: str
    service: str
    terminator: str
    signed_headers: tuple[str, ...]
    signature: str
    timestamp: str
    expires: int | None  # query form only
    token: str | None
    query: list[tuple[str, str]]  # decoded, without X-Amz-Signature


class _SignedHeaders(dict[str, str]):
    """The headers to sign, in the mapping shape botocore's canonical_headers reads."""

    def get_all(self, name: str) -> list[str]:
        return [self[name]]


class _ReceivedRequest:
    """The request as botocore's signer reads it (method, url, headers, params, body, context),
    plus the headers the client listed; lighter than an AWSRequest, which parses every header."""

    __slots__ = ("method", "url", "headers", "params", "body", "context", "signed")

    def __init__(
        self,
        method: str,
        url: str,
        headers: dict[str, str],
        params: list[tuple[str, str]],
        body: bytes,
        timestamp: str,
        signed: _SignedHeaders,
    ) -> None:
        self.method = method
        self.url = url
        self.headers = headers
        self.params = params
        self.body = body
        self.context = {"timestamp": timestamp}
        self.signed = signed


class _KeptKeySigner:
    """botocore's signer over the headers the client listed, keeping the signing key of each day:
    botocore derives it (four HMACs) on every call, though it only changes with the date."""

    _keys: dict[str, bytes]
    _canonical: dict[tuple[tuple[str, str], ...], str]
    _region_name: str
    _service_name: str
    credentials: Credentials

    # botocore's canonical URI and SignedHeaders list, remembered: both depend on little that varies
    _normalize_url_path = functools.lru_cache(maxsize=4096)(SigV4Auth._normalize_url_path)
    _signed_names = functools.lru_cache(maxsize=256)(SigV4Auth.signed_headers)

    def headers_to_sign(self, request: Any) -> Any:
        return request.signed

    def signed_headers(self, headers_to_sign: Any) -> str:
        return self._signed_names(tuple(headers_to_sign))

    def canonical_headers(self, headers_to_sign: Any) -> str:
        """botocore's canonical headers, remembered by value: a client's requests within a second
        sign the same host and X-Amz-Date."""
        key = tuple(headers_to_sign.items())
        text = self._canonical.get(key)
        if text is None:
            text = SigV4Auth.canonical_headers(self, headers_to_sign)
            if len(self._canonical) >= 256:
                self._canonical.clear()
            self._canonical[key] = text
        return text

    def signature(self, string_to_sign: str, request: Any) -> str:
        return SigV4Auth._sign(self, self._signing_key(request.context["timestamp"][0:8]), string_to_sign, hex=True)

    def _signing_key(self, date: str) -> bytes:
        key = self._keys.get(date)
        if key is None:  # botocore's derivation, as SigV4Auth.signature writes it
            sign = functools.partial(SigV4Auth._sign, self)
            key = sign(f"AWS4{self.credentials.secret_key}".encode(), date)
            for part in (self._region_name, self._service_name, "aws4_request"):
                key = sign(key, part)
            if len(self._keys) >= 4:  # a day or two in use at a time
                self._keys.clear()
            self._keys[date] = key
        return key


class _ReceivedHeaderAuth(_KeptKeySigner, SigV4Auth):
    def __init__(self, credentials: Credentials, region: str) -> None:
        SigV4Auth.__init__(self, credentials, SIGNING_NAME, region)
        self._keys = {}
        self._canonical = {}


class _ReceivedQueryAuth(_KeptKeySigner, SigV4QueryAuth):
    def __init__(self, credentials: Credentials, region: str) -> None:
        SigV4QueryAuth.__init__(self, credentials, SIGNING_NAME, region)
        self._keys = {}
        self._canonical = {}


def _usual_parts(authorization: str) -> tuple[str, str, str] | None:
    """Credential, SignedHeaders and Signature of the header exactly as SDKs write it, else None
    (the general parse handles the rest). Its three spaces and two commas are the separators',
    so the fields hold neither."""
    if (
        authorization.count(" ") != 3
        or authorization.count(",") != 2
        or not authorization.startswith(_USUAL_PREFIX)
        or not authorization.isprintable()  # tabs and the like: the general parse strips them
    ):
        return None
    credential, _, rest = authorization[len(_USUAL_PREFIX) :].partition(", SignedHeaders=")
    names, _, signature = rest.partition(", Signature=")
    return (credential, names, signature) if credential and names and signature else None


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
        self._signers: dict[tuple[str, str, bool], tuple[_KeptKeySigner, VerifiedCaller]] = {}

    def principal_of(self, authorization: str | None) -> Principal | None:
        """The key's principal named by an Authorization header, unchecked (internal endpoints)."""
        if not authorization or "Credential=" not in authorization:
            return None
        key_id = authorization.split("Credential=", 1)[1].split("/", 1)[0]
        return self.keys.get(key_id)

    def verify(
        self, method: str, raw_path: str, query_string: str, headers: dict[str, str], body: bytes
    ) -> VerifiedCaller:
        query = _decoded_query(query_string) if query_string else []
        authorization = headers.get("authorization")
        if authorization is not None:
            signed = self._from_header(authorization, headers, query)
        elif any(k == "X-Amz-Algorithm" for k, _ in query):
            signed = self._from_query(query)
        else:
            raise MissingAuthenticationTokenException("Missing Authentication Token")
        self._check_clock(signed, self._check_scope(signed))
        principal = self.keys.get(signed.key_id)
        if principal is None or signed.token != principal.session_token:
            raise UnrecognizedClientException(BAD_TOKEN)
        signer, caller = self._signer(
            principal, signed.region, signed.expires is not None or "authorization" not in headers
        )
        self._check_signature(signed, signer, method, raw_path, headers, body)
        return caller

    def _signer(self, principal: Principal, region: str, query_form: bool) -> tuple[_KeptKeySigner, VerifiedCaller]:
        """botocore's signer for a key, region and form, and the caller it proves, kept between calls."""
        entry = self._signers.get((principal.access_key_id, region, query_form))
        if entry is None:
            credentials = self._credentials[principal.access_key_id]
            auth_class = _ReceivedQueryAuth if query_form else _ReceivedHeaderAuth
            entry = (auth_class(credentials, region), VerifiedCaller(principal.account_id, region, principal.arn))
            if len(self._signers) >= 1024:  # the region is the client's to choose
                self._signers.clear()
            self._signers[(principal.access_key_id, region, query_form)] = entry
        return entry

    # -- parsing ------------------------------------------------------------------------------

    def _from_header(self, authorization: str, headers: dict[str, str], query: list[tuple[str, str]]) -> _Signed:
        timestamp = headers.get("x-amz-date")
        usual = _usual_parts(authorization)
        if usual is not None and timestamp:  # what SDKs send: no need for the general parse
            credential, signed_headers, signature = usual
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
            _header_names(signed_headers),
            signature,
            timestamp,
            expires,
            token,
            query,
        )

    # -- checks -------------------------------------------------------------------------------

    @staticmethod
    def _check_scope(signed: _Signed) -> float:
        """Checks the credential scope; the moment the request was signed (epoch seconds)."""
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
        signed_at = _epoch_of(signed.timestamp)
        if signed_at is None:
            raise IncompleteSignatureException(
                f"Date must be in ISO-8601 'basic format'. Got '{signed.timestamp}'. See http://en.wikipedia.org/wiki/ISO_8601"
            )
        if signed.date != signed.timestamp[:8]:
            raise InvalidSignatureException(
                "Date in Credential scope does not match YYYYMMDD from ISO-8601 version of date from HTTP: "
                f"'{signed.date}' != '{signed.timestamp[:8]}', from '{signed.timestamp}'."
            )
        return signed_at

    def _check_clock(self, signed: _Signed, at: float) -> None:
        now = self.clock()
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

    @staticmethod
    def _check_signature(
        signed: _Signed,
        signer: _KeptKeySigner,
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
        to_sign = _SignedHeaders({name: headers[name] for name in signed.signed_headers if name in headers})
        received: dict[str, str] = to_sign
        if declared is not None:  # botocore then takes the payload hash from the header, as AWS does
            received = {**to_sign, "X-Amz-Content-SHA256": declared}
        url = f"http://{headers.get('host', 'localhost')}{raw_path}"
        # the canonical query string is built from the decoded pairs
        request = _ReceivedRequest(method, url, received, signed.query, body, signed.timestamp, to_sign)
        auth: Any = signer
        canonical = auth.canonical_request(request)
        string_to_sign = auth.string_to_sign(request, canonical)
        expected = auth.signature(string_to_sign, request)
        if not hmac.compare_digest(expected, signed.signature):
            raise InvalidSignatureException(
                f"{MISMATCH}\n\nThe Canonical String for this request should have been\n'{canonical}'\n\n"
                f"The String-to-Sign should have been\n'{string_to_sign}'\n"
            )


@functools.lru_cache(maxsize=256)
def _header_names(signed_headers: str) -> tuple[str, ...]:
    """`SignedHeaders` as names (an SDK sends the same few lists over and over)."""
    return tuple(h.strip().lower() for h in signed_headers.split(";") if h.strip())


@functools.lru_cache(maxsize=256)  # a second's requests share their timestamp
def _epoch_of(value: str) -> float | None:
    """`YYYYMMDDTHHMMSSZ` (ISO 8601 basic format, UTC) in epoch seconds, or None."""
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
        ).timestamp()
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
