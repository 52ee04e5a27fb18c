"""Blob storage: uploaded files and failed-record reports, kept beside the database.

One interface (`BlobStore`), written against by the operations, the upload endpoint and the
import runner; the local-directory store is the default, and an S3-compatible store implements
the same methods. Each store makes its own upload and download URLs: the local store signs URLs
of this server's `/_qconnect/` endpoints, the S3 store presigns S3 URLs. Blobs are streamed in
and out, never held whole in memory.

Keys are relative paths such as `uploads/<uploadId>` or `reports/<importJobId>.csv`.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import AbstractContextManager
from typing import TYPE_CHECKING, BinaryIO, Protocol

if TYPE_CHECKING:
    from qconnect_local.blobs.signed_urls import UrlSigner
    from qconnect_local.config import Settings

from qconnect_local.blobs.common import CHUNK_SIZE, BlobNotFound, Link

__all__ = ["CHUNK_SIZE", "BlobNotFound", "BlobStore", "BlobWriter", "Link", "iter_chunks", "open_blob_store"]


class BlobWriter(Protocol):
    """A blob being written. Nothing is visible under the key until `commit()`; a commit replaces
    any existing blob atomically; leaving the `with` block without a commit discards the data."""

    size: int

    def write(self, data: bytes) -> None: ...
    def commit(self) -> None: ...


class BlobStore(Protocol):
    kind: str

    def writer(self, key: str) -> AbstractContextManager[BlobWriter]: ...
    def open(self, key: str) -> BinaryIO:
        """A binary stream of the blob; BlobNotFound when there is none."""
        ...

    def size(self, key: str) -> int | None: ...
    def delete(self, key: str) -> None: ...
    def keys(self) -> Iterator[str]: ...
    def clear(self) -> None: ...
    def close(self) -> None: ...
    def scratch_directory(self) -> str | None:
        """The temporary directory of an in-memory server's blobs, else None."""
        ...

    def ping(self) -> bool:
        """Whether the store answers now (health)."""
        ...

    def upload_url(self, key: str, content_type: str, link: Link) -> str:
        """A URL the client PUTs the blob to, sending `Content-Type: content_type`."""
        ...

    def download_url(self, key: str, link: Link) -> str: ...
    def direct_upload(self, key: str) -> tuple[int, str] | None:
        """(size, ETag) of a blob a client PUT straight into the store, past every server; None
        when there is none, or when uploads always go through a server (the local store)."""
        ...


def iter_chunks(stream: BinaryIO, size: int = CHUNK_SIZE) -> Iterator[bytes]:
    while True:
        chunk = stream.read(size)
        if not chunk:
            return
        yield chunk


def open_blob_store(settings: Settings, signer: UrlSigner) -> BlobStore:
    if settings.blob_url:
        from qconnect_local.blobs.s3 import S3BlobStore

        return S3BlobStore(settings.blob_url, endpoint_url=settings.s3_endpoint_url)
    from qconnect_local.blobs.local import LocalBlobStore

    return LocalBlobStore.for_settings(settings, signer)


__all__ = ["BlobNotFound", "BlobStore", "BlobWriter", "CHUNK_SIZE", "Link", "iter_chunks", "open_blob_store"]
