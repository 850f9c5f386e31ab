"""Build OCI image manifests for Dev Container artifacts, serialised canonically."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from featurepub.oci import mediatypes
from featurepub.oci.descriptor import Blob, Descriptor
from featurepub.oci.digest import sha256_digest
from featurepub.oci.document import load_object
from featurepub.oci.jsjson import js_dumps

# The 2-byte `{}` config the reference CLI has written since 0.63.0. A 0-byte config
# (its earlier form) is refused by AWS ECR, so featurepub never writes one.
EMPTY_CONFIG_BYTES = b"{}"
EMPTY_CONFIG = Blob.from_bytes(mediatypes.DEVCONTAINERS_CONFIG, EMPTY_CONFIG_BYTES)


def canonical_json(value: Any) -> bytes:
    """Compact JSON exactly as JavaScript's JSON.stringify writes it, UTF-8 encoded."""
    return js_dumps(value).encode("utf-8")


@dataclass(frozen=True)
class Manifest:
    """A serialised manifest: the bytes pushed are the bytes digested."""

    data: bytes
    media_type: str = mediatypes.OCI_MANIFEST

    @property
    def digest(self) -> str:
        return sha256_digest(self.data)

    @property
    def size(self) -> int:
        return len(self.data)

    def descriptor(self, annotations: dict[str, str] | None = None) -> Descriptor:
        return Descriptor(self.media_type, self.digest, self.size, annotations or {})

    def to_json(self) -> dict[str, Any]:
        """The manifest as JSON; ContentError (a ValueError) when it is not a JSON object."""
        return load_object(self.data, "the manifest")


def build_manifest(layer: Descriptor, annotations: dict[str, str], config: Descriptor | None = None) -> Manifest:
    """An image manifest with artifactType, the devcontainers config and a single layer."""
    config = config or EMPTY_CONFIG.descriptor
    body: dict[str, Any] = {
        "schemaVersion": 2,
        "mediaType": mediatypes.OCI_MANIFEST,
        "artifactType": mediatypes.DEVCONTAINERS_ARTIFACT,
        "config": config.to_json(),
        "layers": [layer.to_json()],
    }
    if annotations:
        body["annotations"] = dict(annotations)
    return Manifest(canonical_json(body))
