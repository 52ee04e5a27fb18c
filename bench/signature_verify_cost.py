"""N in-process `SignatureVerifier.verify` calls of the request wrk replays in the benchmarks
(GET /knowledgeBases/{id}, signed by botocore). Run under callgrind at two N and subtract to get
instructions per check without start-up (bench/signature_verify_callgrind.sh does that).

    python bench/signature_verify_cost.py N
"""

from __future__ import annotations

import sys

from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

from qconnect_local.unhappy.credentials import parse_credentials
from qconnect_local.unhappy.sigv4 import SignatureVerifier

PATH = "/knowledgeBases/abc123"


def main(calls: int) -> None:
    request = AWSRequest(method="GET", url=f"http://127.0.0.1:4000{PATH}")
    SigV4Auth(Credentials("testing", "testing"), "wisdom", "us-east-1").add_auth(request)
    headers = {
        "host": "127.0.0.1:4000",
        "authorization": request.headers["Authorization"],
        "x-amz-date": request.headers["X-Amz-Date"],
        "user-agent": "wrk",
    }
    verifier = SignatureVerifier(parse_credentials("testing testing", "123456789012"))
    for _ in range(calls):
        verifier.verify("GET", PATH, "", headers, b"")


if __name__ == "__main__":
    main(int(sys.argv[1]))
