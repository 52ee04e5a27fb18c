"""What the signature checker keeps between requests (signing key per day, signer per key and
region, canonical headers by value) never lets a request through that a fresh check would refuse."""

from __future__ import annotations

import datetime as dt

import botocore.auth
import pytest
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

from qconnect_local.unhappy.credentials import parse_credentials
from qconnect_local.unhappy.sigv4 import InvalidSignatureException, SignatureVerifier

HOST = "127.0.0.1:4000"
PATH = "/knowledgeBases/kb-1"


def headers_signed(monkeypatch, moment: dt.datetime, key: str, secret: str, region: str = "us-east-1"):
    monkeypatch.setattr(botocore.auth, "get_current_datetime", lambda: moment)
    request = AWSRequest(method="GET", url=f"http://{HOST}{PATH}")
    SigV4Auth(Credentials(key, secret), "wisdom", region).add_auth(request)
    return {
        "host": HOST,
        "authorization": request.headers["Authorization"],
        "x-amz-date": request.headers["X-Amz-Date"],
    }


@pytest.fixture
def clock():
    return {"now": dt.datetime(2026, 12, 5, 23, 59, 30)}


@pytest.fixture
def verifier(clock):
    keys = parse_credentials("AKIDA secret-a 111111111111\nAKIDB secret-b 222222222222", "123456789012")
    return SignatureVerifier(keys, clock=lambda: clock["now"].replace(tzinfo=dt.UTC).timestamp())


def test_a_wrong_secret_for_a_cached_key_is_still_refused(verifier, clock, monkeypatch):
    good = headers_signed(monkeypatch, clock["now"], "AKIDA", "secret-a")
    assert verifier.verify("GET", PATH, "", good, b"").account_id == "111111111111"
    forged = headers_signed(monkeypatch, clock["now"], "AKIDA", "secret-b")
    with pytest.raises(InvalidSignatureException):
        verifier.verify("GET", PATH, "", forged, b"")
    assert verifier.verify("GET", PATH, "", good, b"").account_id == "111111111111"


def test_a_new_date_derives_a_new_signing_key(verifier, clock, monkeypatch):
    today = headers_signed(monkeypatch, clock["now"], "AKIDA", "secret-a")
    verifier.verify("GET", PATH, "", today, b"")
    clock["now"] += dt.timedelta(minutes=1)  # past midnight: the scope's date changes
    tomorrow = headers_signed(monkeypatch, clock["now"], "AKIDA", "secret-a")
    assert tomorrow["x-amz-date"][:8] != today["x-amz-date"][:8]
    assert verifier.verify("GET", PATH, "", tomorrow, b"").account_id == "111111111111"
    stale_scope = {**tomorrow, "authorization": tomorrow["authorization"].replace("/20261206/", "/20261205/")}
    with pytest.raises(InvalidSignatureException):
        verifier.verify("GET", PATH, "", stale_scope, b"")


def test_each_key_and_region_is_checked_with_its_own_secret_and_scope(verifier, clock, monkeypatch):
    a = headers_signed(monkeypatch, clock["now"], "AKIDA", "secret-a", "eu-west-1")
    b = headers_signed(monkeypatch, clock["now"], "AKIDB", "secret-b", "us-west-2")
    assert (verifier.verify("GET", PATH, "", a, b"").region, verifier.verify("GET", PATH, "", b, b"").region) == (
        "eu-west-1",
        "us-west-2",
    )
    # b's signature under a's key id: the cached signer of a (same date, same headers) refuses it
    swapped = {
        **a,
        "authorization": a["authorization"].rsplit("Signature=", 1)[0]
        + "Signature="
        + b["authorization"].rsplit("=", 1)[1],
    }
    with pytest.raises(InvalidSignatureException):
        verifier.verify("GET", PATH, "", swapped, b"")


def test_canonical_headers_remembered_by_value_not_by_name(verifier, clock, monkeypatch):
    good = headers_signed(monkeypatch, clock["now"], "AKIDA", "secret-a")
    verifier.verify("GET", PATH, "", good, b"")
    with pytest.raises(InvalidSignatureException):
        verifier.verify("GET", PATH, "", {**good, "host": "127.0.0.1:4001"}, b"")
    with pytest.raises(InvalidSignatureException):
        verifier.verify("GET", PATH + "x", "", good, b"")
