"""Running it for a team, measured: PostgreSQL beside embedded SQLite, in the same run.

1. **Import**: the same generated CSV (bench/import.py's data: unique names, ~300-character
   contents, descriptions, shortcut keys, channels) imported through the public API
   (StartContentUpload, PUT, StartImportJob, GetImportJob until done):
   - SQLite: one `serve` (its own runner);
   - PostgreSQL, 1 worker: `serve --no-worker` + one `qconnect-local worker`;
   - PostgreSQL, 2 workers: the same rows split in two files for two knowledge bases, both jobs
     started at once, two workers.
   Prints wall time and rows/s, and the PostgreSQL / SQLite time ratio (target: within 2x).
2. **API throughput**: GetQuickResponse and SearchQuickResponses (a two-word CONTAINS query on
   content, 10 results) against the imported knowledge base, with wrk (-t1, c=16 split over the
   servers), for 1 and then 2 API server processes on each store. Prints requests/s, p50, p99.

    python bench/scale.py                                # the full figures: 1,000,000 rows, 10 s runs
    python bench/scale.py --rows 20000 --duration 3      # a quick check

Needs wrk (`apt-get install wrk`) and a PostgreSQL server (`--pg-url`, default
postgresql://postgres@127.0.0.1:5432/postgres: a database is created and dropped for the run).
The machine has 2 cores: servers, workers, PostgreSQL and wrk share them, so the 2-process
figures say how far one machine goes, not how a team's several machines would scale.
"""

from __future__ import annotations

import argparse
import csv
import importlib
import os
import shutil
import sys
import tempfile
import time
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent / "tests"))
sys.path.insert(0, str(HERE))

import psycopg  # noqa: E402

from api_throughput import run_wrk, signed_authorization  # noqa: E402
from support import ServerProcess  # noqa: E402
from team_support import WorkerProcess  # noqa: E402

generate = importlib.import_module("import").generate  # bench/import.py (a keyword as a name)


# -- set-up ------------------------------------------------------------------------------------


class Database:
    """A fresh PostgreSQL database for the run, dropped at the end."""

    def __init__(self, admin_url: str) -> None:
        self.admin_url = admin_url
        self.name = f"qconnect_bench_{os.getpid()}"
        with psycopg.connect(admin_url, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{self.name}" WITH (FORCE)')
            conn.execute(f'CREATE DATABASE "{self.name}"')
        self.url = admin_url.rsplit("/", 1)[0] + "/" + self.name

    def drop(self) -> None:
        with psycopg.connect(self.admin_url, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{self.name}" WITH (FORCE)')


def limits(rows: int, size: int) -> list[str]:
    return [
        "--max-quick-responses",
        str(rows + 10),
        "--max-upload-bytes",
        str(size + 1024),
        "--max-import-jobs-in-progress",
        "0",
        "--log-level",
        "warning",
    ]


def split(path: Path, parts: int) -> list[Path]:
    """The CSV's rows in `parts` files, each with the header."""
    with open(path, newline="", encoding="utf-8") as f:
        reader = csv.reader(f)
        header = next(reader)
        rows = list(reader)
    out = []
    size = (len(rows) + parts - 1) // parts
    for i in range(parts):
        part = path.with_name(f"{path.stem}.part{i}.csv")
        with open(part, "w", newline="", encoding="utf-8") as f:
            w = csv.writer(f)
            w.writerow(header)
            w.writerows(rows[i * size : (i + 1) * size])
        out.append(part)
    return out


# -- import --------------------------------------------------------------------------------------


def upload_and_start(client, kb_id: str, path: Path) -> str:
    up = client.start_content_upload(knowledgeBaseId=kb_id, contentType="text/csv")
    with open(path, "rb") as body:
        req = urllib.request.Request(
            up["url"],
            data=body,
            method="PUT",
            headers={**up["headersToInclude"], "content-length": str(path.stat().st_size)},
        )
        with urllib.request.urlopen(req, timeout=600) as r:
            assert r.status == 200
    return client.start_import_job(knowledgeBaseId=kb_id, importJobType="QUICK_RESPONSES", uploadId=up["uploadId"])[
        "importJob"
    ]["importJobId"]


def wait_jobs(client, jobs: list[tuple[str, str]]) -> None:
    for kb_id, job_id in jobs:
        while True:
            job = client.get_import_job(knowledgeBaseId=kb_id, importJobId=job_id)["importJob"]
            if job["status"] != "START_IN_PROGRESS":
                assert job["status"] == "COMPLETE", job
                break
            time.sleep(0.2)


def timed_import(server: ServerProcess, files: list[Path]) -> tuple[float, list[str]]:
    """Wall time from the first upload to the last job's end; the knowledge base ids."""
    client = server.client()
    kbs = [
        client.create_knowledge_base(name=f"bench{i}", knowledgeBaseType="QUICK_RESPONSES")["knowledgeBase"][
            "knowledgeBaseId"
        ]
        for i in range(len(files))
    ]
    t0 = time.perf_counter()
    with ThreadPoolExecutor(len(files)) as pool:
        job_ids = list(pool.map(lambda kf: upload_and_start(client, *kf), zip(kbs, files, strict=True)))
    wait_jobs(client, list(zip(kbs, job_ids, strict=True)))
    return time.perf_counter() - t0, kbs


def print_job_lines(output: list[str], start: int = 0, wait: float = 3.0) -> None:
    """The import job's own account of its time (its log line), when the process logged it (the
    line may come a moment after GetImportJob saw the job end)."""
    deadline = time.monotonic() + wait
    while time.monotonic() < deadline and not any("rows imported" in line for line in output[start:]):
        time.sleep(0.1)
    for line in output[start:]:
        if "import job" in line and "rows imported" in line:
            print("        " + line.strip().split("import job", 1)[1].split(":", 1)[1].strip(), flush=True)
            output.remove(line)


# -- API load ------------------------------------------------------------------------------------

SEARCH_LUA = """
wrk.method = "POST"
wrk.body = '{"searchExpression": {"queries": [{"name": "content", "values": ["%s"], "operator": "CONTAINS"}]}, "maxResults": 10}'
wrk.headers["Content-Type"] = "application/json"
"""


def load(urls: list[str], connections: int, duration: int, warmup: int, script: Path | None = None) -> dict:
    """wrk against every URL at once (connections split among them); summed req/s, worst p50/p99."""
    per = max(1, connections // len(urls))

    def one(url: str) -> dict:
        auth = signed_authorization(url, "wisdom")
        return run_wrk(url, auth, per, duration, warmup, str(script) if script else None)

    with ThreadPoolExecutor(len(urls)) as pool:
        results = list(pool.map(one, urls))
    return {
        "rps": sum(r["rps"] for r in results),
        "p50": max(r["p50"] for r in results),
        "p99": max(r["p99"] for r in results),
        "errors": sum(r["errors"] for r in results),
    }


def api_figures(label: str, servers: list[ServerProcess], kb_id: str, args, script: Path) -> None:
    client = servers[0].client()
    qr_id = client.list_quick_responses(knowledgeBaseId=kb_id, maxResults=1)["quickResponseSummaries"][0][
        "quickResponseId"
    ]
    get_path = f"/knowledgeBases/{kb_id}/quickResponses/{qr_id}"
    search_path = f"/knowledgeBases/{kb_id}/search/quickResponses"
    for n in (1, 2):
        urls = [s.endpoint_url for s in servers[:n]]
        for op, path, lua in (("GetQuickResponse", get_path, None), ("SearchQuickResponses", search_path, script)):
            r = load([u + path for u in urls], args.connections, args.duration, args.warmup, lua)
            print(
                f"{label:10s} {n} server(s)  {op:21s} {r['rps']:>9,.0f} req/s  p50 {r['p50']:7.2f} ms"
                f"  p99 {r['p99']:7.2f} ms  non-2xx {r['errors']}",
                flush=True,
            )


def search_word(path: Path, sample: int = 20_000) -> str:
    """Two content words of one row that are rare in the file (document frequency counted over
    the first rows): a query that matches a handful of rows, as a person's search would."""
    import collections
    import itertools

    from qconnect_local.search.plan import tokenize

    df: collections.Counter[str] = collections.Counter()
    with open(path, newline="", encoding="utf-8") as f:
        reader = csv.reader(f)
        next(reader)
        rows = [set(tokenize(r[1])) for r in itertools.islice(reader, sample)]
    for words in rows:
        df.update(words)
    rarest = sorted(rows[0], key=lambda w: (df[w], w))
    return " ".join(rarest[:2])


# -- main ----------------------------------------------------------------------------------------


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--duration", type=int, default=10, help="seconds per wrk run")
    parser.add_argument("--warmup", type=int, default=2)
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--pg-url", default="postgresql://postgres@127.0.0.1:5432/postgres")
    parser.add_argument("--workdir", type=Path, default=None)
    parser.add_argument("--skip-api", action="store_true")
    parser.add_argument(
        "--imports",
        default="sqlite,pg1,pg2",
        help="which imports to run, comma-separated from sqlite, pg1, pg2 (with --skip-api)",
    )
    args = parser.parse_args()
    imports = set(args.imports.split(","))
    if imports != {"sqlite", "pg1", "pg2"} and not args.skip_api:
        parser.error("--imports needs --skip-api (the API runs read the imported knowledge bases)")
    if not args.skip_api and not shutil.which("wrk"):
        print("wrk is needed: apt-get install wrk", file=sys.stderr)
        return 2

    tmp = Path(tempfile.mkdtemp(prefix="qconnect-scale-", dir=args.workdir))
    procs: list = []
    db = Database(args.pg_url)
    try:
        path = tmp / "qr.csv"
        generate(path, args.rows)
        halves = split(path, 2)
        size = path.stat().st_size
        lua = tmp / "search.lua"
        lua.write_text(SEARCH_LUA % search_word(path))
        print(f"{args.rows:,} rows, {size / 1e6:.0f} MB", flush=True)

        # SQLite: one server with its own runner.
        sqlite_dir = tmp / "sqlite"
        sqlite_server = ServerProcess(*limits(args.rows, size), "--log-level", "info", data_dir=sqlite_dir).start()
        procs.append(sqlite_server)
        t_sqlite = 0.0
        if "sqlite" in imports:
            t_sqlite, (sqlite_kb,) = timed_import(sqlite_server, [path])
            print(f"import  SQLite               {t_sqlite:8.1f} s {args.rows / t_sqlite:>9,.0f} rows/s", flush=True)
            print_job_lines(sqlite_server.output)
        # Not running beside the PostgreSQL imports (its background work would share their cores);
        # started again for the API runs.
        sqlite_server.stop()

        # PostgreSQL: API servers without runners, and workers.
        pg_dir = tmp / "pg"
        common = ["--database-url", db.url, *limits(args.rows, size)]
        pg_server = ServerProcess("--no-worker", *common, data_dir=pg_dir).start()
        procs.append(pg_server)
        worker_args = ["--data-dir", str(pg_dir), *common]
        # Log level info (after the common --log-level warning): the job's timing line.
        worker_args = [*worker_args, "--log-level", "info"]
        workers = [WorkerProcess(*worker_args).start()]
        procs.extend(workers)
        t_pg1 = 0.0
        if "pg1" in imports:
            t_pg1, (pg_kb,) = timed_import(pg_server, [path])
            ratio = f"   PostgreSQL/SQLite time {t_pg1 / t_sqlite:.2f}x (target <= 2x)" if t_sqlite else ""
            print(f"import  PostgreSQL 1 worker  {t_pg1:8.1f} s {args.rows / t_pg1:>9,.0f} rows/s{ratio}", flush=True)
            print_job_lines(workers[0].output)
        if "pg2" in imports:
            workers.append(WorkerProcess(*worker_args).start())
            procs.append(workers[-1])
            seen = [len(w.output) for w in workers]
            t_pg2, _ = timed_import(pg_server, halves)
            speedup = f"   speed-up over 1 worker {t_pg1 / t_pg2:.2f}x" if t_pg1 else ""
            print(f"import  PostgreSQL 2 workers {t_pg2:8.1f} s {args.rows / t_pg2:>9,.0f} rows/s{speedup}", flush=True)
            for w, n in zip(workers, seen, strict=True):
                print_job_lines(w.output, n)
        for w in workers:
            w.stop()

        if not args.skip_api:
            # Measure the steady state, not the database's own clean-up after a million inserts.
            with psycopg.connect(db.url, autocommit=True) as conn:
                conn.execute("VACUUM ANALYZE")
                conn.execute("CHECKPOINT")
            sqlite_server = ServerProcess(*limits(args.rows, size), data_dir=sqlite_dir).start()
            sqlite_second = ServerProcess(*limits(args.rows, size), data_dir=sqlite_dir).start()
            procs.append(sqlite_server)
            pg_second = ServerProcess("--no-worker", *common, data_dir=pg_dir).start()
            procs.extend([sqlite_second, pg_second])
            api_figures("SQLite", [sqlite_server, sqlite_second], sqlite_kb, args, lua)
            api_figures("PostgreSQL", [pg_server, pg_second], pg_kb, args, lua)
    finally:
        for p in procs:
            try:
                p.stop()
            except Exception:
                pass
        db.drop()
        shutil.rmtree(tmp, ignore_errors=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
