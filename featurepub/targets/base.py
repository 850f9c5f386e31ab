"""The contract every publish target fulfils."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager
from typing import Protocol

from featurepub.oci.descriptor import Blob
from featurepub.oci.manifest import Manifest

Progress = Callable[[int], None]
# A blob's bytes piece by piece (None: not there), opened for as long as the `with` lasts.
BlobStream = AbstractContextManager["Iterator[bytes] | None"]


class Target(Protocol):
    """A place that stores blobs and tagged manifests per repository."""

    @property
    def display_name(self) -> str:
        """How messages name this target (a registry host, or a layout folder)."""
        ...

    @property
    def requests_in_flight(self) -> int:
        """How many requests the target takes at once: a run keeps as many features under way."""
        ...

    def open_ahead(self, count: int) -> None:
        """Get ready for `count` requests at once (connect ahead of them); may do nothing."""
        ...

    def list_tags(self, repository: str) -> list[str]: ...

    def tag_digest(self, repository: str, tag: str) -> str | None:
        """The digest of the manifest `tag` points at, or None when the tag does not exist."""
        ...

    def read_manifest(self, repository: str, reference: str) -> Manifest | None: ...

    def read_blob(self, repository: str, digest: str) -> bytes | None:
        """A small blob's bytes (a collection document), or None when it is not there."""
        ...

    def stream_blob(self, repository: str, digest: str, limit: int) -> BlobStream:
        """A blob's bytes piece by piece (at most `limit` in all), or None when it is not there; its
        digest is checked once the last piece was read."""
        ...

    def existing_repositories(self, namespace: str) -> frozenset[str] | None:
        """The repositories under `namespace/` that exist, or None when the target cannot tell."""
        ...

    def has_blob(self, repository: str, digest: str) -> bool: ...

    def push_blob(self, repository: str, blob: Blob, progress: Progress | None = None) -> int:
        """Store `blob`; returns the bytes actually sent (0 when it was already there)."""
        ...

    def push_manifest(self, repository: str, tag: str, manifest: Manifest) -> str: ...

    def abort(self) -> None:
        """Make work in flight fail at once (called from another thread when a run is cancelled);
        the target takes no more requests afterwards."""
        ...

    def close(self) -> None: ...
