"""What every client-side command shares: connection flags, the boto3 client, error handling.

Choices:
- The endpoint is the one botocore would use: `--endpoint-url`, else `AWS_ENDPOINT_URL_QCONNECT`,
  `AWS_ENDPOINT_URL`, the profile's `services` section of `~/.aws/config` (and the global
  `endpoint_url` there), in botocore's order. Only when none of these is configured do the
  commands talk to a local server on http://127.0.0.1:4580 (what `make run` starts), never to AWS
  by surprise; `--endpoint-url aws` means "the real service", resolved by botocore from the region
  as the AWS CLI does. An endpoint without http:// or https:// is a usage error.
- Region and credentials come from botocore's chain (flags, environment, profile). Against a
  loopback endpoint, when that chain has none (instance and container roles are not asked),
  dummy credentials are used (signatures are not checked there).
- A service error is one line on stderr, `error: <Code>: <message>` plus a hint when we know what
  fixes it, exit status 1; so are connection and credential problems. Usage errors exit 2
  (argparse's convention).
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any
from urllib.parse import urlsplit

from qconnect_local.commands.hints import hint_for

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


def botocore_session(args: argparse.Namespace) -> Any:
    """The botocore session of the command's profile (one per command run)."""
    cached = getattr(args, "_botocore_session", None)
    if cached is not None:
        return cached
    import botocore.exceptions
    import botocore.session

    session = botocore.session.Session(profile=getattr(args, "profile", None))
    try:
        session.get_scoped_config()  # a missing profile fails here, not in the middle of a call
    except botocore.exceptions.ProfileNotFound as exc:
        raise CommandError(str(exc), EXIT_USAGE) from None
    args._botocore_session = session
    return session


def configured_endpoint(args: argparse.Namespace, service: str = "qconnect") -> str | None:
    """The endpoint botocore would resolve from the environment and config files, if any."""
    from botocore.configprovider import ConfiguredEndpointProvider

    session = botocore_session(args)
    if session.get_config_variable("ignore_configured_endpoint_urls"):
        return None
    provider = ConfiguredEndpointProvider(session.full_config, session.get_scoped_config(), service)
    return provider.provide()


def resolve_endpoint(args: argparse.Namespace, service: str = "qconnect") -> str | None:
    """The endpoint to pass to boto3, or None to let botocore find the real service."""
    endpoint = args.endpoint_url or configured_endpoint(args, service) or DEFAULT_ENDPOINT
    if endpoint == AWS:
        return None
    parts = urlsplit(endpoint)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise CommandError(
            f"the endpoint {endpoint!r} is not a URL: give it with its scheme, e.g. http://{endpoint.split('://')[-1]}",
            EXIT_USAGE,
        )
    return endpoint


def is_loopback(endpoint: str | None) -> bool:
    return endpoint is not None and (urlsplit(endpoint).hostname or "") in _LOOPBACK_HOSTS


def make_client(args: argparse.Namespace, service: str = "qconnect") -> Any:
    import boto3
    import botocore.exceptions
    from botocore.config import Config

    core = botocore_session(args)
    endpoint = resolve_endpoint(args, service)
    try:
        session = boto3.session.Session(botocore_session=core)
    except botocore.exceptions.BotoCoreError as exc:
        raise CommandError(f"{type(exc).__name__}: {exc}", EXIT_USAGE) from None
    region = args.region or session.region_name or "us-east-1"
    kwargs: dict[str, Any] = {"region_name": region, "config": Config(retries={"mode": "standard"})}
    if endpoint is not None:
        kwargs["endpoint_url"] = endpoint
    if is_loopback(endpoint) and not _has_credentials(core):
        kwargs.update(aws_access_key_id="testing", aws_secret_access_key="testing")
    return session.client(service, **kwargs)


def _has_credentials(session: Any) -> bool:
    """Whether botocore's chain finds credentials, without asking instance or container roles
    (slow time-outs off AWS, and pointless for a local server)."""
    import botocore.exceptions

    resolver = session.get_component("credential_provider")
    for name in ("iam-role", "container-role"):
        try:
            resolver.remove(name)
        except (KeyError, ValueError):
            pass
    try:
        return resolver.load_credentials() is not None
    except botocore.exceptions.BotoCoreError:
        return False


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
        raise CommandError(with_hint(f"{code}: {message}", hint_for(code, message, exc.operation_name))) from None
    except botocore.exceptions.EndpointConnectionError as exc:
        raise CommandError(
            f"cannot reach {exc.kwargs.get('endpoint_url')}: is the server running? "
            "(start it with `qconnect-local serve`, or point --endpoint-url / AWS_ENDPOINT_URL_QCONNECT at it)"
        ) from None
    except botocore.exceptions.NoCredentialsError:
        raise CommandError("no AWS credentials found (use --profile or set AWS_ACCESS_KEY_ID)") from None
    except botocore.exceptions.ParamValidationError as exc:
        raise CommandError(f"ParamValidationError: {' '.join(str(exc).split())}", EXIT_USAGE) from None
    except botocore.exceptions.BotoCoreError as exc:
        raise CommandError(f"{type(exc).__name__}: {exc}") from None


def with_hint(line: str, hint: str | None) -> str:
    return f"{line} (hint: {hint})" if hint else line


def parse_pairs(values: list[str] | None, what: str) -> dict[str, str]:
    """`k=v` arguments -> dict; a malformed one is a usage error."""
    pairs: dict[str, str] = {}
    for item in values or []:
        key, sep, value = item.partition("=")
        if not sep or not key:
            raise CommandError(f"{what} must look like KEY=VALUE, not {item!r}", EXIT_USAGE)
        pairs[key] = value
    return pairs
