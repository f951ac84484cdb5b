"""What every site store shares: the files a deployment names, which blobs get a gzip form, its failure."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass

# Files are read and sent in pieces of this size.
STREAM_CHUNK_BYTES = 64 * 1024
# Smaller files gain little from compression and cost a second file each.
GZIP_MIN_BYTES = 1024
COMPRESSIBLE_TYPES = frozenset(
    {
        "application/javascript",
        "application/json",
        "application/ld+json",
        "application/manifest+json",
        "application/rss+xml",
        "application/atom+xml",
        "application/wasm",
        "application/xhtml+xml",
        "application/xml",
        "font/otf",
        "font/ttf",
        "image/svg+xml",
        "image/x-icon",
        "image/vnd.microsoft.icon",
        "text/javascript",
    }
)


def compressible(content_type: str, size: int) -> bool:
    media_type = content_type.split(";")[0].strip().lower()
    return size > GZIP_MIN_BYTES and (media_type.startswith("text/") or media_type in COMPRESSIBLE_TYPES)


@dataclass(frozen=True)
class StoredFile:
    path: str
    sha256: str


class StoreNotWritable(OSError):
    """The site store refuses writes (read-only, full, missing, or owned by another user)."""


class BlobStream:
    """A blob's bytes as chunks, its length, and how to let go of it (a file, a bucket's response)."""

    def __init__(self, chunks: Iterator[bytes], length: int, close: Callable[[], None]) -> None:
        self.chunks = chunks
        self.length = length
        self._close = close

    def __iter__(self) -> Iterator[bytes]:
        return self.chunks

    def close(self) -> None:
        self._close()
