"""The environment a test runs in while it uses the `qconnect_server` fixture: every botocore
`qconnect`/`wisdom` client made by the code under test goes to the local server, with dummy
credentials, so a test can never reach real AWS with real credentials. Restored afterwards."""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager

DUMMY = {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing"}
# Would let real credentials or a configured endpoint win over the ones set here.
_CLEARED = ("AWS_SESSION_TOKEN", "AWS_SECURITY_TOKEN", "AWS_PROFILE", "AWS_IGNORE_CONFIGURED_ENDPOINT_URLS")


@contextmanager
def pointed_at(endpoint_url: str) -> Iterator[None]:
    values = {
        "AWS_ENDPOINT_URL_QCONNECT": endpoint_url,
        "AWS_ENDPOINT_URL_WISDOM": endpoint_url,
        **DUMMY,
    }
    if not (os.environ.get("AWS_DEFAULT_REGION") or os.environ.get("AWS_REGION")):
        values["AWS_DEFAULT_REGION"] = "us-east-1"
    saved = {key: os.environ.get(key) for key in (*values, *_CLEARED)}
    for key in _CLEARED:
        os.environ.pop(key, None)
    os.environ.update(values)
    try:
        yield
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value
