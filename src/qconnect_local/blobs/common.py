"""What the blob stores share with the package's interface (kept apart so that the stores do
not import the package that picks them)."""

from __future__ import annotations

CHUNK_SIZE = 256 * 1024


class BlobNotFound(KeyError):
    pass
