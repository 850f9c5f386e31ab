"""What a publish did, per feature, repository and tag: data for JSON and for people."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import Enum
from typing import Any

from featurepub.errors import EXIT_INCOMPLETE, EXIT_INTERRUPTED
from featurepub.kinds import FEATURE, ArtifactKind
from featurepub.publishing.tags import reference_tag_order


class Status(str, Enum):
    PUBLISHED = "published"
    UNCHANGED = "unchanged"  # the exact version already points at identical content
    SKIPPED = "skipped"  # the exact version exists with different content; --force replaces it
    FAILED = "failed"
    NOT_ATTEMPTED = "not-attempted"  # an earlier step failed, or the run stopped
    PLANNED = "planned"  # --dry-run
    INTERRUPTED = "interrupted"  # the run was stopped (Ctrl-C, SIGTERM) while this was under way


INCOMPLETE = frozenset({Status.FAILED, Status.NOT_ATTEMPTED, Status.INTERRUPTED})


@dataclass
class TagResult:
    tag: str
    status: Status
    error: str | None = None


@dataclass
class RepositoryResult:
    repository: str
    status: Status = Status.NOT_ATTEMPTED
    tags: list[TagResult] = field(default_factory=list)
    bytes_uploaded: int = 0
    note: str | None = None
    error: str | None = None
    error_exit_code: int = 0  # the exit code of the error class that stopped this repository
    # The error without the operation and repository it happened in, and its hint: the same cause
    # stopping several repositories (refused credentials) reads the same in each.
    error_cause: str | None = None
    error_hint: str | None = None
    # The manifest the version's exact tag points at after the run, when known: this run's, or the
    # registry's (content packed by another tool, or a version skipped for other content).
    digest: str | None = None

    def tags_with(self, status: Status) -> list[str]:
        return [t.tag for t in self.tags if t.status is status]


@dataclass
class FeatureResult:
    id: str
    version: str
    digest: str  # the manifest this run packed
    size: int
    repositories: list[RepositoryResult]

    @property
    def registry_digest(self) -> str:
        """What the version's exact tag points at in the registry: the registry's manifest when another
        tool packed the same content (or other content, when skipped); else this run's."""
        return self.primary.digest or self.digest

    @property
    def status(self) -> Status:
        statuses = {r.status for r in self.repositories}
        for worst in (
            Status.FAILED,
            Status.INTERRUPTED,
            Status.NOT_ATTEMPTED,
            Status.SKIPPED,
            Status.PLANNED,
            Status.PUBLISHED,
        ):
            if worst in statuses:
                return worst
        return Status.UNCHANGED

    @property
    def ok(self) -> bool:
        return self.status not in INCOMPLETE

    @property
    def primary(self) -> RepositoryResult:
        return self.repositories[0]


@dataclass
class PublishReport:
    target: str
    namespace: str
    features: list[FeatureResult] = field(default_factory=list)  # the features or templates (`kind`)
    collection: RepositoryResult | None = None
    dry_run: bool = False
    interrupted: str | None = None  # why the run was stopped before it finished (e.g. "SIGINT")
    kind: ArtifactKind = FEATURE

    @property
    def ok(self) -> bool:
        collection_ok = self.collection is None or self.collection.status not in INCOMPLETE
        return collection_ok and all(f.ok for f in self.features)

    @property
    def exit_code(self) -> int:
        """0 when everything is in place; 130 when the run was stopped; else the code of the first
        failure (3 auth, 4 registry, 1 other)."""
        if self.ok:
            return 0
        if self.interrupted:
            return EXIT_INTERRUPTED
        results = [r for f in self.features for r in f.repositories]
        if self.collection is not None:
            results.append(self.collection)
        return next((r.error_exit_code for r in results if r.error_exit_code), EXIT_INCOMPLETE)

    @property
    def bytes_uploaded(self) -> int:
        total = sum(r.bytes_uploaded for f in self.features for r in f.repositories)
        return total + (self.collection.bytes_uploaded if self.collection else 0)

    def to_json(self) -> dict[str, Any]:
        """The reference CLI's fields (`publishedTags`, `digest`, `version` per id), plus what happened."""
        out: dict[str, Any] = {}
        for feature in self.features:
            primary = feature.primary
            entry: dict[str, Any] = {
                "publishedTags": primary.tags_with(Status.PUBLISHED),
                "digest": feature.registry_digest,
                "version": feature.version,
                "status": feature.status.value,
                "size": feature.size,
                "repositories": [_repository_json(r) for r in feature.repositories],
            }
            if feature.registry_digest != feature.digest:
                entry["packedDigest"] = feature.digest
            out[feature.id] = entry
        return out

    def reference_json(self) -> dict[str, Any]:
        """What `devcontainer features publish` prints: per id, `{}` when this run published nothing of
        it, else the tags it pushed (in the reference's order: X, X.Y, X.Y.Z, latest), the digest they
        point at, the version, and `publishedLegacyIds` when a legacy id's repository got tags too."""
        out: dict[str, Any] = {}
        for feature in self.features:
            primary = feature.primary
            tags = reference_tag_order(primary.tags_with(Status.PUBLISHED))
            if not tags:
                out[feature.id] = {}
                continue
            entry: dict[str, Any] = {
                "publishedTags": tags,
                "digest": feature.registry_digest,
                "version": feature.version,
            }
            legacy = [r for r in feature.repositories[1:] if r.tags_with(Status.PUBLISHED)]
            if legacy:  # as the reference: only when the feature itself was published
                entry["publishedLegacyIds"] = [r.repository.rsplit("/", 1)[-1] for r in legacy]
            out[feature.id] = entry
        return out

    def summary_json(self) -> dict[str, Any]:
        """The whole report; its per-id entries go under "features" or "templates", as the kind's collection."""
        return {
            "ok": self.ok,
            "kind": self.kind.name,
            "target": self.target,
            "namespace": self.namespace,
            "dryRun": self.dry_run,
            "interrupted": self.interrupted,
            "bytesUploaded": self.bytes_uploaded,
            self.kind.collection_key: self.to_json(),
            "collection": _repository_json(self.collection) if self.collection else None,
        }


def _repository_json(result: RepositoryResult) -> dict[str, Any]:
    out: dict[str, Any] = {
        "repository": result.repository,
        "status": result.status.value,
        "tags": {t.tag: t.status.value for t in result.tags},
        "bytesUploaded": result.bytes_uploaded,
    }
    if result.digest:
        out["digest"] = result.digest
    if result.note:
        out["note"] = result.note
    if result.error:
        out["error"] = result.error
    if result.error_exit_code:
        out["exitCode"] = result.error_exit_code
    if result.error_cause:
        out["cause"] = result.error_cause
    if result.error_hint:
        out["hint"] = result.error_hint
    return out
