"""The `serve` options of the import pipeline (kept here so cli.py needs only two calls)."""

from __future__ import annotations

import argparse

from qconnect_local.config import ImportSettings


def add_arguments(parser: argparse.ArgumentParser) -> None:
    d = ImportSettings()
    group = parser.add_argument_group("uploads and import jobs")
    group.add_argument(
        "--import-mode",
        choices=("async", "manual"),
        default=d.mode,
        help="async: jobs and content text extraction run at once in the background; manual: jobs stay "
        "START_IN_PROGRESS until POST /_qconnect/import-jobs/{id}/run, content CREATE_IN_PROGRESS until "
        "POST /_qconnect/contents/{id}/run",
    )
    group.add_argument(
        "--import-delay",
        type=float,
        default=d.delay_seconds,
        metavar="SECONDS",
        help="async mode: wait this long before running each job or content text extraction",
    )
    group.add_argument(
        "--max-upload-bytes",
        type=int,
        default=d.max_upload_bytes,
        help="largest file a presigned upload URL accepts (default 5 MiB, the service's quota)",
    )
    group.add_argument(
        "--import-max-rows",
        type=int,
        default=d.max_rows,
        metavar="N",
        help="data rows per import file, 0 = no limit (the console allows 100)",
    )
    group.add_argument(
        "--max-import-jobs-in-progress",
        type=int,
        default=d.max_jobs_in_progress,
        metavar="N",
        help="START_IN_PROGRESS import jobs per knowledge base, 0 = no limit",
    )
    group.add_argument(
        "--import-lease",
        type=float,
        default=d.lease_seconds,
        metavar="SECONDS",
        help="how long a runner holds a job between renewals; a crashed runner's job is taken over after this",
    )
    group.add_argument(
        "--url-ttl-cap",
        type=int,
        default=d.url_ttl_cap_seconds,
        metavar="SECONDS",
        help="cap the life of every signed URL (for testing expiry handling)",
    )
    group.add_argument(
        "--upload-grace",
        type=int,
        default=d.upload_grace_seconds,
        metavar="SECONDS",
        help="how long after its URL expired an upload can still be imported",
    )
    group.add_argument(
        "--connect-directory",
        default=d.connect_directory,
        metavar="FILE|aws",
        help="Amazon Connect instances and routing profiles: a JSON file, or 'aws' to ask Amazon Connect through boto3",
    )


def apply_arguments(args: argparse.Namespace, settings) -> None:  # noqa: ANN001 - Settings
    imports = settings.imports
    imports.mode = args.import_mode
    imports.delay_seconds = args.import_delay
    imports.max_upload_bytes = args.max_upload_bytes
    imports.max_rows = args.import_max_rows
    imports.max_jobs_in_progress = args.max_import_jobs_in_progress
    imports.lease_seconds = args.import_lease
    imports.url_ttl_cap_seconds = args.url_ttl_cap
    imports.upload_grace_seconds = args.upload_grace
    imports.connect_directory = args.connect_directory
