"""`mock_qconnect()`: answer every botocore `qconnect` and `wisdom` client in-process.

How it works (the way moto's `mock_aws` does it): importing this module adds a `before-send`
handler for the two services to botocore's built-in handlers, so every botocore session created
afterwards, and every client made from it, carries the handler — including clients created before
a mock starts. The handler does nothing until a mock is active; then it hands the already signed
request to `App.dispatch` (the same code path the HTTP server runs, minus the socket) and returns a
botocore `AWSResponse`. Clients that predate this module (or that come from a session built
before it) are covered by `patch_client(client)`.

Choices where a user could expect either:
- The mock is process-wide, like moto's: while any mock is active, clients in every thread are
  answered in-process. Entering is counted; only the outermost entry wipes the state, and only
  the outermost exit stops the interception. A nested `with mock_qconnect():` (for example a
  decorated helper called from a decorated test) therefore shares the outer mock's state instead
  of wiping it halfway through a test.
- Dummy credentials (`testing`/`testing`) are set in the environment for the duration only when
  neither `AWS_ACCESS_KEY_ID` nor `AWS_PROFILE` is set, and `AWS_DEFAULT_REGION=us-east-1` only
  when no region is configured at all, so a bare `boto3.client("qconnect")` works. Nothing is
  ever sent anywhere, so real credentials are never at risk.
- Upload and download URLs (StartContentUpload, import jobs) must work with any HTTP client, so
  they point at a loopback HTTP server on a free port serving the same `App` (same state). It is
  started the first time an operation that hands out URLs is called, and lives until the process
  exits (starting it per test would cost more than the test).
"""

from __future__ import annotations

import functools
import inspect
import io
import os
import threading
import unittest
import uuid
import weakref
from collections.abc import Callable
from typing import Any, TypeVar, overload
from urllib.parse import urlsplit

import botocore.handlers
from botocore.awsrequest import AWSResponse, HeadersDict

F = TypeVar("F", bound=Callable[..., Any])

SERVICES = ("qconnect", "wisdom")
# Operations whose responses carry URLs that a plain HTTP client will fetch.
_URL_OPERATIONS = frozenset(
    {"StartContentUpload", "StartImportJob", "GetImportJob", "CreateContent", "GetContent", "UpdateContent"}
    | {"GetMessageTemplate", "RenderMessageTemplate", "CreateMessageTemplateAttachment"}
)
_DUMMY_ENV = {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing"}


class _RawBody(io.BytesIO):
    """What `AWSResponse.raw` must offer: a readable stream with `stream()`."""

    consumed = False

    def stream(self, **kwargs: Any):
        self.consumed = True
        chunk = self.read()
        while chunk:
            yield chunk
            chunk = self.read()


class _Backend:
    """The one `App` of the in-process mock (in-memory state) and its lazily started HTTP twin."""

    def __init__(self) -> None:
        from qconnect_local.config import Settings
        from qconnect_local.server import build_app

        # Always the embedded in-memory store, whatever QCONNECT_LOCAL_DATABASE_URL says: a mock's
        # state is private to its process.
        self.app = build_app(Settings(in_memory=True, database_url=None))
        self._loopback: Any = None
        self._loopback_lock = threading.Lock()

    def loopback_url(self) -> str:
        with self._loopback_lock:
            if self._loopback is None:
                from qconnect_local.threaded_server import ThreadedServer

                self._loopback = ThreadedServer(self.app).start()
            return self._loopback.endpoint_url

    def respond(self, request: Any, operation: str) -> AWSResponse:
        split = urlsplit(request.url)
        headers = {k.lower(): _text(v) for k, v in request.headers.items()}
        if operation in _URL_OPERATIONS or self._loopback is not None:
            # URLs in the response are built from the Host the request came to: make it the
            # loopback server, so they can be fetched.
            loopback = urlsplit(self.loopback_url())
            headers["host"] = loopback.netloc
            headers["x-forwarded-proto"] = "http"
        request_id = str(uuid.uuid4())
        status, extra, payload = self.app.dispatch(
            request.method, split.path or "/", split.query, headers, _body_bytes(request.body), request_id
        )
        response_headers = HeadersDict({"x-amzn-requestid": request_id, "content-length": str(len(payload))})
        if payload:
            response_headers["content-type"] = "application/json"
        response_headers.update(extra)
        return AWSResponse(request.url, status, response_headers, _RawBody(payload))


def _text(value: str | bytes) -> str:
    # botocore keeps some signed headers (Authorization, X-Amz-Date) as bytes.
    return value.decode("latin-1") if isinstance(value, bytes) else value


def _body_bytes(body: Any) -> bytes:
    if body is None:
        return b""
    if isinstance(body, str):
        return body.encode("utf-8")
    if hasattr(body, "read"):
        data = body.read()
        if hasattr(body, "seek"):
            body.seek(0)  # botocore may need to re-read it on a retry
        return data.encode("utf-8") if isinstance(data, str) else data
    return bytes(body)


# -- process-wide state of the mock ------------------------------------------------------------

_lock = threading.RLock()
_depth = 0
_backend: _Backend | None = None
_env_set: dict[str, str] = {}
_hooked_sessions: weakref.WeakSet[Any] = weakref.WeakSet()


def _get_backend() -> _Backend:
    global _backend
    with _lock:
        if _backend is None:
            _backend = _Backend()
        return _backend


def _before_send(request: Any, event_name: str = "", **kwargs: Any) -> AWSResponse | None:
    """botocore `before-send` handler: answers in-process while a mock is active."""
    if _depth == 0:
        return None
    # The same handler may be registered twice on one emitter (built-in list + a session or client
    # hook), and botocore calls every handler of one `emit`: answer each send once. A retry sends
    # the same request object again after the first answer was read, and gets a fresh answer.
    cached = getattr(request, "_qconnect_local_response", None)
    if cached is not None and not cached.raw.consumed:
        return cached
    response = _get_backend().respond(request, event_name.rsplit(".", 1)[-1])
    request._qconnect_local_response = response
    return response


def _before_sign(request: Any, request_signer: Any = None, **kwargs: Any) -> None:
    """botocore `before-sign` handler: a client created before the mock, in an environment with
    no credentials at all, would fail to sign; give it the dummy ones (nothing is sent anywhere)."""
    if _depth == 0 or request_signer is None or getattr(request_signer, "_credentials", None) is not None:
        return
    from botocore.credentials import Credentials

    request.context.setdefault("signing", {}).setdefault(
        "request_credentials", Credentials(_DUMMY_ENV["AWS_ACCESS_KEY_ID"], _DUMMY_ENV["AWS_SECRET_ACCESS_KEY"])
    )


_HANDLERS = (("before-sign", _before_sign), ("before-send", _before_send))


def _register_builtin_handlers() -> None:
    for service in SERVICES:
        for event, handler in _HANDLERS:
            spec = (f"{event}.{service}", handler)
            if spec not in botocore.handlers.BUILTIN_HANDLERS:
                botocore.handlers.BUILTIN_HANDLERS.append(spec)


def _register(emitter: Any, service: str) -> None:
    for event, handler in _HANDLERS:
        emitter.register(f"{event}.{service}", handler, unique_id=f"qconnect-local-mock-{event}")


_register_builtin_handlers()


def patch_client(client: Any) -> Any:
    """Routes an existing `qconnect`/`wisdom` client through the mock (for clients created before
    `qconnect_local` was imported, or held by code you cannot change). Returns the client."""
    service = client.meta.service_model.service_name
    if service not in SERVICES:
        raise ValueError(f"patch_client works on qconnect and wisdom clients, not {service!r}")
    _register(client.meta.events, service)
    return client


def _hook_default_session() -> None:
    """boto3's default session may predate this module: give its future clients the handler."""
    try:
        import boto3
    except ImportError:  # botocore alone is enough for the mock
        return
    session = boto3.DEFAULT_SESSION
    if session is not None and session not in _hooked_sessions:
        for service in SERVICES:
            _register(session._session, service)
        _hooked_sessions.add(session)


def _set_dummy_environment() -> None:
    if "AWS_ACCESS_KEY_ID" not in os.environ and "AWS_PROFILE" not in os.environ:
        _env_set.update(_DUMMY_ENV)
    if not (os.environ.get("AWS_DEFAULT_REGION") or os.environ.get("AWS_REGION")) and not _configured_region():
        _env_set["AWS_DEFAULT_REGION"] = "us-east-1"
    os.environ.update(_env_set)


def _configured_region() -> str | None:
    import botocore.session

    try:
        return botocore.session.Session().get_config_variable("region")
    except Exception:  # a broken config file is not the mock's business
        return None


def _restore_environment() -> None:
    for key, value in _env_set.items():
        if os.environ.get(key) == value:  # leave alone what the test changed itself
            del os.environ[key]
    _env_set.clear()


def _start() -> None:
    global _depth
    with _lock:
        if _depth == 0:
            backend = _get_backend()
            backend.app.reset()
            _set_dummy_environment()
            _hook_default_session()
        _depth += 1


def _stop() -> None:
    global _depth
    with _lock:
        if _depth == 0:
            raise RuntimeError("mock_qconnect stopped more often than it was started")
        _depth -= 1
        if _depth == 0:
            _restore_environment()


def is_active() -> bool:
    return _depth > 0


class QConnectMock:
    """Returned by `mock_qconnect()`: a context manager, a decorator, or `start()`/`stop()`."""

    def __init__(self, faults: list[dict[str, Any]] | None = None) -> None:
        self._entered = 0
        self._faults = list(faults or [])  # fault rules for the default account, added at start

    # -- context manager ---------------------------------------------------------------------

    def start(self) -> QConnectMock:
        _start()
        self._entered += 1
        if self._faults:
            self.faults.add(*self._faults)
        return self

    def stop(self) -> None:
        if self._entered == 0:
            raise RuntimeError("this mock_qconnect() was not started")
        self._entered -= 1
        _stop()

    def __enter__(self) -> QConnectMock:
        return self.start()

    def __exit__(self, *exc: Any) -> None:
        self.stop()

    # -- what a test may want from the running mock ------------------------------------------

    @property
    def app(self) -> Any:
        return _get_backend().app

    @property
    def endpoint_url(self) -> str:
        """The loopback HTTP server serving the same state (started on first use)."""
        return _get_backend().loopback_url()

    def reset(self) -> None:
        _get_backend().app.reset()

    @property
    def faults(self) -> Any:
        """Fault rules (docs/unhappy-paths.md): `add(*rules, account=None)`, `list()`, `clear()`."""
        from qconnect_local.unhappy.faults import Faults

        app = _get_backend().app
        return Faults(app.gate.faults, app.settings.account_id)

    # -- decorator -------------------------------------------------------------------------

    def __call__(self, target: F) -> F:
        if inspect.isclass(target):
            return _decorate_class(target)  # type: ignore[return-value]
        if inspect.iscoroutinefunction(target):

            @functools.wraps(target)
            async def async_wrapper(*args: Any, **kwargs: Any) -> Any:
                with mock_qconnect(faults=self._faults):
                    return await target(*args, **kwargs)

            return async_wrapper  # type: ignore[return-value]

        @functools.wraps(target)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            with mock_qconnect(faults=self._faults):
                return target(*args, **kwargs)

        return wrapper  # type: ignore[return-value]


def _decorate_class(cls: type) -> type:
    """unittest classes: one mock from setUp to the last cleanup, so setUp's data is there in the
    test. Other classes (pytest style): each `test*` method runs in its own mock."""
    if issubclass(cls, unittest.TestCase):
        original_setup = cls.setUp

        @functools.wraps(original_setup)
        def setUp(self: unittest.TestCase) -> None:
            mock = mock_qconnect().start()
            self.addCleanup(mock.stop)
            original_setup(self)

        cls.setUp = setUp  # type: ignore[method-assign]
        return cls
    for name, attr in list(vars(cls).items()):
        if name.startswith("test") and callable(attr) and not inspect.isclass(attr):
            setattr(cls, name, mock_qconnect()(attr))
    return cls


@overload
def mock_qconnect(*, faults: list[dict[str, Any]] | None = None) -> QConnectMock: ...
@overload
def mock_qconnect(target: F) -> F: ...
def mock_qconnect(target: Any = None, *, faults: list[dict[str, Any]] | None = None) -> Any:
    """In-process Amazon Q in Connect for tests: decorator (function or class, with or without
    parentheses, as moto's `@mock_aws`), context manager, or `start()`/`stop()` (e.g. inside a
    pytest fixture). `faults`: fault rules to apply while it runs (docs/unhappy-paths.md)."""
    if target is not None:
        return QConnectMock(faults)(target)
    return QConnectMock(faults)
