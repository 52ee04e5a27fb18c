"""Blobs in an S3-compatible bucket (`--blob-url s3://bucket/prefix`), for servers and workers on
several machines.

boto3's S3 client takes its region and credentials from the usual AWS settings (environment,
profile, instance role); `--s3-endpoint-url` points it at another S3-compatible server (MinIO,
moto, ...), and then path-style addressing is used, which every such server understands.

- A write is spooled to a temporary file (memory up to 8 MiB, disk beyond) and uploaded on
  `commit()` with boto3's transfer manager (multipart for big files). An S3 PUT is atomic, so a
  reader never sees half a blob, as with the local store.
- `open()` streams the object's body; nothing is read whole into memory.
- `upload_url` / `download_url` are real S3 presigned URLs, so clients upload and download
  straight from the bucket, as they do with the real service; such an upload reaches no server,
  so `direct_upload` looks for it in the bucket.
"""

from __future__ import annotations

import io
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any, BinaryIO
from urllib.parse import urlsplit

from qconnect_local.blobs.common import CHUNK_SIZE, BlobNotFound, Link

_SPOOL_IN_MEMORY = 8 * 1024 * 1024


class _S3Writer:
    def __init__(self, store: S3BlobStore, key: str) -> None:
        self.store = store
        self.key = key
        self.file = tempfile.SpooledTemporaryFile(max_size=_SPOOL_IN_MEMORY)
        self.size = 0

    def write(self, data: bytes) -> None:
        self.file.write(data)
        self.size += len(data)

    def commit(self) -> None:
        self.file.seek(0)
        self.store.client.upload_fileobj(self.file, self.store.bucket, self.store.object_key(self.key))

    def discard(self) -> None:
        self.file.close()


class _BodyReader(io.RawIOBase):
    """An S3 response body as a raw binary stream (so io.BufferedReader and TextIOWrapper can
    read it line by line without holding it whole)."""

    def __init__(self, body: Any) -> None:
        self.body = body

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        data = self.body.read(len(buffer))
        n = len(data)
        buffer[:n] = data
        return n

    def close(self) -> None:
        if not self.closed:
            self.body.close()
        super().close()


class S3BlobStore:
    kind = "s3"

    def __init__(
        self,
        url: str,
        endpoint_url: str | None = None,
        region: str | None = None,
        client: Any = None,
        create_bucket: bool = True,
    ) -> None:
        parts = urlsplit(url)
        if parts.scheme != "s3" or not parts.netloc:
            raise ValueError(f"not an S3 URL (s3://bucket/prefix): {url!r}")
        self.url = url
        self.bucket = parts.netloc
        self.prefix = parts.path.strip("/")
        self.client = client or _client(endpoint_url, region)
        if create_bucket:
            self.ensure_bucket()

    # -- keys ---------------------------------------------------------------------------------

    def object_key(self, key: str) -> str:
        if not key or key.startswith("/") or ".." in key.split("/"):
            raise ValueError(f"invalid blob key {key!r}")
        return f"{self.prefix}/{key}" if self.prefix else key

    def _blob_key(self, object_key: str) -> str:
        return object_key[len(self.prefix) + 1 :] if self.prefix else object_key

    # -- the BlobStore interface --------------------------------------------------------------

    @contextmanager
    def writer(self, key: str) -> Iterator[_S3Writer]:
        self.object_key(key)  # reject a bad key before any data is written
        w = _S3Writer(self, key)
        try:
            yield w
        finally:
            w.discard()

    def open(self, key: str) -> BinaryIO:
        try:
            response = self.client.get_object(Bucket=self.bucket, Key=self.object_key(key))
        except self.client.exceptions.NoSuchKey:
            raise BlobNotFound(key) from None
        return io.BufferedReader(_BodyReader(response["Body"]), buffer_size=CHUNK_SIZE)

    def size(self, key: str) -> int | None:
        found = self.stat(key)
        return None if found is None else found[0]

    def stat(self, key: str) -> tuple[int, str] | None:
        """(size, ETag without quotes), or None when there is no such blob."""
        from botocore.exceptions import ClientError

        try:
            head = self.client.head_object(Bucket=self.bucket, Key=self.object_key(key))
        except ClientError as exc:
            if _status(exc) == 404:
                return None
            raise
        return int(head["ContentLength"]), head.get("ETag", "").strip('"')

    def delete(self, key: str) -> None:
        self.client.delete_object(Bucket=self.bucket, Key=self.object_key(key))

    def keys(self) -> Iterator[str]:
        paginator = self.client.get_paginator("list_objects_v2")
        prefix = f"{self.prefix}/" if self.prefix else ""
        for page in paginator.paginate(Bucket=self.bucket, Prefix=prefix):
            for item in page.get("Contents", []):
                yield self._blob_key(item["Key"])

    def clear(self) -> None:
        batch: list[dict[str, str]] = []
        for key in list(self.keys()):
            batch.append({"Key": self.object_key(key)})
            if len(batch) == 1000:  # the most one DeleteObjects call takes
                self._delete_batch(batch)
                batch = []
        if batch:
            self._delete_batch(batch)

    def close(self) -> None:
        pass

    def scratch_directory(self) -> str | None:
        return None  # the bucket outlives the server

    # -- URLs: S3 presigned, straight to the bucket --------------------------------------------

    def upload_url(self, key: str, content_type: str, link: Link) -> str:
        return self.presigned_put(key, content_type, link.lifetime)

    def download_url(self, key: str, link: Link) -> str:
        return self.presigned_get(key, link.lifetime)

    def direct_upload(self, key: str) -> tuple[int, str] | None:
        return self.stat(key)

    def presigned_put(self, key: str, content_type: str, expires_in: int) -> str:
        """A URL the client PUTs the file to, with `Content-Type: content_type`."""
        return self.client.generate_presigned_url(
            "put_object",
            Params={"Bucket": self.bucket, "Key": self.object_key(key), "ContentType": content_type},
            ExpiresIn=expires_in,
        )

    def presigned_get(self, key: str, expires_in: int) -> str:
        return self.client.generate_presigned_url(
            "get_object", Params={"Bucket": self.bucket, "Key": self.object_key(key)}, ExpiresIn=expires_in
        )

    def ping(self) -> bool:
        from botocore.exceptions import BotoCoreError, ClientError

        try:
            self.client.head_bucket(Bucket=self.bucket)
            return True
        except (BotoCoreError, ClientError):
            return False

    def ensure_bucket(self) -> None:
        """Creates the bucket if it does not exist (convenient for local S3-compatible servers;
        on AWS the bucket normally exists and this is one HEAD request)."""
        from botocore.exceptions import ClientError

        try:
            self.client.head_bucket(Bucket=self.bucket)
            return
        except ClientError as exc:
            if _status(exc) != 404:
                raise
        region = self.client.meta.region_name
        kwargs: dict[str, Any] = {"Bucket": self.bucket}
        if region and region != "us-east-1":
            kwargs["CreateBucketConfiguration"] = {"LocationConstraint": region}
        try:
            self.client.create_bucket(**kwargs)
        except (self.client.exceptions.BucketAlreadyOwnedByYou, self.client.exceptions.BucketAlreadyExists):
            pass  # another server created it at the same moment

    def _delete_batch(self, batch: list[dict[str, str]]) -> None:
        self.client.delete_objects(Bucket=self.bucket, Delete={"Objects": batch, "Quiet": True})


def _status(exc: Any) -> int | None:
    return exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode")


def _client(endpoint_url: str | None, region: str | None) -> Any:
    import boto3
    from botocore.config import Config

    config = Config(
        signature_version="s3v4",
        s3={"addressing_style": "path" if endpoint_url else "auto"},
        retries={"max_attempts": 5, "mode": "standard"},
        max_pool_connections=20,
    )
    return boto3.session.Session().client("s3", endpoint_url=endpoint_url, region_name=region, config=config)
