"""Manifests and indexes read defensively: whatever the bytes hold, a checked view or one ContentError.

Every reader of OCI documents goes through here: `inspect` (what a registry serves), `push-layout`
(what a layout folder holds, which another tool may have written), publish's look at the
collection it pushed before. The fields featurepub reads are checked for the types the image spec
gives them (annotations a map of strings, layers and manifests lists of descriptors, sizes
non-negative integers, digests that can never name a path); fields it does not read are kept in
`body` unchecked. JSON nested deeper than any OCI document needs is refused instead of recursed
into, and a document over distribution's 4 MiB manifest limit is refused before it is parsed.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from featurepub.errors import ContentError
from featurepub.oci import mediatypes
from featurepub.oci.descriptor import Descriptor, annotations_from_json

# distribution refuses to store or serve a manifest over 4 MiB (its `maxManifestBodySize`).
MAX_MANIFEST_BYTES = 4 * 1024 * 1024
# OCI documents nest a handful of levels (index > platform > features); this leaves room for
# annotations-like extensions while keeping every later walk (printing, re-serialising) safe.
MAX_DEPTH = 32


def too_deep(value: Any, limit: int) -> bool:
    """Whether arrays and objects nest more than `limit` levels (walked without recursion)."""
    stack: list[tuple[Any, int]] = [(value, 1)]
    while stack:
        item, level = stack.pop()
        if isinstance(item, dict):
            children: Any = item.values()
        elif isinstance(item, list):
            children = item
        else:
            continue
        if level > limit:
            return True
        stack.extend((child, level + 1) for child in children)
    return False


def load_json(data: bytes | str, what: str, *, max_depth: int = MAX_DEPTH) -> Any:
    """Parse JSON that came from outside; ContentError when it is not JSON or nests too deep."""
    try:
        value = json.loads(data)
    except RecursionError:
        raise ContentError(f"{what} is JSON nested too deeply to read") from None
    except json.JSONDecodeError as exc:
        raise ContentError(f"{what} is not JSON ({exc.msg} at line {exc.lineno} column {exc.colno})") from None
    except (ValueError, UnicodeDecodeError) as exc:  # an undecodable encoding, a 5,000-digit number
        raise ContentError(f"{what} is not JSON ({type(exc).__name__})") from None
    if too_deep(value, max_depth):
        raise ContentError(f"{what} nests more than {max_depth} levels deep")
    return value


def load_object(data: bytes | str, what: str) -> dict[str, Any]:
    """`load_json`, and the document must be a JSON object."""
    value = load_json(data, what)
    if not isinstance(value, dict):
        raise ContentError(f"{what} is a JSON {_json_kind(value)}, not an object")
    return value


def _json_kind(value: Any) -> str:
    if isinstance(value, list):
        return "array"
    if isinstance(value, str):
        return "string"
    if value is None:
        return "null"
    return "boolean" if isinstance(value, bool) else "number"


@dataclass(frozen=True)
class IndexEntry:
    """One manifest an index lists, and the platform it is for (`os/architecture[/variant]`)."""

    descriptor: Descriptor
    platform: str


@dataclass(frozen=True)
class Document:
    """An image manifest or an index, with the fields featurepub reads checked."""

    media_type: str
    body: dict[str, Any]
    annotations: dict[str, str]
    artifact_type: str | None
    config: Descriptor | None = None
    layers: tuple[Descriptor, ...] = ()
    entries: tuple[IndexEntry, ...] = ()  # an index's manifests

    @property
    def is_index(self) -> bool:
        return self.media_type in mediatypes.INDEX_TYPES

    @property
    def descriptors(self) -> tuple[Descriptor, ...]:
        """Everything this document points at: config and layers, or the listed manifests."""
        if self.is_index:
            return tuple(e.descriptor for e in self.entries)
        return ((self.config,) if self.config else ()) + self.layers


def _string(body: dict[str, Any], key: str, what: str) -> str | None:
    value = body.get(key)
    if value is not None and not isinstance(value, str):
        raise ContentError(f"{what}: {key} is a JSON {_json_kind(value)}, not a string")
    return value or None


def _list(body: dict[str, Any], key: str, what: str) -> list[Any]:
    value = body.get(key)
    if value is None:
        return []
    if not isinstance(value, list):
        raise ContentError(f"{what}: {key} is a JSON {_json_kind(value)}, not an array")
    return value


def _platform(entry: dict[str, Any], where: str) -> str:
    platform = entry.get("platform")
    if platform is None:
        return "unknown"
    if not isinstance(platform, dict):
        raise ContentError(f"{where}: platform is a JSON {_json_kind(platform)}, not an object")
    os_name = _string(platform, "os", f"{where}: platform") or "unknown"
    architecture = _string(platform, "architecture", f"{where}: platform") or "unknown"
    variant = _string(platform, "variant", f"{where}: platform")
    return f"{os_name}/{architecture}/{variant}" if variant else f"{os_name}/{architecture}"


def parse_document(
    data: bytes, media_type: str = "", what: str = "the manifest", *, index: bool = False
) -> Document:
    """Read a manifest or index. Its kind is its declared `mediaType`, else an index when it has a
    `manifests` array, else `media_type` (the Content-Type it was served with), else an OCI image
    manifest; `index=True` reads it as an index whatever it says (a layout's index.json)."""
    if len(data) > MAX_MANIFEST_BYTES:
        raise ContentError(f"{what} is {len(data)} bytes, over the {MAX_MANIFEST_BYTES}-byte limit for manifests")
    body = load_object(data, what)
    declared = _string(body, "mediaType", what)
    kind = declared or ("" if not isinstance(body.get("manifests"), list) else mediatypes.OCI_INDEX)
    kind = kind or media_type or mediatypes.OCI_MANIFEST
    if index and kind not in mediatypes.INDEX_TYPES:
        kind = mediatypes.OCI_INDEX
    annotations = annotations_from_json(body.get("annotations"), f"{what}: annotations")
    artifact_type = _string(body, "artifactType", what)
    if kind in mediatypes.INDEX_TYPES:
        entries = []
        for position, entry in enumerate(_list(body, "manifests", what)):
            where = f"{what}: manifests[{position}]"
            descriptor = Descriptor.from_json(entry, where)
            entries.append(IndexEntry(descriptor, _platform(entry, where)))
        return Document(kind, body, annotations, artifact_type, entries=tuple(entries))
    config_value = body.get("config")
    config = None if config_value is None else Descriptor.from_json(config_value, f"{what}: config")
    layers = tuple(
        Descriptor.from_json(layer, f"{what}: layers[{position}]")
        for position, layer in enumerate(_list(body, "layers", what))
    )
    return Document(kind, body, annotations, artifact_type, config=config, layers=layers)
