"""`qconnect-local worker`: the import runner alone, with no HTTP, against the database and blob
store that the API servers share (PostgreSQL and S3 for a team; the SQLite file and blob
directory of one data dir also work, for workers on the same machine).

Run any number of them beside `serve --no-worker` processes. Each claims jobs in one statement
(`UPDATE ... WHERE seq = (SELECT ... FOR UPDATE SKIP LOCKED)` on PostgreSQL), holds a lease that
it renews while it works (the heartbeat), and lands a job only if it still holds the lease. A
worker that dies mid-job (even `kill -9`) leaves nothing behind (a job lands in one transaction);
once its lease runs out another worker claims the job and imports every row exactly once.
SIGTERM/SIGINT give the current job back unfinished, claimable at once by another worker.
"""

from __future__ import annotations

import argparse
import logging
import signal
import sys
import threading
import time
from pathlib import Path
from typing import Any

from qconnect_local.hardening import add_lock_timeout_argument
from qconnect_local.importing import options as import_options
from qconnect_local.importing.runner import IDLE_POLL_SECONDS, ImportRunner
from qconnect_local.services import build_services
from qconnect_local.storage import open_store
from qconnect_local.team import add_arguments as add_team_arguments

log = logging.getLogger("qconnect_local.worker")

# How long a stopping worker waits for a job that is landing (its transaction) to finish.
STOP_TIMEOUT_SECONDS = 60.0


def register(sub: Any) -> None:
    """Adds the `worker` subcommand (its settings mean what they mean for `serve`)."""
    p: argparse.ArgumentParser = sub.add_parser(
        "worker", help="run import jobs for API servers started with --no-worker (no HTTP)"
    )
    p.add_argument(
        "--data-dir",
        type=Path,
        default=Path(".qconnect-local"),
        help="SQLite file and blobs when no --database-url/--blob-url; temporary files",
    )
    p.add_argument("--account-id", default="000000000000")
    p.add_argument("--region", default="us-east-1")
    p.add_argument(
        "--max-quick-responses",
        type=int,
        default=1000,
        help="quick responses per knowledge base (must match the servers')",
    )
    p.add_argument("--log-level", default="warning")
    import_options.add_arguments(p)
    add_team_arguments(p, worker=True)
    add_lock_timeout_argument(p)
    # What cli.settings_from_args reads that means nothing to a worker.
    p.set_defaults(
        host="127.0.0.1", port=0, in_memory=False, max_request_bytes=10 * 1024 * 1024, max_knowledge_bases=10
    )


def register_migrate(sub: Any) -> None:
    """Adds the `migrate` subcommand: apply pending schema migrations, then exit."""
    p: argparse.ArgumentParser = sub.add_parser(
        "migrate",
        help="apply pending schema migrations to the database and exit (servers and workers also do it at start-up)",
    )
    p.add_argument(
        "--data-dir",
        type=Path,
        default=Path(".qconnect-local"),
        help="the SQLite file's data dir when no --database-url",
    )
    p.add_argument(
        "--database-url",
        default=None,
        help="postgresql://... (default: $QCONNECT_LOCAL_DATABASE_URL, else the SQLite file)",
    )


def migrate(args: argparse.Namespace) -> int:
    from qconnect_local.config import Settings

    settings = Settings(data_dir=args.data_dir)
    if args.database_url:
        settings.database_url = args.database_url
    settings.prepare()
    try:
        store = open_store(settings.database)  # migrates under the store's lock
    except ConnectionError as exc:
        print(f"qconnect-local migrate: {exc}", file=sys.stderr)
        return 1
    versions = [v for v, _ in store.migrations()]
    store.close()
    print(f"qconnect-local: {store.kind} schema is at version {max(versions)} ({len(versions)} steps)")
    return 0


class WorkerRunner(ImportRunner):
    """The import runner, claiming with one statement (SKIP LOCKED on PostgreSQL), so many
    workers polling at once each get a different job and never wait on one another."""

    def run_next_import(self) -> float | None:
        now = time.time()
        lease = self.settings.imports.lease_seconds
        with self.store.write() as session:
            job, soonest = session.claim_next_import_job(self.owner, now, now + lease)
        if job is None:
            return soonest if soonest is not None else now + IDLE_POLL_SECONDS
        self._run(job)
        return None


def run(settings: Any) -> int:
    logging.basicConfig(level=settings.log_level.upper(), format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    try:
        services = build_services(settings, runner_class=WorkerRunner)
    except ConnectionError as exc:
        print(f"qconnect-local worker: {exc}", file=sys.stderr)
        return 1
    store, runner = services.store, services.runner

    stopping = threading.Event()

    def stop(signum: int, frame: Any) -> None:
        stopping.set()

    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, stop)
    runner.start()
    print(
        f"qconnect-local worker {runner.owner} running ({store.kind}, blobs: {settings.blob_url or 'data dir'})",
        flush=True,
    )
    while not stopping.wait(1.0):
        pass
    runner.stop(timeout=STOP_TIMEOUT_SECONDS)
    services.blobs.close()
    store.close()
    return 0
