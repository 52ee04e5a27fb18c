"""Command-line options for running it for a team: shared blob storage and where the
import runner runs. Kept here so cli.py needs only two calls, as for the import options."""

from __future__ import annotations

import argparse


def add_arguments(parser: argparse.ArgumentParser, worker: bool = False) -> None:
    group = parser.add_argument_group("running it for a team")
    if worker:  # `serve` has its own --database-url
        group.add_argument(
            "--database-url",
            default=None,
            help="postgresql://... selects the PostgreSQL store, shared by every server and worker "
            "(default: $QCONNECT_LOCAL_DATABASE_URL, else the SQLite file in the data dir)",
        )
    group.add_argument(
        "--blob-url",
        default=None,
        metavar="s3://BUCKET/PREFIX",
        help="keep uploads and reports in an S3-compatible bucket (default: $QCONNECT_LOCAL_BLOB_URL, "
        "else the data dir); region and credentials come from the usual AWS settings",
    )
    group.add_argument(
        "--s3-endpoint-url",
        default=None,
        metavar="URL",
        help="an S3-compatible server other than AWS (MinIO, moto, ...); default: $QCONNECT_LOCAL_S3_ENDPOINT_URL",
    )
    if not worker:
        group.add_argument(
            "--no-worker",
            action="store_true",
            help="serve the API only; import jobs are run by `qconnect-local worker` processes",
        )


def apply_arguments(args: argparse.Namespace, settings) -> None:  # noqa: ANN001 - Settings
    if getattr(args, "database_url", None):
        settings.database_url = args.database_url
    if args.blob_url:
        settings.blob_url = args.blob_url
    if args.s3_endpoint_url:
        settings.s3_endpoint_url = args.s3_endpoint_url
    if settings.blob_url and not settings.blob_url.startswith("s3://"):
        raise SystemExit(f"qconnect-local: --blob-url must be s3://bucket/prefix, not {settings.blob_url!r}")
    if getattr(args, "no_worker", False):
        settings.run_import_runner = False
