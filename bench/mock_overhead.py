"""Per-call cost of CreateQuickResponse and GetQuickResponse through `mock_qconnect()` (in-process)
and through the HTTP server (`qconnect-local serve` in a child process), beside moto's `mock_aws`
answering a comparable call (bedrock-agent GetKnowledgeBase / CreateKnowledgeBase) in the same run.

    .venv/bin/python bench/mock_overhead.py              # full figures (2,000 calls x 3 rounds per series)
    .venv/bin/python bench/mock_overhead.py --calls 300  # quick look

Each series is timed in `--rounds` rounds after a warm-up; the table gives the median round's
mean per call, and the ratios against moto's in-process call. Target: our in-process Get no
slower than moto's in-process GetKnowledgeBase (ratio <= 1.0). All numbers include boto3's own
client-side cost (~1 ms a call on this machine class), which is the same on both sides.
"""

from __future__ import annotations

import argparse
import re
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import boto3
from botocore.config import Config

sys.path.insert(0, str(Path(__file__).resolve().parent))
from api_throughput import create_moto_knowledge_base  # noqa: E402

CREDS = {"aws_access_key_id": "testing", "aws_secret_access_key": "testing", "region_name": "us-east-1"}


def timed(fn: Callable[[int], Any], calls: int, rounds: int) -> float:
    """Median over rounds of the mean seconds per call."""
    fn(-1)  # warm-up (connections, caches, lazy imports)
    per_round = []
    counter = 0
    for _ in range(rounds):
        started = time.perf_counter()
        for _ in range(calls):
            fn(counter)
            counter += 1
        per_round.append((time.perf_counter() - started) / calls)
    return statistics.median(per_round)


def qconnect_series(client: Any, calls: int, rounds: int) -> dict[str, float]:
    """Create and Get quick responses; a new knowledge base every 900 creates (quota 1,000)."""
    state: dict[str, Any] = {"kb": None, "in_kb": 0, "kbs": 0}

    def kb() -> str:
        if state["kb"] is None or state["in_kb"] >= 900:
            if state["kbs"] >= 9:  # stay under the 10 knowledge bases quota
                for s in client.list_knowledge_bases()["knowledgeBaseSummaries"]:
                    client.delete_knowledge_base(knowledgeBaseId=s["knowledgeBaseId"])
                state["kbs"] = 0
            state["kb"] = client.create_knowledge_base(name="bench", knowledgeBaseType="QUICK_RESPONSES")[
                "knowledgeBase"
            ]["knowledgeBaseId"]
            state["in_kb"] = 0
            state["kbs"] += 1
        state["in_kb"] += 1
        return state["kb"]

    def create(i: int) -> None:
        client.create_quick_response(
            knowledgeBaseId=kb(),
            name=f"qr-{i}-{time.perf_counter_ns()}",
            content={"content": "Hello {{Attributes.Customer}}, how can I help?"},
            channels=["Chat"],
        )

    target_kb = kb()
    qr_id = client.create_quick_response(knowledgeBaseId=target_kb, name="target", content={"content": "x"})[
        "quickResponse"
    ]["quickResponseId"]

    def get(i: int) -> None:
        client.get_quick_response(knowledgeBaseId=target_kb, quickResponseId=qr_id)

    return {"create": timed(create, calls, rounds), "get": timed(get, calls, rounds)}


def moto_series(calls: int, rounds: int) -> dict[str, float]:
    from moto import mock_aws

    with mock_aws():
        client = boto3.client("bedrock-agent", **CREDS)

        def make_kb(i: int) -> str:
            return create_moto_knowledge_base(client, f"kb-{i}-{time.perf_counter_ns()}")

        kb_id = make_kb(-2)
        return {
            "create": timed(make_kb, calls, rounds),
            "get": timed(lambda i: client.get_knowledge_base(knowledgeBaseId=kb_id), calls, rounds),
        }


def _healthy(endpoint: str) -> bool:
    import urllib.request

    try:
        with urllib.request.urlopen(endpoint + "/_qconnect/health", timeout=2) as response:
            return response.status == 200
    except OSError:
        return False


def start_server(log: Any) -> tuple[subprocess.Popen[str], str]:
    """`qconnect-local serve` in a child process, its output to a file (a full pipe would stall it)."""
    proc = subprocess.Popen(
        [sys.executable, "-m", "qconnect_local", "serve", "--port", "0", "--in-memory"],
        stdout=log,
        stderr=subprocess.STDOUT,
        text=True,
    )
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline and proc.poll() is None:
        m = re.search(r"listening on (http://\S+)", open(log.name).read())
        if m and _healthy(m.group(1)):  # the line comes before uvicorn listens
            return proc, m.group(1)
        time.sleep(0.05)
    proc.kill()
    raise RuntimeError(f"server did not start: {open(log.name).read()}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--calls", type=int, default=2000, help="calls per round and series")
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()

    from qconnect_local import mock_qconnect

    results: dict[str, dict[str, float]] = {}
    results["moto mock_aws (bedrock-agent KB)"] = moto_series(args.calls, args.rounds)
    with mock_qconnect():
        results["qconnect-local mock_qconnect()"] = qconnect_series(
            boto3.client("qconnect", **CREDS), args.calls, args.rounds
        )
    with tempfile.NamedTemporaryFile("w+", suffix=".log") as log:
        proc, endpoint = start_server(log)
        try:
            client = boto3.client(
                "qconnect", endpoint_url=endpoint, config=Config(retries={"max_attempts": 1}), **CREDS
            )
            results["qconnect-local HTTP server"] = qconnect_series(client, args.calls, args.rounds)
        except Exception:
            print(open(log.name).read()[-3000:], file=sys.stderr)
            raise
        finally:
            proc.terminate()
            proc.wait(timeout=15)

    moto = results["moto mock_aws (bedrock-agent KB)"]
    print(f"\n{args.calls} calls x {args.rounds} rounds per series; median round, mean per call")
    print(f"{'series':34} {'create ms':>10} {'get ms':>10} {'create/moto':>12} {'get/moto':>10}")
    for name, r in results.items():
        print(
            f"{name:34} {r['create'] * 1e3:10.3f} {r['get'] * 1e3:10.3f} "
            f"{r['create'] / moto['create']:12.2f} {r['get'] / moto['get']:10.2f}"
        )
    ours = results["qconnect-local mock_qconnect()"]["get"]
    verdict = "meets" if ours <= moto["get"] else "MISSES"
    print(
        f"\nin-process GetQuickResponse vs moto GetKnowledgeBase: {ours / moto['get']:.2f}x ({verdict} the target <= 1.0)"
    )


if __name__ == "__main__":
    main()
