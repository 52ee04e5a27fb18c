"""The routing-profile directory (`/_qconnect/connect-instances`) is per account and guarded: an
account lists, reads and changes only its own instances (an instance belongs to the account in
its profiles' ARNs), and on a server that needs the admin token its reads need it too."""

from __future__ import annotations

import json

import pytest

from import_support import http
from support import ServerProcess

A, B = "111111111111", "222222222222"


def auth(account: str, region: str = "us-east-1") -> dict[str, str]:
    """The account's scope in the Authorization header (the server does not check signatures)."""
    credential = f"{account}/20260101/{region}/wisdom/aws4_request"
    return {"Authorization": f"AWS4-HMAC-SHA256 Credential={credential}, SignedHeaders=host, Signature=0"}


def put(endpoint: str, account: str, instance: str, profiles: list) -> tuple[int, dict]:
    body = json.dumps({"routingProfiles": profiles}).encode()
    status, _, raw = http(
        "PUT", f"{endpoint}/_qconnect/connect-instances/{instance}/routing-profiles", body, auth(account)
    )
    return status, json.loads(raw)


def get(endpoint: str, account: str, path: str) -> tuple[int, dict]:
    status, _, raw = http("GET", f"{endpoint}/_qconnect/{path}", None, auth(account))
    return status, json.loads(raw)


def test_each_account_sees_and_changes_only_its_instances(endpoint: str) -> None:
    assert put(endpoint, A, "inst-a", ["Sales", "Support"])[0] == 200
    assert put(endpoint, B, "inst-b", [{"name": "VIP", "routingProfileId": "vip"}])[0] == 200
    assert put(endpoint, A, "inst-empty", [])[0] == 200
    # Profiles given by name get ARNs in the caller's account and region.
    status, doc = get(endpoint, A, "connect-instances/inst-a/routing-profiles")
    assert status == 200 and all(f":{A}:instance/inst-a/" in p["arn"] for p in doc["routingProfiles"])
    assert get(endpoint, B, "connect-instances/inst-b/routing-profiles")[1]["routingProfiles"] == [
        {"name": "VIP", "arn": f"arn:aws:connect:us-east-1:{B}:instance/inst-b/routing-profile/vip"}
    ]
    # Listing: the account's instances and the ownerless empty one, by id, with their counts.
    assert get(endpoint, A, "connect-instances")[1]["instances"] == [
        {"instanceId": "inst-a", "routingProfileCount": 2},
        {"instanceId": "inst-empty", "routingProfileCount": 0},
    ]
    assert [i["instanceId"] for i in get(endpoint, B, "connect-instances")[1]["instances"]] == ["inst-b", "inst-empty"]
    # Another account can neither read, replace nor delete it.
    status, doc = get(endpoint, B, "connect-instances/inst-a/routing-profiles")
    assert status == 404 and A not in json.dumps(doc)
    assert put(endpoint, B, "inst-a", ["Taken"])[0] == 409
    assert http("DELETE", f"{endpoint}/_qconnect/connect-instances/inst-a/routing-profiles", None, auth(B))[0] == 404
    assert len(get(endpoint, A, "connect-instances/inst-a/routing-profiles")[1]["routingProfiles"]) == 2
    assert http("DELETE", f"{endpoint}/_qconnect/connect-instances/inst-a/routing-profiles", None, auth(A))[0] == 204
    assert [i["instanceId"] for i in get(endpoint, A, "connect-instances")[1]["instances"]] == ["inst-empty"]


def test_a_mixed_instance_shows_each_account_its_own_profiles(endpoint: str) -> None:
    arn = "arn:aws:connect:us-east-1:{}:instance/mixed/routing-profile/{}"
    assert (
        put(
            endpoint,
            A,
            "mixed",
            [{"name": "Mine", "arn": arn.format(A, "m")}, {"name": "Theirs", "arn": arn.format(B, "t")}],
        )[0]
        == 200
    )
    assert [p["name"] for p in get(endpoint, A, "connect-instances/mixed/routing-profiles")[1]["routingProfiles"]] == [
        "Mine"
    ]
    assert [p["name"] for p in get(endpoint, B, "connect-instances/mixed/routing-profiles")[1]["routingProfiles"]] == [
        "Theirs"
    ]
    assert get(endpoint, B, "connect-instances")[1]["instances"] == [{"instanceId": "mixed", "routingProfileCount": 1}]


@pytest.fixture(scope="module")
def token_server(tmp_path_factory: pytest.TempPathFactory):
    proc = ServerProcess("--admin-token", "s3cret", data_dir=tmp_path_factory.mktemp("directory-guard")).start()
    yield proc
    proc.stop()


def test_the_directory_reads_need_the_admin_token_when_writes_do(token_server: ServerProcess) -> None:
    url = token_server.endpoint_url
    ok = {"X-Qc-Admin-Token": "s3cret"}
    body = json.dumps({"routingProfiles": ["Sales"]}).encode()
    assert http("PUT", f"{url}/_qconnect/connect-instances/i-1/routing-profiles", body, ok)[0] == 200
    for path in ("connect-instances", "connect-instances/i-1/routing-profiles"):
        status, headers, raw = http("GET", f"{url}/_qconnect/{path}")
        assert status == 403 and headers["x-amzn-errortype"] == "AccessDeniedException" and b"arn:" not in raw
        assert http("GET", f"{url}/_qconnect/{path}", None, ok)[0] == 200
