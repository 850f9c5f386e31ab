"""The OCI image layout on disk (image-spec, image-layout.md): where blobs live, what index.json holds.

Both sides of featurepub use it: the layout target writes one (`publish --layout`) and
`push-layout` reads one, which may come from another tool.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from featurepub.errors import ConfigError
from featurepub.oci import mediatypes

INDEX_FILE = "index.json"
MARKER_FILE = "oci-layout"
LAYOUT_VERSION = {"imageLayoutVersion": "1.0.0"}


def blob_path(root: Path, digest: str) -> Path:
    """blobs/<algorithm>/<encoded> under `root`."""
    algorithm, _, encoded = digest.partition(":")
    return root / "blobs" / algorithm / encoded


def read_index(root: Path) -> dict[str, Any]:
    """index.json, checked to be an image index whose `manifests` are descriptors; ConfigError if not."""
    path = root / INDEX_FILE
    try:
        index: Any = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise ConfigError(f"{path}: not a readable OCI layout index ({exc})") from None
    if not isinstance(index, dict) or not isinstance(index.get("manifests"), list):
        raise ConfigError(f"{path}: not an OCI image index (no `manifests` list)")
    for position, entry in enumerate(index["manifests"]):
        if not isinstance(entry, dict) or not isinstance(entry.get("digest"), str):
            raise ConfigError(f"{path}: manifests[{position}] is not a descriptor")
    return index


def empty_index() -> dict[str, Any]:
    return {"schemaVersion": 2, "mediaType": mediatypes.OCI_INDEX, "manifests": []}


def ref_name(entry: Mapping[str, Any]) -> str | None:
    """The descriptor's `org.opencontainers.image.ref.name`, when it has one."""
    annotations = entry.get("annotations") or {}
    name = annotations.get(mediatypes.ANNOTATION_REF_NAME) if isinstance(annotations, dict) else None
    return str(name) if name else None
