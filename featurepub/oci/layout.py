"""The OCI image layout on disk (image-spec, image-layout.md): where blobs live, what index.json holds.

Both sides of featurepub use it: the layout target writes one (`publish --layout`) and
`push-layout` reads one, which may come from another tool.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from featurepub.errors import ConfigError, ContentError
from featurepub.oci import mediatypes
from featurepub.oci.document import MAX_MANIFEST_BYTES, parse_document
from featurepub.reference import is_valid_digest

INDEX_FILE = "index.json"
MARKER_FILE = "oci-layout"
LAYOUT_VERSION = {"imageLayoutVersion": "1.0.0"}


def blob_path(root: Path, digest: str) -> Path:
    """blobs/<algorithm>/<encoded> under `root`. Only a valid digest names a path, so no digest from
    a document (`sha256:../../etc/passwd`) can point outside blobs/."""
    if not is_valid_digest(digest):
        raise ContentError(f"{digest[:80]!r} is not a valid digest")
    algorithm, _, encoded = digest.partition(":")
    return root / "blobs" / algorithm / encoded


def read_index(root: Path) -> dict[str, Any]:
    """index.json, checked to be an image index whose `manifests` are valid descriptors (every digest
    valid, so none names a path outside blobs/) before any blob is opened; ConfigError if not."""
    path = root / INDEX_FILE
    try:
        if not path.is_file():  # a FIFO or a device would block or never end
            raise ConfigError(f"{path}: not a regular file")
        if path.stat().st_size > MAX_MANIFEST_BYTES:
            raise ConfigError(f"{path}: over {MAX_MANIFEST_BYTES} bytes; not an OCI layout index")
        data = path.read_bytes()
    except OSError as exc:
        raise ConfigError(f"{path}: not a readable OCI layout index ({exc.strerror or exc})") from None
    try:
        document = parse_document(data, what=str(path), index=True)
    except ContentError as exc:
        raise ConfigError(exc.message, hint="an OCI image layout's index.json is an image index") from None
    if not isinstance(document.body.get("manifests"), list):
        raise ConfigError(f"{path}: not an OCI image index (no `manifests` list)")
    return document.body


def empty_index() -> dict[str, Any]:
    return {"schemaVersion": 2, "mediaType": mediatypes.OCI_INDEX, "manifests": []}


def ref_name(entry: Mapping[str, Any]) -> str | None:
    """The descriptor's `org.opencontainers.image.ref.name`, when it has one."""
    annotations = entry.get("annotations") or {}
    name = annotations.get(mediatypes.ANNOTATION_REF_NAME) if isinstance(annotations, dict) else None
    return str(name) if name else None
