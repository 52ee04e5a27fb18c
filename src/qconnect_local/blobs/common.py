"""What the blob stores share with the package's interface (kept apart so that the stores do
not import the package that picks them)."""

from __future__ import annotations

from dataclasses import dataclass

CHUNK_SIZE = 256 * 1024


class BlobNotFound(KeyError):
    pass


@dataclass(frozen=True)
class Link:
    """What a URL to a blob is made of, whichever store makes it."""

    endpoint: str  # scheme://host[:port] as the client reached this server
    path: str  # where this server serves the blob (/_qconnect/...)
    expires: int  # epoch seconds
    lifetime: int  # seconds from now
