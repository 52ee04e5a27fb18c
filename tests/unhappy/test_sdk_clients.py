"""The AWS CLI and the JavaScript SDK, signing for real against `serve --verify-signatures`: they
pass with the right key, get AWS's errors with a wrong one, and ride out throttling.

The JavaScript test needs node and `npm ci` in tests/js (.ci/run does it); it is skipped on a
developer's machine without them, and fails under CI (CI=true) so it never silently stops running.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from support import ServerProcess

JS_DIR = Path(__file__).parent.parent / "js"
KEY = ("AKIASDKCLIENTS", "sdk-secret", "777777777777", "arn:aws:iam::777777777777:user/sdk")


@pytest.fixture(scope="module")
def verifying(tmp_path_factory: pytest.TempPathFactory):
    path = tmp_path_factory.mktemp("creds") / "credentials"
    path.write_text(" ".join(KEY) + "\n")
    proc = ServerProcess(
        "--verify-signatures", "--credentials-file", str(path), "--throttle-rate", "ListKnowledgeBases=2"
    ).start()
    yield proc
    proc.stop()


def aws(server: ServerProcess, secret: str, *args: str) -> subprocess.CompletedProcess[str]:
    env = {
        **os.environ,
        "AWS_ACCESS_KEY_ID": KEY[0],
        "AWS_SECRET_ACCESS_KEY": secret,
        "AWS_DEFAULT_REGION": "eu-central-1",
        "AWS_CONFIG_FILE": os.devnull,
        "AWS_SHARED_CREDENTIALS_FILE": os.devnull,
    }
    env.pop("AWS_PROFILE", None)
    env.pop("AWS_SESSION_TOKEN", None)
    command = [sys.executable, "-m", "awscli", "qconnect", *args, "--endpoint-url", server.endpoint_url]
    return subprocess.run(command, capture_output=True, text=True, env=env, timeout=120)


def test_the_aws_cli_signs_correctly(verifying):
    created = aws(verifying, KEY[1], "create-knowledge-base", "--name", "from-cli", "--knowledge-base-type", "CUSTOM")
    assert created.returncode == 0, created.stderr
    kb = json.loads(created.stdout)["knowledgeBase"]
    assert kb["knowledgeBaseArn"].startswith("arn:aws:wisdom:eu-central-1:777777777777:knowledge-base/")
    got = aws(verifying, KEY[1], "get-knowledge-base", "--knowledge-base-id", kb["knowledgeBaseArn"])
    assert got.returncode == 0, got.stderr
    assert json.loads(got.stdout)["knowledgeBase"]["name"] == "from-cli"


def test_the_aws_cli_with_a_wrong_secret_gets_invalid_signature(verifying):
    result = aws(verifying, "wrong", "list-knowledge-bases")
    assert result.returncode != 0
    assert "(InvalidSignatureException)" in result.stderr
    assert "The request signature we calculated does not match" in result.stderr


def _node_ready() -> str | None:
    """Why the JavaScript test cannot run here, or None."""
    if shutil.which("node") is None:
        return "node is not installed"
    if not (JS_DIR / "node_modules" / "@aws-sdk" / "client-qconnect").is_dir():
        return "the JavaScript SDK is not installed: run `npm ci` in tests/js"
    return None


def test_the_javascript_sdk_signs_correctly_and_retries_throttles(verifying):
    missing = _node_ready()
    if missing:
        if os.environ.get("CI") == "true":
            pytest.fail(f"CI must run the JavaScript SDK test, but {missing}")
        pytest.skip(missing)
    env = {
        **os.environ,
        "QCONNECT_ENDPOINT": verifying.endpoint_url,
        "QCONNECT_KEY_ID": KEY[0],
        "QCONNECT_SECRET": KEY[1],
    }
    result = subprocess.run(
        ["node", "qconnect_check.mjs"], cwd=JS_DIR, capture_output=True, text=True, env=env, timeout=120
    )
    assert result.returncode == 0, result.stderr
    seen = json.loads(result.stdout.strip().splitlines()[-1])
    assert seen["knowledgeBaseArn"].startswith("arn:aws:wisdom:us-east-1:777777777777:knowledge-base/")
    assert seen["lastModifiedBy"] == KEY[3]
    assert seen["wrongSecret"] == {"name": "InvalidSignatureException", "status": 403}
    assert seen["unknownKey"] == {"name": "UnrecognizedClientException", "status": 403}
    assert seen["attempts"] > 6  # some of the six calls at 2 TPS were retried, and all succeeded
    assert seen["throttled"] and all(t == {"name": "ThrottlingException", "status": 429} for t in seen["throttled"])
