"""Find the features or templates under a path, load them, and build the collection metadata document.

The kind is recognised from the metadata file's name (featurepub.kinds); a folder that holds both
kinds is refused. Each kind's folders are checked by its own rules: features here and in
featurepub.features.validate, templates in featurepub.templates.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

from featurepub.errors import FeatureError, Problem, Tier
from featurepub.features import archive
from featurepub.features.metadata import parse_metadata
from featurepub.features.model import Feature
from featurepub.features.validate import check_layer_files, check_metadata
from featurepub.kinds import FEATURE, KINDS, TEMPLATE, ArtifactKind
from featurepub.oci.jsjson import js_dumps
from featurepub.validation import split

COLLECTION_FILE = "devcontainer-collection.json"
_LISTED = 5  # folder names a "holds both kinds" line lists per kind


class FolderLoader(Protocol):
    """Loads one folder of a kind: the artifact (None when an ERROR-tier problem stops it) and every finding."""

    def __call__(self, directory: Path, *, expected_id: str | None) -> tuple[Feature | None, list[Problem]]: ...


@dataclass(frozen=True)
class Collection:
    """The features, or the templates (`kind`), found under one path, in id order."""

    root: Path
    features: tuple[Feature, ...]  # the features or templates
    single: bool = False
    warnings: tuple[Problem, ...] = ()  # what validation found that does not block
    kind: ArtifactKind = FEATURE

    def collection_document(self, source: str = "featurepub") -> bytes:
        return collection_document(self.features, source, self.kind)


def _kinds_in(directory: Path) -> list[ArtifactKind]:
    # lexists: whatever the metadata path is, reading it says what is wrong with it.
    return [kind for kind in KINDS if os.path.lexists(directory / kind.metadata_file)]


def _both_kinds(path: Path, names: dict[ArtifactKind, list[str]]) -> FeatureError:
    def listed(kind: ArtifactKind) -> str:
        found = names[kind]
        shown = ", ".join(found[:_LISTED]) + (f" and {len(found) - _LISTED} more" if len(found) > _LISTED else "")
        return f"{kind.plural} ({shown})"

    message = (
        f"holds both {listed(FEATURE)} and {listed(TEMPLATE)}: publish each kind from its own folder "
        "(the spec puts features and templates in separate namespaces)"
    )
    return FeatureError([Problem(path, message)], subject="features and templates")


def find_artifact_dirs(path: Path) -> tuple[list[Path], bool, ArtifactKind]:
    """The feature or template folders under `path` (itself, its `src/` children, or its own children),
    whether `path` is a single one, and their kind; FeatureError when both kinds are there."""
    here = _kinds_in(path)
    if len(here) > 1:
        files = " and ".join(kind.metadata_file for kind in here)
        raise FeatureError(
            [Problem(path, f"holds both {files}: a folder is one feature or one template")],
            subject="features and templates",
        )
    if here:
        return [path], True, here[0]
    base = path / "src" if (path / "src").is_dir() else path
    dirs = sorted(
        (child for child in base.iterdir() if child.is_dir() and not child.name.startswith(".")),
        key=lambda p: p.name,
    )
    names: dict[ArtifactKind, list[str]] = {}
    for directory in dirs:
        for kind in _kinds_in(directory):
            names.setdefault(kind, []).append(directory.name)
    if len(names) > 1:
        raise _both_kinds(base, names)
    # A folder that holds neither file is reported missing the kind's metadata (a feature's, if none is there).
    return dirs, False, next(iter(names), FEATURE)


def detect_kind(path: Path) -> ArtifactKind:
    """The kind of what is under `path` as far as it can be told (a feature's when it cannot)."""
    try:
        return find_artifact_dirs(path)[2]
    except (FeatureError, OSError):
        return FEATURE


def _folder_loader(kind: ArtifactKind) -> FolderLoader:
    if kind is TEMPLATE:
        from featurepub.templates.load import load_template  # feature runs never import template rules

        return load_template
    return load_feature


def load_collection(path: Path, *, schema_validation: bool = True) -> Collection:
    """Load and validate every feature or template under `path`; raise FeatureError listing every
    problem that blocks (schema problems only with `schema_validation`), with the warnings beside them."""
    if not path.exists():
        raise FeatureError([Problem(path, "does not exist")])
    if not path.is_dir():
        raise FeatureError(
            [Problem(path, "is not a folder: give a feature or template folder, or a collection folder")]
        )
    dirs, single, kind = find_artifact_dirs(path)
    if not dirs:
        raise FeatureError(
            [
                Problem(
                    path,
                    f"holds no features or templates: expected {FEATURE.metadata_file} or "
                    f"{TEMPLATE.metadata_file} here, or feature or template folders under src/",
                )
            ]
        )
    load = _folder_loader(kind)
    features: list[Feature] = []
    problems: list[Problem] = []
    for directory in dirs:
        feature, found = load(directory, expected_id=None if single else directory.name)
        problems.extend(found)
        if feature is not None:
            features.append(feature)
    problems.extend(_duplicate_problems(features))
    blocking, warnings = split(problems, schema_validation=schema_validation)
    if blocking:
        raise FeatureError(blocking, warnings, subject=kind.plural)
    return Collection(path, tuple(features), single, tuple(warnings), kind)


def load_feature(directory: Path, *, expected_id: str | None) -> tuple[Feature | None, list[Problem]]:
    """The feature in `directory` (None when an ERROR-tier problem stops it) and every finding, all tiers."""
    metadata_path = directory / FEATURE.metadata_file
    metadata, problems = parse_metadata(metadata_path)
    if metadata is not None:
        problems = check_metadata(metadata, metadata_path, expected_id=expected_id)
    tree = archive.scan(directory)
    problems.extend(check_layer_files(directory, tree))
    # One line per file: the metadata's own reading problem says more than the tree's.
    reported = {p.path for p in problems if p.tier is Tier.ERROR}
    problems.extend(p for p in tree.problems if p.path not in reported)
    if metadata is None or any(p.tier is Tier.ERROR for p in problems):
        return None, problems
    return Feature(directory, metadata), problems


def _duplicate_problems(features: list[Feature]) -> list[Problem]:
    # Two features, or a feature and another's legacy id, must not publish to one repository.
    owners: dict[str, Feature] = {}
    problems: list[Problem] = []
    for feature in features:
        for name in feature.repository_names:
            other = owners.get(name)
            if other is not None and other is not feature:
                problems.append(
                    Problem(feature.metadata_path, f"{name!r} is also claimed by {other.metadata_path}")
                )
            owners[name] = feature
    return problems


def collection_document(
    features: tuple[Feature, ...] | list[Feature], source: str = "featurepub", kind: ArtifactKind = FEATURE
) -> bytes:
    """devcontainer-collection.json, laid out like the reference CLI's (4-space indent): the metadata of
    every feature, or every template, as consumers see it."""
    body: dict[str, Any] = {
        "sourceInformation": {"source": source},
        kind.collection_key: [feature.published_metadata for feature in features],
    }
    return js_dumps(body, indent=4).encode("utf-8")
