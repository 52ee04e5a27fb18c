"""The schema steps both stores share, spelled with the dialect's column types. Append only:
never change what a released step creates (a store records only the step's number)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from qconnect_local.storage.dialect import Dialect

# A step is SQL, or a function of the connection for steps that fill new columns in from Python.
Migration = str | Callable[[Any], None]


def knowledge_base_step(d: Dialect) -> str:
    """Step 1: knowledge bases and clientTokens."""
    return f"""
        CREATE TABLE knowledge_bases (
            seq         {d.serial_key},  -- creation order, for stable pagination
            account_id  TEXT NOT NULL,
            region      TEXT NOT NULL,
            id          TEXT NOT NULL,
            data        {d.json_type} NOT NULL,  -- the KnowledgeBaseData record
            UNIQUE (account_id, region, id)
        );
        CREATE INDEX knowledge_bases_scope ON knowledge_bases (account_id, region, seq);

        CREATE TABLE idempotency_tokens (
            account_id    TEXT NOT NULL,
            region        TEXT NOT NULL,
            operation     TEXT NOT NULL,
            scope         TEXT NOT NULL,    -- the parent resource ('' for account-level creates)
            token         TEXT NOT NULL,
            request_hash  TEXT NOT NULL,
            resource_id   TEXT NOT NULL,
            created       {d.real} NOT NULL,
            PRIMARY KEY (account_id, region, operation, scope, token)
        );
        """


def import_step(d: Dialect) -> str:
    """Step 200: uploads, import jobs and the local directory of Connect routing profiles."""
    return f"""
        CREATE TABLE uploads (
            seq           {d.serial_key},
            kb_seq        {d.big_int} NOT NULL REFERENCES knowledge_bases(seq) ON DELETE CASCADE,
            account_id    TEXT NOT NULL,
            region        TEXT NOT NULL,
            id            TEXT NOT NULL,
            kb_id         TEXT NOT NULL,
            content_type  TEXT NOT NULL,
            created       {d.real} NOT NULL,
            expires       {d.real} NOT NULL,  -- the upload URL's expiry
            uploaded      {d.real},           -- NULL until a PUT succeeded
            size          {d.big_int},
            etag          TEXT,
            UNIQUE (account_id, region, id)
        );

        CREATE TABLE import_jobs (
            seq            {d.serial_key},  -- creation order, for pagination
            kb_seq         {d.big_int} NOT NULL REFERENCES knowledge_bases(seq) ON DELETE CASCADE,
            account_id     TEXT NOT NULL,
            region         TEXT NOT NULL,
            id             TEXT NOT NULL,
            kb_id          TEXT NOT NULL,
            upload_id      TEXT NOT NULL,
            status         TEXT NOT NULL,
            modified       {d.real} NOT NULL,
            data           {d.json_type} NOT NULL,  -- the fixed members of ImportJobData
            caller_arn     TEXT NOT NULL,      -- lastModifiedBy of the quick responses it creates
            report_key     TEXT,               -- blob key of the failed-record report
            run_after      {d.real},  -- NULL: held until POST /_qconnect/import-jobs/{{id}}/run
            lease_owner    TEXT,
            lease_expires  {d.real},
            attempts       INTEGER NOT NULL DEFAULT 0,
            UNIQUE (account_id, region, id)
        );
        CREATE INDEX import_jobs_kb ON import_jobs (account_id, region, kb_id, seq);
        CREATE INDEX import_jobs_pending ON import_jobs (status, run_after);

        CREATE TABLE connect_instances (
            instance_id  TEXT PRIMARY KEY
        );
        CREATE TABLE connect_routing_profiles (
            instance_id  TEXT NOT NULL REFERENCES connect_instances(instance_id) ON DELETE CASCADE,
            name         TEXT NOT NULL,     -- case-sensitive, as Connect compares them
            arn          TEXT NOT NULL,
            PRIMARY KEY (instance_id, name)
        );
        """
