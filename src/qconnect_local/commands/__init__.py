"""The client-side subcommands of `qconnect-local` (everything except `serve`, `worker`, `migrate`).

Each module registers its parser and sets `handler` (args -> exit status); `run` calls it and
turns a `CommandError` into one line on stderr.
"""

from __future__ import annotations

import argparse
from typing import Any

from qconnect_local.commands import (
    completion,
    export,
    importer,
    jobs,
    kb,
    qr,
    reset,
    template,
    templates,
    validate,
)
from qconnect_local.commands.common import EXIT_FAILED, CommandError, error, service_errors

_MODULES = (validate, importer, export, template, templates, kb, qr, jobs, reset, completion)


def register(sub: Any) -> None:
    for module in _MODULES:
        module.register(sub)


def run(args: argparse.Namespace) -> int:
    try:
        with service_errors():  # a botocore error anywhere in a command is one line too
            return args.handler(args)
    except CommandError as exc:
        error(str(exc))
        return exc.status
    except KeyboardInterrupt:
        error("interrupted")
        return 130
    except BrokenPipeError:  # `qconnect-local export ... | head`
        return EXIT_FAILED
    except OSError as exc:  # a file that cannot be read or written, a network failure
        error(f"{exc.strerror or exc}" + (f": {exc.filename}" if getattr(exc, "filename", None) else ""))
        return EXIT_FAILED
