"""Server settings: one object, filled from the command line, passed to every layer."""

from __future__ import annotations

import os
import secrets
from dataclasses import dataclass, field
from pathlib import Path


@dataclass
class Quotas:
    knowledge_bases: int = 10  # per account and region (reference §6)
    quick_responses_per_knowledge_base: int = 1000
    tags_per_resource: int = 50


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
    # A postgresql:// URL selects the PostgreSQL store (shared by several servers and workers).
    database_url: str | None = field(default_factory=lambda: os.environ.get("QCONNECT_LOCAL_DATABASE_URL") or None)

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
        if self.in_memory:
            if not hasattr(self, "_memory_key"):
                self._memory_key = secrets.token_bytes(32)
            return self._memory_key
        path = self.data_dir / "secret.key"
        try:
            return path.read_bytes()
        except FileNotFoundError:
            key = secrets.token_bytes(32)
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(fd, "wb") as f:
                f.write(key)
            return key
