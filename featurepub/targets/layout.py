"""An OCI image layout folder as a publish target (the embedded default: no server needed).

Each tag is one descriptor in index.json annotated `org.opencontainers.image.ref.name`
with `<repository>:<tag>`, so `skopeo copy oci:DIR:<repository>:<tag> docker://...` works.

The same input gives the same bytes: what this run adds to index.json is listed by repository name
(features publish in parallel, and a feature's floating tags at once, so the order tags are pushed in is not
the same from run to run), each repository's tags in the order they are pushed (`X.Y.Z`, then `X.Y`, `X`,
`latest`), after the descriptors
the folder already held, and no timestamp is written. A run
that writes nothing (`--dry-run`) leaves no folder behind.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import tempfile
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, BinaryIO

from featurepub.errors import ConfigError
from featurepub.oci import mediatypes
from featurepub.oci.descriptor import Blob, Descriptor
from featurepub.oci.digest import HashingWriter, read_chunks
from featurepub.oci.layout import (
    INDEX_FILE,
    LAYOUT_VERSION,
    MARKER_FILE,
    blob_path,
    empty_index,
    read_index,
    ref_name,
)
from featurepub.oci.manifest import Manifest, canonical_json
from featurepub.reference import push_rank
from featurepub.targets.base import Progress


class LayoutTarget:
    def __init__(self, root: Path) -> None:
        self.root = root
        self._index = self._load_index()
        self._before = list(self._descriptors())  # kept alive, so that their ids stay theirs
        self._index_lock = threading.Lock()
        self._written = False  # whether this run put anything in the folder

    @property
    def display_name(self) -> str:
        return f"layout {self.root}"

    def _load_index(self) -> dict[str, Any]:
        return read_index(self.root) if (self.root / INDEX_FILE).exists() else empty_index()

    def _blob_path(self, digest: str) -> Path:
        return blob_path(self.root, digest)

    def _descriptors(self) -> list[dict[str, Any]]:
        manifests: list[dict[str, Any]] = self._index["manifests"]
        return manifests

    def ref_names(self) -> dict[str, Descriptor]:
        named = ((ref_name(d), d) for d in self._descriptors())
        return {name: Descriptor.from_json(d) for name, d in named if name is not None}

    def list_tags(self, repository: str) -> list[str]:
        prefix = f"{repository}:"
        return [name[len(prefix) :] for name in self.ref_names() if name.startswith(prefix)]

    def tag_digest(self, repository: str, tag: str) -> str | None:
        found = self.ref_names().get(f"{repository}:{tag}")
        return found.digest if found else None

    def read_manifest(self, repository: str, reference: str) -> Manifest | None:
        digest = reference if ":" in reference else self.tag_digest(repository, reference)
        if digest is None or not self._blob_path(digest).is_file():
            return None
        return Manifest(self._blob_path(digest).read_bytes())

    def read_blob(self, repository: str, digest: str) -> bytes | None:
        path = self._blob_path(digest)
        return path.read_bytes() if path.is_file() else None

    @contextmanager
    def stream_blob(self, repository: str, digest: str, limit: int) -> Iterator[Iterator[bytes] | None]:
        path = self._blob_path(digest)
        if not path.is_file():
            yield None
            return
        with path.open("rb") as handle:
            yield self._checked(handle, digest)

    def _checked(self, handle: BinaryIO, digest: str) -> Iterator[bytes]:
        # Another tool may have written the layout: its blobs are checked like a registry's.
        hasher = hashlib.sha256()
        for chunk in read_chunks(handle):
            hasher.update(chunk)
            yield chunk
        if f"sha256:{hasher.hexdigest()}" != digest and digest.startswith("sha256:"):
            raise ConfigError(f"{self.root}: blob {digest} does not match its digest")

    @property
    def requests_in_flight(self) -> int:
        return 4  # files on a local disk: a few writers at once keep it busy

    def open_ahead(self, count: int) -> None:
        pass

    def existing_repositories(self, namespace: str) -> frozenset[str] | None:
        prefix = f"{namespace}/"
        return frozenset(name.rsplit(":", 1)[0] for name in self.ref_names() if name.startswith(prefix))

    def has_blob(self, repository: str, digest: str) -> bool:
        return self._blob_path(digest).is_file()

    def push_blob(self, repository: str, blob: Blob, progress: Progress | None = None) -> int:
        target = self._blob_path(blob.digest)
        if target.is_file():
            return 0
        self._written = True
        target.parent.mkdir(parents=True, exist_ok=True)
        # Same contract as a registry: hash while writing a temp file, check, then rename.
        fd, temp_name = tempfile.mkstemp(dir=target.parent, prefix=".partial-")
        try:
            with os.fdopen(fd, "wb") as sink, blob.open() as source:
                writer = HashingWriter(sink)
                shutil.copyfileobj(source, writer)
            if writer.digest != blob.digest or writer.size != blob.size:
                raise ConfigError(f"{blob.digest}: content changed while writing it to {self.root}")
            os.replace(temp_name, target)
        finally:
            if os.path.exists(temp_name):
                os.unlink(temp_name)
        if progress is not None:
            progress(blob.size)
        return blob.size

    def push_manifest(self, repository: str, tag: str, manifest: Manifest) -> str:
        self.push_blob(repository, Blob(manifest.descriptor(), data=manifest.data))
        tag_ref = f"{repository}:{tag}"
        artifact_type = manifest.to_json().get("artifactType")
        descriptor = Descriptor(
            manifest.media_type,
            manifest.digest,
            manifest.size,
            {mediatypes.ANNOTATION_REF_NAME: tag_ref},
            artifact_type=artifact_type if isinstance(artifact_type, str) else None,
        )
        with self._index_lock:  # features publish in parallel; index.json is one file
            manifests = [d for d in self._descriptors() if ref_name(d) != tag_ref]
            manifests.append(descriptor.to_json())
            self._index["manifests"] = manifests
            self._write_index()
        return manifest.digest

    def _write_index(self) -> None:
        self._written = True
        self.root.mkdir(parents=True, exist_ok=True)
        (self.root / MARKER_FILE).write_bytes(canonical_json(LAYOUT_VERSION))
        self._index["manifests"] = self._ordered()
        temp = self.root / f"{INDEX_FILE}.partial"
        temp.write_bytes(canonical_json(self._index))
        os.replace(temp, self.root / INDEX_FILE)

    def _ordered(self) -> list[dict[str, Any]]:
        """The descriptors the folder held keep their order; this run's follow, by repository, then from
        the exact tag to the least specific floating one."""
        before = {id(d): position for position, d in enumerate(self._before)}
        return sorted(
            self._descriptors(), key=lambda d: (before.get(id(d), len(before)), _repository_of(d), _tag_rank(d))
        )

    def abort(self) -> None:
        """Nothing to break off: each write is local and short, and a run checks between them."""

    def close(self) -> None:
        # Blobs without a manifest (a run that failed) still make a valid layout.
        if self._written and not (self.root / INDEX_FILE).exists():
            self._write_index()


def _tag_rank(descriptor: dict[str, Any]) -> int:
    """Where a descriptor's tag goes in its repository's push order (`X.Y.Z`, `X.Y`, `X`, `latest`)."""
    name = ref_name(descriptor) or ""
    return push_rank(name.rsplit(":", 1)[1] if ":" in name else name)


def _repository_of(descriptor: dict[str, Any]) -> str:
    """The repository part of a descriptor's ref name ("" without one, or for a bare tag)."""
    name = ref_name(descriptor) or ""
    return name.rsplit(":", 1)[0] if ":" in name else ""
