"""Configuration by environment, generated from the `serve` and `worker` option tables: every
option is settable as QCONNECT_LOCAL_<OPTION>, the flag wins, --help names the variable."""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import botocore.exceptions
import pytest

from qconnect_local import cli, envconfig
from support import ServerProcess

CLI = str(Path(sys.executable).parent / "qconnect-local")


def _subparser(name: str) -> argparse.ArgumentParser:
    parser = cli.build_parser()
    sub = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    return sub.choices[name]


def _options(command: str) -> list[tuple[str, argparse.Action]]:
    return [(command, a) for a in envconfig.configurable(_subparser(command))]


ALL_OPTIONS = _options("serve") + _options("worker")


def _has_invalid_value(action: argparse.Action) -> bool:
    """Numbers, choices and flags refuse some text; a text option takes any."""
    return action.type in (int, float) or bool(action.choices) or isinstance(action, argparse._StoreConstAction)


CHECKED_OPTIONS = [(command, action) for command, action in ALL_OPTIONS if _has_invalid_value(action)]


def _values(action: argparse.Action) -> tuple[str, Any, str, Any]:
    """(variable text, its parsed value, a different flag text, its parsed value)."""
    default = action.default.default if isinstance(action.default, envconfig._Unset) else action.default
    if isinstance(action, argparse._StoreConstAction):  # store_true and the like: the flag alone
        return "true", action.const, "", action.const
    if action.choices:
        others = [c for c in action.choices if c != default]
        return (
            str(others[0]),
            others[0],
            str(action.choices[0]) if len(others) < 2 else str(others[1]),
            (action.choices[0] if len(others) < 2 else others[1]),
        )
    if action.type is int:
        return "7", 7, "9", 9
    if action.type is float:
        return "2.5", 2.5, "3.5", 3.5
    if action.type is Path:
        return "/tmp/from-env", Path("/tmp/from-env"), "/tmp/from-flag", Path("/tmp/from-flag")
    if action.type not in (None, str):
        pytest.skip(f"{action.dest}: a type of its own ({action.type}); this table knows int, float, Path and text")
    if isinstance(action, argparse._AppendAction):
        return "a,b", ["a", "b"], "c", ["c"]
    return "from-env", "from-env", "from-flag", "from-flag"


def _parse(argv: list[str], env: dict[str, str], monkeypatch: pytest.MonkeyPatch) -> argparse.Namespace:
    for key in list(os.environ):
        if key.startswith(envconfig.PREFIX):
            monkeypatch.delenv(key)
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    return envconfig.resolve(cli.build_parser().parse_args(argv))


@pytest.mark.parametrize(("command", "action"), ALL_OPTIONS, ids=lambda v: v if isinstance(v, str) else v.dest)
def test_every_option_is_settable_by_environment(
    command: str, action: argparse.Action, monkeypatch: pytest.MonkeyPatch
) -> None:
    variable = envconfig.variable_name(action)
    env_text, env_value, flag_text, flag_value = _values(action)
    flag = action.option_strings[-1]

    default = getattr(_parse([command], {}, monkeypatch), action.dest)
    assert not isinstance(default, envconfig._Unset)
    assert getattr(_parse([command], {variable: env_text}, monkeypatch), action.dest) == env_value
    assert env_value != default
    flag_args = [flag] if isinstance(action, argparse._StoreConstAction) else [flag, flag_text]
    assert getattr(_parse([command, *flag_args], {variable: env_text}, monkeypatch), action.dest) == flag_value
    # --help names the variable
    assert variable in _subparser(command).format_help().replace("\n", " ").replace("  ", " ") or variable in (
        action.help or ""
    )


@pytest.mark.parametrize(("command", "action"), CHECKED_OPTIONS, ids=lambda v: v if isinstance(v, str) else v.dest)
def test_a_bad_value_is_a_usage_error_naming_the_variable(command: str, action: argparse.Action) -> None:
    variable = envconfig.variable_name(action)
    env = {k: v for k, v in os.environ.items() if not k.startswith(envconfig.PREFIX)}
    result = subprocess.run([CLI, command], env={**env, variable: "not-valid"}, capture_output=True, text=True)
    assert result.returncode == 2
    assert f"{variable}='not-valid'" in result.stderr.splitlines()[-1]
    assert "Traceback" not in result.stderr


def test_only_text_options_go_without_a_bad_value_case() -> None:
    # An option of a type of its own (a parser function) would otherwise lose its case silently.
    left_out = [a for _, a in ALL_OPTIONS if not _has_invalid_value(a)]
    assert all(a.type in (None, str, Path) for a in left_out), [a.dest for a in left_out]
    assert CHECKED_OPTIONS and left_out


def test_help_lists_the_variables() -> None:
    result = subprocess.run([CLI, "serve", "--help"], capture_output=True, text=True)
    text = " ".join(result.stdout.split())
    for _, action in _options("serve"):
        assert f"[env: {envconfig.variable_name(action)}]" in text


def test_a_real_server_takes_its_quota_from_the_environment() -> None:
    server = ServerProcess(env={"QCONNECT_LOCAL_MAX_KNOWLEDGE_BASES": "1"}).start()
    try:
        client = server.client()
        client.create_knowledge_base(name="one", knowledgeBaseType="QUICK_RESPONSES")
        with pytest.raises(botocore.exceptions.ClientError) as caught:
            client.create_knowledge_base(name="two", knowledgeBaseType="QUICK_RESPONSES")
        assert caught.value.response["Error"]["Code"] == "ServiceQuotaExceededException"
    finally:
        server.stop()
