"""Latency of API calls while an import runs, beside the same load without one (issue 14).

Starts a fresh `qconnect-local serve` (SQLite in a temp dir, or `--database-url`), makes two
knowledge bases (A: the import's, B: another) with a few quick responses, then runs the same
closed-loop load twice for the same calls, each client thread cycling through them:

- search (SearchQuickResponses in A), get (GetQuickResponse in A), list (ListQuickResponses in A),
  health (GET /_qconnect/health), write-same (CreateQuickResponse in A), write-other (in B);

each kind in `--threads` client threads of its own (so calls blocked behind the import do not
stop the others from being measured), first for `--baseline-seconds` without an import, then
during an import of `--rows` rows into A (until it ends). Prints p50/p99/max per call kind for
both phases and the import's duration.

    flock /tmp/qc-bench.lock python bench/availability.py --rows 200000 [--database-url postgresql://...]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import threading
import time
import urllib.request
from pathlib import Path

from botocore.config import Config

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))

from import_support import http  # noqa: E402
from support import ServerProcess, make_client  # noqa: E402


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))] if ordered else float("nan")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rows", type=int, default=200_000)
    parser.add_argument("--threads", type=int, default=2, help="client threads per call kind")
    parser.add_argument("--baseline-seconds", type=float, default=10.0)
    parser.add_argument("--database-url", default=None)
    args = parser.parse_args()

    extra = ["--max-upload-bytes", str(512 * 1024 * 1024), "--max-quick-responses", str(args.rows + 100_000)]
    if args.database_url:
        extra += ["--database-url", args.database_url]
    with tempfile.TemporaryDirectory() as tmp:
        server = ServerProcess(*extra, data_dir=Path(tmp)).start()
        try:
            run(server, args)
        finally:
            server.stop()
    return 0


def run(server: ServerProcess, args: argparse.Namespace) -> None:
    qc = server.client()
    kb_a = qc.create_knowledge_base(name="a", knowledgeBaseType="QUICK_RESPONSES")["knowledgeBase"]["knowledgeBaseId"]
    kb_b = qc.create_knowledge_base(name="b", knowledgeBaseType="QUICK_RESPONSES")["knowledgeBase"]["knowledgeBaseId"]
    qr = qc.create_quick_response(knowledgeBaseId=kb_a, name="seed", content={"content": "hello seed"})
    qr_id = qr["quickResponse"]["quickResponseId"]
    for i in range(20):
        qc.create_quick_response(knowledgeBaseId=kb_a, name=f"s{i}", content={"content": f"hello {i}"})
    body = b"Name,Content\r\n" + b"".join(b"row%07d,hello imported row %d\r\n" % (i, i) for i in range(args.rows))
    up = qc.start_content_upload(knowledgeBaseId=kb_a, contentType="text/csv")
    status, _, text = http("PUT", up["url"], body, up["headersToInclude"])
    assert status == 200, text

    counter = iter(range(10**9))
    lock = threading.Lock()
    expression = {"queries": [{"name": "content", "values": ["hello"], "operator": "CONTAINS"}]}
    health = server.endpoint_url + "/_qconnect/health"

    def calls(client):
        def unique() -> int:
            with lock:
                return next(counter)

        return {
            "search": lambda: client.search_quick_responses(knowledgeBaseId=kb_a, searchExpression=expression),
            "get": lambda: client.get_quick_response(knowledgeBaseId=kb_a, quickResponseId=qr_id),
            "list": lambda: client.list_quick_responses(knowledgeBaseId=kb_a, maxResults=10),
            "health": lambda: urllib.request.urlopen(health, timeout=300).read(),
            "write-same": lambda: client.create_quick_response(
                knowledgeBaseId=kb_a, name=f"w{unique()}", content={"content": "x"}
            ),
            "write-other": lambda: client.create_quick_response(
                knowledgeBaseId=kb_b, name=f"w{unique()}", content={"content": "x"}
            ),
        }

    def load(until) -> dict[str, list[float]]:
        results: dict[str, list[float]] = {}
        errors: list[str] = []

        def worker(name: str) -> None:
            client = make_client(server.endpoint_url)
            client.meta.config.read_timeout = Config(read_timeout=300).read_timeout
            call = calls(client)[name]
            while not until():
                t0 = time.monotonic()
                try:
                    call()
                except Exception as exc:  # report, keep going
                    errors.append(f"{name}: {exc}")
                    continue
                with lock:
                    results.setdefault(name, []).append(time.monotonic() - t0)

        kinds = ["search", "get", "list", "health", "write-same", "write-other"]
        threads = [threading.Thread(target=worker, args=(k,)) for k in kinds for _ in range(args.threads)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        if errors:
            print(f"  {len(errors)} errors, e.g. {errors[:3]}")
        return results

    end = time.monotonic() + args.baseline_seconds
    baseline = load(lambda: time.monotonic() > end)

    job = qc.start_import_job(knowledgeBaseId=kb_a, importJobType="QUICK_RESPONSES", uploadId=up["uploadId"])
    job_id = job["importJob"]["importJobId"]
    started = time.monotonic()
    state = {"done": False, "status": None}

    def watch() -> None:
        while True:
            status = qc.get_import_job(knowledgeBaseId=kb_a, importJobId=job_id)["importJob"]["status"]
            if status != "START_IN_PROGRESS":
                state.update(done=True, status=status, seconds=time.monotonic() - started)
                return
            time.sleep(0.2)

    watcher = threading.Thread(target=watch)
    watcher.start()
    during = load(lambda: state["done"])
    watcher.join()

    store = "PostgreSQL" if args.database_url else "SQLite"
    print(
        f"{store}: import of {args.rows} rows {state['status']} in {state['seconds']:.1f} s; {args.threads} threads per call kind"
    )
    print(
        f"{'call':<12} {'n':>6} {'p50 ms':>9} {'p99 ms':>9} {'max ms':>9} | {'n':>6} {'p50 ms':>9} {'p99 ms':>9} {'max ms':>9}"
    )
    print(f"{'':<12} {'without an import':^35} | {'during the import':^35}")
    for name in ["search", "get", "list", "health", "write-same", "write-other"]:
        row = [name]
        for phase in (baseline, during):
            values = phase.get(name, [])
            row += [
                str(len(values)),
                f"{1000 * statistics.median(values):.1f}" if values else "-",
                f"{1000 * percentile(values, 0.99):.1f}" if values else "-",
                f"{1000 * max(values):.1f}" if values else "-",
            ]
        print(
            f"{row[0]:<12} {row[1]:>6} {row[2]:>9} {row[3]:>9} {row[4]:>9} | {row[5]:>6} {row[6]:>9} {row[7]:>9} {row[8]:>9}"
        )


if __name__ == "__main__":
    sys.exit(main())
