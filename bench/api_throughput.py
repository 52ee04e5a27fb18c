"""API throughput and latency beside the server's own floor, and beside moto, same load generator.

Starts `qconnect-local serve`, `python -m moto.server` and bench/floor_app.py (a bare ASGI app
answering a fixed JSON body on `serve`'s server stack: uvicorn with the same options) on free
loopback ports; makes one knowledge base of `--quick-responses` quick responses through the API
(and one bedrock-agent knowledge base on moto: the closest rest-json GET moto has); then drives,
with wrk (-t1) at concurrency 1 and 16, the floor, GetKnowledgeBase, GetQuickResponse,
SearchQuickResponses (two rare words of one quick response, CONTAINS) and moto's GetKnowledgeBase,
and prints requests/s, p50 and p99 for each, and each operation's throughput as a share of the
floor measured in the same run.

    python bench/api_throughput.py [--duration 10] [--warmup 2] [--quick-responses 1000]
    python bench/api_throughput.py --verify-signatures   # the cost of `serve --verify-signatures`
    python bench/api_throughput.py --compare-request-log [--rounds 3]   # the cost of the request log

With --verify-signatures it compares, in the same run, qconnect-local without and with signature
checking instead (moto is not started). wrk replays one fixed request, so it carries one fixed,
valid signature (Authorization and X-Amz-Date, signed just before each wrk run, well inside the
5-minute skew AWS allows); the server verifies it in full on every request.

Needs wrk (`apt-get install wrk`) and the bench extras (`pip install -e '.[bench]'`).
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

import boto3
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))
sys.path.insert(0, str(Path(__file__).resolve().parent))


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_http(url: str, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while True:
        try:
            urllib.request.urlopen(url, timeout=2).read()
            return
        except urllib.error.HTTPError:
            return  # it answers
        except OSError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.1)


def signed_authorization(url: str, service: str) -> str:
    return signed_headers(url, service)["Authorization"]


def signed_headers(url: str, service: str) -> dict[str, str]:
    req = AWSRequest(method="GET", url=url)
    SigV4Auth(Credentials("testing", "testing"), service, "us-east-1").add_auth(req)
    return {"Authorization": req.headers["Authorization"], "X-Amz-Date": req.headers["X-Amz-Date"]}


_LATENCY = re.compile(r"^\s+(50|99)%\s+([\d.]+)(us|ms|s)\s*$", re.M)
_RPS = re.compile(r"Requests/sec:\s+([\d.]+)")
_UNIT = {"us": 0.001, "ms": 1.0, "s": 1000.0}


def run_wrk(
    url: str,
    auth: str,
    connections: int,
    duration: int,
    warmup: int,
    script: str | None = None,
    headers: dict[str, str] | None = None,
) -> dict:
    """wrk's figures for `url` (GET, or what the Lua `script` makes of the request)."""
    scripted = ["-s", script] if script else []
    extra = [arg for k, v in (headers or {}).items() for arg in ("-H", f"{k}: {v}")]
    base = ["wrk", "-t1", f"-c{connections}", "--latency", "-H", f"Authorization: {auth}", *extra, *scripted, url]
    if warmup:
        subprocess.run([*base[:3], f"-d{warmup}s", *base[3:]], capture_output=True, timeout=warmup + 30)
    out = subprocess.run(
        [*base[:3], f"-d{duration}s", *base[3:]], capture_output=True, text=True, timeout=duration + 30
    ).stdout
    rps = float(_RPS.search(out).group(1))
    lat = {p: float(v) * _UNIT[u] for p, v, u in _LATENCY.findall(out)}
    non2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    return {"rps": rps, "p50": lat.get("50"), "p99": lat.get("99"), "errors": int(non2xx.group(1)) if non2xx else 0}


def start_qconnect(data_dir: str, *extra: str) -> tuple[subprocess.Popen, str]:
    port = free_port()
    proc = subprocess.Popen(
        [sys.executable, "-m", "qconnect_local", "serve", "--port", str(port), "--data-dir", data_dir, *extra],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}"
    wait_http(url + "/_qconnect/health")
    return proc, url


def start_moto() -> tuple[subprocess.Popen, str]:
    port = free_port()
    proc = subprocess.Popen(
        [sys.executable, "-m", "moto.server", "-p", str(port)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    url = f"http://127.0.0.1:{port}"
    wait_http(url + "/moto-api/")
    return proc, url


def client(service: str, url: str):
    return boto3.client(
        service, endpoint_url=url, region_name="us-east-1", aws_access_key_id="testing", aws_secret_access_key="testing"
    )


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--duration", type=int, default=10)
    parser.add_argument("--warmup", type=int, default=2)
    parser.add_argument(
        "--verify-signatures",
        action="store_true",
        help="compare qconnect-local without and with `serve --verify-signatures` (instead of moto)",
    )
    parser.add_argument("--compare-request-log", action="store_true", help="request log on vs off, nothing else")
    parser.add_argument("--rounds", type=int, default=3, help="the comparisons: off/on rounds per concurrency")
    parser.add_argument("--quick-responses", type=int, default=1000, help="made through the API for the reads")
    args = parser.parse_args()
    if not shutil.which("wrk"):
        print("wrk is needed: apt-get install wrk", file=sys.stderr)
        return 2
    if args.verify_signatures:
        return compare_signature_checking(args)
    if args.compare_request_log:
        return compare_request_log(args)

    data_dir = tempfile.mkdtemp(prefix="qcl-bench-")
    floor, floor_url = start_floor()
    ours, ours_url = start_qconnect(data_dir)
    moto, moto_url = start_moto()
    lua = Path(data_dir) / "search.lua"
    try:
        kb_id, qr_id, words = load_quick_responses(client("qconnect", ours_url), args.quick_responses)
        lua.write_text(SEARCH_LUA % words)
        kb_url = f"{ours_url}/knowledgeBases/{kb_id}"
        moto_target = f"{moto_url}/knowledgebases/{create_moto_knowledge_base(client('bedrock-agent', moto_url))}"
        # (label, url, signing service, wrk script): the floor first, then each operation.
        targets = [
            ("bare ASGI floor", f"{floor_url}/knowledgeBases/{kb_id}", "wisdom", None),
            ("GetKnowledgeBase", kb_url, "wisdom", None),
            ("GetQuickResponse", f"{kb_url}/quickResponses/{qr_id}", "wisdom", None),
            (f"SearchQR '{words}'", f"{kb_url}/search/quickResponses", "wisdom", str(lua)),
            ("moto GetKB", moto_target, "bedrock", None),
        ]
        results: dict[tuple[str, int], dict] = {}
        for conc in (1, 16):
            for label, url, service, script in targets:
                result = run_wrk(url, signed_authorization(url, service), conc, args.duration, args.warmup, script)
                results[(label, conc)] = result
                print(
                    f"{label:28s} c={conc:<3d} {result['rps']:>10,.0f} req/s  p50 {result['p50']:.2f} ms"
                    f"  p99 {result['p99']:.2f} ms  non-2xx {result['errors']}",
                    flush=True,
                )
        print()
        for conc in (1, 16):
            floor_rps = results[("bare ASGI floor", conc)]["rps"]
            moto_rps = results[("moto GetKB", conc)]["rps"]
            for label, *_ in targets[1:4]:
                r = results[(label, conc)]
                print(
                    f"c={conc:<3d} {label:28s} {r['rps'] / floor_rps:6.1%} of the floor ({floor_rps:,.0f} req/s)"
                    f"  p99 {r['p99']:.2f} ms"
                    + (f"  {r['rps'] / moto_rps:.1f}x moto" if label == "GetKnowledgeBase" else "")
                )
        if any(r["errors"] for r in results.values()):
            print("some requests were not answered 2xx: the figures are not valid", file=sys.stderr)
            return 1
    finally:
        for proc in (floor, ours, moto):
            proc.terminate()
            proc.wait(timeout=15)
        shutil.rmtree(data_dir, ignore_errors=True)
    return 0


SEARCH_LUA = """
wrk.method = "POST"
wrk.body = '{"searchExpression": {"queries": [{"name": "content", "values": ["%s"], "operator": "CONTAINS"}]}, "maxResults": 25}'
wrk.headers["Content-Type"] = "application/json"
"""


def load_quick_responses(qc, count: int) -> tuple[str, str, str]:
    """A knowledge base of `count` quick responses (bench/search.py's generated text) made through
    the API; returns its id, the first quick response's id, and two words of that one that are
    rare in the knowledge base (a person's search: a handful of matches)."""
    import collections

    from qconnect_local.search.plan import tokenize
    from search import generate

    kb_id = qc.create_knowledge_base(
        name="bench", knowledgeBaseType="QUICK_RESPONSES", description="throughput benchmark"
    )["knowledgeBase"]["knowledgeBaseId"]
    df: collections.Counter[str] = collections.Counter()
    first_words: list[str] = []
    first_id = ""
    for i, params in enumerate(generate(count)):
        words = set(tokenize(params["content"]["content"]))
        df.update(words)
        qr = qc.create_quick_response(knowledgeBaseId=kb_id, **params)["quickResponse"]
        if i == 0:
            first_id, first_words = qr["quickResponseId"], sorted(words)
    rarest = sorted(first_words, key=lambda w: (df[w], w))
    return kb_id, first_id, " ".join(rarest[:2])


def create_moto_knowledge_base(bedrock, name: str = "bench") -> str:
    """A knowledge base in moto's bedrock-agent (moto has no qconnect): the baseline's resource."""
    return bedrock.create_knowledge_base(
        name=name,
        roleArn="arn:aws:iam::123456789012:role/bench",
        knowledgeBaseConfiguration={
            "type": "VECTOR",
            "vectorKnowledgeBaseConfiguration": {
                "embeddingModelArn": "arn:aws:bedrock:us-east-1::foundation-model/amazon.titan-embed-text-v1"
            },
        },
        storageConfiguration={
            "type": "OPENSEARCH_SERVERLESS",
            "opensearchServerlessConfiguration": {
                "collectionArn": "arn:aws:aoss:us-east-1:123456789012:collection/x",
                "vectorIndexName": "i",
                "fieldMapping": {"vectorField": "v", "textField": "t", "metadataField": "m"},
            },
        },
    )["knowledgeBase"]["knowledgeBaseId"]


def start_floor() -> tuple[subprocess.Popen, str]:
    """bench/floor_app.py: a bare ASGI app on `serve`'s server stack."""
    proc = subprocess.Popen(
        [sys.executable, str(Path(__file__).resolve().parent / "floor_app.py")],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    assert proc.stdout is not None
    url = proc.stdout.readline().split("listening on ", 1)[1].strip()
    wait_http(url + "/")
    return proc, url


def cpu_seconds(pid: int) -> float:
    """User + system CPU time the process has used (Linux /proc)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def compare_signature_checking(args: argparse.Namespace) -> int:
    """GetKnowledgeBase throughput of two servers, alike but for --verify-signatures."""
    data_dirs = [tempfile.mkdtemp(prefix="qcl-bench-") for _ in range(2)]
    credentials = Path(data_dirs[1]) / "credentials"
    credentials.write_text("testing testing\n")
    servers = {
        "off": start_qconnect(data_dirs[0]),
        "on": start_qconnect(data_dirs[1], "--verify-signatures", "--credentials-file", str(credentials)),
    }
    try:
        targets = {}
        for label, (_, url) in servers.items():
            kb = client("qconnect", url).create_knowledge_base(name="bench", knowledgeBaseType="QUICK_RESPONSES")
            targets[label] = f"{url}/knowledgeBases/{kb['knowledgeBase']['knowledgeBaseId']}"
        # Rounds alternate off/on so that load from elsewhere on the machine hits both alike;
        # each side's best round is compared.
        results: dict[tuple[str, int], list[dict]] = {}
        for conc in (1, 16):
            for n in range(args.rounds):
                for label, url in targets.items():
                    headers = signed_headers(url, "wisdom")  # fresh: well inside the 5-minute skew
                    auth = headers.pop("Authorization")
                    pid = servers[label][0].pid
                    if args.warmup:  # outside the CPU window
                        run_wrk(url, auth, conc, args.warmup, 0, headers=headers)
                    cpu_before = cpu_seconds(pid)
                    result = run_wrk(url, auth, conc, args.duration, 0, headers=headers)
                    result["cpu_us"] = (cpu_seconds(pid) - cpu_before) / (result["rps"] * args.duration) * 1e6
                    results.setdefault((label, conc), []).append(result)
                    print(
                        f"round {n + 1} signatures {label:3s} c={conc:<3d} {result['rps']:>10,.0f} req/s"
                        f"  p50 {result['p50']:.2f} ms  p99 {result['p99']:.2f} ms  non-2xx {result['errors']}"
                        f"  server CPU {result['cpu_us']:.0f} us/request",
                        flush=True,
                    )
        print()
        for conc in (1, 16):
            off = max(r["rps"] for r in results[("off", conc)])
            on = max(r["rps"] for r in results[("on", conc)])
            cpu_off = min(r["cpu_us"] for r in results[("off", conc)])
            cpu_on = min(r["cpu_us"] for r in results[("on", conc)])
            print(
                f"c={conc}: best of {args.rounds}: off {off:,.0f} req/s, on {on:,.0f} req/s; "
                f"--verify-signatures keeps {on / off:.1%} of the throughput (cost {1 - on / off:.1%}); "
                f"server CPU per request {cpu_off:.0f} -> {cpu_on:.0f} us (throughput at equal CPU: "
                f"{cpu_off / cpu_on:.1%})"
            )
        if any(r["errors"] for rounds in results.values() for r in rounds):
            print("some requests were not answered 2xx: the figures are not valid", file=sys.stderr)
            return 1
    finally:
        for proc, _ in servers.values():
            proc.terminate()
            proc.wait(timeout=15)
        for d in data_dirs:
            shutil.rmtree(d, ignore_errors=True)
    return 0


def compare_request_log(args: argparse.Namespace) -> int:
    """GetKnowledgeBase with the request log on (the default) and off, both loaded at once."""
    import statistics
    from concurrent.futures import ThreadPoolExecutor

    servers = {}
    dirs = []
    try:
        for label, extra in (("log on", ()), ("log off", ("--request-log", "off"))):
            dirs.append(tempfile.mkdtemp(prefix="qcl-bench-log-"))
            proc, url = start_qconnect(dirs[-1], *extra)
            kb = client("qconnect", url).create_knowledge_base(name="bench", knowledgeBaseType="QUICK_RESPONSES")
            servers[label] = (proc, f"{url}/knowledgeBases/{kb['knowledgeBase']['knowledgeBaseId']}")
        for conc in (1, 16):
            for _, url in servers.values() if args.warmup else ():  # warm-up, once
                run_wrk(url, signed_authorization(url, "wisdom"), conc, args.warmup, 0)
            ratios, cpu = [], {label: [] for label in servers}
            for r in range(args.rounds):
                # Both servers under load at the same moment: on a shared machine whatever else
                # runs slows both alike. Each server's CPU time per request is measured too: it
                # holds when a busy machine makes even simultaneous throughput figures swing.
                before = {label: cpu_seconds(proc.pid) for label, (proc, _) in servers.items()}
                with ThreadPoolExecutor(2) as pool:
                    futures = {
                        label: pool.submit(run_wrk, url, signed_authorization(url, "wisdom"), conc, args.duration, 0)
                        for label, (_, url) in servers.items()
                    }
                    results = {label: f.result() for label, f in futures.items()}
                for label, result in results.items():
                    used = cpu_seconds(servers[label][0].pid) - before[label]
                    per_request = used / max(result["rps"] * args.duration, 1) * 1e6
                    cpu[label].append(per_request)
                    print(
                        f"{label:8s} c={conc:<3d} round {r + 1}: {result['rps']:>10,.0f} req/s"
                        f"  p50 {result['p50']:.2f} ms  p99 {result['p99']:.2f} ms  non-2xx {result['errors']}"
                        f"  server CPU {per_request:.1f} us/request",
                        flush=True,
                    )
                ratios.append(results["log on"]["rps"] / results["log off"]["rps"])
            ratio = statistics.median(ratios)
            cpu_on, cpu_off = statistics.median(cpu["log on"]), statistics.median(cpu["log off"])
            print(
                f"c={conc}: request log on / off throughput, median of {args.rounds} rounds = {ratio:.3f}"
                f"  (the log costs {100 * (1 - ratio):.1f}%); server CPU per request {cpu_on:.1f} vs"
                f" {cpu_off:.1f} us (the log costs {100 * (cpu_on / cpu_off - 1):.1f}%)",
                flush=True,
            )
    finally:
        for proc, _ in servers.values():
            proc.terminate()
            proc.wait(timeout=15)
        for d in dirs:
            shutil.rmtree(d, ignore_errors=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
