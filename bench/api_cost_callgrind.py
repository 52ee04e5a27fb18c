"""Instructions per request the server executes for each operation of bench/api_throughput.py,
and for the bare ASGI floor (bench/floor_app.py), counted by callgrind: figures that the load of
other processes on the machine does not disturb (api_throughput.py gives wall-clock throughput).

    python bench/api_cost_callgrind.py [--seconds 8] [--quick-responses 200]

Needs valgrind and wrk. Each server runs under callgrind; its counters are zeroed after a warm-up
and dumped after each operation's wrk run at concurrency 16.
"""

from __future__ import annotations

import argparse
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import boto3

sys.path.insert(0, str(Path(__file__).resolve().parent))
from api_throughput import SEARCH_LUA, free_port, load_quick_responses, signed_authorization, wait_http  # noqa: E402

BENCH = Path(__file__).resolve().parent


def under_callgrind(out: Path, *cmd: str) -> subprocess.Popen:
    return subprocess.Popen(
        ["valgrind", "--tool=callgrind", f"--callgrind-out-file={out}", *cmd],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


def total_instructions(dump: Path) -> int:
    out = subprocess.run(["callgrind_annotate", str(dump)], capture_output=True, text=True).stdout
    line = next(line for line in out.splitlines() if "PROGRAM TOTALS" in line)
    return int(line.split()[0].replace(",", ""))


def wrk_requests(url: str, seconds: int, script: str | None) -> int:
    auth = signed_authorization(url, "wisdom")
    extra = ["-s", script] if script else []
    out = subprocess.run(
        ["wrk", "-t1", "-c16", f"-d{seconds}s", "-H", f"Authorization: {auth}", *extra, url],
        capture_output=True,
        text=True,
        timeout=seconds + 60,
    ).stdout
    if "Non-2xx" in out:
        raise RuntimeError(f"non-2xx answers from {url}:\n{out}")
    return int(re.search(r"(\d+) requests in", out).group(1))


def per_request(pid: int, dump_base: Path, n_dump: int, url: str, seconds: int, script: str | None) -> int:
    wrk_requests(url, 2, script)  # warm-up, not counted
    subprocess.run(["callgrind_control", "-z", str(pid)], capture_output=True, check=True)
    n = wrk_requests(url, seconds, script)
    subprocess.run(["callgrind_control", "-d", str(pid)], capture_output=True, check=True)
    return total_instructions(Path(f"{dump_base}.{n_dump}")) // n


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=int, default=8)
    parser.add_argument("--quick-responses", type=int, default=200)
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="qcl-cg-"))
    procs = []
    try:
        port = free_port()
        floor = under_callgrind(work / "cg.floor", sys.executable, str(BENCH / "floor_app.py"), str(port))
        procs.append(floor)
        floor_url = f"http://127.0.0.1:{port}"
        port = free_port()
        ours = under_callgrind(
            work / "cg.ours",
            sys.executable,
            "-m",
            "qconnect_local",
            "serve",
            "--port",
            str(port),
            "--data-dir",
            str(work / "data"),
        )
        procs.append(ours)
        url = f"http://127.0.0.1:{port}"
        wait_http(floor_url + "/", timeout=180)
        wait_http(url + "/_qconnect/health", timeout=180)
        qc = boto3.client(
            "qconnect", endpoint_url=url, region_name="us-east-1", aws_access_key_id="t", aws_secret_access_key="t"
        )
        kb_id, qr_id, words = load_quick_responses(qc, args.quick_responses)
        lua = work / "search.lua"
        lua.write_text(SEARCH_LUA % words)
        kb_url = f"{url}/knowledgeBases/{kb_id}"
        floor_ir = per_request(
            floor.pid, work / "cg.floor", 1, f"{floor_url}/knowledgeBases/{kb_id}", args.seconds, None
        )
        print(f"bare ASGI floor                {floor_ir:>10,} instructions/request", flush=True)
        cases = [
            ("GetKnowledgeBase", kb_url, None),
            ("GetQuickResponse", f"{kb_url}/quickResponses/{qr_id}", None),
            (f"SearchQR '{words}'", f"{kb_url}/search/quickResponses", str(lua)),
        ]
        for n, (label, target, script) in enumerate(cases, start=1):
            ir = per_request(ours.pid, work / "cg.ours", n, target, args.seconds, script)
            print(
                f"{label:30s} {ir:>10,} instructions/request  floor / this = {floor_ir / ir:.1%}",
                flush=True,
            )
    finally:
        for proc in procs:
            proc.terminate()
            proc.wait(timeout=60)
        shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
