"""The schema step of assistants, their associations and sessions, shared by both
stores and spelled with the dialect's column types. Append only."""

from __future__ import annotations

from qconnect_local.storage.dialect import Dialect


def assistant_step(d: Dialect) -> str:
    """Step 300: assistants, assistant associations and sessions."""
    return f"""
        CREATE TABLE assistants (
            seq         {d.serial_key},  -- creation order, for stable pagination
            account_id  TEXT NOT NULL,
            region      TEXT NOT NULL,
            id          TEXT NOT NULL,
            data        {d.json_type} NOT NULL,  -- the AssistantData record
            UNIQUE (account_id, region, id)
        );
        CREATE INDEX assistants_scope ON assistants (account_id, region, seq);

        CREATE TABLE assistant_associations (
            seq            {d.serial_key},
            assistant_seq  {d.big_int} NOT NULL REFERENCES assistants(seq) ON DELETE CASCADE,
            -- NULL for an external Bedrock knowledge base; deleting the knowledge base deletes
            -- its associations (docs/assistants.md, "Behaviour choices")
            kb_seq         {d.big_int} REFERENCES knowledge_bases(seq) ON DELETE CASCADE,
            account_id     TEXT NOT NULL,
            region         TEXT NOT NULL,
            id             TEXT NOT NULL,
            data           {d.json_type} NOT NULL,  -- the AssistantAssociationData record
            UNIQUE (account_id, region, id),
            UNIQUE (assistant_seq, kb_seq)
        );
        CREATE INDEX assistant_associations_assistant ON assistant_associations (assistant_seq, seq);
        CREATE INDEX assistant_associations_kb ON assistant_associations (kb_seq);
        CREATE INDEX assistant_associations_scope ON assistant_associations (account_id, region);

        CREATE TABLE assistant_sessions (
            seq            {d.serial_key},
            assistant_seq  {d.big_int} NOT NULL REFERENCES assistants(seq) ON DELETE CASCADE,
            account_id     TEXT NOT NULL,
            region         TEXT NOT NULL,
            id             TEXT NOT NULL,
            name           TEXT NOT NULL,        -- SearchSessions filters on it
            data           {d.json_type} NOT NULL,  -- the SessionData record
            runtime_data   {d.json_type} NOT NULL,  -- UpdateSessionData's key/value pairs
            UNIQUE (account_id, region, id)
        );
        CREATE INDEX assistant_sessions_assistant ON assistant_sessions (assistant_seq, seq);
        CREATE INDEX assistant_sessions_name ON assistant_sessions (assistant_seq, name, seq);
        """


def content_step(d: Dialect) -> str:
    """Step 301: content of CUSTOM knowledge bases (its file is the upload's blob)."""
    return f"""
        CREATE TABLE contents (
            seq         {d.serial_key},
            kb_seq      {d.big_int} NOT NULL REFERENCES knowledge_bases(seq) ON DELETE CASCADE,
            account_id  TEXT NOT NULL,
            region      TEXT NOT NULL,
            id          TEXT NOT NULL,
            name        TEXT NOT NULL,           -- unique in its knowledge base; SearchContent filters on it
            data        {d.json_type} NOT NULL,  -- the ContentData record (without url/urlExpiry)
            UNIQUE (account_id, region, id),
            UNIQUE (kb_seq, name)
        );
        CREATE INDEX contents_kb ON contents (kb_seq, seq);
        CREATE INDEX contents_name ON contents (kb_seq, name, seq);
        """


def content_text_step() -> str:
    """Step 302: the text of each content's file (extracted by content_text.py), for search."""
    return "ALTER TABLE contents ADD COLUMN text TEXT NOT NULL DEFAULT '';"


def content_task_step(d: Dialect) -> str:
    """Step 310: text extraction in the background (its task, lease and hold, as for import
    jobs) and the upload each content's file comes from (DeleteContent removes it when unused)."""
    upload_of = "json_extract(CAST(data AS TEXT), '$._uploadId')" if d.name == "sqlite" else "data->>'_uploadId'"
    return f"""
        ALTER TABLE contents ADD COLUMN upload_id TEXT;
        ALTER TABLE contents ADD COLUMN task TEXT;           -- the pending extraction's id (NULL: none)
        ALTER TABLE contents ADD COLUMN task_kind TEXT;      -- CREATE | UPDATE: which *_FAILED an unreadable file gives
        ALTER TABLE contents ADD COLUMN run_after {d.real};  -- NULL with a task: held until POST .../run
        ALTER TABLE contents ADD COLUMN lease_owner TEXT;
        ALTER TABLE contents ADD COLUMN lease_expires {d.real};
        ALTER TABLE contents ADD COLUMN attempts INTEGER NOT NULL DEFAULT 0;
        UPDATE contents SET upload_id = {upload_of};
        CREATE INDEX contents_upload ON contents (upload_id);
        CREATE INDEX contents_tasks ON contents (run_after) WHERE task IS NOT NULL;
        """


def content_association_step(d: Dialect) -> str:
    """Step 311: content associations (Amazon Connect step-by-step guides)."""
    return f"""
        CREATE TABLE content_associations (
            seq          {d.serial_key},
            content_seq  {d.big_int} NOT NULL REFERENCES contents(seq) ON DELETE CASCADE,
            account_id   TEXT NOT NULL,
            region       TEXT NOT NULL,
            id           TEXT NOT NULL,
            target       TEXT NOT NULL,           -- the associated resource (the flow's ARN): once per content
            data         {d.json_type} NOT NULL,  -- the ContentAssociationData record
            UNIQUE (account_id, region, id),
            UNIQUE (content_seq, target)
        );
        CREATE INDEX content_associations_content ON content_associations (content_seq, seq);
        """
