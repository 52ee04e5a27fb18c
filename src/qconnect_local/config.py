"""Server settings: one object, filled from the command line, passed to every layer."""

from __future__ import annotations

import os
import secrets
import threading
from dataclasses import dataclass, field
from pathlib import Path

from qconnect_local.cors import CorsSettings
from qconnect_local.hardening import HardeningSettings
from qconnect_local.request_log import RequestLogSettings
from qconnect_local.unhappy import UnhappySettings


@dataclass
class Quotas:
    knowledge_bases: int = 10  # per account and region
    quick_responses_per_knowledge_base: int = 1000
    tags_per_resource: int = 50
    assistants: int = 5  # per account and region (reference §6)
    assistant_associations: int = 20  # per account and region (reference §6)
    contents_per_knowledge_base: int = 5000  # reference §6
    message_templates_per_knowledge_base: int = 200  # reference §6
    attachments_per_message_template: int = 10  # not documented by AWS: docs/message-templates.md
    message_template_attachment_bytes: int = 5 * 1024 * 1024  # decoded size of one attachment


@dataclass
class Settings:
    host: str = "127.0.0.1"
    port: int = 4580
    data_dir: Path = Path(".qconnect-local")
    in_memory: bool = False
    account_id: str = "000000000000"
    region: str = "us-east-1"
    max_request_bytes: int = 10 * 1024 * 1024  # API calls; uploads have their own limit
    quotas: Quotas = field(default_factory=Quotas)
    log_level: str = "warning"
    imports: ImportSettings = field(default_factory=lambda: ImportSettings())
    # A postgresql:// URL selects the PostgreSQL store (shared by several servers and workers).
    database_url: str | None = field(default_factory=lambda: os.environ.get("QCONNECT_LOCAL_DATABASE_URL") or None)
    # Running it for a team: s3://bucket/prefix selects the S3 blob store; the import
    # runner can be left to `qconnect-local worker` processes; a store shared by several
    # processes provides the URL-signing key they must all use.
    blob_url: str | None = field(default_factory=lambda: os.environ.get("QCONNECT_LOCAL_BLOB_URL") or None)
    s3_endpoint_url: str | None = field(
        default_factory=lambda: os.environ.get("QCONNECT_LOCAL_S3_ENDPOINT_URL") or None
    )
    run_import_runner: bool = True
    console: bool = True  # the web console at /_qconnect/ui/ (`serve --no-console` turns it off)
    shared_key: bytes | None = None
    hardening: HardeningSettings = field(default_factory=HardeningSettings)  # docs/security.md
    request_log: RequestLogSettings = field(default_factory=RequestLogSettings)  # docs/configuration.md
    cors: CorsSettings = field(default_factory=CorsSettings)  # docs/configuration.md
    init_files: list[str] = field(default_factory=list)  # serve --init
    unhappy: UnhappySettings = field(default_factory=UnhappySettings)  # docs/unhappy-paths.md (all off)

    @property
    def database(self) -> str:
        if self.database_url:
            return self.database_url
        return ":memory:" if self.in_memory else str(self.data_dir / "state.sqlite3")

    def prepare(self) -> None:
        """Creates the data dir (file mode)."""
        if not self.in_memory:
            self.data_dir.mkdir(parents=True, exist_ok=True)

    def secret_key(self) -> bytes:
        """The key that signs URLs and pagination tokens; kept in the data dir so it survives
        restarts (a random one in memory mode)."""
        if self.shared_key is not None:  # kept in the shared database (PostgreSQL)
            return self.shared_key
        if self.in_memory:
            if not hasattr(self, "_memory_key"):
                self._memory_key = secrets.token_bytes(32)
            return self._memory_key
        path = self.data_dir / "secret.key"
        cached = self.__dict__.get("_file_key")
        if cached is not None and cached[0] == path:  # paginated calls ask for it on every page
            return cached[1]
        with _KEY_LOCK:
            key = _read_or_create_key(path)
        self._file_key = (path, key)
        return key


_KEY_LOCK = threading.Lock()


def _read_or_create_key(path: Path) -> bytes:
    """The key file's bytes, creating it when missing. The new key is written to a temporary file
    and linked into place: another process never reads a half-written key, and of two creators
    the second reads the first one's."""
    try:
        return path.read_bytes()
    except FileNotFoundError:
        pass
    key = secrets.token_bytes(32)
    temporary = path.with_name(f".secret.key.{os.getpid()}.{threading.get_ident()}")
    fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as f:
        f.write(key)
        f.flush()
        os.fsync(f.fileno())
    try:
        os.link(temporary, path)
    except FileExistsError:
        return path.read_bytes()
    finally:
        temporary.unlink()
    return key


@dataclass
class ImportSettings:
    """Uploads and import jobs."""

    # The service's per-document quota; a bigger PUT gets 400 EntityTooLarge.
    max_upload_bytes: int = 5 * 1024 * 1024
    # async: jobs run in the background at once; manual: held in START_IN_PROGRESS until
    # POST /_qconnect/import-jobs/{id}/run. Content text extraction follows the same mode and delay
    # (held until POST /_qconnect/contents/{id}/run).
    mode: str = "async"
    delay_seconds: float = 0.0  # async mode: wait this long before running a job
    # Data rows per file; 0 = no limit. The console's limit of 100 is documented only for it.
    max_rows: int = 0
    # START_IN_PROGRESS jobs per knowledge base (another -> ConflictException); 0 = no limit.
    max_jobs_in_progress: int = 1
    # A runner holds a job for this long and renews it while working; a crashed runner's job is
    # taken over once its lease runs out.
    lease_seconds: float = 15.0
    # A job interrupted this many times (each claim counts) is failed instead of retried.
    max_attempts: int = 3
    # Caps every signed URL's life (seconds), so tests can see expiry without waiting minutes.
    url_ttl_cap_seconds: int | None = None
    # How long after its URL expired an uploaded file can still be given to StartImportJob.
    upload_grace_seconds: int = 3600
    # Life of the download links in GetImportJob (`url`, `failedRecordReport`).
    download_url_seconds: int = 3600
    # Routing-profile directory: a JSON file of Connect instances, "aws" for the real Amazon
    # Connect API through boto3, or None (only what /_qconnect/connect-instances/... adds).
    connect_directory: str | None = None
