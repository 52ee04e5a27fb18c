"""Blob storage: uploaded files and failed-record reports, kept beside the database.

One interface (`BlobStore`), written against by the upload endpoint and the import runner; the
local-directory store is the default, and an S3-compatible store can implement the same few
methods. Blobs are streamed in and out, never held whole in memory.

Keys are relative paths such as `uploads/<uploadId>` or `reports/<importJobId>.csv`.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import AbstractContextManager
from typing import BinaryIO, Protocol

from qconnect_local.blobs.common import CHUNK_SIZE, BlobNotFound


class BlobWriter(Protocol):
    """A blob being written. Nothing is visible under the key until `commit()`; a commit replaces
    any existing blob atomically; leaving the `with` block without a commit discards the data."""

    size: int

    def write(self, data: bytes) -> None: ...
    def commit(self) -> None: ...


class BlobStore(Protocol):
    def writer(self, key: str) -> AbstractContextManager[BlobWriter]: ...
    def open(self, key: str) -> BinaryIO:
        """A binary stream of the blob; BlobNotFound when there is none."""
        ...

    def size(self, key: str) -> int | None: ...
    def delete(self, key: str) -> None: ...
    def keys(self) -> Iterator[str]: ...
    def clear(self) -> None: ...
    def close(self) -> None: ...


def iter_chunks(stream: BinaryIO, size: int = CHUNK_SIZE) -> Iterator[bytes]:
    while True:
        chunk = stream.read(size)
        if not chunk:
            return
        yield chunk


def open_blob_store(settings) -> BlobStore:  # noqa: ANN001 - Settings, kept loose to avoid a cycle
    if getattr(settings, "blob_url", None):
        from qconnect_local.blobs.s3 import S3BlobStore

        return S3BlobStore(settings.blob_url, endpoint_url=settings.s3_endpoint_url)
    from qconnect_local.blobs.local import LocalBlobStore

    return LocalBlobStore.for_settings(settings)


__all__ = ["BlobNotFound", "BlobStore", "BlobWriter", "CHUNK_SIZE", "iter_chunks", "open_blob_store"]
