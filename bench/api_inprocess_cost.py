"""The application's own cost per API call, without the server stack: the ASGI app called in
process (no socket, no uvicorn) with wrk's GetKnowledgeBase, GetQuickResponse and
SearchQuickResponses requests (bench/api_throughput.py's), on a file SQLite store.

    python bench/api_inprocess_cost.py --profile              # cProfile: where the time goes
    python bench/api_inprocess_cost.py --op get_kb --calls N  # N calls, for callgrind:

    valgrind --tool=callgrind python bench/api_inprocess_cost.py --op get_kb --calls 1200   # and 200:
    the difference of the two totals / 1000 is the instructions of one call (start-up cancels).
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import pstats
import sys
import tempfile
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "src"))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from api_throughput import signed_authorization  # noqa: E402
from qconnect_local.config import Settings  # noqa: E402
from qconnect_local.server import build_app  # noqa: E402


def scope_of(method: str, path: str, auth: str, body: bytes) -> dict[str, Any]:
    headers = [(b"host", b"127.0.0.1:4580"), (b"authorization", auth.encode())]
    if body:
        headers += [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]
    return {
        "type": "http",
        "method": method,
        "path": path,
        "raw_path": path.encode(),
        "query_string": b"",
        "headers": headers,
    }


async def call(app: Any, scope: dict[str, Any], body: bytes) -> tuple[int, bytes]:
    sent: list[dict[str, Any]] = []

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": body, "more_body": False}

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    await app(scope, receive, send)
    return sent[0]["status"], sent[1]["body"]


def setup(app: Any, auth: str, count: int) -> dict[str, tuple[dict[str, Any], bytes]]:
    import collections

    import orjson

    from qconnect_local.search.plan import tokenize
    from search import generate

    def api(method: str, path: str, document: Any = None) -> Any:
        body = orjson.dumps(document) if document is not None else b""
        status, out = asyncio.run(call(app, scope_of(method, path, auth, body), body))
        assert status == 200, out
        return orjson.loads(out)

    kb = api("POST", "/knowledgeBases", {"name": "bench", "knowledgeBaseType": "QUICK_RESPONSES"})
    kb_id = kb["knowledgeBase"]["knowledgeBaseId"]
    first, first_words = "", []
    df: collections.Counter[str] = collections.Counter()
    for params in generate(count):
        qr = api("POST", f"/knowledgeBases/{kb_id}/quickResponses", params)["quickResponse"]
        df.update(set(tokenize(params["content"]["content"])))
        if not first:
            first, first_words = qr["quickResponseId"], sorted(set(tokenize(params["content"]["content"])))
    words = " ".join(sorted(first_words, key=lambda w: (df[w], w))[:2])  # two rare words of the first
    search = orjson.dumps(
        {
            "searchExpression": {"queries": [{"name": "content", "values": [words], "operator": "CONTAINS"}]},
            "maxResults": 25,
        }
    )
    return {
        "get_kb": (scope_of("GET", f"/knowledgeBases/{kb_id}", auth, b""), b""),
        "get_qr": (scope_of("GET", f"/knowledgeBases/{kb_id}/quickResponses/{first}", auth, b""), b""),
        "search": (scope_of("POST", f"/knowledgeBases/{kb_id}/search/quickResponses", auth, search), search),
    }


async def run(app: Any, scope: dict[str, Any], body: bytes, calls: int) -> None:
    for _ in range(calls):
        status, out = await call(app, scope, body)
        assert status == 200, out


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--op", choices=["get_kb", "get_qr", "search"], default="get_kb")
    parser.add_argument("--calls", type=int, default=2000)
    parser.add_argument("--quick-responses", type=int, default=50)
    parser.add_argument("--profile", action="store_true", help="cProfile each operation")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="qcl-inproc-") as data:
        settings = Settings(data_dir=Path(data), run_import_runner=False, console=False)
        settings.prepare()
        app = build_app(settings)
        auth = signed_authorization("http://127.0.0.1:4580/", "wisdom")
        requests = setup(app, auth, args.quick_responses)
        try:
            for op in requests if args.profile else [args.op]:
                scope, body = requests[op]
                # The search's POST runs in the app's write lane thread: drive one loop for all calls.
                if not args.profile:
                    asyncio.run(run(app, scope, body, args.calls))
                    continue
                profile = cProfile.Profile()
                profile.enable()
                asyncio.run(run(app, scope, body, args.calls))
                profile.disable()
                print(f"== {op}: {args.calls} calls")
                pstats.Stats(profile).sort_stats("tottime").print_stats(25)
        finally:
            app.close()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
