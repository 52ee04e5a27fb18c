"""`serve --verify-signatures`: every API call must carry a valid SigV4 by a key of the credentials
file; each way of getting it wrong gets AWS's code and status (real server, real boto3)."""

from __future__ import annotations

import datetime as dt
import subprocess
import sys
from pathlib import Path

import boto3
import botocore.auth
import pytest
import requests
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.config import Config
from botocore.credentials import Credentials
from botocore.exceptions import ClientError

from support import ServerProcess

ALICE = ("AKIAALICE", "alice-secret", "111111111111", "arn:aws:iam::111111111111:user/alice")
BOB = ("AKIABOB", "bob-secret", "222222222222")  # no principal: the account's root
TEMP = ("ASIATEMP", "temp-secret", "333333333333", "arn:aws:sts::333333333333:assumed-role/dev/s1", "token=TOKEN-1")
CREDENTIALS = "\n".join(["# key secret account principal", " ".join(ALICE), " ".join(BOB), " ".join(TEMP), ""])


@pytest.fixture(scope="module")
def verifying(tmp_path_factory: pytest.TempPathFactory):
    path = tmp_path_factory.mktemp("creds") / "credentials"
    path.write_text(CREDENTIALS)
    proc = ServerProcess("--verify-signatures", "--credentials-file", str(path)).start()
    yield proc
    proc.stop()


def client(server: ServerProcess, key: str, secret: str, token: str | None = None, region: str = "us-east-1"):
    return boto3.client(
        "qconnect",
        endpoint_url=server.endpoint_url,
        region_name=region,
        aws_access_key_id=key,
        aws_secret_access_key=secret,
        aws_session_token=token,
        config=Config(retries={"total_max_attempts": 1, "mode": "standard"}),
    )


def refused(call, *args, **kwargs) -> tuple[str, int, str]:
    with pytest.raises(ClientError) as info:
        call(*args, **kwargs)
    error = info.value.response
    return error["Error"]["Code"], error["ResponseMetadata"]["HTTPStatusCode"], error["Error"]["Message"]


def signed(
    server: ServerProcess, method: str, path: str, body: bytes = b"", headers: dict[str, str] | None = None
) -> AWSRequest:
    request = AWSRequest(method=method, url=server.endpoint_url + path, data=body, headers=headers or {})
    SigV4Auth(Credentials(ALICE[0], ALICE[1]), "wisdom", "us-east-1").add_auth(request)
    return request


def send(request: AWSRequest, body: bytes | None = None) -> requests.Response:
    data = request.body if body is None else body
    return requests.request(request.method, request.url, headers=dict(request.headers.items()), data=data, timeout=30)


def test_boto3_signing_correctly_passes_and_the_key_decides_account_and_principal(verifying):
    alice = client(verifying, *ALICE[:2], region="eu-west-2")
    kb = alice.create_knowledge_base(name="kb", knowledgeBaseType="QUICK_RESPONSES")["knowledgeBase"]
    assert kb["knowledgeBaseArn"].startswith("arn:aws:wisdom:eu-west-2:111111111111:knowledge-base/")
    qr = alice.create_quick_response(knowledgeBaseId=kb["knowledgeBaseArn"], name="hello", content={"content": "hi"})
    assert qr["quickResponse"]["lastModifiedBy"] == ALICE[3]
    # Bob's line names no principal: his account's root. He does not see Alice's account.
    bob = client(verifying, *BOB[:2], region="eu-west-2")
    assert bob.list_knowledge_bases()["knowledgeBaseSummaries"] == []
    bob_kb = bob.create_knowledge_base(name="kb", knowledgeBaseType="QUICK_RESPONSES")["knowledgeBase"]
    bob_qr = bob.create_quick_response(knowledgeBaseId=bob_kb["knowledgeBaseId"], name="x", content={"content": "y"})
    assert bob_qr["quickResponse"]["lastModifiedBy"] == "arn:aws:iam::222222222222:root"
    # The region is the scope's: Alice's knowledge base is not in us-east-1.
    assert client(verifying, *ALICE[:2]).list_knowledge_bases()["knowledgeBaseSummaries"] == []


def test_wrong_secret_is_an_invalid_signature(verifying):
    code, status, message = refused(client(verifying, ALICE[0], "not-the-secret").list_knowledge_bases)
    assert (code, status) == ("InvalidSignatureException", 403)
    assert message.startswith("The request signature we calculated does not match the signature you provided.")
    assert "The Canonical String for this request should have been" in message


def test_unknown_key_is_an_unrecognized_client(verifying):
    code, status, message = refused(client(verifying, "AKIANOBODY", "x").list_knowledge_bases)
    assert (code, status, message) == (
        "UnrecognizedClientException",
        403,
        "The security token included in the request is invalid.",
    )


def test_missing_authentication(verifying):
    response = requests.get(verifying.endpoint_url + "/knowledgeBases", timeout=30)
    assert response.status_code == 403
    assert response.headers["x-amzn-errortype"] == "MissingAuthenticationTokenException"
    assert response.json() == {"message": "Missing Authentication Token"}


@pytest.mark.parametrize(
    "authorization, expected",
    [
        ("Bearer abc", "Authorization header requires 'Credential' parameter."),
        ("AWS4-HMAC-SHA256 Credential=AKIAALICE/20240101/us-east-1/wisdom/aws4_request", "requires 'Signature'"),
        ("AWS4-HMAC-SHA256 AKIAALICE/20240101/us-east-1/wisdom/aws4_request", "not a valid key=value pair"),
    ],
)
def test_malformed_authorization_is_an_incomplete_signature(verifying, authorization, expected):
    response = requests.get(
        verifying.endpoint_url + "/knowledgeBases", headers={"Authorization": authorization}, timeout=30
    )
    assert response.status_code == 403
    assert response.headers["x-amzn-errortype"] == "IncompleteSignatureException"
    assert expected in response.json()["message"]


@pytest.mark.parametrize("minutes, wording", [(-6, "Signature expired: "), (6, "Signature not yet current: ")])
def test_a_date_outside_the_five_minute_skew_is_refused(verifying, monkeypatch, minutes, wording):
    moment = dt.datetime.now(dt.UTC).replace(tzinfo=None) + dt.timedelta(minutes=minutes)
    monkeypatch.setattr(botocore.auth, "get_current_datetime", lambda: moment)
    code, status, message = refused(client(verifying, *ALICE[:2]).list_knowledge_bases)
    assert (code, status) == ("InvalidSignatureException", 403)
    assert message.startswith(wording + moment.strftime("%Y%m%dT%H%M%SZ"))
    assert message.endswith(" - 5 min.)" if minutes < 0 else " + 5 min.)")


def test_within_the_skew_passes(verifying, monkeypatch):
    moment = dt.datetime.now(dt.UTC).replace(tzinfo=None) - dt.timedelta(minutes=4)
    monkeypatch.setattr(botocore.auth, "get_current_datetime", lambda: moment)
    client(verifying, *ALICE[:2]).list_knowledge_bases()


def test_tampered_body_is_an_invalid_signature(verifying):
    body = b'{"name": "signed", "knowledgeBaseType": "QUICK_RESPONSES"}'
    request = signed(verifying, "POST", "/knowledgeBases", body, {"Content-Type": "application/json"})
    assert send(request).status_code == 200
    again = signed(verifying, "POST", "/knowledgeBases", body, {"Content-Type": "application/json"})
    response = send(again, body.replace(b"signed", b"evil"))
    assert (response.status_code, response.headers["x-amzn-errortype"]) == (403, "InvalidSignatureException")


def test_tampered_signed_header_is_an_invalid_signature(verifying):
    request = signed(verifying, "GET", "/knowledgeBases", headers={"X-Custom": "original"})
    assert send(request).status_code == 200
    request.headers.replace_header("X-Custom", "tampered")
    response = send(request)
    assert (response.status_code, response.headers["x-amzn-errortype"]) == (403, "InvalidSignatureException")


def test_tampered_path_or_query_is_an_invalid_signature(verifying):
    request = signed(verifying, "GET", "/knowledgeBases?maxResults=5")
    assert send(request).status_code == 200
    request.url = request.url.replace("maxResults=5", "maxResults=6")
    assert send(request).status_code == 403


def test_credential_scoped_to_another_service(verifying):
    request = AWSRequest(method="GET", url=verifying.endpoint_url + "/knowledgeBases")
    SigV4Auth(Credentials(ALICE[0], ALICE[1]), "connect", "us-east-1").add_auth(request)
    response = send(request)
    assert (response.status_code, response.headers["x-amzn-errortype"]) == (403, "InvalidSignatureException")
    assert response.json()["message"] == "Credential should be scoped to correct service: 'wisdom'. "


def test_presigned_query_string_form(verifying):
    alice = client(verifying, *ALICE[:2])
    kb = alice.create_knowledge_base(name="presigned", knowledgeBaseType="QUICK_RESPONSES")["knowledgeBase"]
    url = alice.generate_presigned_url("get_knowledge_base", Params={"knowledgeBaseId": kb["knowledgeBaseArn"]})
    assert "X-Amz-Signature=" in url and "Authorization" not in url
    response = requests.get(url, timeout=30)
    assert response.status_code == 200, response.text
    assert response.json()["knowledgeBase"]["name"] == "presigned"
    tampered = requests.get(url.replace("X-Amz-Signature=", "X-Amz-Signature=0"), timeout=30)
    assert (tampered.status_code, tampered.headers["x-amzn-errortype"]) == (403, "InvalidSignatureException")
    wrong_key = client(verifying, ALICE[0], "nope").generate_presigned_url(
        "get_knowledge_base", Params={"knowledgeBaseId": kb["knowledgeBaseId"]}
    )
    assert requests.get(wrong_key, timeout=30).status_code == 403
    incomplete = requests.get(url.split("&X-Amz-Signature=")[0], timeout=30)
    assert (incomplete.status_code, incomplete.headers["x-amzn-errortype"]) == (403, "IncompleteSignatureException")


def test_presigned_url_expires(verifying, monkeypatch):
    moment = dt.datetime.now(dt.UTC).replace(tzinfo=None) - dt.timedelta(seconds=120)
    monkeypatch.setattr(botocore.auth, "get_current_datetime", lambda: moment)
    url = client(verifying, *ALICE[:2]).generate_presigned_url("list_knowledge_bases", ExpiresIn=60)
    response = requests.get(url, timeout=30)
    assert (response.status_code, response.headers["x-amzn-errortype"]) == (403, "InvalidSignatureException")
    assert response.json()["message"].startswith("Signature expired: ")


def test_session_token_accepted_only_when_listed(verifying):
    key, secret, _, principal, token = TEMP
    temp = client(verifying, key, secret, token.split("=", 1)[1])
    kb = temp.create_knowledge_base(name="temp", knowledgeBaseType="QUICK_RESPONSES")["knowledgeBase"]
    qr = temp.create_quick_response(knowledgeBaseId=kb["knowledgeBaseId"], name="t", content={"content": "c"})
    assert qr["quickResponse"]["lastModifiedBy"] == principal
    for bad_token in (None, "TOKEN-2"):
        code, status, _ = refused(client(verifying, key, secret, bad_token).list_knowledge_bases)
        assert (code, status) == ("UnrecognizedClientException", 403)
    # A long-term key given a token it does not have.
    code, status, _ = refused(client(verifying, *ALICE[:2], "TOKEN-1").list_knowledge_bases)
    assert (code, status) == ("UnrecognizedClientException", 403)


def test_internal_endpoints_and_presigned_uploads_keep_their_own_rules(verifying):
    assert requests.get(verifying.endpoint_url + "/_qconnect/health", timeout=30).status_code == 200
    alice = client(verifying, *ALICE[:2])
    kb = alice.create_knowledge_base(name="uploads", knowledgeBaseType="QUICK_RESPONSES")["knowledgeBase"]
    up = alice.start_content_upload(knowledgeBaseId=kb["knowledgeBaseId"], contentType="text/csv")
    put = requests.put(up["url"], data=b"Name,Content\na,b\n", headers=up["headersToInclude"], timeout=30)
    assert put.status_code == 200, put.text
    forged = requests.put(up["url"].replace("Signature=", "Signature=0"), data=b"x", headers=up["headersToInclude"])
    assert forged.status_code == 403


def test_signatures_are_not_checked_by_default(server, endpoint):
    assert requests.get(endpoint + "/knowledgeBases", timeout=30).status_code == 200


def run_cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "qconnect_local", "serve", "--port", "0", "--in-memory", *args],
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_verify_signatures_needs_a_usable_credentials_file(tmp_path: Path):
    missing = run_cli("--verify-signatures")
    assert missing.returncode != 0 and "--verify-signatures needs --credentials-file" in missing.stderr
    bad = tmp_path / "creds"
    bad.write_text("AKIA only-two-fields-is-fine 12345\n")
    result = run_cli("--verify-signatures", "--credentials-file", str(bad))
    assert result.returncode != 0 and "line 1: the account id must be 12 digits" in result.stderr
