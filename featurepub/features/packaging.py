"""Validate and package feature or template folders, returning results instead of raising or printing."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from featurepub.errors import FeatureError, Problem
from featurepub.features.archive import package_feature
from featurepub.features.collection import COLLECTION_FILE, Collection, detect_kind, load_collection
from featurepub.features.model import Feature
from featurepub.kinds import FEATURE, ArtifactKind


@dataclass(frozen=True)
class ValidationResult:
    """Every feature (or template: `kind`) found under a path, or every problem (nothing is valid until
    all are), and the warnings: findings that do not block under the policy it was checked with."""

    path: Path
    features: tuple[Feature, ...]
    problems: tuple[Problem, ...]
    warnings: tuple[Problem, ...] = ()
    kind: ArtifactKind = FEATURE
    subject: str = "features"  # what the problems were found in: "features", "templates" or both

    @property
    def ok(self) -> bool:
        return not self.problems

    def to_json(self) -> dict[str, Any]:
        def entry(problem: Problem, severity: str) -> dict[str, Any]:
            return {
                "file": str(problem.path),
                "tier": problem.tier.value,
                "severity": severity,
                "field": problem.field,
                "message": problem.message,
                "why": problem.why,
            }

        return {
            "ok": self.ok,
            "kind": self.kind.name,
            self.kind.collection_key: {
                f.id: {"version": f.version, "path": str(f.directory)} for f in self.features
            },
            "problems": [entry(p, "error") for p in self.problems] + [entry(w, "warning") for w in self.warnings],
        }


def validate_path(path: Path, *, schema_validation: bool = True) -> ValidationResult:
    try:
        collection = load_collection(path, schema_validation=schema_validation)
    except FeatureError as exc:
        problems, warnings = tuple(exc.problems), tuple(exc.warnings)
        return ValidationResult(path, (), problems, warnings, detect_kind(path), exc.subject)
    kind = collection.kind
    return ValidationResult(path, collection.features, (), collection.warnings, kind, kind.plural)


@dataclass(frozen=True)
class PackagedFeature:
    id: str
    version: str
    path: Path  # devcontainer-feature-<id>.tgz, or devcontainer-template-<id>.tgz
    digest: str
    size: int


@dataclass(frozen=True)
class PackageResult:
    output: Path
    features: tuple[PackagedFeature, ...]  # the features or templates (`kind`)
    collection_file: Path
    kind: ArtifactKind = FEATURE

    def to_json(self) -> dict[str, Any]:
        return {
            "output": str(self.output),
            "collection": str(self.collection_file),
            "kind": self.kind.name,
            self.kind.collection_key: {
                f.id: {"version": f.version, "path": str(f.path), "digest": f.digest, "size": f.size}
                for f in self.features
            },
        }


def package_collection(collection: Collection, output: Path) -> PackageResult:
    """Write a reproducible devcontainer-<kind>-<id>.tgz per feature or template, and
    devcontainer-collection.json."""
    output.mkdir(parents=True, exist_ok=True)
    packaged = []
    for feature in collection.features:
        blob = package_feature(feature, output)
        packaged.append(
            PackagedFeature(feature.id, feature.version, output / feature.archive_name, blob.digest, blob.size)
        )
    collection_file = output / COLLECTION_FILE
    collection_file.write_bytes(collection.collection_document())
    return PackageResult(output, tuple(packaged), collection_file, collection.kind)
