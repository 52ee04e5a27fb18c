"""The web console against `serve --verify-signatures` (headless Chromium): the page asks for an
access key, signs every call with SigV4 in the browser, and shows AWS's error for a wrong secret."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import boto3
import pytest
from botocore.config import Config

from console_support import Shots, browser_or_skip, open_console
from import_support import http as http_call
from support import ServerProcess

KEY_ID, SECRET, ACCOUNT = "AKIACONSOLE000000001", "console/Secret+Key", "210987654321"


@pytest.fixture(scope="module")
def browser() -> Any:
    yield from browser_or_skip()


@pytest.fixture(scope="module")
def signed_server(tmp_path_factory: pytest.TempPathFactory) -> Any:
    folder = tmp_path_factory.mktemp("console-signed")
    keys = folder / "credentials"
    keys.write_text(f"{KEY_ID} {SECRET} {ACCOUNT}\n")
    proc = ServerProcess("--verify-signatures", "--credentials-file", str(keys), data_dir=folder / "data").start()
    yield proc
    proc.stop()


@pytest.fixture
def shots(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Shots:
    folder = tmp_path_factory.getbasetemp() / "console-screenshots"
    folder.mkdir(exist_ok=True)
    return Shots(folder, request.node.name)


def signed_client(url: str, region: str = "us-east-1") -> Any:
    return boto3.client(
        "qconnect",
        endpoint_url=url,
        region_name=region,
        aws_access_key_id=KEY_ID,
        aws_secret_access_key=SECRET,
        config=Config(retries={"max_attempts": 1}),
    )


def sign_in(page: Any, secret: str) -> None:
    page.fill("#cred-key", KEY_ID)
    page.fill("#cred-secret", secret)
    page.click("text=Use this key")


def test_the_console_signs_its_calls_with_the_key_given(
    browser: Any, signed_server: ServerProcess, shots: Shots
) -> None:
    signed_server.reset()
    url = signed_server.endpoint_url
    client = signed_client(url)
    client.create_knowledge_base(name="made by boto3", knowledgeBaseType="QUICK_RESPONSES")
    page = open_console(browser, url)
    try:
        page.locator("#signin").wait_for()
        # A wrong secret: AWS's own error, and no key kept.
        sign_in(page, "not-the-secret")
        page.locator("#signin-error", has_text="InvalidSignatureException").wait_for()
        assert "The request signature we calculated does not match" in page.inner_text("#signin-error")
        assert page.evaluate("sessionStorage.getItem('qconnect-console-credentials')") is None
        shots(page, "signin-wrong-secret")
        # The right key: the page lists and creates with signed calls, in the key's account.
        sign_in(page, SECRET)
        page.locator("#main tr", has_text="made by boto3").wait_for()
        assert page.input_value("#scope-account") == ACCOUNT
        assert KEY_ID in page.inner_text("#signed-in")
        page.fill("input[name=name]", "made in the browser")
        page.click("text=Create knowledge base")
        row = page.locator("#main tr", has_text="made in the browser")
        row.wait_for()
        assert "0 / 1000" in row.inner_text()  # the count endpoint accepted the signed call too
        shots(page, "signed-knowledge-bases")
        names = sorted(k["name"] for k in client.list_knowledge_bases()["knowledgeBaseSummaries"])
        assert names == ["made by boto3", "made in the browser"]
        arn = client.list_knowledge_bases()["knowledgeBaseSummaries"][0]["knowledgeBaseArn"]
        assert f":{ACCOUNT}:" in arn
        # The secret never reached the server: it is in no logged request.
        status, _, raw = http_call("GET", url + "/_qconnect/requests?limit=100")
        assert status == 200 and SECRET.encode() not in raw
        assert "made in the browser" in raw.decode()
        # The directory's calls are signed too (a PUT with its body): its ARNs are in the key's account.
        page.goto(f"{url}/_qconnect/ui/#/directory")
        page.locator("text=No instance in the directory for this account yet.").wait_for()
        page.fill("#instance-id", "inst-signed")
        page.click("text=Open")
        page.fill("#instance-profiles", "Sales")
        page.click("#instance-save")
        page.locator("#instances tr[data-instance='inst-signed']", has_text="1").wait_for()
        assert f":{ACCOUNT}:instance/inst-signed/" in page.inner_text("#instance-view")
        page.goto(f"{url}/_qconnect/ui/#/")
        # Another region in the scope bar signs for that region.
        page.fill("#scope-region", "eu-west-2")
        page.click("#scope button[type=submit]")
        page.locator("text=No knowledge base in this account and region yet.").wait_for()
        # Forgetting the key brings the form back.
        page.click("#cred-forget")
        page.locator("#signin").wait_for()
        assert page.console_errors == []
    finally:
        page.context.close()


def test_the_pure_javascript_signer_matches_webcrypto(browser: Any, signed_server: ServerProcess) -> None:
    """Outside a secure context (http to another host) the page signs without WebCrypto."""
    page = open_console(browser, signed_server.endpoint_url)
    try:
        same = page.evaluate(
            """async () => {
              const s = await import('./js/sigv4.js');
              const args = { method: 'POST', url: location.origin + '/tags/arn%3Aaws%3Ax?tagKeys=a+b&z=%E2%82%AC',
                body: '{"name": "é"}', credentials: { accessKeyId: 'AKID', secretAccessKey: 'k' },
                region: 'eu-west-2', now: new Date(1700000000000) };
              const a = await s.signedHeaders({ ...args, pure: false });
              const b = await s.signedHeaders({ ...args, pure: true });
              return a.authorization === b.authorization;
            }"""
        )
        assert same is True
        # And a call signed by the pure signer passes the server's check.
        doc = page.evaluate(
            f"""async () => {{
              const s = await import('./js/sigv4.js');
              const url = location.origin + '/knowledgeBases?maxResults=5';
              const headers = await s.signedHeaders({{ method: 'GET', url, region: 'us-east-1', pure: true,
                credentials: {{ accessKeyId: {json.dumps(KEY_ID)}, secretAccessKey: {json.dumps(SECRET)} }} }});
              const r = await fetch(url, {{ headers }});
              return [r.status, await r.json()];
            }}"""
        )
        assert doc[0] == 200 and "knowledgeBaseSummaries" in doc[1]
    finally:
        page.context.close()


def test_unsigned_console_endpoints_are_refused(signed_server: ServerProcess, tmp_path: Path) -> None:
    url = signed_server.endpoint_url
    status, headers, raw = http_call("GET", url + "/_qconnect/console/quick-response-counts?ids=x")
    assert status == 403 and headers["x-amzn-errortype"] == "MissingAuthenticationTokenException"
    status, _, raw = http_call("GET", url + "/_qconnect/console/config")
    assert status == 200 and json.loads(raw)["signaturesRequired"] is True
