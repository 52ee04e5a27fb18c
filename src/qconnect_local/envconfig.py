"""Configuration by environment: every option of `serve` and `worker` can also be set as
`QCONNECT_LOCAL_<OPTION>` (`--max-upload-bytes` -> `QCONNECT_LOCAL_MAX_UPLOAD_BYTES`).

Generated from the argparse actions, so an option added anywhere gets it without further code.
The flag wins over the variable, the variable over the option's default. Each option's help
names its variable. Values are converted and checked as the flag's would be (type, choices); an
on/off flag takes 1/true/yes/on or 0/false/no/off; a repeatable option takes a comma-separated
list. An empty variable counts as unset.
"""

from __future__ import annotations

import argparse
import os
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

PREFIX = "QCONNECT_LOCAL_"
_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off"}
_BESIDE = "_envconfig_"  # namespace attribute that carries a repeatable option's sentinel


@dataclass(frozen=True)
class _Unset:
    """The parsed value of an option that was not given on the command line (resolved later)."""

    parser: argparse.ArgumentParser
    action: argparse.Action
    variable: str
    default: Any


def variable_name(action: argparse.Action) -> str:
    long = next((s for s in action.option_strings if s.startswith("--")), action.option_strings[0])
    return PREFIX + long.lstrip("-").replace("-", "_").upper()


def configurable(parser: argparse.ArgumentParser) -> list[argparse.Action]:
    """The options of `parser` that a variable can set."""
    return [
        a
        for a in parser._actions
        if a.option_strings and not isinstance(a, argparse._HelpAction | argparse._VersionAction)
    ]


def install(parser: argparse.ArgumentParser) -> None:
    """Makes every option of `parser` settable by environment and names the variable in --help."""
    for action in configurable(parser):
        variable = variable_name(action)
        unset = _Unset(parser, action, variable, action.default)
        if isinstance(action, argparse._AppendAction | argparse._ExtendAction):
            # argparse appends flags to the default: it stays None, the sentinel rides beside it.
            action.default = None
            parser.set_defaults(**{_BESIDE + action.dest: unset})
        else:
            action.default = unset
        if action.help is not argparse.SUPPRESS:
            action.help = f"{action.help or ''} [env: {variable}]".strip()
    parser.epilog = (
        parser.epilog + "\n\n" if parser.epilog else ""
    ) + f"Every option can also be set as {PREFIX}<OPTION> in the environment; the flag wins."


def resolve(args: argparse.Namespace, environ: Mapping[str, str] | None = None) -> argparse.Namespace:
    """Replaces what the command line left unset by the variable's value, else the default."""
    environ = os.environ if environ is None else environ
    for dest, value in list(vars(args).items()):
        if dest.startswith(_BESIDE):
            delattr(args, dest)
            dest = dest[len(_BESIDE) :]
            if getattr(args, dest, None) is not None:  # given on the command line
                continue
        if isinstance(value, _Unset):
            raw = environ.get(value.variable, "")
            setattr(args, dest, _convert(value, raw) if raw != "" else value.default)
    return args


def _convert(unset: _Unset, raw: str) -> Any:
    action = unset.action
    if isinstance(action, argparse._StoreTrueAction | argparse._StoreFalseAction):
        word = raw.strip().lower()
        if word not in _TRUE | _FALSE:
            _fail(unset, raw, "expected one of 1/true/yes/on or 0/false/no/off")
        return (word in _TRUE) == isinstance(action, argparse._StoreTrueAction)
    if isinstance(action, argparse._AppendAction) or action.nargs in ("*", "+"):
        return [_one(unset, item.strip()) for item in raw.split(",") if item.strip()]
    return _one(unset, raw)


def _one(unset: _Unset, raw: str) -> Any:
    action = unset.action
    try:
        value = action.type(raw) if callable(action.type) else raw
    except (TypeError, ValueError, argparse.ArgumentTypeError) as exc:
        _fail(unset, raw, str(exc) or "not a valid value")
    if action.choices is not None and value not in action.choices:
        _fail(unset, raw, "choose from " + ", ".join(map(str, action.choices)))
    return value


def _fail(unset: _Unset, raw: str, why: str) -> None:
    unset.parser.error(f"{unset.variable}={raw!r}: {why}")
