"""Content of CUSTOM knowledge bases at scale (issue 17).

    python bench/content.py                                  # 10,000 created, search at 100,000
    python bench/content.py --create 2000 --search-count 20000   # a quicker run

1. **Text extraction per format**, in this process: plain text, HTML, PDF and DOCX documents
   (made here: PDFs by a small writer of text pages, DOCX by python-docx) of three sizes, each
   read by `content_text.extract_text`; documents/s and MB/s per format, plain text the baseline.
2. **Load**: `--search-count` quick responses through the storage layer (bench/search.py's loader)
   and as many content records (insert_content, the SQL CreateContent uses) into a CUSTOM
   knowledge base of the same data dir.
3. **CreateContent end to end** on a `qconnect-local serve` process of that data dir:
   `--create` documents of mixed formats and sizes, each StartContentUpload, PUT to its URL,
   CreateContent (raw HTTP, `--concurrency` threads), then until every one has left
   CREATE_IN_PROGRESS (the server's runner reads the files in the background). Baseline in the
   same run: CreateQuickResponse, same threads, same server.
4. **SearchContent p50/p99** at `--search-count` documents (NAME EQUALS hit and miss, no filter,
   a page deep into the listing) beside SearchQuickResponses at as many quick responses (two of
   bench/search.py's query classes), same server, same run.
"""

from __future__ import annotations

import argparse
import http.client
import json
import random
import shutil
import sqlite3
import statistics
import sys
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))
import content_files  # noqa: E402  (tests/content_files.py: the PDF and DOCX makers)
import search as qr_bench  # noqa: E402  (bench/search.py: loader, server, request, percentile)
from qconnect_local import ids  # noqa: E402
from qconnect_local.config import Settings  # noqa: E402
from qconnect_local.content_text import DOCX, PDF, extract_text  # noqa: E402
from qconnect_local.storage import open_store  # noqa: E402

ACCOUNT, REGION = qr_bench.ACCOUNT, qr_bench.REGION
ROOT = qr_bench.ROOT
FORMATS = {"plain": "text/plain", "html": "text/html", "pdf": PDF, "docx": DOCX}
# Characters of text per size class, and how often each class is drawn.
SIZES = {"small": 600, "medium": 6_000, "large": 30_000}
SIZE_WEIGHTS = (0.5, 0.35, 0.15)
POOL_PER_KIND = 40  # distinct documents per (format, size); the created ones cycle through them


# -- documents ----------------------------------------------------------------------------------


class Words:
    def __init__(self, seed: int) -> None:
        rng = random.Random(seed)
        self.vocab = qr_bench.make_vocabulary(rng)
        self.zipf = qr_bench.Zipf(len(self.vocab), 1.07, rng)

    def text(self, chars: int) -> str:
        out: list[str] = []
        size = 0
        while size < chars:
            word = self.vocab[self.zipf.draw()]
            out.append(word)
            size += len(word) + 1
        return " ".join(out)


def _lines(text: str, width: int = 90) -> list[str]:
    lines, line = [], ""
    for word in text.split():
        if len(line) + len(word) + 1 > width:
            lines.append(line)
            line = word
        else:
            line = f"{line} {word}" if line else word
    return lines + ([line] if line else [])


def pdf_bytes(text: str, lines_per_page: int = 50) -> bytes:
    """A PDF of text pages (what a text-heavy knowledge article looks like)."""
    lines = _lines(text)
    pages = ["\n".join(lines[i : i + lines_per_page]) for i in range(0, len(lines), lines_per_page)] or [""]
    return content_files.pdf_bytes(*pages)


def docx_bytes(text: str) -> bytes:
    words = text.split()
    return content_files.docx_bytes(*(" ".join(words[i : i + 80]) for i in range(0, len(words), 80)))


def html_bytes(text: str) -> bytes:
    words = text.split()
    paragraphs = "".join(f"<p>{' '.join(words[i : i + 60])}</p>\n" for i in range(0, len(words), 60))
    return (
        "<!DOCTYPE html><html><head><title>Article</title><style>p { margin: 0 }</style>"
        "<script>var tracking = 1;</script></head><body><h1>Knowledge article</h1>\n"
        f"<div class='body'>{paragraphs}</div></body></html>"
    ).encode()


MAKERS: dict[str, Callable[[str], bytes]] = {
    "plain": lambda t: t.encode(),
    "html": html_bytes,
    "pdf": pdf_bytes,
    "docx": docx_bytes,
}


def make_pool(words: Words) -> dict[tuple[str, str], list[bytes]]:
    return {
        (fmt, size): [MAKERS[fmt](words.text(chars)) for _ in range(POOL_PER_KIND)]
        for fmt in FORMATS
        for size, chars in SIZES.items()
    }


# -- 1. extraction --------------------------------------------------------------------------------


def measure_extraction(pool: dict[tuple[str, str], list[bytes]]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for fmt, content_type in FORMATS.items():
        docs = [d for (f, _), bodies in pool.items() if f == fmt for d in bodies]
        size = sum(map(len, docs))
        t0 = time.perf_counter()
        chars = sum(len(extract_text(content_type, d)) for d in docs)
        elapsed = time.perf_counter() - t0
        out[fmt] = {
            "docs": len(docs),
            "docs_per_s": round(len(docs) / elapsed, 1),
            "file_mb_per_s": round(size / elapsed / 1e6, 2),
            "text_mchars_per_s": round(chars / elapsed / 1e6, 2),
            "mean_file_kb": round(size / len(docs) / 1024, 1),
        }
    for fmt, row in out.items():
        row["vs_plain"] = round(row["docs_per_s"] / out["plain"]["docs_per_s"], 4)
        print(
            f"  {fmt:6s} {row['docs_per_s']:9.1f} docs/s  {row['file_mb_per_s']:7.2f} MB/s of file"
            f"  {row['text_mchars_per_s']:6.2f} M chars/s of text  (mean file {row['mean_file_kb']} KB,"
            f" x{row['vs_plain']} of plain text)",
            flush=True,
        )
    return out


# -- 2. load --------------------------------------------------------------------------------------


def load_contents(data_dir: Path, count: int, words: Words) -> str:
    """`count` content records (ACTIVE, with text) in a new CUSTOM knowledge base, through the
    store's own insert_content; returns the knowledge base id."""
    settings = Settings(data_dir=data_dir)
    store = open_store(settings.database)
    kb_id = ids.new_id()
    kb_arn = ids.knowledge_base_arn(REGION, ACCOUNT, kb_id)
    kb = {
        "knowledgeBaseId": kb_id,
        "knowledgeBaseArn": kb_arn,
        "name": "content-bench",
        "knowledgeBaseType": "CUSTOM",
        "status": "ACTIVE",
        "tags": {},
        "createdTime": time.time(),
    }
    with store.write() as session:
        session.insert_knowledge_base(ACCOUNT, REGION, kb)
        for i in range(count):
            content_id = ids.new_id()
            record = {
                "contentId": content_id,
                "contentArn": f"arn:aws:wisdom:{REGION}:{ACCOUNT}:content/{kb_id}/{content_id}",
                "knowledgeBaseId": kb_id,
                "knowledgeBaseArn": kb_arn,
                "name": f"article-{i:07d}",
                "revisionId": ids.new_id(),
                "title": words.text(40),
                "contentType": "text/plain",
                "status": "ACTIVE",
                "metadata": {},
                "tags": {},
                "_uploadId": ids.new_id(),
            }
            session.insert_content(ACCOUNT, REGION, record, words.text(400))
    store.close()
    return kb_id


# -- 3. create end to end -------------------------------------------------------------------------


def _call(conn: http.client.HTTPConnection, method: str, path: str, body: Any = None) -> Any:
    status, payload = qr_bench.request(conn, method, path, body)
    if status != 200:
        raise RuntimeError(f"{method} {path}: HTTP {status} {payload}")
    return payload


def _put(url: str, body: bytes, headers: dict[str, str]) -> None:
    parts = urlsplit(url)
    conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=120)
    conn.request("PUT", f"{parts.path}?{parts.query}", body=body, headers=headers)
    response = conn.getresponse()
    response.read()
    conn.close()
    if response.status != 200:
        raise RuntimeError(f"PUT {url}: HTTP {response.status}")


def _pending(data_dir: Path) -> int:
    with sqlite3.connect(f"file:{data_dir / 'state.sqlite3'}?mode=ro", uri=True) as db:
        return int(db.execute("SELECT count(*) FROM contents WHERE task IS NOT NULL").fetchone()[0])


def _run_threads(count: int, concurrency: int, server: Any, work: Callable[[http.client.HTTPConnection, int], None]):
    local = threading.local()

    def one(i: int) -> float:
        if not hasattr(local, "conn"):
            local.conn = server.connection()
        t0 = time.perf_counter()
        work(local.conn, i)
        return (time.perf_counter() - t0) * 1000

    with ThreadPoolExecutor(concurrency) as pool:
        return list(pool.map(one, range(count)))


def create_end_to_end(server: Any, data_dir: Path, pool: dict[tuple[str, str], list[bytes]], args: Any) -> dict:
    conn = server.connection()
    kb_id = _call(conn, "POST", "/knowledgeBases", {"name": "created", "knowledgeBaseType": "CUSTOM"})["knowledgeBase"][
        "knowledgeBaseId"
    ]
    rng = random.Random(args.seed)
    plan = [(rng.choice(list(FORMATS)), rng.choices(list(SIZES), SIZE_WEIGHTS)[0]) for _ in range(args.create)]
    statuses: dict[str, int] = {}
    lock = threading.Lock()

    def create(c: http.client.HTTPConnection, i: int) -> None:
        fmt, size = plan[i]
        body = pool[(fmt, size)][i % POOL_PER_KIND]
        up = _call(c, "POST", f"/knowledgeBases/{kb_id}/upload", {"contentType": FORMATS[fmt]})
        _put(up["url"], body, up["headersToInclude"])
        made = _call(c, "POST", f"/knowledgeBases/{kb_id}/contents", {"name": f"doc-{i}", "uploadId": up["uploadId"]})
        with lock:
            statuses[made["content"]["status"]] = statuses.get(made["content"]["status"], 0) + 1

    t0 = time.perf_counter()
    latencies = _run_threads(args.create, args.concurrency, server, create)
    answered = time.perf_counter() - t0
    while _pending(data_dir):
        time.sleep(0.2)
    total = time.perf_counter() - t0
    conn.close()
    conn = server.connection()  # the first one idled past the server's keep-alive
    final: dict[str, int] = {}
    token = None
    while True:  # every content's final status, through the API
        page = _call(
            conn, "GET", f"/knowledgeBases/{kb_id}/contents?maxResults=100" + (f"&nextToken={token}" if token else "")
        )
        for s in page["contentSummaries"]:
            final[s["status"]] = final.get(s["status"], 0) + 1
        token = page.get("nextToken")
        if not token:
            break
    by_format = {fmt: sum(1 for f, _ in plan if f == fmt) for fmt in FORMATS}

    qr_kb = _call(conn, "POST", "/knowledgeBases", {"name": "baseline", "knowledgeBaseType": "QUICK_RESPONSES"})[
        "knowledgeBase"
    ]["knowledgeBaseId"]
    baseline_count = min(args.create, 2000)

    def create_qr(c: http.client.HTTPConnection, i: int) -> None:
        _call(c, "POST", f"/knowledgeBases/{qr_kb}/quickResponses", {"name": f"qr-{i}", "content": {"content": "x"}})

    t1 = time.perf_counter()
    _run_threads(baseline_count, args.concurrency, server, create_qr)
    baseline_s = time.perf_counter() - t1
    conn.close()
    out = {
        "documents": args.create,
        "by_format": by_format,
        "answered_statuses": statuses,
        "final_statuses": final,
        "upload_put_create_p50_ms": round(qr_bench.percentile(latencies, 50), 1),
        "upload_put_create_p99_ms": round(qr_bench.percentile(latencies, 99), 1),
        "all_answered_s": round(answered, 1),
        "all_final_s": round(total, 1),
        "documents_per_s": round(args.create / total, 1),
        "baseline_create_quick_response_per_s": round(baseline_count / baseline_s, 1),
    }
    out["ratio_vs_create_quick_response"] = round(
        out["documents_per_s"] / out["baseline_create_quick_response_per_s"], 3
    )
    print(f"  {json.dumps(out)}", flush=True)
    return out


# -- 4. search ------------------------------------------------------------------------------------


def measure_content_search(server: Any, kb_id: str, count: int, repeat: int, warmup: int) -> dict[str, Any]:
    rng = random.Random(7)
    conn = server.connection()
    search = f"/knowledgeBases/{kb_id}/search?maxResults=25"

    def name(value: str) -> dict[str, Any]:
        return {"searchExpression": {"filters": [{"field": "NAME", "operator": "EQUALS", "value": value}]}}

    deep_token = None
    path = f"/knowledgeBases/{kb_id}/contents?maxResults=100"
    for _ in range(min(20, count // 100)):  # a token 2,000 documents in
        deep_token = _call(conn, "GET", path + (f"&nextToken={deep_token}" if deep_token else "")).get("nextToken")
    classes: dict[str, Callable[[], tuple[str, str, Any]]] = {
        "SearchContent NAME EQUALS (hit)": lambda: ("POST", search, name(f"article-{rng.randrange(count):07d}")),
        "SearchContent NAME EQUALS (miss)": lambda: ("POST", search, name(f"nothing-{rng.randrange(count)}")),
        "SearchContent no filter (first page)": lambda: ("POST", search, {"searchExpression": {"filters": []}}),
        "ListContents, a page 2,000 documents in": lambda: (
            "GET",
            f"/knowledgeBases/{kb_id}/contents?maxResults=25" + (f"&nextToken={deep_token}" if deep_token else ""),
            None,
        ),
    }
    out = {}
    for label, make in classes.items():
        times = []
        for i in range(warmup + repeat):
            method, p, body = make()
            t0 = time.perf_counter()
            _call(conn, method, p, body)
            if i >= warmup:
                times.append((time.perf_counter() - t0) * 1000)
        out[label] = {
            "p50_ms": round(qr_bench.percentile(times, 50), 2),
            "p99_ms": round(qr_bench.percentile(times, 99), 2),
            "mean_ms": round(statistics.mean(times), 2),
            "n": len(times),
        }
        print(f"  {label:58s} p50 {out[label]['p50_ms']:8.2f}  p99 {out[label]['p99_ms']:8.2f} ms", flush=True)
    conn.close()
    return out


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--create", type=int, default=10_000, help="documents created end to end")
    parser.add_argument("--search-count", type=int, default=100_000, help="documents (and quick responses) searched")
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument("--repeat", type=int, default=300)
    parser.add_argument("--warmup", type=int, default=10)
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--data-dir", type=Path, default=ROOT / "bench" / "out" / "content-data")
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()

    results: dict[str, Any] = {"args": {k: str(v) for k, v in vars(args).items()}}
    words = Words(args.seed)
    print("making documents ...", flush=True)
    pool = make_pool(words)
    print("1. text extraction per format (in this process):", flush=True)
    results["extraction"] = measure_extraction(pool)

    shutil.rmtree(args.data_dir, ignore_errors=True)
    args.data_dir.mkdir(parents=True)
    print(f"2. loading {args.search_count} quick responses and {args.search_count} contents ...", flush=True)
    t0 = time.perf_counter()
    results["quick_response_load"] = qr_bench.load(args.data_dir, args.search_count, args.seed)
    qr_kb = results["quick_response_load"]["knowledgeBaseId"]
    content_kb = load_contents(args.data_dir, args.search_count, words)
    results["load_s"] = round(time.perf_counter() - t0, 1)

    server = qr_bench.Server(
        args.data_dir, args.search_count, ("--max-contents", str(max(args.create, args.search_count) * 2))
    )
    try:
        print(f"3. CreateContent end to end, {args.create} documents, {args.concurrency} threads:", flush=True)
        results["create"] = create_end_to_end(server, args.data_dir, pool, args)
        print(f"4. search at {args.search_count}:", flush=True)
        results["content_search"] = measure_content_search(
            server, content_kb, args.search_count, args.repeat, args.warmup
        )
        classes = qr_bench.query_classes(Words(args.seed).vocab, random.Random(args.seed))
        wanted = ("rare 2-word CONTAINS", "4-char CONTAINS_AND_PREFIX (content)")
        chosen = {k: classes[k] for k in wanted}
        qr_bench.measure_loading(server, qr_kb, chosen)  # first searches, then the vocabulary is loaded
        results["quick_response_search"] = qr_bench.measure_search(server, qr_kb, chosen, args.repeat, args.warmup)
    finally:
        server.stop()
    if args.json:
        args.json.write_text(json.dumps(results, indent=2))
    shutil.rmtree(args.data_dir, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
