"""Uploads: a StartContentUpload's signed URL and what was PUT to it."""

from __future__ import annotations

from typing import Any

from qconnect_local.storage.dialect import Record
from qconnect_local.storage.sql.session import SqlSession

_UPLOAD_COLUMNS = "id, kb_id, content_type, created, expires, uploaded, size, etag"


def _upload(row: tuple[Any, ...]) -> Record:
    upload_id, kb_id, content_type, created, expires, uploaded, size, etag = row
    return {
        "uploadId": upload_id,
        "knowledgeBaseId": kb_id,
        "contentType": content_type,
        "created": created,
        "expires": expires,
        "uploaded": uploaded,
        "size": size,
        "etag": etag,
    }


class UploadQueries(SqlSession):
    def insert_upload(self, account: str, region: str, upload: Record) -> None:
        self.execute(
            "INSERT INTO uploads (kb_seq, account_id, region, id, kb_id, content_type, created, expires)"
            " SELECT seq, ?, ?, ?, ?, ?, ?, ? FROM knowledge_bases"
            " WHERE account_id = ? AND region = ? AND id = ?",
            (
                account,
                region,
                upload["uploadId"],
                upload["knowledgeBaseId"],
                upload["contentType"],
                upload["created"],
                upload["expires"],
                account,
                region,
                upload["knowledgeBaseId"],
            ),
        )

    def get_upload(self, account: str, region: str, upload_id: str) -> Record | None:
        row = self.execute(
            f"SELECT {_UPLOAD_COLUMNS} FROM uploads WHERE account_id = ? AND region = ? AND id = ?",
            (account, region, upload_id),
        ).fetchone()
        return _upload(row) if row else None

    def get_upload_by_id(self, upload_id: str) -> Record | None:
        """For the upload endpoint, which knows only the (signed) upload id."""
        row = self.execute(f"SELECT {_UPLOAD_COLUMNS} FROM uploads WHERE id = ?", (upload_id,)).fetchone()
        return _upload(row) if row else None

    def mark_uploaded(self, upload_id: str, size: int, etag: str, when: float) -> bool:
        cur = self.execute(
            "UPDATE uploads SET uploaded = ?, size = ?, etag = ? WHERE id = ?", (when, size, etag, upload_id)
        )
        return bool(cur.rowcount > 0)

    def delete_upload_unless_used(self, account: str, region: str, upload_id: str) -> bool:
        """Deletes the upload unless an import job or a content still refers to it; True when deleted."""
        cur = self.execute(
            "DELETE FROM uploads WHERE account_id = ? AND region = ? AND id = ? AND NOT EXISTS"
            " (SELECT 1 FROM import_jobs j WHERE j.account_id = ? AND j.region = ? AND j.upload_id = ?)"
            " AND NOT EXISTS (SELECT 1 FROM contents c WHERE c.upload_id = ?)",
            (account, region, upload_id, account, region, upload_id, upload_id),
        )
        return bool(cur.rowcount > 0)

    def live_blob_keys(self) -> set[str]:
        """Blob keys some row still refers to (the rest is garbage)."""
        keys = {f"uploads/{u}" for (u,) in self.execute("SELECT id FROM uploads")}
        keys.update(k for (k,) in self.execute("SELECT report_key FROM import_jobs WHERE report_key IS NOT NULL"))
        return keys
