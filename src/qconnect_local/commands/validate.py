"""`qconnect-local validate FILE.csv`: checks an import CSV offline with the import job's rules.

Prints a table of the failed rows (line, column, code, message) and a summary; `--report FILE`
writes the failed-record report exactly as the import job would; exit status 1 when any row (or
the file) fails, 0 when every row passes, 2 for bad arguments or a missing file.

What cannot be known offline and is therefore not checked: clashes with quick responses already
in the target knowledge base (the import reports those), the knowledge base's quota (unless
`--max-quick-responses` is given), and routing-profile names unless `--connect-directory` says
which names the Connect instance has.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from typing import Any

from qconnect_local.commands.common import EXIT_FAILED, EXIT_OK, EXIT_USAGE, CommandError
from qconnect_local.config import ImportSettings
from qconnect_local.console.table import print_table


def register(sub: Any) -> None:
    parser = sub.add_parser("validate", help="check an import CSV offline, with the import job's rules")
    parser.add_argument("file", metavar="FILE.csv")
    add_directory_args(parser)
    parser.add_argument("--report", default=None, metavar="OUT.csv", help="write the failed-record report here")
    parser.add_argument(
        "--max-quick-responses",
        type=int,
        default=None,
        metavar="N",
        help="also check the per-knowledge-base quota (rows beyond N fail)",
    )
    parser.add_argument(
        "--max-upload-bytes",
        type=int,
        default=ImportSettings().max_upload_bytes,
        metavar="N",
        help="largest file the server's upload takes, as `serve --max-upload-bytes` (default 5 MiB); 0 = no check",
    )
    parser.add_argument("--show", type=int, default=50, metavar="N", help="failed rows to list (default 50)")
    parser.add_argument(
        "--workers", type=int, default=None, help="processes for large files (default: CPUs, at most 4)"
    )
    parser.set_defaults(handler=validate_command)


def add_directory_args(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--connect-directory",
        default=None,
        metavar="FILE.json|aws",
        help="routing profiles of the Connect instance(s), as for `serve --connect-directory`",
    )
    parser.add_argument(
        "--instance-id", default=None, help="the Amazon Connect instance whose routing profiles the file names"
    )


def load_routing_profiles(args: argparse.Namespace) -> dict[str, str] | None:
    """name -> ARN of the instance the file refers to, or None when no directory was given."""
    from qconnect_local.commands.validation import ACCOUNT, REGION
    from qconnect_local.importing.routing_profiles import (
        AWS,
        AmazonConnectDirectory,
        DirectoryError,
        load_directory_file,
    )

    if args.connect_directory is None:
        return None
    try:
        if args.connect_directory == AWS:
            if not args.instance_id:
                raise CommandError("--connect-directory aws needs --instance-id", EXIT_USAGE)
            region = (
                getattr(args, "region", None)
                or os.environ.get("AWS_REGION")
                or os.environ.get("AWS_DEFAULT_REGION")
                or REGION
            )
            return AmazonConnectDirectory().profiles(ACCOUNT, region, args.instance_id)
        instances = load_directory_file(args.connect_directory, ACCOUNT, REGION)
    except DirectoryError as exc:
        raise CommandError(str(exc), EXIT_USAGE) from None
    if args.instance_id is None:
        if len(instances) != 1:
            raise CommandError(
                f"{args.connect_directory} has {len(instances)} instances: choose one with --instance-id", EXIT_USAGE
            )
        args.instance_id = next(iter(instances))
    if args.instance_id not in instances:
        raise CommandError(f"instance {args.instance_id} is not in {args.connect_directory}", EXIT_USAGE)
    return instances[args.instance_id]


def check_file(args: argparse.Namespace, report_path: str | None = None, workers: int | None = None) -> Any:
    """Runs the validator on args.file; returns its Result."""
    from qconnect_local.commands.validation import Validator

    if not os.path.isfile(args.file):
        raise CommandError(f"{args.file}: no such file", EXIT_USAGE)
    limit = getattr(args, "max_upload_bytes", None)
    size = os.path.getsize(args.file)
    if limit and size > limit:
        return too_large(size, limit, report_path)
    validator = Validator(
        load_routing_profiles(args),
        args.instance_id,
        getattr(args, "max_quick_responses", None),
        keep_errors=max(getattr(args, "show", 50), 0),
    )
    if report_path is None:
        return validator.run(args.file, workers=workers)
    try:
        with open(report_path, "w+b") as report:
            return validator.run(args.file, report, workers=workers)
    except OSError as exc:
        raise CommandError(f"cannot write {report_path}: {exc.strerror}") from None


def too_large(size: int, limit: int, report_path: str | None) -> Any:
    """The result for a file that the upload would refuse (EntityTooLarge)."""
    from qconnect_local.commands.validation import Result
    from qconnect_local.importing.report import write_file_problem

    problem = (
        f"EntityTooLarge: the file is {size} bytes, an upload takes at most {limit} bytes "
        "(the server's --max-upload-bytes; check against another limit with --max-upload-bytes N)"
    )
    if report_path is not None:
        try:
            with open(report_path, "wb") as report:
                write_file_problem(report, problem)
        except OSError as exc:
            raise CommandError(f"cannot write {report_path}: {exc.strerror}") from None
    return Result(file_problem=problem)


def print_errors(result: Any, shown: int, out: Any = None) -> None:
    out = out or sys.stdout
    if result.file_problem:
        out.write(f"The file cannot be imported: {result.file_problem}\n")
        return
    if result.errors and shown > 0:
        print_table(
            ("LINE", "COLUMN", "CODE", "MESSAGE"),
            [(e.line, e.column, e.code, e.message) for e in result.errors[:shown]],
            out,
            max_width=200,
        )
        if result.failed > shown:
            out.write(f"... and {result.failed - shown} more failed rows\n")


def summary(result: Any, seconds: float | None = None) -> str:
    if result.file_problem:
        return "0 rows checked: the file cannot be used"
    text = f"{result.rows} rows: {result.good} valid, {result.failed} failed"
    if seconds is not None:
        text += f" ({seconds:.1f} s)"
    if not result.routing_profiles_checked:
        text += "; routing-profile names not checked (--instance-id without --connect-directory)"
    return text


def validate_command(args: argparse.Namespace) -> int:
    started = time.monotonic()
    result = check_file(args, args.report, args.workers)
    print_errors(result, args.show)
    print(summary(result, time.monotonic() - started))
    if args.report and not result.ok:
        print(f"failed-record report written to {args.report}")
    return EXIT_OK if result.ok else EXIT_FAILED
