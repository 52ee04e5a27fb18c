"""What fixes a service error, when we know: one short hint after the error's one line."""

from __future__ import annotations

_KB_QUOTA = (
    "the server keeps state between runs; `qconnect-local reset` wipes it, "
    "`serve --max-knowledge-bases N` (QCONNECT_LOCAL_MAX_KNOWLEDGE_BASES) raises the quota"
)
_QR_QUOTA = (
    "`serve --max-quick-responses N` (QCONNECT_LOCAL_MAX_QUICK_RESPONSES) raises the quota "
    "of quick responses per knowledge base"
)


def hint_for(code: str, message: str, operation: str | None = None) -> str | None:
    lowered = message.lower()
    if code == "ServiceQuotaExceededException":
        if operation == "CreateKnowledgeBase" or "knowledge bases" in lowered:
            return _KB_QUOTA
        if "quick response" in lowered:
            return _QR_QUOTA
    if code == "ResourceNotFoundException" and "knowledge base" in lowered:
        return "`qconnect-local kb list` shows the knowledge bases"
    if code == "ResourceNotFoundException" and "import job" in lowered:
        return "`qconnect-local jobs list --knowledge-base KB` shows the import jobs"
    if code == "ConflictException" and "import job" in lowered:
        return (
            "wait for it (`qconnect-local jobs list`), or start the server with "
            "--max-import-jobs-in-progress 0 (QCONNECT_LOCAL_MAX_IMPORT_JOBS_IN_PROGRESS)"
        )
    if code in ("UnrecognizedClientException", "InvalidSignatureException", "ExpiredTokenException"):
        return "check the credentials of --profile / AWS_PROFILE, or the --endpoint-url"
    return None
