"""Helpers that build feature folders on disk for unit tests."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from featurepub.errors import FeatureError, Problem
from featurepub.features.collection import Collection, load_collection
from featurepub.features.packaging import validate_path

METADATA = "devcontainer-feature.json"
INSTALL = "install.sh"
INSTALL_BODY = b"#!/bin/sh\nset -e\necho installing\n"


def minimal_metadata(feature_id: str, **extra: Any) -> dict[str, Any]:
    return {"id": feature_id, "version": "1.0.0", "name": f"The {feature_id} feature", **extra}


def write_feature(
    parent: Path,
    feature_id: str,
    metadata: dict[str, Any] | str | bytes | None = None,
    *,
    install: bool = True,
    files: dict[str, bytes] | None = None,
) -> Path:
    """Create `parent/feature_id/` with its metadata (a dict, raw text or raw bytes) and install.sh."""
    folder = parent / feature_id
    folder.mkdir(parents=True, exist_ok=True)
    if metadata is None:
        metadata = minimal_metadata(feature_id)
    if isinstance(metadata, dict):
        metadata = json.dumps(metadata, indent=4)
    if isinstance(metadata, str):
        metadata = metadata.encode("utf-8")
    (folder / METADATA).write_bytes(metadata)
    if install:
        (folder / INSTALL).write_bytes(INSTALL_BODY)
        (folder / INSTALL).chmod(0o755)
    for name, content in (files or {}).items():
        target = folder / name
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(content)
    return folder


def problems_of(path: Path, *, schema_validation: bool = True) -> list[Problem]:
    """The problems load_collection reports for `path` (fails the test when it loads)."""
    with pytest.raises(FeatureError) as info:
        load_collection(path, schema_validation=schema_validation)
    assert info.value.problems, "a FeatureError must list at least one problem"
    return info.value.problems


def findings_of(path: Path, *, schema_validation: bool = True) -> list[Problem]:
    """Every finding for `path`, blocking or not."""
    result = validate_path(path, schema_validation=schema_validation)
    return [*result.problems, *result.warnings]


def load(path: Path, *, schema_validation: bool = True) -> Collection:
    return load_collection(path, schema_validation=schema_validation)
