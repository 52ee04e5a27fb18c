"""The client-side subcommands of `qconnect-local` (everything except `serve`).

Each module registers its parser and sets `handler` (args -> exit status); `run` calls it and
turns a `CommandError` into one line on stderr.
"""

from __future__ import annotations

import argparse
from typing import Any

from qconnect_local.commands import export, importer, kb, template, templates, validate
from qconnect_local.commands.common import EXIT_FAILED, CommandError, error

_MODULES = (validate, importer, export, template, templates, kb)


def register(sub: Any) -> None:
    for module in _MODULES:
        module.register(sub)


def run(args: argparse.Namespace) -> int:
    try:
        return args.handler(args)
    except CommandError as exc:
        error(str(exc))
        return exc.status
    except KeyboardInterrupt:
        error("interrupted")
        return 130
    except BrokenPipeError:  # `qconnect-local export ... | head`
        return EXIT_FAILED
