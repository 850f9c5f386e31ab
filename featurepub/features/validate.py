"""The validation policy for devcontainer-feature.json, in three tiers (featurepub.errors.Tier).

- ERROR, always refused: publishing would fail or consumers would break.
- SCHEMA, refused unless schema validation is off: what the spec's JSON schema refuses
  (featurepub.schemas; devcontainers/action checks the same file).
- WARNING, never refused: lint beyond the schema, each with why it matters.

Each rule names its source: the spec (devcontainers/spec docs/specs/devcontainer-features.md and
devcontainer-features-distribution.md), the OCI distribution-spec, or what consumers do (the reference
CLI, @devcontainers/cli, which VS Code uses to install features). Metadata is only read, never
rewritten: the published annotation is the file as written.
"""

from __future__ import annotations

import json
import math
import re
from pathlib import Path
from typing import Any

import semver

from featurepub.errors import InvalidReferenceError, Problem
from featurepub.features.archive import Tree
from featurepub.features.model import INSTALL_SCRIPT, METADATA_FILE
from featurepub.kinds import FEATURE, ArtifactKind
from featurepub.reference import MAX_TAG_LENGTH, Reference, component_problem
from featurepub.schemas import schema_problems
from featurepub.validation import Findings, combine

# The layer's file name, devcontainer-feature-<id>.tgz (distribution spec), must fit in the 255 bytes
# most file systems allow for a name: `package` writes it, and so does every consumer that caches it.
MAX_ID_LENGTH = FEATURE.max_id_length

# Short ids the reference CLI maps to ghcr.io/devcontainers/features/<id>:1 (getBackwardCompatibleFeatureId
# in src/spec-configuration/containerFeaturesConfiguration.ts, @devcontainers/cli 0.89.0). Any other id
# without a '/' fails there with "Legacy feature '<id>' not supported".
_MIGRATED_IDS = [
    "aws-cli", "azure-cli", "desktop-lite", "docker-in-docker", "docker-from-docker", "dotnet", "git", "git-lfs",
    "github-cli", "java", "kubectl-helm-minikube", "node", "powershell", "python", "ruby", "rust", "sshd",
    "terraform",
]  # fmt: skip
LEGACY_SHORT_IDS = {**{name: name for name in _MIGRATED_IDS}, "golang": "go", "common": "common-utils"}

# The spec's option resolution turns an option id into an environment variable this way.
_ENV_UNSAFE = re.compile(r"[^A-Za-z0-9_]")
_ENV_LEADING = re.compile(r"^[0-9_]+")
_USUAL_OPTION_ID = re.compile(r"[A-Za-z_][A-Za-z0-9_-]*")


def version_problem(version: object) -> str | None:
    """Why `version` cannot be published as a feature or template version, or None when it can."""
    # The reference CLI refuses a falsy version; the spec: "The semantic version of the Feature".
    if not isinstance(version, str) or not version:
        return "'version' must be a non-empty string"
    # The reference CLI publishes "v1.2.3" as the tag v1.2.3, beside every other version's 1.2.3.
    if version[:1] in "vV":
        return f"version {version!r} has a leading 'v': use {version[1:]!r} (tags are published as written)"
    if not semver.Version.is_valid(version):
        return f"version {version!r} is not strict semver MAJOR.MINOR.PATCH (e.g. 1.2.3 or 1.2.3-rc.1)"
    # The version is the tag: OCI tags take no '+' and at most 128 characters (distribution-spec,
    # "Pulling manifests": [a-zA-Z0-9_][a-zA-Z0-9._-]{0,127}).
    if "+" in version:
        return f"version {version!r} has build metadata: OCI tags cannot contain '+', drop the '+...' part"
    if len(version) > MAX_TAG_LENGTH:
        return (
            f"version is {len(version)} characters: it is published as a tag, and tags hold at most "
            f"{MAX_TAG_LENGTH}"
        )
    return None


def check_metadata(metadata: dict[str, Any], metadata_path: Path, *, expected_id: str | None) -> list[Problem]:
    """Every finding about one parsed devcontainer-feature.json, in all three tiers."""
    findings = Findings(metadata_path)
    check_required(metadata, expected_id, findings)
    check_json_numbers(metadata, findings)
    _references(metadata, findings)
    _legacy_ids(metadata.get("legacyIds"), metadata.get("id"), findings)
    _options(metadata.get("options"), findings)
    check_blank_name(metadata.get("name"), findings)
    return combine(findings.items, schema_problems(metadata, metadata_path))


def check_layer_files(directory: Path, tree: Tree) -> list[Problem]:
    """install.sh and the metadata must be in the layer: consumers read one and run the other
    (spec: "at least a file named devcontainer-feature.json ... and an install.sh script")."""
    left_out = [name for name in (METADATA_FILE, INSTALL_SCRIPT) if name in tree.excluded]
    if left_out:
        what = f"{left_out[0]} is" if len(left_out) == 1 else f"{' and '.join(left_out)} are"
        pronoun = "it" if len(left_out) == 1 else "both"
        message = f"{what} excluded by .featureignore: the layer must hold {pronoun}"
        return [Problem(directory / left_out[0], message)]
    install = next((e for e in tree.entries if e.name == INSTALL_SCRIPT), None)
    path = directory / INSTALL_SCRIPT
    if install is None:
        return [Problem(path, "missing: every feature needs an install.sh at its root")]
    if install.kind == "dir":
        return [Problem(path, "is a folder: every feature needs an install.sh file at its root")]
    if install.kind == "symlink" and not install.path.is_file():
        return [
            Problem(path, f"is a symlink to {install.link_target!r}, which leads to no file: consumers run it")
        ]
    return []


# --- ERROR: what publishing needs and what consumers cannot do without ------------------------------------


def check_required(
    metadata: dict[str, Any], expected_id: str | None, findings: Findings, kind: ArtifactKind = FEATURE
) -> None:
    """id, version and name, for features and templates alike."""
    # The reference CLI refuses metadata whose id, version or name is falsy; the spec marks all three Required.
    feature_id = metadata.get("id")
    if not isinstance(feature_id, str) or not feature_id:
        findings.error("'id' is required and must be a non-empty string", field="id")
    else:
        # The id is a repository name component (distribution-spec name regex) that consumers must parse.
        if (why := component_problem(feature_id)) is not None:
            findings.error(f"id {feature_id!r} {why}", field="id")
        if len(feature_id) > kind.max_id_length:
            findings.error(
                f"id is {len(feature_id)} characters: the layer {kind.archive_name('<id>')} needs a file name "
                f"of at most 255 bytes, so ids hold at most {kind.max_id_length}",
                field="id",
            )
        # The spec: the id "must match the name of the directory where the devcontainer-feature.json resides".
        if expected_id is not None and feature_id != expected_id:
            findings.error(f"id {feature_id!r} does not match its folder name {expected_id!r}", field="id")
    if "version" not in metadata:
        findings.error("'version' is required", field="version")
    elif (why := version_problem(metadata["version"])) is not None:
        findings.error(why, field="version")
    if _falsy(metadata.get("name")):
        findings.error("'name' is required and must be a non-empty string", field="name")


def _falsy(value: Any) -> bool:
    """JavaScript's falsy, for the values JSON has: what the reference CLI's `!metadata.name` refuses."""
    return value is None or value is False or value == "" or (type(value) in (int, float) and not value)


def check_json_numbers(value: Any, findings: Findings) -> None:
    # NaN and Infinity have no JSON form: the metadata annotation, which consumers parse with
    # JSON.parse, could not hold them (and the reference CLI's JSONC parser does not read them).
    stack = [(value, "")]
    while stack:
        item, place = stack.pop()
        if isinstance(item, float) and not math.isfinite(item):
            findings.error(f"{place or 'value'} is {item}, which JSON cannot represent", field=place)
        elif isinstance(item, dict):
            stack.extend((v, f"{place}.{k}" if place else str(k)) for k, v in item.items())
        elif isinstance(item, list):
            stack.extend((v, f"{place}[{i}]") for i, v in enumerate(item))


def _references(metadata: dict[str, Any], findings: Findings) -> None:
    # Consumers resolve each installsAfter entry and each dependsOn key as a feature identifier
    # (containerFeaturesOrder.ts). A list or object of another shape iterates into nonsense ids.
    installs_after = metadata.get("installsAfter")
    if installs_after is not None:
        if not isinstance(installs_after, list):
            findings.error("'installsAfter' must be a list of feature ids", field="installsAfter")
        else:
            for index, ref in enumerate(installs_after):
                _reference(ref, f"installsAfter[{index}]", findings, pinned_ok=False)
    depends_on = metadata.get("dependsOn")
    if depends_on is not None:
        if not isinstance(depends_on, dict):
            findings.error("'dependsOn' must be an object mapping feature ids to options", field="dependsOn")
        else:
            for ref, options in depends_on.items():
                _reference(ref, f"dependsOn.{ref}", findings, pinned_ok=True)
                _dependency_options(ref, options, f"dependsOn.{ref}", findings)


def _reference(ref: Any, field: str, findings: Findings, *, pinned_ok: bool) -> None:
    if not isinstance(ref, str) or not ref.strip():
        # The reference CLI: "Legacy feature '' not supported", and the whole install fails.
        findings.error(f"{field}: {ref!r} is not a feature id", field=field)
        return
    if "/" not in ref and "\\" not in ref:
        if ref in LEGACY_SHORT_IDS:
            findings.warn(
                f"{field}: {ref!r} is a short id",
                f"consumers read it as ghcr.io/devcontainers/features/{LEGACY_SHORT_IDS[ref]}:1, a deprecated "
                "shorthand; write the full reference",
                field=field,
            )
        else:
            findings.error(
                f"{field}: {ref!r} is not a feature reference: consumers refuse short ids other than the "
                'reference CLI\'s legacy ones ("Legacy feature not supported")',
                field=field,
            )
        return
    if ref.startswith(("https://", "./", "../", "/")):
        if not ref.startswith("https://"):
            findings.warn(
                f"{field}: {ref!r} is a local path",
                "consumers resolve it against the user's project, not this feature's folder",
                field=field,
            )
        return
    try:
        # The reference CLI lowercases a reference before parsing it (getRef in containerCollectionsOCI.ts).
        parsed = Reference.parse(ref.lower(), default_registry="")
    except InvalidReferenceError as exc:
        findings.warn(
            f"{field}: {ref!r} is not an OCI reference", f"consumers cannot resolve it: {exc}", field=field
        )
        return
    if not parsed.registry:
        findings.warn(
            f"{field}: {ref!r} names no registry",
            "consumers read it as a deprecated GitHub-release reference; write registry/namespace/id",
            field=field,
        )
    elif not pinned_ok and (parsed.tag or parsed.digest):
        # The spec: installsAfter ids "can not ... be pinned to a specific version tag or digest". The
        # reference CLI matches them without the tag, but fetches the metadata of that exact version.
        findings.warn(
            f"{field}: {ref!r} names a version",
            "the spec says installsAfter ids carry none; consumers fetch that exact tag, so it must stay "
            "published",
            field=field,
        )


def _dependency_options(ref: str, options: Any, field: str, findings: Findings) -> None:
    # Values mirror devcontainer.json's `features`: an object of options; a string is the shorthand
    # for {"version": ...}. The schema accepts any value (additionalProperties: true).
    if isinstance(options, dict):
        return
    if isinstance(options, str):
        findings.warn(
            f"dependsOn {ref!r}: the value is the string {options!r}",
            f'consumers read it as the shorthand for {{"version": {json.dumps(options)}}}; an object of options '
            "is the documented form",
            field=field,
        )
    else:
        findings.warn(
            f"dependsOn {ref!r}: the value is {type(options).__name__}, not an object of options",
            "consumers expect an object of options (or a version string)",
            field=field,
        )


def _legacy_ids(values: Any, feature_id: Any, findings: Findings) -> None:
    # Each legacy id is a repository the feature is published to as well (spec: "Steps to rename a Feature").
    if values is None:
        return
    if not isinstance(values, list) or not all(isinstance(v, str) for v in values):
        findings.error("'legacyIds' must be a list of strings", field="legacyIds")
        return
    seen: set[str] = set()
    for index, legacy in enumerate(values):
        field = f"legacyIds[{index}]"
        if (why := component_problem(legacy)) is not None:
            findings.error(f"legacyIds {legacy!r} {why}", field=field)
        elif legacy == feature_id:
            findings.warn(
                f"legacyIds {legacy!r} is the feature's own id", "it adds nothing; remove it", field=field
            )
        elif legacy in seen:
            findings.warn(f"legacyIds {legacy!r} is listed twice", "it is published once", field=field)
        seen.add(legacy)


# --- WARNING: lint beyond the schema ------------------------------------------------------------------------


def check_blank_name(name: Any, findings: Findings) -> None:
    if isinstance(name, str) and name and not name.strip():
        findings.warn("'name' is blank", "tools show it as the title", field="name")


def option_variable(option_id: str) -> str:
    """The environment variable install.sh gets for an option (the spec's "Option Resolution")."""
    return _ENV_LEADING.sub("_", _ENV_UNSAFE.sub("_", option_id)).upper()


def _options(options: Any, findings: Findings) -> None:
    if not isinstance(options, dict):
        return  # the schema's to refuse
    variables: dict[str, str] = {}
    for option_id, option in options.items():
        field = f"options.{option_id}"
        variable = option_variable(option_id)
        if not _USUAL_OPTION_ID.fullmatch(option_id):
            findings.warn(
                f"option id {option_id!r} becomes the variable {variable} in install.sh",
                "the spec turns characters other than letters, digits and '_' into '_'; users must still "
                "write the id exactly as it is here",
                field=field,
            )
        if variable in variables:
            findings.warn(
                f"options {variables[variable]!r} and {option_id!r} both become the variable {variable}",
                "install.sh sees only one of them",
                field=field,
            )
        variables.setdefault(variable, option_id)
        if isinstance(option, dict):
            check_option_values(option_id, option, field, findings)


def check_option_values(option_id: str, option: dict[str, Any], field: str, findings: Findings) -> None:
    """Lint one option's listed values and default (features and templates alike)."""
    where = f"option {option_id!r}"
    for listing, why in (
        ("proposals", "tools offer no suggestions; list some values or drop it"),
        ("enum", "no value is allowed, not even the default"),
    ):
        if option.get(listing) == []:
            findings.warn(f"{where}: '{listing}' is empty", why, field=f"{field}.{listing}")
    enum, default = option.get("enum"), option.get("default")
    if isinstance(enum, list) and enum and isinstance(default, str) and default not in enum:
        findings.warn(
            f"{where}: default {default!r} is not one of its enum values",
            "tools that offer the enum cannot show the default",
            field=f"{field}.default",
        )
