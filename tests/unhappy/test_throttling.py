"""`serve --throttle` / `--throttle-rate`: AWS's per-account, per-operation rates, a 429
ThrottlingException past them, and botocore's retry modes riding it out."""

from __future__ import annotations

import boto3
import pytest
import requests
from botocore.config import Config
from botocore.exceptions import ClientError

from qconnect_local.unhappy.throttling import Throttle, ThrottlingException, parse_rate
from support import ServerProcess


@pytest.fixture(scope="module")
def throttled():
    proc = ServerProcess("--throttle-rate", "ListKnowledgeBases=2", "--throttle-rate", "CreateKnowledgeBase=0").start()
    yield proc
    proc.stop()


@pytest.fixture
def fresh(throttled: ServerProcess) -> ServerProcess:
    throttled.reset()  # also refills every bucket
    return throttled


def client(server: ServerProcess, key: str = "111111111111", mode: str = "standard", attempts: int = 1):
    # A 12-digit access key id names the account (signatures are not checked here).
    return boto3.client(
        "qconnect",
        endpoint_url=server.endpoint_url,
        region_name="us-east-1",
        aws_access_key_id=key,
        aws_secret_access_key="testing",
        config=Config(retries={"total_max_attempts": attempts, "mode": mode}),
    )


def burst(call, n: int) -> list[str]:
    outcomes = []
    for _ in range(n):
        try:
            call()
            outcomes.append("ok")
        except ClientError as exc:
            assert exc.response["ResponseMetadata"]["HTTPStatusCode"] == 429
            outcomes.append(exc.response["Error"]["Code"])
    return outcomes


def test_a_burst_over_the_rate_gets_429_throttling_exception(fresh):
    outcomes = burst(client(fresh).list_knowledge_bases, 8)
    assert outcomes[0] == "ok" and "ThrottlingException" in outcomes
    assert set(outcomes) <= {"ok", "ThrottlingException"}


def test_the_wire_form_is_aws_s(fresh):
    response = requests.post(fresh.endpoint_url + "/knowledgeBases", json={"name": "x", "knowledgeBaseType": "CUSTOM"})
    assert response.status_code == 429
    assert response.headers["x-amzn-errortype"] == "ThrottlingException"
    assert response.json() == {"message": "Rate exceeded"}


def test_rates_are_per_account_and_per_operation(fresh):
    alice = client(fresh, "111111111111")
    assert "ThrottlingException" in burst(alice.list_knowledge_bases, 8)
    # Another account has a bucket of its own.
    assert burst(client(fresh, "222222222222").list_knowledge_bases, 1) == ["ok"]
    # Another operation of the same account is not limited (no rate given for it).
    with pytest.raises(ClientError) as info:
        alice.get_knowledge_base(knowledgeBaseId="00000000-0000-0000-0000-000000000000")
    assert info.value.response["Error"]["Code"] == "ResourceNotFoundException"


def test_zero_tps_throttles_every_call(fresh):
    code = None
    try:
        client(fresh).create_knowledge_base(name="never", knowledgeBaseType="CUSTOM")
    except ClientError as exc:
        code = exc.response["Error"]["Code"]
    assert code == "ThrottlingException"


@pytest.mark.parametrize("mode", ["standard", "adaptive"])
def test_botocore_retries_ride_out_the_throttle(fresh, mode):
    retrying = client(fresh, "444444444444", mode=mode, attempts=10)
    retries = 0
    for _ in range(6):
        response = retrying.list_knowledge_bases()
        retries += response["ResponseMetadata"]["RetryAttempts"]
    assert retries > 0  # 6 calls at 2 TPS with a burst of 2: some had to be retried


def test_the_request_log_shows_the_throttled_calls(fresh):
    listing = requests.get(fresh.endpoint_url + "/_qconnect/requests?limit=50", timeout=30)
    if listing.status_code == 404:
        pytest.skip("the request log (issue 13) is not in this build")
    retrying = client(fresh, "555555555555", attempts=10)
    for _ in range(5):
        retrying.list_knowledge_bases()
    records = requests.get(fresh.endpoint_url + "/_qconnect/requests?limit=50", timeout=30).json()["requests"]
    mine = [r for r in records if r.get("account") == "555555555555" and r.get("operation") == "ListKnowledgeBases"]
    throttled = [r for r in mine if r["status"] == 429]
    assert throttled and all(r["errorCode"] == "ThrottlingException" for r in throttled)
    assert len([r for r in mine if r["status"] == 200]) == 5


def test_the_documented_rates():
    now = [0.0]
    throttle = Throttle(documented=True, overrides={"GetKnowledgeBase": 1}, clock=lambda: now[0])
    assert throttle.rate_of("CreateQuickResponse") == 10
    assert throttle.rate_of("SearchQuickResponses") == 20
    assert throttle.rate_of("DeleteQuickResponse") == 20
    for operation, rate in (("CreateQuickResponse", 10), ("SearchQuickResponses", 20), ("GetKnowledgeBase", 1)):
        for _ in range(rate):
            throttle.admit("111111111111", "us-east-1", operation)
        with pytest.raises(ThrottlingException):
            throttle.admit("111111111111", "us-east-1", operation)
        # Another region of the same account has a bucket of its own.
        throttle.admit("111111111111", "eu-west-2", operation)
    now[0] += 0.1  # a tenth of a second refills one token at 10 TPS, two at 20
    throttle.admit("111111111111", "us-east-1", "CreateQuickResponse")
    with pytest.raises(ThrottlingException):
        throttle.admit("111111111111", "us-east-1", "CreateQuickResponse")
    assert Throttle(documented=False, overrides={}).rate_of("CreateQuickResponse") is None


@pytest.mark.parametrize("text", ["CreateQuickResponse", "=3", "X=-1", "X=fast"])
def test_bad_throttle_rates_are_refused(text):
    with pytest.raises(ValueError):
        parse_rate(text)


def test_throttle_applies_the_documented_rates_to_every_operation():
    proc = ServerProcess("--throttle").start()
    try:
        fast = client(proc, "666666666666")
        outcomes = burst(fast.list_knowledge_bases, 40)  # 10 TPS, a burst of 10: 40 quick calls overflow
        assert outcomes[:5] == ["ok"] * 5 and "ThrottlingException" in outcomes
    finally:
        proc.stop()
