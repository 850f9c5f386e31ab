"""Read back what a registry holds: a manifest (through an index), its metadata, its tags.

`inspect` answers "what is behind this reference, and can the reference CLI use it": it
asks for every manifest kind (OCI and Docker, image and index), resolves a tag that
points at an index or manifest list to one platform's manifest instead of failing, and
accepts the zero-byte config that the reference CLI wrote before 0.63.0. Metadata comes
from the `dev.containers.metadata` annotation, or, for artifacts without it, from the
`devcontainer-feature.json` inside the layer, as the reference CLI reads it. Nothing here
prints; results are data.
"""

from __future__ import annotations

import io
import json
import tarfile
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from featurepub.errors import FeaturepubError, InputError, RegistryContext, RegistryError
from featurepub.features.metadata import loads_jsonc
from featurepub.oci import mediatypes
from featurepub.oci.descriptor import Descriptor
from featurepub.oci.digest import sha256_digest
from featurepub.oci.manifest import Manifest
from featurepub.reference import Reference

if TYPE_CHECKING:
    from featurepub.registry.client import RegistryClient

# A reference without a registry host means ghcr.io, like `publish --registry`'s default.
DEFAULT_REGISTRY = "ghcr.io"
DEFAULT_PLATFORM = "linux/amd64"
EMPTY_BLOB_DIGEST = "sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
# Layers larger than this are not downloaded just to read metadata out of them.
MAX_METADATA_LAYER_BYTES = 64 * 1024 * 1024
# At most this many tags are asked which manifest they point at.
MAX_TAG_LOOKUPS = 50
_METADATA_FILE = "devcontainer-feature.json"
_COLLECTION_FILE = "devcontainer-collection.json"


class NotFoundError(FeaturepubError):
    """The registry has no such repository, tag or digest (exit code 1)."""


@dataclass(frozen=True)
class IndexInfo:
    """The index (or Docker manifest list) a tag pointed at, and the platform chosen from it."""

    digest: str
    media_type: str
    size: int
    platforms: tuple[str, ...]
    selected: str

    def to_json(self) -> dict[str, Any]:
        return {
            "digest": self.digest,
            "mediaType": self.media_type,
            "size": self.size,
            "platforms": list(self.platforms),
            "selected": self.selected,
        }


@dataclass
class InspectResult:
    """One manifest read from a registry, with what consumers make of it."""

    reference: str
    registry: str
    repository: str
    tag: str | None
    digest: str
    media_type: str
    manifest_size: int
    manifest: dict[str, Any]
    config: Descriptor | None
    layers: list[Descriptor]
    annotations: dict[str, str]
    artifact_type: str | None
    index: IndexInfo | None = None
    metadata: dict[str, Any] | None = None
    metadata_source: str | None = None  # "annotation", "layer", or None
    collection: list[dict[str, Any]] | None = None  # features listed by a collection manifest
    tags: list[str] = field(default_factory=list)
    tags_here: list[str] | None = None  # tags pointing at the same content (None: not looked up)
    consumable: bool = False
    consumable_reason: str = ""
    notes: list[str] = field(default_factory=list)

    @property
    def top_digest(self) -> str:
        """What the reference resolves to: the index when there is one, else the manifest."""
        return self.index.digest if self.index else self.digest

    @property
    def kind(self) -> str:
        if self.config is None or self.config.media_type != mediatypes.DEVCONTAINERS_CONFIG:
            return "other"
        first = self.layers[0].media_type if self.layers else ""
        if first == mediatypes.COLLECTION_LAYER:
            return "collection"
        return "feature"

    @property
    def size(self) -> int:
        """Manifest, config and layers together: what a pull of this manifest transfers."""
        total = self.manifest_size + (self.config.size if self.config else 0)
        return total + sum(layer.size for layer in self.layers)

    @property
    def canonical_id(self) -> str:
        """`registry/repository@digest`, as the reference CLI names what it resolved."""
        return f"{self.registry}/{self.repository}@{self.digest}"

    def to_json(self) -> dict[str, Any]:
        return {
            "reference": self.reference,
            "registry": self.registry,
            "repository": self.repository,
            "tag": self.tag,
            "digest": self.digest,
            "canonicalId": self.canonical_id,
            "mediaType": self.media_type,
            "artifactType": self.artifact_type,
            "kind": self.kind,
            "size": self.size,
            "manifestSize": self.manifest_size,
            "index": self.index.to_json() if self.index else None,
            "config": self.config.to_json() if self.config else None,
            "layers": [layer.to_json() for layer in self.layers],
            "annotations": dict(self.annotations),
            "metadata": self.metadata,
            "metadataSource": self.metadata_source,
            "collection": self.collection,
            "tags": list(self.tags),
            "tagsHere": self.tags_here,
            "referenceCli": {"consumable": self.consumable, "reason": self.consumable_reason},
            "notes": list(self.notes),
            "manifest": self.manifest,
        }


@dataclass(frozen=True)
class TagsResult:
    reference: str
    repository: str
    tags: list[str]
    digests: dict[str, str | None] | None = None  # tag -> manifest digest, when asked for

    def to_json(self) -> dict[str, Any]:
        # `publishedTags` is the reference CLI's key (`devcontainer features info tags`).
        out: dict[str, Any] = {"publishedTags": list(self.tags)}
        if self.digests is not None:
            out["digests"] = dict(self.digests)
        return out


def parse_reference(value: str) -> Reference:
    """A feature reference: `host[:port]/path[:tag|@digest]`; without a host, ghcr.io."""
    return Reference.parse(value, default_registry=DEFAULT_REGISTRY)


def _platform_of(entry: dict[str, Any]) -> str:
    platform = entry.get("platform")
    if not isinstance(platform, dict):
        return "unknown"
    text = f"{platform.get('os', 'unknown')}/{platform.get('architecture', 'unknown')}"
    variant = platform.get("variant")
    return f"{text}/{variant}" if variant else text


def select_platform(entries: list[dict[str, Any]], wanted: str | None) -> int:
    """Index of the entry for `wanted` (os/arch[/variant]); by default linux/amd64, else the first."""
    platforms = [_platform_of(e) for e in entries]
    if wanted:
        for position, name in enumerate(platforms):
            if name == wanted or (wanted.count("/") == 1 and name.startswith(wanted + "/")):
                return position
        raise InputError(
            f"the index has no manifest for platform {wanted}",
            hint=f"it has: {', '.join(platforms) or 'no entries'}",
        )
    for position, name in enumerate(platforms):
        if name == DEFAULT_PLATFORM:
            return position
    return 0


def _fetch(client: Any, repository: str, reference: str, what: str) -> Manifest:
    manifest: Manifest | None = client.get_manifest(repository, reference)
    if manifest is None:
        raise NotFoundError(
            f"{client.registry}/{repository}: {what} {reference} not found",
            hint="check the repository path and tag (`featurepub tags` lists the tags)",
        )
    if reference.startswith("sha256:") and manifest.digest != reference:
        raise RegistryError(
            f"asked for {reference}, got content with digest {manifest.digest}",
            context=RegistryContext(client.registry, repository, f"GET manifest {reference}"),
        )
    return manifest


def _parse_json(manifest: Manifest, where: str) -> dict[str, Any]:
    try:
        body: Any = json.loads(manifest.data)
    except (ValueError, UnicodeDecodeError) as exc:
        raise RegistryError(
            f"the manifest is not JSON ({exc})", context=RegistryContext(where, "", "read manifest")
        ) from None
    if not isinstance(body, dict):
        raise RegistryError(
            "the manifest is not a JSON object", context=RegistryContext(where, "", "read manifest")
        )
    return body


def _media_type(manifest: Manifest, body: dict[str, Any]) -> str:
    declared = body.get("mediaType")
    if isinstance(declared, str) and declared:
        return declared
    if isinstance(body.get("manifests"), list):
        return mediatypes.OCI_INDEX
    return manifest.media_type or mediatypes.OCI_MANIFEST


def _descriptor(value: Any) -> Descriptor | None:
    if not isinstance(value, dict) or not isinstance(value.get("digest"), str):
        return None
    try:
        return Descriptor.from_json(value)
    except (TypeError, ValueError):
        return None


def _loads_metadata(text: str) -> dict[str, Any] | None:
    try:
        value = loads_jsonc(text)
    except ValueError:
        return None
    return value if isinstance(value, dict) else None


def _member(archive: tarfile.TarFile, name: str) -> bytes | None:
    for member in archive.getmembers():
        if member.isfile() and member.name.lstrip("./") == name and "/" not in member.name.lstrip("./"):
            handle = archive.extractfile(member)
            return handle.read() if handle else None
    return None


def _read_layer(client: Any, repository: str, layer: Descriptor) -> bytes | None:
    if layer.size > MAX_METADATA_LAYER_BYTES:
        return None
    data: bytes = client.get_blob(repository, layer.digest)
    if sha256_digest(data) != layer.digest:
        raise RegistryError(
            f"the layer's content does not match its digest {layer.digest}",
            context=RegistryContext(client.registry, repository, f"GET blob {layer.digest[:19]}"),
        )
    return data


def _metadata_from_layer(data: bytes) -> dict[str, Any] | None:
    try:
        # "r:*" detects gzip: old and third-party layers may be compressed, like the reference CLI reads.
        with tarfile.open(fileobj=io.BytesIO(data), mode="r:*") as archive:
            raw = _member(archive, _METADATA_FILE)
    except (tarfile.TarError, OSError, EOFError):
        return None
    return _loads_metadata(raw.decode("utf-8-sig", "replace")) if raw is not None else None


def _consumable(result: InspectResult) -> tuple[bool, str]:
    """What the reference CLI's reader checks (NOTES §4): only the config media type, on an image manifest."""
    if result.index is not None:
        return False, (
            "the tag points at an index; the reference CLI asks only for an image manifest "
            f"(use the platform manifest {result.canonical_id})"
        )
    if result.config is None:
        return False, "the manifest has no config"
    if result.config.media_type != mediatypes.DEVCONTAINERS_CONFIG:
        return False, (
            f"config media type is {result.config.media_type}; the reference CLI reads only "
            f"{mediatypes.DEVCONTAINERS_CONFIG}"
        )
    if not result.layers:
        return False, "the manifest has no layers"
    return True, f"config media type is {mediatypes.DEVCONTAINERS_CONFIG}"


def _tags_here(client: Any, repository: str, tags: list[str], digest: str) -> list[str] | None:
    if len(tags) > MAX_TAG_LOOKUPS:
        return None
    here = []
    for tag in tags:
        info = client.manifest_info(repository, tag)
        if info is not None and info.digest == digest:
            here.append(tag)
    return here


def inspect(
    ref: Reference, client: RegistryClient, *, platform: str | None = None, read_tags: bool = True
) -> InspectResult:
    """Read the manifest behind `ref` and describe it; see the module docstring."""
    return _inspect(client, ref, platform, read_tags)


def _inspect(client: Any, ref: Reference, platform: str | None, read_tags: bool) -> InspectResult:
    where = f"{ref.registry}/{ref.repository}"
    manifest = _fetch(client, ref.repository, ref.identifier, "manifest")
    body = _parse_json(manifest, where)
    media_type = _media_type(manifest, body)
    index: IndexInfo | None = None
    if media_type in mediatypes.INDEX_TYPES:
        entries = [e for e in body.get("manifests") or [] if isinstance(e, dict) and "digest" in e]
        if not entries:
            raise RegistryError("the index lists no manifests", context=RegistryContext(where, "", "read index"))
        chosen = select_platform(entries, platform)
        index = IndexInfo(
            manifest.digest,
            media_type,
            manifest.size,
            tuple(_platform_of(e) for e in entries),
            _platform_of(entries[chosen]),
        )
        manifest = _fetch(client, ref.repository, str(entries[chosen]["digest"]), "manifest")
        body = _parse_json(manifest, where)
        media_type = _media_type(manifest, body)
        if media_type in mediatypes.INDEX_TYPES:
            raise RegistryError(
                "the index points at another index; featurepub resolves one level",
                context=RegistryContext(where, "", "read index"),
            )
    annotations = {str(k): str(v) for k, v in (body.get("annotations") or {}).items()}
    artifact_type = body.get("artifactType")
    layers = [d for d in (_descriptor(x) for x in body.get("layers") or []) if d is not None]
    result = InspectResult(
        reference=str(ref),
        registry=ref.registry,
        repository=ref.repository,
        tag=ref.tag if not ref.digest else None,
        digest=manifest.digest,
        media_type=media_type,
        manifest_size=manifest.size,
        manifest=body,
        config=_descriptor(body.get("config")),
        layers=layers,
        annotations=annotations,
        artifact_type=artifact_type if isinstance(artifact_type, str) else None,
        index=index,
    )
    if index is not None:
        result.notes.append(f"the tag points at an index; read the {index.selected} manifest")
    if result.config is not None and result.config.size == 0:
        result.notes.append(
            "zero-byte config (written by the reference CLI before 0.63.0); readers accept it, "
            "but AWS ECR and Google Artifact Registry refuse to store a zero-byte blob"
        )
    _read_metadata(client, ref.repository, result)
    result.consumable, result.consumable_reason = _consumable(result)
    if read_tags:
        result.tags = client.list_tags(ref.repository)
        result.tags_here = _tags_here(client, ref.repository, result.tags, result.top_digest)
    return result


def _read_metadata(client: Any, repository: str, result: InspectResult) -> None:
    raw = result.annotations.get(mediatypes.ANNOTATION_METADATA)
    if raw is not None:
        result.metadata = _loads_metadata(raw)
        result.metadata_source = "annotation" if result.metadata is not None else None
        if result.metadata is None:
            result.notes.append(f"the {mediatypes.ANNOTATION_METADATA} annotation is not valid JSON")
        return
    if not result.layers or result.kind == "other":
        return
    layer = result.layers[0]
    data = _read_layer(client, repository, layer)
    if data is None:
        result.notes.append(f"the layer is over {MAX_METADATA_LAYER_BYTES} bytes; its metadata was not read")
        return
    if result.kind == "collection":
        document = _loads_metadata(data.decode("utf-8", "replace"))
        features = document.get("features") if document else None
        if isinstance(features, list):
            result.collection = [f for f in features if isinstance(f, dict)]
        return
    result.metadata = _metadata_from_layer(data)
    if result.metadata is not None:
        result.metadata_source = "layer"  # devcontainer-feature.json inside it
        result.notes.append(
            f"no {mediatypes.ANNOTATION_METADATA} annotation: metadata read from {_METADATA_FILE} in the layer"
        )
    else:
        result.notes.append(f"no {mediatypes.ANNOTATION_METADATA} annotation and no {_METADATA_FILE} in the layer")


def list_tags(ref: Reference, client: RegistryClient, *, digests: bool = False) -> TagsResult:
    """Every tag of the reference's repository (all pages), optionally with what each points at.

    Unlike `devcontainer features info tags`, the reference's own tag need not exist.
    """
    tags: list[str] = client.list_tags(ref.repository)
    found: dict[str, str | None] | None = None
    if digests:
        found = {}
        for tag in tags:
            info = client.manifest_info(ref.repository, tag)
            found[tag] = info.digest if info else None
    return TagsResult(f"{ref.registry}/{ref.repository}", ref.repository, tags, found)


def sort_tags(tags: Iterable[str]) -> list[str]:
    """Tags for people: versions newest first (X.Y.Z, then X.Y, then X), other names after, latest first."""
    import semver

    def key(tag: str) -> tuple[int, Any]:
        if tag == "latest":
            return (0, ())
        parts = tag.split(".")
        if semver.Version.is_valid(tag):
            version = semver.Version.parse(tag)
            return (1, _Descending(version))
        if all(p.isdigit() for p in parts) and len(parts) <= 2:
            padded = [int(p) for p in parts] + [10**9] * (3 - len(parts))
            return (1, _Descending(semver.Version(*padded)))
        return (2, tag)

    return sorted(tags, key=key)


@dataclass(frozen=True)
class _Descending:
    version: Any

    def __lt__(self, other: _Descending) -> bool:
        return bool(self.version > other.version)
