"""Find the features under a path and build the collection metadata document."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from featurepub.errors import FeatureError, Problem, Tier
from featurepub.features import archive
from featurepub.features.metadata import parse_metadata
from featurepub.features.model import METADATA_FILE, Feature
from featurepub.features.validate import check_layer_files, check_metadata
from featurepub.oci.jsjson import js_dumps
from featurepub.validation import split

COLLECTION_FILE = "devcontainer-collection.json"


@dataclass(frozen=True)
class Collection:
    """The features found under one path, in id order."""

    root: Path
    features: tuple[Feature, ...]
    single: bool = False
    warnings: tuple[Problem, ...] = ()  # what validation found that does not block

    def collection_document(self, source: str = "featurepub") -> bytes:
        return collection_document(self.features, source)


def find_feature_dirs(path: Path) -> tuple[list[Path], bool]:
    """Feature folders under `path`: itself, its `src/` children, or its own children."""
    if os.path.lexists(path / METADATA_FILE):  # whatever it is: reading it says what is wrong
        return [path], True
    base = path / "src" if (path / "src").is_dir() else path
    dirs = sorted(
        (child for child in base.iterdir() if child.is_dir() and not child.name.startswith(".")),
        key=lambda p: p.name,
    )
    return dirs, False


def load_collection(path: Path, *, schema_validation: bool = True) -> Collection:
    """Load and validate every feature under `path`; raise FeatureError listing every problem that
    blocks (schema problems only with `schema_validation`), with the warnings beside them."""
    if not path.exists():
        raise FeatureError([Problem(path, "does not exist")])
    if not path.is_dir():
        raise FeatureError([Problem(path, "is not a folder: give a feature folder or a collection folder")])
    dirs, single = find_feature_dirs(path)
    if not dirs:
        raise FeatureError(
            [Problem(path, f"holds no features: expected {METADATA_FILE} here, or feature folders under src/")]
        )
    features: list[Feature] = []
    problems: list[Problem] = []
    for directory in dirs:
        feature, found = load_feature(directory, expected_id=None if single else directory.name)
        problems.extend(found)
        if feature is not None:
            features.append(feature)
    problems.extend(_duplicate_problems(features))
    blocking, warnings = split(problems, schema_validation=schema_validation)
    if blocking:
        raise FeatureError(blocking, warnings)
    return Collection(path, tuple(features), single, tuple(warnings))


def load_feature(directory: Path, *, expected_id: str | None) -> tuple[Feature | None, list[Problem]]:
    """The feature in `directory` (None when an ERROR-tier problem stops it) and every finding, all tiers."""
    metadata_path = directory / METADATA_FILE
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


def collection_document(features: tuple[Feature, ...] | list[Feature], source: str = "featurepub") -> bytes:
    """devcontainer-collection.json, laid out like the reference CLI's (4-space indent)."""
    body: dict[str, Any] = {
        "sourceInformation": {"source": source},
        "features": [feature.published_metadata for feature in features],
    }
    return js_dumps(body, indent=4).encode("utf-8")
