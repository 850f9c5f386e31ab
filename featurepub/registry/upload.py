"""Blob uploads: monolithic, single request, chunked, and cross-repository mount.

Bodies stream from disk a chunk at a time (memory stays flat whatever the blob's size)
and are hashed on the way, so content that changed since it was packaged is never
committed. A zero-byte upload is impossible by construction. Each strategy is one plain
attempt from a new session that raises RegistryError on failure; retrying and session
recovery wrap them (recovery.py). `upload_blob` picks the strategy from the profile.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterator, Sequence
from typing import BinaryIO

from featurepub.errors import FeaturepubError, RegistryContext, RegistryError
from featurepub.oci.descriptor import Blob
from featurepub.oci.digest import read_chunks
from featurepub.registry.client import RegistryClient, UploadSession
from featurepub.registry.profiles import CHUNKED, GENERIC, MONOLITHIC, SINGLE, Profile, format_size

Progress = Callable[[int], None]


class EmptyBlobRefused(FeaturepubError):
    """Guard: some registries (AWS ECR, Google Artifact Registry) refuse zero-byte uploads."""


class BlobChanged(FeaturepubError):
    """The file behind a blob no longer has the digest and size it was packaged with."""


class _Reader:
    """Reads a blob front to back in pieces, hashing and counting what is read.

    One reader serves one pass over the blob (a whole body, or consecutive chunks). After
    the last byte it checks size and digest and raises BlobChanged on a mismatch, inside
    the request body, so the request that would commit the content never completes.
    """

    def __init__(self, blob: Blob, handle: BinaryIO, progress: Progress | None) -> None:
        self.blob = blob
        self.handle = handle
        self.progress = progress
        self.offset = 0
        algorithm = blob.digest.partition(":")[0]
        self._hasher = hashlib.new(algorithm) if algorithm in hashlib.algorithms_available else None

    def body(self, length: int) -> Iterator[bytes]:
        """The next `length` bytes, as a stream of chunks."""
        start, wanted = self.offset, length
        for chunk in read_chunks(self.handle, start, length):
            wanted -= len(chunk)
            self.offset += len(chunk)
            if self._hasher is not None:
                self._hasher.update(chunk)
            if self.offset == self.blob.size:
                self._verify()  # before the last bytes leave: a changed blob never completes
            if self.progress is not None:
                self.progress(len(chunk))
            yield chunk
        if wanted:
            raise BlobChanged(f"{self.blob.digest}: the file is shorter than its {self.blob.size} bytes")

    def _verify(self) -> None:
        if self._hasher is None:
            return
        found = f"{self.blob.digest.partition(':')[0]}:{self._hasher.hexdigest()}"
        if found != self.blob.digest:
            raise BlobChanged(
                f"{self.blob.digest}: the content changed since it was packaged (now {found[:19]}…)",
                hint="run the publish again; nothing was committed for this blob",
            )


def _guard(repository: str, blob: Blob) -> None:
    if blob.size <= 0:
        raise EmptyBlobRefused(f"refusing to upload the zero-byte blob {blob.digest} to {repository}")


def upload_monolithic(
    client: RegistryClient,
    repository: str,
    blob: Blob,
    progress: Progress | None = None,
    *,
    session: UploadSession | None = None,
) -> int:
    """POST a session (unless given one), then PUT the whole body with its digest. Returns the bytes sent."""
    _guard(repository, blob)
    location = (session or client.open_upload(repository)).location
    with blob.open() as handle:
        reader = _Reader(blob, handle, progress)
        client.finish_upload(repository, location, blob.digest, reader.body(blob.size), blob.size)
    return blob.size


def upload_single(client: RegistryClient, repository: str, blob: Blob, progress: Progress | None = None) -> int:
    """POST the body with `?digest=` in one request. A registry that answers 202 (distribution 2.8
    and 3) has opened a session and dropped the body: the whole body goes again with PUT.
    Returns the bytes sent, both passes counted."""
    _guard(repository, blob)
    with blob.open() as handle:
        reader = _Reader(blob, handle, progress)
        session = client.upload_single(repository, blob.digest, reader.body(blob.size), blob.size)
    if session is None:
        return blob.size
    return blob.size + upload_monolithic(client, repository, blob, progress, session=session)


def chunk_size(profile: Profile, session: UploadSession, context: RegistryContext) -> int:
    """The PATCH body size: the profile's, raised to the registry's announced minimum and
    the profile's minimum, never above the profile's maximum."""
    minimum = max(profile.chunk_min, session.chunk_min)
    size = max(profile.chunk_size, minimum)
    if profile.chunk_max is not None and size > profile.chunk_max:
        raise RegistryError(
            f"the registry asks for chunks of at least {format_size(session.chunk_min)} "
            f"(OCI-Chunk-Min-Length) but profile {profile.name} allows at most {format_size(profile.chunk_max)}",
            context=context,
            hint='set upload = "monolithic" or a larger chunk_max for this registry in featurepub.toml',
        )
    return size


def upload_chunked(
    client: RegistryClient,
    repository: str,
    blob: Blob,
    profile: Profile,
    progress: Progress | None = None,
    *,
    session: UploadSession | None = None,
) -> int:
    """POST, PATCH every chunk but the last, then PUT the last chunk with the digest.

    The offset is counted here, never read back from `Range` (AWS ECR's stops advancing);
    each request goes to the newest Location. A blob that fits in one chunk is one PUT.
    Returns the bytes sent.
    """
    _guard(repository, blob)
    session = session or client.open_upload(repository)
    size = chunk_size(profile, session, client.context(repository, f"upload blob {blob.digest[:19]}"))
    location = session.location
    with blob.open() as handle:
        reader = _Reader(blob, handle, progress)
        while blob.size - reader.offset > size:
            start = reader.offset
            location = client.patch_chunk(repository, location, blob.digest, reader.body(size), start, size)
            if reader.offset != start + size:
                raise BlobChanged(f"{blob.digest}: the file is shorter than its {blob.size} bytes")
        rest = blob.size - reader.offset
        client.finish_upload(repository, location, blob.digest, reader.body(rest), rest)
    return blob.size


def mount(
    client: RegistryClient, repository: str, blob: Blob, sources: Sequence[str]
) -> tuple[bool, UploadSession | None]:
    """Try a cross-repository mount from the first other repository in `sources`.

    Returns (True, None) when mounted; (False, session) when the registry opened an ordinary
    upload session instead (continue the upload in it); (False, None) when nothing was tried.
    """
    source = next((s for s in sources if s != repository), None)
    if source is None:
        return False, None
    session = client.mount_blob(repository, blob.digest, source)
    return session is None, session


def upload_blob(
    client: RegistryClient,
    repository: str,
    blob: Blob,
    profile: Profile = GENERIC,
    progress: Progress | None = None,
    mount_from: Sequence[str] = (),
) -> int:
    """Put `blob` into `repository` the way `profile` says; returns the bytes sent (0 when mounted).

    With `mount_from` (repositories of the same registry that hold the blob) and a profile
    that mounts, a mount is tried first; a 202 answer becomes the session of the upload.
    """
    _guard(repository, blob)
    session: UploadSession | None = None
    if profile.mount and mount_from:
        mounted, session = mount(client, repository, blob, mount_from)
        if mounted:
            return 0
    if profile.upload == CHUNKED:
        return upload_chunked(client, repository, blob, profile, progress, session=session)
    if profile.upload == SINGLE and session is None:
        return upload_single(client, repository, blob, progress)
    if profile.upload in (MONOLITHIC, SINGLE):
        return upload_monolithic(client, repository, blob, progress, session=session)
    raise RegistryError(
        f"profile {profile.name} names an unknown upload strategy {profile.upload!r}",
        context=client.context(repository, f"upload blob {blob.digest[:19]}"),
    )
