"""The README's dev-experience examples run as they are written, so the README cannot drift.

Code blocks of the `<!-- section: dev-experience -->` section: a ```python block is a script
(run against the suite's server through AWS_ENDPOINT_URL_QCONNECT, or in-process if it uses the
mock); a ```python FILENAME block is a pytest file run in a throw-away project; a ```bash block
runs with `set -e` in a temporary directory against the suite's server.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

README = Path(__file__).resolve().parent.parent / "README.md"
_BLOCK = re.compile(r"^```(\w+)[ \t]*([^\n`]*)\n(.*?)^```", re.S | re.M)


def section_blocks() -> list[tuple[str, str, str]]:
    text = README.read_text(encoding="utf-8")
    start = text.index("<!-- section: dev-experience -->")
    end = text.find("<!-- section:", start + 1)
    return [
        (m.group(1), m.group(2).strip(), m.group(3)) for m in _BLOCK.finditer(text[start : end if end > 0 else None])
    ]


def blocks(language: str, named: bool) -> list[tuple[str, str]]:
    return [(name, code) for lang, name, code in section_blocks() if lang == language and bool(name) == named]


def environment(endpoint: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    env.update(
        AWS_ENDPOINT_URL_QCONNECT=endpoint,
        AWS_ACCESS_KEY_ID="testing",
        AWS_SECRET_ACCESS_KEY="testing",
        AWS_DEFAULT_REGION="us-east-1",
        PATH=f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}",
    )
    return env


def test_the_section_has_an_example_of_each_way_of_use() -> None:
    assert len(blocks("python", named=False)) >= 2
    assert len(blocks("python", named=True)) >= 1
    assert len(blocks("bash", named=False)) >= 1


@pytest.mark.parametrize("index", range(len(blocks("python", named=False))))
def test_python_examples(index: int, endpoint: str, tmp_path: Path) -> None:
    _, code = blocks("python", named=False)[index]
    script = tmp_path / "example.py"
    script.write_text(code, encoding="utf-8")
    done = subprocess.run(
        [sys.executable, str(script)],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=tmp_path,
        env=environment(endpoint),
    )
    assert done.returncode == 0, done.stderr


@pytest.mark.slow
@pytest.mark.parametrize("index", range(len(blocks("python", named=True))))
def test_pytest_examples(index: int, pytester: pytest.Pytester) -> None:
    name, code = blocks("python", named=True)[index]
    pytester.path.joinpath(name).write_text(code, encoding="utf-8")
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider", "-q")
    assert result.ret == 0, result.stdout.str()
    result.stdout.fnmatch_lines(["* passed*"])


@pytest.mark.slow
@pytest.mark.parametrize("index", range(len(blocks("bash", named=False))))
def test_command_line_examples(index: int, endpoint: str, tmp_path: Path) -> None:
    _, code = blocks("bash", named=False)[index]
    done = subprocess.run(
        ["bash", "-euo", "pipefail", "-c", code],
        capture_output=True,
        text=True,
        timeout=180,
        cwd=tmp_path,
        env=environment(endpoint),
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert (tmp_path / "backup.csv").exists() or "backup.csv" not in code
