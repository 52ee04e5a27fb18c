"""The `qconnect-local` command."""

from __future__ import annotations

import argparse
import contextlib
import logging
import signal
import socket
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from qconnect_local import (
    __version__,
    assistant_options,
    cors,
    envconfig,
    extras,
    hardening,
    init_files,
    message_template_options,
    request_log,
    unhappy,
    webui,
)
from qconnect_local import team as team_options
from qconnect_local.config import Settings
from qconnect_local.importing import options as import_options


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="qconnect-local", description=__doc__)
    parser.add_argument("--version", action="version", version=f"qconnect-local {__version__}")
    parser.set_defaults(root_parser=parser)  # `completion` prints the whole tree
    sub = parser.add_subparsers(dest="command", required=True)
    serve = sub.add_parser("serve", help="run the API server")
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=4580, help="0 picks a free port")
    serve.add_argument("--data-dir", type=Path, default=Path(".qconnect-local"))
    serve.add_argument("--in-memory", action="store_true", help="keep all state in memory")
    serve.add_argument("--account-id", default="000000000000")
    serve.add_argument("--region", default="us-east-1", help="default region (the SigV4 scope wins)")
    serve.add_argument("--max-request-bytes", type=int, default=10 * 1024 * 1024)
    serve.add_argument("--max-knowledge-bases", type=int, default=10, help="quota per account and region")
    serve.add_argument(
        "--max-quick-responses", type=int, default=1000, help="quick responses per knowledge base (quota)"
    )
    serve.add_argument("--log-level", default="warning")
    serve.add_argument(
        "--database-url",
        default=None,
        help="postgresql://... selects the PostgreSQL store (default: $QCONNECT_LOCAL_DATABASE_URL, else SQLite)",
    )
    import_options.add_arguments(serve)
    team_options.add_arguments(serve)
    hardening.add_arguments(serve)
    request_log.add_arguments(serve)
    cors.add_arguments(serve)
    init_files.add_arguments(serve)
    assistant_options.add_arguments(serve)
    webui.add_arguments(serve)
    unhappy.add_arguments(serve)
    message_template_options.add_arguments(serve)
    from qconnect_local import worker

    worker.register(sub)
    worker.register_migrate(sub)
    envconfig.install(serve)
    envconfig.install(sub.choices["worker"])
    from qconnect_local import commands  # validate, import, export, template, kb

    commands.register(sub)
    return parser


def settings_from_args(args: argparse.Namespace) -> Settings:
    args = envconfig.resolve(args)  # idempotent: main() has already resolved the environment
    settings = Settings(
        host=args.host,
        port=args.port,
        data_dir=args.data_dir,
        in_memory=args.in_memory,
        account_id=args.account_id,
        region=args.region,
        max_request_bytes=args.max_request_bytes,
        log_level=args.log_level,
    )
    settings.quotas.knowledge_bases = args.max_knowledge_bases
    settings.quotas.quick_responses_per_knowledge_base = args.max_quick_responses
    if getattr(args, "database_url", None):
        settings.database_url = args.database_url
    import_options.apply_arguments(args, settings)
    team_options.apply_arguments(args, settings)
    if hasattr(args, "admin_token"):  # `serve` only
        hardening.apply_arguments(args, settings)
    elif hasattr(args, "lock_timeout"):  # `worker`
        hardening.apply_lock_timeout(args, settings)
    request_log.apply_arguments(args, settings)
    cors.apply_arguments(args, settings)
    init_files.apply_arguments(args, settings)
    assistant_options.apply_arguments(args, settings)
    webui.apply_arguments(args, settings)
    message_template_options.apply_arguments(args, settings)
    if args.command == "serve":
        unhappy.apply_arguments(args, settings)
    return settings


def _server_class():
    import uvicorn

    class Server(uvicorn.Server):
        """uvicorn's server, but SIGINT/SIGTERM end it with exit status 0 after a graceful
        shutdown (uvicorn re-raises the signal, which makes the exit status -15). `on_stop` runs
        at the signal, before uvicorn waits for requests in flight (it releases requests that
        wait on background work: the search vocabulary's load)."""

        on_stop: Any = None
        should_exit: bool
        force_exit: bool

        @contextlib.contextmanager
        def capture_signals(self) -> Iterator[None]:
            def stop(signum: int, frame: Any) -> None:
                if self.should_exit:
                    self.force_exit = True
                self.should_exit = True
                if self.on_stop is not None:
                    on_stop, self.on_stop = self.on_stop, None
                    on_stop()

            previous = {sig: signal.signal(sig, stop) for sig in (signal.SIGINT, signal.SIGTERM)}
            try:
                yield
            finally:
                for sig, handler in previous.items():
                    signal.signal(sig, handler)

    return Server


def serve(settings: Settings) -> int:
    import uvicorn

    from qconnect_local.protocol.limits import uvicorn_options
    from qconnect_local.server import build_app

    logging.basicConfig(level=settings.log_level.upper(), format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    try:
        app = build_app(settings)
    except ConnectionError as exc:  # an unreachable PostgreSQL: one line, no traceback
        print(f"qconnect-local: {exc}", file=sys.stderr)
        return 1
    try:
        for line in init_files.seed(app, settings.init_files):
            print(f"qconnect-local: {line}", flush=True)
    except init_files.InitError as exc:
        print(f"qconnect-local: {exc}", file=sys.stderr)
        app.close()
        return 1
    sock = socket.socket(socket.AF_INET6 if ":" in settings.host else socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((settings.host, settings.port))
    except OSError as exc:
        print(f"qconnect-local: cannot listen on {settings.host}:{settings.port}: {exc}", file=sys.stderr)
        app.close()
        return 1
    sock.listen(2048)  # before the line below: a harness may connect as soon as it reads it
    port = sock.getsockname()[1]
    where = "in memory" if settings.in_memory else f"data dir {settings.data_dir}"
    print(f"qconnect-local listening on http://{settings.host}:{port} ({app.store.kind}, {where})", flush=True)
    config = uvicorn.Config(
        app,
        log_level=settings.log_level,
        access_log=False,
        lifespan="on",
        loop="uvloop",
        timeout_graceful_shutdown=5,
        **uvicorn_options(settings.hardening),  # header size and time, connection count
    )
    server = _server_class()(config)
    server.on_stop = app.store.stop_background_work
    server.run(sockets=[sock])
    return 0


def main(argv: list[str] | None = None) -> int:
    args = envconfig.resolve(build_parser().parse_args(argv))
    if args.command in ("serve", "worker", "migrate"):
        missing = extras.missing_for(args)  # before anything imports the driver
        if missing:
            print(f"qconnect-local: {missing}", file=sys.stderr)
            return 1
    if args.command == "serve":
        return serve(settings_from_args(args))
    if args.command == "worker":
        from qconnect_local import worker

        return worker.run(settings_from_args(args))
    if args.command == "migrate":
        from qconnect_local import worker

        return worker.migrate(args)
    from qconnect_local import commands

    return commands.run(args)
