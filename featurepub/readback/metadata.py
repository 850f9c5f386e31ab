"""A published feature's or template's metadata: from the `dev.containers.metadata` annotation, or,
for artifacts without it, from the `devcontainer-feature.json` (or `devcontainer-template.json`)
inside the layer, as the reference CLI reads it; a collection's list from its JSON layer.

Metadata that does not parse is a note, not an error. Layers are read through a spooled
temporary file, so memory stays bounded whatever their size.
"""

from __future__ import annotations

import tarfile
import tempfile
from typing import IO, TYPE_CHECKING, Any, BinaryIO, cast

from featurepub.errors import ContentError
from featurepub.features.metadata import loads_jsonc
from featurepub.kinds import KINDS
from featurepub.oci import mediatypes
from featurepub.oci.descriptor import Descriptor
from featurepub.oci.document import MAX_DEPTH, load_json, too_deep

if TYPE_CHECKING:
    from featurepub.readback.results import InspectResult
    from featurepub.registry.client import RegistryClient

# Layers larger than this are not downloaded just to read metadata out of them.
MAX_METADATA_LAYER_BYTES = 64 * 1024 * 1024
# devcontainer-feature.json, or a collection's JSON layer: read into memory only up to this size.
MAX_METADATA_BYTES = 4 * 1024 * 1024
_SPOOL_IN_MEMORY = 1024 * 1024
# Metadata that is not plain JSON is tried as JSONC (comments, trailing commas) only up to the size
# people write by hand: a registry's answer is not a file someone edits.
_MAX_JSONC_CHARS = 256 * 1024


def loads_metadata(text: str) -> dict[str, Any] | None:
    """Metadata JSON (or JSONC, when small) from a registry; None when it does not parse or nests
    deeper than an OCI document may (printing it, as --json does, must not fail)."""
    try:
        value = load_json(text, "the metadata")
    except ContentError:
        if len(text) > _MAX_JSONC_CHARS:
            return None
        try:
            value = loads_jsonc(text)
        except (ValueError, RecursionError):
            return None
        if too_deep(value, MAX_DEPTH):
            return None
    return value if isinstance(value, dict) else None


def _member(archive: tarfile.TarFile, name: str) -> bytes | None:
    for member in archive:  # streamed: a layer of a million entries is not listed in memory
        if member.isfile() and member.name.lstrip("./") == name and "/" not in member.name.lstrip("./"):
            if member.size > MAX_METADATA_BYTES:
                return None
            handle = archive.extractfile(member)
            return handle.read(MAX_METADATA_BYTES) if handle else None
    return None


def _read_layer(client: RegistryClient, repository: str, layer: Descriptor, sink: IO[bytes]) -> bool:
    """Download the layer into `sink` (its digest checked) and rewind it; False when it is too big."""
    if layer.size > MAX_METADATA_LAYER_BYTES:
        return False
    # A spooled temporary file is a binary file to write to, though typeshed does not call it BinaryIO.
    client.download_blob(repository, layer.digest, cast(BinaryIO, sink), limit=MAX_METADATA_LAYER_BYTES)
    sink.seek(0)
    return True


def _metadata_from_layer(layer: IO[bytes], metadata_file: str) -> dict[str, Any] | None:
    try:
        # "r:*" detects gzip: old and third-party layers may be compressed, like the reference CLI reads.
        with tarfile.open(fileobj=layer, mode="r:*") as archive:
            raw = _member(archive, metadata_file)
    except (tarfile.TarError, OSError, EOFError, ValueError):
        return None
    return loads_metadata(raw.decode("utf-8-sig", "replace")) if raw is not None else None


def read_metadata(client: RegistryClient, repository: str, result: InspectResult) -> None:
    """Fill in `result.metadata` (or `result.collection`) and say where it came from."""
    raw = result.annotations.get(mediatypes.ANNOTATION_METADATA)
    if raw is not None:
        result.metadata = loads_metadata(raw)
        result.metadata_source = "annotation" if result.metadata is not None else None
        if result.metadata is None:
            result.notes.append(f"the {mediatypes.ANNOTATION_METADATA} annotation is not valid JSON")
        return
    if not result.layers or result.kind == "other":
        return
    # In memory while small, on disk beyond: memory stays bounded whatever the layer's size.
    with tempfile.SpooledTemporaryFile(max_size=_SPOOL_IN_MEMORY) as layer:
        if not _read_layer(client, repository, result.layers[0], layer):
            result.notes.append(f"the layer is over {MAX_METADATA_LAYER_BYTES} bytes; its metadata was not read")
            return
        if result.kind == "collection":
            document = loads_metadata(layer.read(MAX_METADATA_BYTES + 1).decode("utf-8", "replace"))
            for kind in KINDS:
                listed = document.get(kind.collection_key) if document else None
                if isinstance(listed, list):
                    result.collection = [f for f in listed if isinstance(f, dict)]
                    result.collection_kind = kind.name
                    break
            return
        result.metadata = _metadata_from_layer(layer, result.artifact_kind.metadata_file)
    metadata_file = result.artifact_kind.metadata_file
    if result.metadata is not None:
        result.metadata_source = "layer"  # devcontainer-feature.json (or -template.json) inside it
        result.notes.append(
            f"no {mediatypes.ANNOTATION_METADATA} annotation: metadata read from {metadata_file} in the layer"
        )
    else:
        result.notes.append(f"no {mediatypes.ANNOTATION_METADATA} annotation and no {metadata_file} in the layer")
