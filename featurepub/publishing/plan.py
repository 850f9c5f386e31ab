"""Turn features or templates into what must be pushed: blobs, manifests and repositories. No network."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from featurepub.errors import FeatureError, InvalidReferenceError, Problem
from featurepub.features.archive import package_feature
from featurepub.features.collection import COLLECTION_FILE, Collection, collection_document
from featurepub.features.model import Feature
from featurepub.kinds import FEATURE, ArtifactKind
from featurepub.oci import mediatypes
from featurepub.oci.descriptor import Blob
from featurepub.oci.manifest import EMPTY_CONFIG, Manifest, build_manifest, canonical_json
from featurepub.publishing.events import Event, EventKind, Listener, ignore
from featurepub.reference import component_problem, parse_repository, repository_problem

GITHUB_REGISTRY = "ghcr.io"


@dataclass(frozen=True)
class Artifact:
    """One manifest with the blobs it references."""

    manifest: Manifest
    blobs: tuple[Blob, ...]


@dataclass(frozen=True)
class FeaturePlan:
    """One feature or template."""

    feature: Feature
    artifact: Artifact
    repositories: tuple[str, ...]  # its own first, then one per legacy id

    @property
    def id(self) -> str:
        return self.feature.id

    @property
    def version(self) -> str:
        return self.feature.version


@dataclass(frozen=True)
class Plan:
    namespace: str
    features: tuple[FeaturePlan, ...]  # the features or templates
    collection: Artifact  # this run's entries only
    kind: ArtifactKind = FEATURE
    # Part of a collection (one feature folder, or a subset): its entries are merged into the
    # collection that is there instead of replacing it (publishing/collection_merge.py).
    partial: bool = False
    registry: str | None = None

    def collection_of(self, document: bytes) -> Artifact:
        """The collection artifact for another document (a merged one), annotated like this plan's."""
        return collection_artifact_of(document, self.registry)


def _github_annotations(registry: str | None, kind: str) -> dict[str, str]:
    # ghcr.io shows a package type from this annotation; other registries do not need it.
    return {mediatypes.ANNOTATION_GITHUB_PACKAGE_TYPE: kind} if registry == GITHUB_REGISTRY else {}


def feature_artifact(feature: Feature, layer: Blob, registry: str | None) -> Artifact:
    """The manifest of a feature or template version: its layer, and its metadata as an annotation."""
    annotations = {
        mediatypes.ANNOTATION_METADATA: canonical_json(feature.published_metadata).decode("utf-8"),
        **_github_annotations(registry, feature.kind.package_type),
    }
    manifest = build_manifest(layer.descriptor, annotations)
    return Artifact(manifest, (EMPTY_CONFIG, layer))


def collection_artifact(features: list[Feature], registry: str | None, kind: ArtifactKind = FEATURE) -> Artifact:
    return collection_artifact_of(collection_document(features, kind=kind), registry)


def collection_artifact_of(document: bytes, registry: str | None) -> Artifact:
    layer = Blob.from_bytes(mediatypes.COLLECTION_LAYER, document, {mediatypes.ANNOTATION_TITLE: COLLECTION_FILE})
    manifest = build_manifest(layer.descriptor, _github_annotations(registry, "devcontainer_collection"))
    return Artifact(manifest, (EMPTY_CONFIG, layer))


def _short(name: str) -> str:
    return repr(name) if len(name) <= 72 else repr(f"{name[:30]}...{name[-30:]}")


def check_names(collection: Collection, namespace: str, *, registry: str | None) -> str:
    """The namespace, parsed, once every repository the run would push to has a name the registry and
    its clients take; raise before any request otherwise (a long name fails mid-run, after other
    features or templates went up). Returns the namespace normalised."""
    namespace = parse_repository(namespace, what="namespace")
    for component in namespace.split("/"):
        if (why := component_problem(component)) is not None:
            raise InvalidReferenceError(f"namespace {_short(namespace)}: component {_short(component)} {why}")
    if (why := repository_problem(namespace, registry)) is not None:
        raise InvalidReferenceError(f"namespace {_short(namespace)} {why}")
    problems = []
    for feature in collection.features:
        for name in feature.repository_names:
            repository = f"{namespace}/{name}"
            if (why := repository_problem(repository, registry)) is not None:
                problems.append(Problem(feature.metadata_path, f"repository {_short(repository)} {why}"))
    if problems:
        raise FeatureError(problems, subject=collection.kind.plural)
    return namespace


def feature_repositories(feature: Feature, namespace: str) -> tuple[str, ...]:
    """Where a feature or template goes: its own repository first, then one per legacy id."""
    return tuple(f"{namespace}/{name}" for name in feature.repository_names)


class _PackingEvents:
    """Packing progress as PACKING and PACKING_PROGRESS events."""

    def __init__(self, emit: Listener, subject: str, repository: str) -> None:
        self.emit, self.subject, self.repository = emit, subject, repository

    def started(self, total: int) -> None:
        self.emit(Event(EventKind.PACKING, self.subject, self.repository, size=total))

    def packed(self, size: int) -> None:
        self.emit(Event(EventKind.PACKING_PROGRESS, self.subject, self.repository, size=size))


def make_plan(
    collection: Collection,
    namespace: str,
    workdir: Path,
    *,
    registry: str | None,
    partial: bool = False,
    emit: Listener = ignore,
) -> Plan:
    """Package every feature or template into `workdir` and describe what to push where. A single
    folder, or `partial` (a subset of a collection), is merged into the collection that is there;
    `emit` hears how packing goes (PACKING, PACKING_PROGRESS, then PACKAGED per layer)."""
    namespace = check_names(collection, namespace, registry=registry)
    plans = []
    for feature in collection.features:
        repositories = feature_repositories(feature, namespace)
        layer = package_feature(feature, workdir / feature.id, _PackingEvents(emit, feature.id, repositories[0]))
        emit(Event(EventKind.PACKAGED, feature.id, repositories[0], layer.digest, layer.size))
        plans.append(FeaturePlan(feature, feature_artifact(feature, layer, registry), repositories))
    artifact = collection_artifact(list(collection.features), registry, collection.kind)
    return Plan(namespace, tuple(plans), artifact, collection.kind, partial or collection.single, registry)
