"""Quick-response CSV import through the public API, beside the csv + sqlite3 floor.

For each size: generate a CSV of N quick responses (seeded; like the perf-floors data set: unique
`word-word-0000042` names, ~300-character contents with commas and quotes, description, unique
shortcut key, two channels, language), then

- **ours**: a fresh `qconnect-local serve` (data dir in a temp dir, quota and upload limit raised):
  StartContentUpload, PUT of the file to the signed URL, StartImportJob, GetImportJob polled until
  the job ends. Wall time from the start of the upload to the end of the job; the server's peak
  memory growth (VmHWM at the end minus VmRSS before the upload).
- **floor**: in this process, `csv.reader` parse + sqlite3 `executemany` of the same rows into a
  table with a UUID primary key and a unique (knowledge base, name) index, plus an external-content
  FTS5 index filled by one INSERT…SELECT, in one transaction (WAL, synchronous=NORMAL, 256 MiB
  cache) — the naive floor (docs/performance.md), measured in the same run.

    python bench/import.py                       # 10k, 100k and 1M rows (the full figures)
    python bench/import.py --rows 10000          # quick check

Also printed: the CPU seconds each side used (the server process's user + system time from the
upload to the end of the job; the floor's process time), which a busy machine moves less than
wall time.

Targets: ours >= 0.8x the floor's rows/s; 1M rows < 60 s; memory growth < 300 MB.
"""

from __future__ import annotations

import argparse
import csv
import itertools
import json
import os
import random
import sqlite3
import sys
import tempfile
import time
import urllib.request
import uuid
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))

from support import ServerProcess  # noqa: E402

HEADER = ["Name", "Content", "Content type", "Description", "Shortcut key", "Channels", "Language"]


def generate(path: Path, rows: int, seed: int = 42) -> None:
    rng = random.Random(seed)
    syllables = ["ka", "lo", "mi", "ne", "ru", "sa", "to", "vi", "ze", "bo", "da", "fe", "gu", "hi", "ju"]
    words = ["".join(rng.choice(syllables) for _ in range(rng.randint(1, 4))) for _ in range(20_000)]
    cum_weights = list(itertools.accumulate(1 / (i + 1) ** 1.07 for i in range(len(words))))  # Zipf-like
    with open(path, "w", newline="", encoding="utf-8") as f:
        out = csv.writer(f)
        out.writerow(HEADER)
        for i in range(rows):
            text = rng.choices(words, cum_weights=cum_weights, k=48)
            text[5] = f'"{text[5]}"'
            content = " ".join(text[:16]) + ", " + " ".join(text[16:32]) + ". " + " ".join(text[32:]) + "."
            out.writerow(
                [
                    f"{rng.choice(words)}-{rng.choice(words)}-{i:07d}",
                    content,
                    "application/x.quickresponse;format=plain",
                    " ".join(rng.choices(words, cum_weights=cum_weights, k=8)),
                    f"k{i:x}",
                    "Chat|Email",
                    "en_US",
                ]
            )


# -- the floor ---------------------------------------------------------------------------------


def floor(path: Path, workdir: Path) -> float:
    db_path = workdir / "floor.sqlite3"
    for suffix in ("", "-wal", "-shm"):
        Path(str(db_path) + suffix).unlink(missing_ok=True)
    db = sqlite3.connect(db_path, isolation_level=None)
    db.execute("PRAGMA journal_mode = WAL")
    db.execute("PRAGMA synchronous = NORMAL")
    db.execute("PRAGMA cache_size = -262144")
    db.executescript("""
        CREATE TABLE quick_responses (id TEXT PRIMARY KEY, kb_id TEXT, name TEXT, content_type TEXT, content TEXT,
            description TEXT, shortcut_key TEXT, channels TEXT, language TEXT, created_at REAL, modified_at REAL,
            status TEXT);
        CREATE UNIQUE INDEX qr_name ON quick_responses (kb_id, name);
        CREATE VIRTUAL TABLE qr_fts USING fts5(name, content, description, content='quick_responses', content_rowid='rowid');
    """)
    kb = str(uuid.uuid4())
    start, cpu_start = time.perf_counter(), time.process_time()
    with open(path, newline="", encoding="utf-8") as f:
        reader = csv.reader(f)
        next(reader)
        now = time.time()
        rows = (
            (
                str(uuid.uuid4()),
                kb,
                r[0],
                r[2],
                r[1],
                r[3],
                r[4],
                json.dumps(r[5].split("|")),
                r[6],
                now,
                now,
                "CREATED",
            )
            for r in reader
        )
        db.execute("BEGIN")
        db.executemany("INSERT INTO quick_responses VALUES (?,?,?,?,?,?,?,?,?,?,?,?)", rows)
        db.execute(
            "INSERT INTO qr_fts (rowid, name, content, description) SELECT rowid, name, content, description FROM quick_responses"
        )
        db.execute("COMMIT")
    elapsed, cpu = time.perf_counter() - start, time.process_time() - cpu_start
    db.close()
    return elapsed, cpu


# -- ours --------------------------------------------------------------------------------------


def memory_kb(pid: int, field: str) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    return 0


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process so far (less moved by a busy machine than wall time)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def ours(path: Path, rows: int, workdir: Path, database_url: str | None = None) -> dict[str, float]:
    """One import on a fresh server: SQLite in a data dir, or PostgreSQL (`database_url`, a
    server with its own runner, so its memory growth is measured the same way)."""
    data_dir = workdir / f"server-{rows}{'-pg' if database_url else ''}"
    store = ["--database-url", database_url] if database_url else []
    server = ServerProcess(
        *store,
        "--max-quick-responses",
        str(rows + 10),
        "--max-upload-bytes",
        str(path.stat().st_size + 1024),
        "--log-level",
        "info",
        data_dir=data_dir,
    ).start()
    try:
        client = server.client()
        pid = server.proc.pid
        kb_id = client.create_knowledge_base(name="bench", knowledgeBaseType="QUICK_RESPONSES")["knowledgeBase"][
            "knowledgeBaseId"
        ]
        rss_before = memory_kb(pid, "VmRSS")
        cpu_before = cpu_seconds(pid)
        t0 = time.perf_counter()
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
        t_upload = time.perf_counter() - t0
        job = client.start_import_job(knowledgeBaseId=kb_id, importJobType="QUICK_RESPONSES", uploadId=up["uploadId"])[
            "importJob"
        ]
        peak_rss = 0
        while job["status"] == "START_IN_PROGRESS":
            # Fine-grained at first (a 10,000-row job takes under a second), then as a client
            # would (each GetImportJob takes the server's GIL from the import for a moment).
            time.sleep(0.02 if time.perf_counter() - t0 < 3 else 0.2)
            peak_rss = max(peak_rss, memory_kb(pid, "VmRSS"))
            job = client.get_import_job(knowledgeBaseId=kb_id, importJobId=job["importJobId"])["importJob"]
        total = time.perf_counter() - t0
        cpu = cpu_seconds(pid) - cpu_before
        assert job["status"] == "COMPLETE", job
        hwm = memory_kb(pid, "VmHWM")
        # The job's own timing line (importing/job.py) follows its commit and checkpoint.
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and not any("rows imported" in line for line in server.output):
            time.sleep(0.1)
        for line in server.output:
            if "rows imported" in line:
                print("   ", line.split(": ", 1)[-1].strip())
        return {"upload": t_upload, "total": total, "cpu": cpu, "growth_mb": (max(hwm, peak_rss) - rss_before) / 1024}
    finally:
        server.stop()


def pg_import(path: Path, rows: int, workdir: Path, admin_url: str) -> dict[str, float]:
    """`ours` on a fresh PostgreSQL database (dropped afterwards)."""
    import psycopg

    name = f"qconnect_import_bench_{os.getpid()}"
    with psycopg.connect(admin_url, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')
    try:
        return ours(path, rows, workdir, admin_url.rsplit("/", 1)[0] + "/" + name)
    finally:
        with psycopg.connect(admin_url, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rows", type=int, nargs="+", default=[10_000, 100_000, 1_000_000])
    parser.add_argument("--workdir", type=Path, default=None, help="where CSVs and databases go (default: a temp dir)")
    parser.add_argument(
        "--pg-url",
        default=None,
        help="also import into PostgreSQL (a database created and dropped per size, from this server's URL,"
        " e.g. postgresql://postgres@127.0.0.1:5432/postgres), and print its time beside SQLite's",
    )
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="qconnect-import-bench-", dir=args.workdir) as tmp:
        workdir = Path(tmp)
        print(
            f"{'rows':>9} | {'ours s':>7} {'(upload)':>9} {'rows/s':>8} {'cpu s':>6} {'mem MB':>7} |"
            f" {'floor s':>7} {'rows/s':>8} {'cpu s':>6} | ratio"
        )
        for rows in args.rows:
            path = workdir / f"qr_{rows}.csv"
            generate(path, rows)
            path.read_bytes()  # warm the page cache for both sides
            mine = ours(path, rows, workdir)
            base, base_cpu = floor(path, workdir)
            ours_rate, floor_rate = rows / mine["total"], rows / base
            print(
                f"{rows:>9} | {mine['total']:>7.2f} {mine['upload']:>8.2f}s {ours_rate:>8.0f} {mine['cpu']:>6.1f}"
                f" {mine['growth_mb']:>7.0f} | {base:>7.2f} {floor_rate:>8.0f} {base_cpu:>6.1f} |"
                f" {ours_rate / floor_rate:.2f}x",
                flush=True,
            )
            if args.pg_url:
                pg = pg_import(path, rows, workdir, args.pg_url)
                print(
                    f"{'PG':>9} | {pg['total']:>7.2f} {pg['upload']:>8.2f}s {rows / pg['total']:>8.0f} {pg['cpu']:>6.1f}"
                    f" {pg['growth_mb']:>7.0f} | PostgreSQL / SQLite time {pg['total'] / mine['total']:.2f}x",
                    flush=True,
                )
            path.unlink()


if __name__ == "__main__":
    main()
