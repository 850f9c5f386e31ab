"""Blob uploads. Bodies stream from disk; a zero-byte upload is impossible by construction."""

from __future__ import annotations

from collections.abc import Callable, Iterator

from featurepub.errors import FeaturepubError
from featurepub.oci.descriptor import Blob
from featurepub.oci.digest import read_chunks
from featurepub.registry.client import RegistryClient

Progress = Callable[[int], None]


class EmptyBlobRefused(FeaturepubError):
    """Guard: some registries (AWS ECR, Google Artifact Registry) refuse zero-byte uploads."""


def _counted(chunks: Iterator[bytes], progress: Progress | None) -> Iterator[bytes]:
    for chunk in chunks:
        if progress is not None:
            progress(len(chunk))
        yield chunk


def upload_monolithic(
    client: RegistryClient, repository: str, blob: Blob, progress: Progress | None = None
) -> int:
    """POST a session, then PUT the whole body with its digest. Returns the bytes sent."""
    if blob.size <= 0:
        raise EmptyBlobRefused(f"refusing to upload the zero-byte blob {blob.digest} to {repository}")
    _, location = client.start_upload(repository)
    with blob.open() as handle:
        body = _counted(read_chunks(handle, 0, blob.size), progress)
        client.finish_upload(repository, location, blob.digest, body, blob.size)
    return blob.size
