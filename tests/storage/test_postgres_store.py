"""What is particular to the PostgreSQL store and to running it for a team: health reporting,
migrations when several servers start at once, and an unreachable database."""

from __future__ import annotations

import json
import subprocess
import sys
import time
import urllib.error
import urllib.request
from concurrent.futures import ThreadPoolExecutor

import pytest
from botocore.exceptions import ClientError

import postgres_support
from import_support import csv_bytes, start, upload
from support import ServerProcess
from team_support import needs_postgres, query


def health(endpoint: str) -> tuple[int, dict]:
    try:
        with urllib.request.urlopen(endpoint + "/_qconnect/health", timeout=30) as r:
            return r.status, json.loads(r.read())
    except urllib.error.HTTPError as e:
        return e.code, json.loads(e.read())


def test_health_reports_database_blob_store_and_queue(endpoint):
    status, body = health(endpoint)
    assert status == 200 and body["status"] == "ok"
    assert body["database"] == {"kind": body["storage"], "reachable": True}
    assert body["blobStore"] == {"kind": "local", "reachable": True}
    assert body["importQueue"] == {"waiting": 0, "running": 0}
    assert body["importRunner"] is True


@needs_postgres
def test_queue_depth_counts_jobs_left_to_workers(tmp_path):
    server = ServerProcess(
        "--no-worker", "--database-url", postgres_support.new_database("q"), data_dir=tmp_path
    ).start()
    try:
        client = server.client()
        kb_id = client.create_knowledge_base(name="kb", knowledgeBaseType="QUICK_RESPONSES")["knowledgeBase"][
            "knowledgeBaseId"
        ]
        start(client, kb_id, upload(client, kb_id, csv_bytes([["Name", "Content"], ["a", "b"]])))
        status, body = health(server.endpoint_url)
        assert status == 200 and body["importRunner"] is False
        assert body["importQueue"] == {"waiting": 1, "running": 0}
    finally:
        server.stop()


@pytest.mark.slow
@needs_postgres
def test_servers_starting_at_once_migrate_once():
    url = postgres_support.new_database("mig")
    servers = [ServerProcess("--database-url", url) for _ in range(3)]
    try:
        with ThreadPoolExecutor(3) as pool:
            list(pool.map(lambda s: s.start(), servers))
        versions = [v for (v,) in query(url, "SELECT version FROM schema_migrations ORDER BY version")]
        assert versions == sorted(set(versions)) and {1, 100, 200} <= set(versions)
        # One service: what one server creates, the others see.
        kb = servers[0].client().create_knowledge_base(name="kb", knowledgeBaseType="QUICK_RESPONSES")["knowledgeBase"]
        for s in servers[1:]:
            assert s.client().get_knowledge_base(knowledgeBaseId=kb["knowledgeBaseId"])["knowledgeBase"] == kb
    finally:
        for s in servers:
            s.stop()


@pytest.mark.slow
@needs_postgres
def test_a_lost_database_makes_health_degraded_and_calls_fail_cleanly():
    url = postgres_support.new_database("lost")
    server = ServerProcess("--database-url", url).start()
    try:
        client = server.client()
        client.create_knowledge_base(name="kb", knowledgeBaseType="QUICK_RESPONSES")
        name = url.rsplit("/", 1)[1]
        admin = url.rsplit("/", 1)[0] + "/postgres"
        query(admin, f'DROP DATABASE "{name}" WITH (FORCE)')
        deadline = time.monotonic() + 20
        while True:
            status, body = health(server.endpoint_url)
            if status == 503 or time.monotonic() > deadline:
                break
            time.sleep(0.2)
        assert status == 503 and body["status"] == "degraded" and body["database"]["reachable"] is False
        with pytest.raises(ClientError) as caught:
            client.list_knowledge_bases()
        error = caught.value.response  # AWS-shaped, no traceback
        assert error["ResponseMetadata"]["HTTPStatusCode"] == 500
        assert error["Error"]["Code"] == "InternalServerException" and "Request id" in error["Error"]["Message"]
    finally:
        server.stop()


@pytest.mark.slow
def test_serve_refuses_an_unreachable_database():
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "qconnect_local",
            "serve",
            "--port",
            "0",
            "--in-memory",
            "--database-url",
            "postgresql://postgres@127.0.0.1:1/nothing",
        ],
        capture_output=True,
        text=True,
        timeout=60,
        env={**__import__("os").environ, "QCONNECT_LOCAL_DB_CONNECT_TIMEOUT": "1"},
    )
    assert proc.returncode == 1
    assert "cannot connect to PostgreSQL" in proc.stderr and "Traceback" not in proc.stderr


@pytest.mark.slow
def test_migrate_command_applies_the_schema_and_exits(tmp_path):
    args = ["--data-dir", str(tmp_path)]
    if postgres_support.TEST_DATABASE_URL:
        args = ["--database-url", postgres_support.new_database("migrate")]
    proc = subprocess.run(
        [sys.executable, "-m", "qconnect_local", "migrate", *args], capture_output=True, text=True, timeout=60
    )
    assert proc.returncode == 0, proc.stderr
    assert "schema is at version" in proc.stdout
    # Again: nothing left to do, same answer.
    again = subprocess.run(
        [sys.executable, "-m", "qconnect_local", "migrate", *args], capture_output=True, text=True, timeout=60
    )
    assert again.returncode == 0 and again.stdout == proc.stdout
