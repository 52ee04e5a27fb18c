"""What every client-side command shares: connection flags, the boto3 client, error handling.

Choices:
- Without `--endpoint-url` (and without `AWS_ENDPOINT_URL_QCONNECT` / `AWS_ENDPOINT_URL`) the
  commands talk to a local server on http://127.0.0.1:4580 (what `make run` starts), never to
  AWS by surprise; `--endpoint-url aws` means "the real service", resolved by botocore from the
  region as the AWS CLI does.
- Against a loopback endpoint, dummy credentials are used when none are configured (signatures
  are not checked there); against any other endpoint the normal credential chain applies.
- A service error is one line on stderr, `error: <Code>: <message>`, exit status 1; so are
  connection and credential problems. Usage errors exit 2 (argparse's convention).
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any
from urllib.parse import urlsplit

DEFAULT_ENDPOINT = "http://127.0.0.1:4580"
AWS = "aws"
EXIT_OK, EXIT_FAILED, EXIT_USAGE = 0, 1, 2
_LOOPBACK_HOSTS = {"127.0.0.1", "localhost", "::1", "0.0.0.0"}


class CommandError(Exception):
    """A failure the command explains in one line (exit status `status`)."""

    def __init__(self, message: str, status: int = EXIT_FAILED) -> None:
        super().__init__(message)
        self.status = status


def add_connection_args(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group("connection")
    group.add_argument(
        "--endpoint-url",
        default=None,
        help=f"API endpoint (default: $AWS_ENDPOINT_URL_QCONNECT, $AWS_ENDPOINT_URL, else {DEFAULT_ENDPOINT}); "
        "'aws' for Amazon Q in Connect itself",
    )
    group.add_argument(
        "--region", default=None, help="AWS region (default: from the profile or environment, else us-east-1)"
    )
    group.add_argument("--profile", default=None, help="a named profile of the AWS config files")


def resolve_endpoint(args: argparse.Namespace) -> str | None:
    """The endpoint to pass to boto3, or None to let botocore find the real service."""
    explicit = args.endpoint_url or os.environ.get("AWS_ENDPOINT_URL_QCONNECT") or os.environ.get("AWS_ENDPOINT_URL")
    if explicit == AWS:
        return None
    return explicit or DEFAULT_ENDPOINT


def is_loopback(endpoint: str | None) -> bool:
    return endpoint is not None and (urlsplit(endpoint).hostname or "") in _LOOPBACK_HOSTS


def make_client(args: argparse.Namespace, service: str = "qconnect") -> Any:
    import boto3
    import botocore.exceptions
    from botocore.config import Config

    try:
        session = boto3.session.Session(profile_name=args.profile)
    except botocore.exceptions.ProfileNotFound as exc:
        raise CommandError(str(exc), EXIT_USAGE) from None
    endpoint = resolve_endpoint(args)
    region = args.region or session.region_name or "us-east-1"
    kwargs: dict[str, Any] = {"region_name": region, "config": Config(retries={"mode": "standard"})}
    if endpoint is not None:
        kwargs["endpoint_url"] = endpoint
    if is_loopback(endpoint) and args.profile is None and not _env_credentials():
        kwargs.update(aws_access_key_id="testing", aws_secret_access_key="testing")
    return session.client(service, **kwargs)


def _env_credentials() -> bool:
    return bool(os.environ.get("AWS_ACCESS_KEY_ID") and os.environ.get("AWS_SECRET_ACCESS_KEY"))


def error(message: str) -> None:
    print(f"error: {message}", file=sys.stderr)


@contextmanager
def service_errors() -> Iterator[None]:
    """Turns what botocore raises into a CommandError with one clear line."""
    import botocore.exceptions

    try:
        yield
    except botocore.exceptions.ClientError as exc:
        err = exc.response.get("Error", {})
        code = err.get("Code") or "Error"
        message = err.get("Message") or str(exc)
        raise CommandError(f"{code}: {message}") from None
    except botocore.exceptions.EndpointConnectionError as exc:
        raise CommandError(f"cannot reach {exc.kwargs.get('endpoint_url')}: is the server running?") from None
    except botocore.exceptions.NoCredentialsError:
        raise CommandError("no AWS credentials found (use --profile or set AWS_ACCESS_KEY_ID)") from None
    except botocore.exceptions.ParamValidationError as exc:
        raise CommandError(f"ParamValidationError: {' '.join(str(exc).split())}", EXIT_USAGE) from None
    except botocore.exceptions.BotoCoreError as exc:
        raise CommandError(f"{type(exc).__name__}: {exc}") from None


def parse_pairs(values: list[str] | None, what: str) -> dict[str, str]:
    """`k=v` arguments -> dict; a malformed one is a usage error."""
    pairs: dict[str, str] = {}
    for item in values or []:
        key, sep, value = item.partition("=")
        if not sep or not key:
            raise CommandError(f"{what} must look like KEY=VALUE, not {item!r}", EXIT_USAGE)
        pairs[key] = value
    return pairs
