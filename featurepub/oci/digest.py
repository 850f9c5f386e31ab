"""sha256 digests, computed while data streams past."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from pathlib import Path
from typing import BinaryIO

CHUNK_SIZE = 1024 * 1024


def sha256_digest(data: bytes) -> str:
    return "sha256:" + hashlib.sha256(data).hexdigest()


def file_digest(path: Path) -> tuple[str, int]:
    """Digest and size of a file, read once in chunks."""
    hasher = hashlib.sha256()
    size = 0
    with path.open("rb") as handle:
        for chunk in iter(lambda: handle.read(CHUNK_SIZE), b""):
            hasher.update(chunk)
            size += len(chunk)
    return "sha256:" + hasher.hexdigest(), size


class HashingWriter:
    """A write-only file object that hashes and counts what passes through to `sink`."""

    def __init__(self, sink: BinaryIO) -> None:
        self._sink = sink
        self._hasher = hashlib.sha256()
        self.size = 0

    def write(self, data: bytes) -> int:
        self._hasher.update(data)
        self.size += len(data)
        self._sink.write(data)
        return len(data)

    def flush(self) -> None:
        self._sink.flush()

    @property
    def digest(self) -> str:
        return "sha256:" + self._hasher.hexdigest()


def read_chunks(handle: BinaryIO, start: int = 0, length: int | None = None) -> Iterator[bytes]:
    """Yield `length` bytes (all, when None) of `handle` from `start`, a chunk at a time."""
    handle.seek(start)
    remaining = length
    while remaining is None or remaining > 0:
        want = CHUNK_SIZE if remaining is None else min(CHUNK_SIZE, remaining)
        chunk = handle.read(want)
        if not chunk:
            break
        if remaining is not None:
            remaining -= len(chunk)
        yield chunk
