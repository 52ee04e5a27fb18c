"""Time of `qconnect-local validate` on a large generated CSV, beside the floor of merely parsing
the same file with csv.reader, measured in the same run.

    .venv/bin/python bench/validate_speed.py                 # full: 1,000,000 rows (~410 MB)
    .venv/bin/python bench/validate_speed.py --rows 100000   # quick look

Goal: a 1,000,000-row file in under 15 s. The file (seed 42) has the columns of the
performance floors' data set: unique names and shortcut keys, ~300-character quoted content,
channels "Chat|Email", language en_US; every row valid, so the whole pipeline runs to the end.
"""

from __future__ import annotations

import argparse
import csv
import io
import os
import random
import subprocess
import sys
import tempfile
import time
from pathlib import Path


def generate(path: Path, rows: int) -> None:
    r = random.Random(42)
    words = ["".join(r.choice("abcdefghijklmnopqrstuvwxyz") for _ in range(r.randint(2, 9))) for _ in range(2000)]
    with path.open("w", newline="", encoding="utf-8") as f:
        w = csv.writer(f)
        w.writerow(["Name", "Content", "Content type", "Description", "Shortcut key", "Channels", "Language"])
        for i in range(rows):
            content = " ".join(r.choice(words) for _ in range(45)) + ', "quoted".'
            w.writerow(
                [
                    f"{r.choice(words)}-{r.choice(words)}-{i:07d}",
                    content,
                    "plain",
                    " ".join(r.choice(words) for _ in range(7)),
                    f"k{i:07d}",
                    "Chat|Email",
                    "en_US",
                ]
            )


def parse_floor(path: Path) -> float:
    started = time.perf_counter()
    with path.open("rb") as f:
        for _ in csv.reader(io.TextIOWrapper(f, encoding="utf-8-sig", newline="")):
            pass
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--keep", type=Path, default=None, help="generate into / reuse this file")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        path = args.keep or Path(tmp) / "qr.csv"
        if not path.exists():
            started = time.perf_counter()
            generate(path, args.rows)
            print(
                f"generated {args.rows} rows, {path.stat().st_size / 1e6:.0f} MB in {time.perf_counter() - started:.1f} s"
            )
        floor = parse_floor(path)
        cli = str(Path(sys.executable).parent / "qconnect-local")
        started = time.perf_counter()
        done = subprocess.run([cli, "validate", str(path)], capture_output=True, text=True)
        took = time.perf_counter() - started
        print(done.stdout.strip().splitlines()[-1] if done.stdout.strip() else done.stderr)
        print(f"csv.reader parse only: {floor:6.2f} s")
        print(
            f"qconnect-local validate: {took:6.2f} s  (exit {done.returncode}; {took / floor:.2f}x the parse floor; "
            f"{os.cpu_count()} CPUs; goal < 15 s for 1,000,000 rows)"
        )


if __name__ == "__main__":
    main()
