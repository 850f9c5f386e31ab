"""Content descriptors and the blobs they describe."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from io import BytesIO
from pathlib import Path
from typing import Any, BinaryIO

from featurepub.errors import ContentError
from featurepub.oci.digest import sha256_digest
from featurepub.reference import is_valid_digest

_MAX_SIZE = 2**63 - 1  # int64, as the image spec types it


def shown(value: Any, limit: int = 40) -> str:
    """A value from a document, short enough for an error line."""
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 1] + "…"


def annotations_from_json(value: Any, where: str = "annotations") -> dict[str, str]:
    """A string-to-string map (absent or null: empty); ContentError for anything else."""
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise ContentError(f"{where} is {type(value).__name__}, not an object of strings")
    for key, item in value.items():
        if not isinstance(item, str):
            raise ContentError(f"{where}[{shown(key)}] is {type(item).__name__}, not a string")
    return dict(value)


@dataclass(frozen=True)
class Descriptor:
    media_type: str
    digest: str
    size: int
    annotations: dict[str, str] = field(default_factory=dict)
    artifact_type: str | None = None

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {"mediaType": self.media_type, "digest": self.digest, "size": self.size}
        if self.artifact_type:
            out["artifactType"] = self.artifact_type
        if self.annotations:
            out["annotations"] = dict(self.annotations)
        return out

    @classmethod
    def from_json(cls, data: Any, where: str = "descriptor") -> Descriptor:
        """A descriptor read defensively (image-spec descriptor.md): an object with a valid digest,
        a size that is a non-negative integer (absent: 0), string fields where strings belong.
        Anything else raises ContentError naming `where` and the first problem; a digest that is
        checked here can never name a path (`sha256:../../x` is refused)."""
        if not isinstance(data, dict):
            raise ContentError(f"{where} is {type(data).__name__}, not an object")
        digest = data.get("digest")
        if not isinstance(digest, str) or not is_valid_digest(digest):
            raise ContentError(f"{where}: digest {shown(digest)} is not a valid digest")
        size = data.get("size", 0)
        if isinstance(size, bool) or not isinstance(size, int) or not 0 <= size <= _MAX_SIZE:
            raise ContentError(f"{where}: size {shown(size)} is not a non-negative integer")
        media_type = data.get("mediaType") or ""
        artifact_type = data.get("artifactType")
        for name, value in (("mediaType", media_type), ("artifactType", artifact_type)):
            if value is not None and not isinstance(value, str):
                raise ContentError(f"{where}: {name} is {type(value).__name__}, not a string")
        return cls(
            media_type=media_type,
            digest=digest,
            size=size,
            annotations=annotations_from_json(data.get("annotations"), f"{where}: annotations"),
            artifact_type=artifact_type or None,
        )


@dataclass(frozen=True)
class Blob:
    """Content to push: small blobs live in memory, layers stay on disk."""

    descriptor: Descriptor
    data: bytes | None = None
    path: Path | None = None

    @classmethod
    def from_bytes(cls, media_type: str, data: bytes, annotations: dict[str, str] | None = None) -> Blob:
        desc = Descriptor(media_type, sha256_digest(data), len(data), annotations or {})
        return cls(desc, data=data)

    @classmethod
    def from_file(cls, descriptor: Descriptor, path: Path) -> Blob:
        return cls(descriptor, path=path)

    @property
    def digest(self) -> str:
        return self.descriptor.digest

    @property
    def size(self) -> int:
        return self.descriptor.size

    @contextmanager
    def open(self) -> Iterator[BinaryIO]:
        if self.path is not None:
            with self.path.open("rb") as handle:
                yield handle
        else:
            yield BytesIO(self.data or b"")
