"""Read back what a registry holds: a manifest (through an index), its metadata, its tags.

`inspect` answers "what is behind this reference (a feature, a template, a collection), and can the
reference CLI use it": it
asks for every manifest kind (OCI and Docker, image and index), resolves a tag that
points at an index or manifest list to one platform's manifest instead of failing, and
accepts the zero-byte config that the reference CLI wrote before 0.63.0. Metadata comes
from the `dev.containers.metadata` annotation, or, for artifacts without it, from the
`devcontainer-feature.json` (or `devcontainer-template.json`) inside the layer, as the reference CLI
reads it. A template is told from a feature by its layer's title, `devcontainer-template-<id>.tgz`.
Nothing here prints; results are data.

What the registry serves is read defensively (oci/document.py): a manifest or index that breaks
the image spec in a field featurepub reads is one RegistryError naming the registry, repository
and reference; metadata that does not parse is a note. Layers are read through a spooled
temporary file, so memory stays bounded whatever their size.
"""

from __future__ import annotations

import tarfile
import tempfile
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import IO, TYPE_CHECKING, Any

from featurepub.errors import ContentError, FeaturepubError, InputError, RegistryContext, RegistryError
from featurepub.features.metadata import loads_jsonc
from featurepub.kinds import FEATURE, KINDS, TEMPLATE, ArtifactKind
from featurepub.oci import mediatypes
from featurepub.oci.descriptor import Descriptor
from featurepub.oci.document import MAX_DEPTH, Document, IndexEntry, load_json, parse_document, too_deep
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
# devcontainer-feature.json, or a collection's JSON layer: read into memory only up to this size.
MAX_METADATA_BYTES = 4 * 1024 * 1024
_SPOOL_IN_MEMORY = 1024 * 1024
# Metadata that is not plain JSON is tried as JSONC (comments, trailing commas) only up to the size
# people write by hand: a registry's answer is not a file someone edits.
_MAX_JSONC_CHARS = 256 * 1024
# At most this many tags are asked which manifest they point at.
MAX_TAG_LOOKUPS = 50
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
    collection: list[dict[str, Any]] | None = None  # features or templates listed by a collection manifest
    collection_kind: str | None = None  # "feature" or "template": what the collection lists
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
        return self.artifact_kind.name

    @property
    def artifact_kind(self) -> ArtifactKind:
        """A template when its layer is named as the reference names a template's, else a feature."""
        title = self.layers[0].annotations.get(mediatypes.ANNOTATION_TITLE, "") if self.layers else ""
        return TEMPLATE if title.startswith(TEMPLATE.archive_name("")[: -len(".tgz")]) else FEATURE

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
            "collectionKind": self.collection_kind,
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


def select_platform(entries: list[IndexEntry], wanted: str | None) -> int:
    """Index of the entry for `wanted` (os/arch[/variant]); by default linux/amd64, else the first."""
    platforms = [e.platform for e in entries]
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


def _document(client: Any, repository: str, reference: str, manifest: Manifest) -> Document:
    try:
        return parse_document(manifest.data, manifest.media_type, "the manifest")
    except ContentError as exc:
        raise RegistryError(
            exc.message,
            context=RegistryContext(client.registry, repository, f"read manifest {reference}"),
            hint="the registry holds a manifest that breaks the OCI image spec; it was not written by featurepub",
        ) from None


def _loads_metadata(text: str) -> dict[str, Any] | None:
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


def _read_layer(client: Any, repository: str, layer: Descriptor, sink: IO[bytes]) -> bool:
    """Download the layer into `sink` (its digest checked) and rewind it; False when it is too big."""
    if layer.size > MAX_METADATA_LAYER_BYTES:
        return False
    client.download_blob(repository, layer.digest, sink, limit=MAX_METADATA_LAYER_BYTES)
    sink.seek(0)
    return True


def _metadata_from_layer(layer: IO[bytes], metadata_file: str) -> dict[str, Any] | None:
    try:
        # "r:*" detects gzip: old and third-party layers may be compressed, like the reference CLI reads.
        with tarfile.open(fileobj=layer, mode="r:*") as archive:
            raw = _member(archive, metadata_file)
    except (tarfile.TarError, OSError, EOFError, ValueError):
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
    if result.kind == TEMPLATE.name and mediatypes.ANNOTATION_METADATA not in result.annotations:
        # `devcontainer templates metadata` reads only the annotation; `templates apply` reads the layer.
        return True, (
            f"config media type is {mediatypes.DEVCONTAINERS_CONFIG}; without the "
            f"{mediatypes.ANNOTATION_METADATA} annotation `devcontainer templates metadata` finds nothing, "
            "but `templates apply` works"
        )
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
    manifest = _fetch(client, ref.repository, ref.identifier, "manifest")
    document = _document(client, ref.repository, ref.identifier, manifest)
    index: IndexInfo | None = None
    if document.is_index:
        context = RegistryContext(client.registry, ref.repository, f"read index {ref.identifier}")
        entries = list(document.entries)
        if not entries:
            raise RegistryError("the index lists no manifests", context=context)
        chosen = select_platform(entries, platform)
        index = IndexInfo(
            manifest.digest,
            document.media_type,
            manifest.size,
            tuple(e.platform for e in entries),
            entries[chosen].platform,
        )
        reference = entries[chosen].descriptor.digest
        manifest = _fetch(client, ref.repository, reference, "manifest")
        document = _document(client, ref.repository, reference, manifest)
        if document.is_index:
            raise RegistryError(
                "the index points at another index; featurepub resolves one level", context=context
            )
    result = InspectResult(
        reference=str(ref),
        registry=ref.registry,
        repository=ref.repository,
        tag=ref.tag if not ref.digest else None,
        digest=manifest.digest,
        media_type=document.media_type,
        manifest_size=manifest.size,
        manifest=document.body,
        config=document.config,
        layers=list(document.layers),
        annotations=document.annotations,
        artifact_type=document.artifact_type,
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
    # In memory while small, on disk beyond: memory stays bounded whatever the layer's size.
    with tempfile.SpooledTemporaryFile(max_size=_SPOOL_IN_MEMORY) as layer:
        if not _read_layer(client, repository, result.layers[0], layer):
            result.notes.append(f"the layer is over {MAX_METADATA_LAYER_BYTES} bytes; its metadata was not read")
            return
        if result.kind == "collection":
            document = _loads_metadata(layer.read(MAX_METADATA_BYTES + 1).decode("utf-8", "replace"))
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


def list_tags(ref: Reference, client: RegistryClient, *, digests: bool = False) -> TagsResult:
    """Every tag of the reference's repository (all pages), optionally with what each points at;
    NotFoundError when the repository does not exist.

    Unlike `devcontainer features info tags`, the reference's own tag need not exist.
    """
    tags = client.tags_of(ref.repository)
    if tags is None:
        raise NotFoundError(
            f"{ref.registry}/{ref.repository}: no such repository",
            hint="check the registry and repository path (`featurepub inspect` shows what a tag points at)",
        )
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
        if all(p.isascii() and p.isdigit() for p in parts) and len(parts) <= 2:  # "²".isdigit() is True
            padded = [int(p) for p in parts] + [10**9] * (3 - len(parts))
            return (1, _Descending(semver.Version(*padded)))
        return (2, tag)

    return sorted(tags, key=key)


@dataclass(frozen=True)
class _Descending:
    version: Any

    def __lt__(self, other: _Descending) -> bool:
        return bool(self.version > other.version)
