"""Check a feature's metadata against the devcontainers spec and OCI naming rules.

Every check appends to a list instead of raising, so one run reports every problem.
"""

from __future__ import annotations

import math
import re
from pathlib import Path
from typing import Any

import semver

from featurepub.errors import InvalidReferenceError, Problem
from featurepub.features.model import INSTALL_SCRIPT
from featurepub.reference import Reference, has_explicit_registry, is_valid_component

_OPTION_ID = re.compile(r"[A-Za-z0-9_-]+")
_OPTION_TYPES = {"boolean": bool, "string": str}


def version_problem(version: object) -> str | None:
    """Why `version` cannot be published as a feature version, or None when it can."""
    if not isinstance(version, str) or not version:
        return "'version' must be a non-empty string"
    if version[:1] in "vV":
        return f"version {version!r} has a leading 'v': use {version[1:]!r} (tags are published as written)"
    if not semver.Version.is_valid(version):
        return f"version {version!r} is not strict semver MAJOR.MINOR.PATCH (e.g. 1.2.3 or 1.2.3-rc.1)"
    if "+" in version:
        return f"version {version!r} has build metadata: OCI tags cannot contain '+', drop the '+...' part"
    return None


def validate_metadata(
    metadata: dict[str, Any], directory: Path, metadata_path: Path, *, expected_id: str | None
) -> list[Problem]:
    problems: list[Problem] = []

    def problem(message: str) -> None:
        problems.append(Problem(metadata_path, message))

    feature_id = metadata.get("id")
    if not isinstance(feature_id, str) or not feature_id:
        problem("'id' is required and must be a non-empty string")
    else:
        if not is_valid_component(feature_id):
            problem(
                f"id {feature_id!r} is not a valid OCI repository name component "
                "(lowercase letters and digits, joined by '.', '_', '__' or '-')"
            )
        if expected_id is not None and feature_id != expected_id:
            problem(f"id {feature_id!r} does not match its folder name {expected_id!r}")
    if "version" not in metadata:
        problem("'version' is required")
    elif (why := version_problem(metadata["version"])) is not None:
        problem(why)
    name = metadata.get("name")
    if not isinstance(name, str) or not name.strip():
        problem("'name' is required and must be a non-empty string")

    _check_numbers(metadata, "", problem)
    _check_options(metadata.get("options"), problem)
    _check_depends_on(metadata.get("dependsOn"), problem)
    _check_reference_list(metadata.get("installsAfter"), "installsAfter", problem)
    _check_legacy_ids(metadata.get("legacyIds"), feature_id, problem)
    for key in ("deprecated",):
        if key in metadata and not isinstance(metadata[key], bool):
            problem(f"'{key}' must be true or false")
    for key in ("containerEnv",):
        value = metadata.get(key)
        if value is not None and (
            not isinstance(value, dict) or not all(isinstance(v, str) for v in value.values())
        ):
            problem(f"'{key}' must be an object of string values")

    install = directory / INSTALL_SCRIPT
    if not install.is_file():
        problems.append(Problem(install, "missing: every feature needs an install.sh at its root"))
    return problems


def _check_numbers(value: Any, where: str, problem: Any) -> None:
    # NaN and Infinity parse as JSON5 but have no JSON form for the metadata annotation.
    if isinstance(value, float) and not math.isfinite(value):
        problem(f"{where or 'value'} is {value}, which JSON cannot represent")
    elif isinstance(value, dict):
        for key, item in value.items():
            _check_numbers(item, f"{where}.{key}" if where else str(key), problem)
    elif isinstance(value, list):
        for index, item in enumerate(value):
            _check_numbers(item, f"{where}[{index}]", problem)


def _check_options(options: Any, problem: Any) -> None:
    if options is None:
        return
    if not isinstance(options, dict):
        problem("'options' must be an object mapping option ids to option definitions")
        return
    for option_id, option in options.items():
        where = f"option {option_id!r}"
        if not _OPTION_ID.fullmatch(option_id):
            problem(f"{where}: ids may only use letters, digits, '_' and '-'")
        if not isinstance(option, dict):
            problem(f"{where} must be an object")
            continue
        kind = option.get("type")
        if kind not in _OPTION_TYPES:
            problem(f'{where}: \'type\' must be "boolean" or "string", not {kind!r}')
            continue
        expected = _OPTION_TYPES[kind]
        if "default" not in option:
            problem(f"{where}: 'default' is required")
        elif type(option["default"]) is not expected:
            problem(f"{where}: default {option['default']!r} is not a {kind}")
        for listing in ("enum", "proposals"):
            if listing not in option:
                continue
            values = option[listing]
            if kind == "boolean":
                problem(f"{where}: '{listing}' is only allowed on string options")
            elif not isinstance(values, list) or not all(isinstance(v, str) for v in values):
                problem(f"{where}: '{listing}' must be a list of strings")
            elif not values:
                problem(f"{where}: '{listing}' is empty")
        if "enum" in option and "proposals" in option:
            problem(f"{where}: use either 'enum' or 'proposals', not both")
        enum = option.get("enum")
        default = option.get("default")
        if kind == "string" and isinstance(enum, list) and isinstance(default, str) and default not in enum:
            problem(f"{where}: default {default!r} is not one of its enum values {enum}")


def _reference_problem(value: Any) -> str | None:
    if not isinstance(value, str) or not value:
        return "must be a non-empty string"
    if not has_explicit_registry(value):
        return "must be a full reference such as ghcr.io/owner/features/name"
    try:
        Reference.parse(value)
    except InvalidReferenceError as exc:
        return str(exc)
    return None


def _check_depends_on(depends_on: Any, problem: Any) -> None:
    if depends_on is None:
        return
    if not isinstance(depends_on, dict):
        problem("'dependsOn' must be an object mapping feature references to their options")
        return
    for ref, options in depends_on.items():
        if (why := _reference_problem(ref)) is not None:
            problem(f"dependsOn {ref!r}: {why}")
        if not isinstance(options, dict):
            problem(f"dependsOn {ref!r}: options must be an object")


def _check_reference_list(values: Any, key: str, problem: Any) -> None:
    if values is None:
        return
    if not isinstance(values, list):
        problem(f"'{key}' must be a list of feature references")
        return
    for value in values:
        if (why := _reference_problem(value)) is not None:
            problem(f"{key} {value!r}: {why}")


def _check_legacy_ids(values: Any, feature_id: Any, problem: Any) -> None:
    if values is None:
        return
    if not isinstance(values, list) or not all(isinstance(v, str) for v in values):
        problem("'legacyIds' must be a list of strings")
        return
    seen: set[str] = set()
    for legacy in values:
        if not is_valid_component(legacy):
            problem(f"legacyIds {legacy!r} is not a valid OCI repository name component")
        if legacy == feature_id:
            problem(f"legacyIds {legacy!r} repeats the feature's own id")
        if legacy in seen:
            problem(f"legacyIds {legacy!r} is listed twice")
        seen.add(legacy)
