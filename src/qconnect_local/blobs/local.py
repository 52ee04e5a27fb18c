"""Blobs as files in a directory (`<data-dir>/blobs`, or a tmpfs directory in in-memory mode).

Writes go to a temporary file beside the target and are renamed over it on commit, so a reader
never sees half a file, and a reader that already opened the old file keeps reading it whole.
Clients reach the files through this server's `/_qconnect/` endpoints, with URLs signed by the
store's `UrlSigner`.
"""

from __future__ import annotations

import os
import re
import shutil
import tempfile
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, BinaryIO

from qconnect_local.blobs.common import BlobNotFound, Link
from qconnect_local.blobs.signed_urls import UrlSigner
from qconnect_local.leftovers import sweep_tmp_files

if TYPE_CHECKING:
    from qconnect_local.config import Settings

_KEY_RE = re.compile(r"[A-Za-z0-9_-][A-Za-z0-9._-]*(?:/[A-Za-z0-9_-][A-Za-z0-9._-]*)*")
_TMP_PREFIX = ".tmp-"


class _FileWriter:
    def __init__(self, path: Path) -> None:
        self.path = path
        # The pid lets a later start remove the file if this process is killed (leftovers.py).
        self.tmp = path.with_name(f"{_TMP_PREFIX}{os.getpid()}-{path.name}-{uuid.uuid4().hex}")
        self.file = open(self.tmp, "wb")
        self.size = 0
        self.committed = False

    def write(self, data: bytes) -> None:
        self.file.write(data)
        self.size += len(data)

    def commit(self) -> None:
        self.file.close()
        os.replace(self.tmp, self.path)
        self.committed = True

    def discard(self) -> None:
        if not self.committed:
            self.file.close()
            try:
                os.unlink(self.tmp)
            except FileNotFoundError:
                pass


class LocalBlobStore:
    kind = "local"

    def __init__(self, root: Path, signer: UrlSigner, temporary: bool = False) -> None:
        self.root = root
        self.signer = signer
        self.temporary = temporary
        self.root.mkdir(parents=True, exist_ok=True)
        sweep_tmp_files(self.root)  # half-written files of killed processes

    @classmethod
    def for_settings(cls, settings: Settings, signer: UrlSigner) -> LocalBlobStore:
        if not settings.in_memory:
            return cls(Path(settings.data_dir) / "blobs", signer)
        shm = "/dev/shm"
        base = shm if os.path.isdir(shm) and os.access(shm, os.W_OK) else None
        return cls(Path(tempfile.mkdtemp(prefix="qconnect-local-blobs-", dir=base)), signer, temporary=True)

    def _path(self, key: str) -> Path:
        # Keys come from our own code, but a wrong one must never escape the root.
        if not _KEY_RE.fullmatch(key):
            raise ValueError(f"invalid blob key {key!r}")
        return self.root / key

    @contextmanager
    def writer(self, key: str) -> Iterator[_FileWriter]:
        path = self._path(key)
        path.parent.mkdir(parents=True, exist_ok=True)
        w = _FileWriter(path)
        try:
            yield w
        finally:
            w.discard()

    def open(self, key: str) -> BinaryIO:
        try:
            return open(self._path(key), "rb")
        except FileNotFoundError:
            raise BlobNotFound(key) from None

    def size(self, key: str) -> int | None:
        try:
            return self._path(key).stat().st_size
        except FileNotFoundError:
            return None

    def delete(self, key: str) -> None:
        try:
            self._path(key).unlink()
        except FileNotFoundError:
            pass

    def keys(self) -> Iterator[str]:
        """Every committed blob: not the temporary files of writes in flight, nor the in-memory
        server's `.alive` lock file (no valid key starts with a dot)."""
        for dirpath, _, files in os.walk(self.root):
            for name in files:
                key = os.path.relpath(os.path.join(dirpath, name), self.root).replace(os.sep, "/")
                if _KEY_RE.fullmatch(key):
                    yield key

    def clear(self) -> None:
        for child in self.root.iterdir():
            if child.is_dir():
                shutil.rmtree(child, ignore_errors=True)
            else:
                child.unlink(missing_ok=True)

    def scratch_directory(self) -> str | None:
        return str(self.root) if self.temporary else None

    def close(self) -> None:
        if self.temporary:
            shutil.rmtree(self.root, ignore_errors=True)

    def ping(self) -> bool:
        """The directory can be listed."""
        for _ in self.keys():
            break
        return True

    # -- URLs: this server's own endpoints, signed -------------------------------------------

    def upload_url(self, key: str, content_type: str, link: Link) -> str:
        return self.signer.sign("PUT", link.endpoint, link.path, link.expires, {"content-type": content_type})

    def download_url(self, key: str, link: Link) -> str:
        return self.signer.sign("GET", link.endpoint, link.path, link.expires)

    def direct_upload(self, key: str) -> tuple[int, str] | None:
        return None  # every upload goes through the PUT endpoint, which records it
