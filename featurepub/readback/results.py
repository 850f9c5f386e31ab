"""What reading back returns: an inspected manifest, a repository's tags, and "not there"."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from featurepub.errors import FeaturepubError
from featurepub.kinds import FEATURE, TEMPLATE, ArtifactKind
from featurepub.oci import mediatypes
from featurepub.oci.descriptor import Descriptor


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
