"""Content descriptors and the blobs they describe."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from io import BytesIO
from pathlib import Path
from typing import Any, BinaryIO

from featurepub.oci.digest import sha256_digest


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
    def from_json(cls, data: dict[str, Any]) -> Descriptor:
        annotations = data.get("annotations") or {}
        return cls(
            media_type=str(data.get("mediaType", "")),
            digest=str(data["digest"]),
            size=int(data.get("size", 0)),
            annotations={str(k): str(v) for k, v in annotations.items()},
            artifact_type=data.get("artifactType"),
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
