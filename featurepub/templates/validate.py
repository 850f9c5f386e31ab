"""The validation policy for a template: devcontainer-template.json and the files beside it, in the
three tiers features use (featurepub.errors.Tier, featurepub.validation).

- ERROR: what the reference CLI refuses to publish or what breaks consumers: a missing or empty `id`,
  `version` or `name`, an id other than the folder's name or that no registry takes, a version that is no
  strict semver tag, NaN or Infinity; a devcontainer.json that is missing, does not parse, or names no way
  to build the container (featurepub.templates.config).
- SCHEMA: what the spec's property tables refuse (featurepub/schemas/devContainerTemplate.schema.json,
  derived by featurepub: the spec publishes no schema for templates), and `enum` with `proposals`.
  `--no-schema-validation` turns these into warnings.
- WARNING: what `devcontainer templates apply` (containerTemplatesOCI.ts, @devcontainers/cli 0.89.0) does
  not do as the author likely meant: an option id it cannot substitute, a default it drops, an optional
  path that matches nothing, an option no file uses, a `${templateOption:...}` that names no option.

Sources: devcontainers/spec docs/specs/devcontainer-templates.md; the reference CLI's packaging
(packageCommandImpl.ts) and `templates apply`. Metadata is never rewritten by validation.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from featurepub.errors import Problem
from featurepub.features.archive import Tree
from featurepub.features.validate import (
    check_blank_name,
    check_json_numbers,
    check_option_values,
    check_required,
)
from featurepub.kinds import TEMPLATE
from featurepub.localfiles import UnreadableFile, read_small_file
from featurepub.schemas import schema_problems
from featurepub.validation import Findings, combine

TEMPLATE_SCHEMA = "devContainerTemplate.schema.json"
SCHEMA_WHY = (
    "the spec's property tables for templates refuse it (featurepub's schema of them); "
    "--no-schema-validation publishes it anyway"
)
# The spec's table of devcontainer-template.json properties.
KNOWN_PROPERTIES = frozenset(
    {
        "id",
        "version",
        "name",
        "description",
        "documentationURL",
        "licenseURL",
        "options",
        "platforms",
        "publisher",
        "keywords",
        "optionalPaths",
    }
)
# What packaging computes (featurepub.templates.enrich): a value written in the file is replaced.
COMPUTED_PROPERTIES = ("type", "files", "fileCount", "featureIds")
# `templates apply` never writes these root files into the user's folder.
NEVER_APPLIED = frozenset({TEMPLATE.metadata_file, "README.md", "NOTES.md"})
_SUBSTITUTABLE_ID = re.compile(r"[A-Za-z0-9_]+")
_OPTION_TOKEN = re.compile(rb"\$\{templateOption:\s*([A-Za-z0-9_]+?)\s*\}")
# Files read to see which options they use: each up to this size, all together up to the total.
MAX_SCANNED_FILE = 1024 * 1024
MAX_SCANNED_TOTAL = 16 * 1024 * 1024


def check_metadata(metadata: dict[str, Any], metadata_path: Path, *, expected_id: str | None) -> list[Problem]:
    """Every finding about one parsed devcontainer-template.json, in all three tiers."""
    findings = Findings(metadata_path)
    check_required(metadata, expected_id, findings, TEMPLATE)
    check_json_numbers(metadata, findings)
    _options(metadata.get("options"), findings)
    _properties(metadata, findings)
    check_blank_name(metadata.get("name"), findings)
    schema = schema_problems(metadata, metadata_path, schema=TEMPLATE_SCHEMA, why=SCHEMA_WHY)
    return combine(findings.items, schema)


def check_files(metadata: dict[str, Any], metadata_path: Path, tree: Tree) -> list[Problem]:
    """What the template's files say about its metadata: optional paths and option use (warnings)."""
    findings = Findings(metadata_path)
    optional = metadata.get("optionalPaths")
    if isinstance(optional, list):
        _optional_paths(optional, tree, findings)
    options = metadata.get("options", {})
    if isinstance(options, dict):
        _option_use(list(options), tree, findings)
    return findings.items


# --- the metadata --------------------------------------------------------------------------------------------


def _properties(metadata: dict[str, Any], findings: Findings) -> None:
    for key in metadata:
        if key in COMPUTED_PROPERTIES:
            findings.warn(
                f"'{key}' is computed when the template is packaged",
                "the value written here is replaced, as the reference CLI replaces it",
                field=key,
            )
        elif key not in KNOWN_PROPERTIES:
            findings.warn(
                f"unknown property {key!r}",
                "the spec does not define it for templates: it is published, but tools do not read it",
                field=key,
            )


def _options(options: Any, findings: Findings) -> None:
    if not isinstance(options, dict):
        return  # the schema's to refuse
    for option_id, option in options.items():
        field = f"options.{option_id}"
        if not _SUBSTITUTABLE_ID.fullmatch(option_id):
            findings.warn(
                f"option id {option_id!r} can never be substituted",
                "templates apply replaces ${templateOption:<id>} only for ids of ASCII letters, digits and '_'",
                field=field,
            )
        if not isinstance(option, dict):
            continue
        check_option_values(option_id, option, field, findings)
        if "enum" in option and "proposals" in option:
            findings.schema(
                f"option {option_id!r} has both 'enum' and 'proposals'",
                "the spec: omit one when using the other; " + SCHEMA_WHY,
                field=f"{field}.proposals",
            )
        _default(option_id, option, field, findings)


def _default(option_id: str, option: dict[str, Any], field: str, findings: Findings) -> None:
    # templates apply fills in a default only when it is truthy, as a string (fetchTemplate).
    kind, default, where = option.get("type"), option.get("default"), f"option {option_id!r}"
    if kind == "boolean" and default is False:
        findings.warn(
            f"{where}: the default false is substituted as nothing",
            'templates apply uses only defaults that are true in JavaScript; write "false" as a string',
            field=f"{field}.default",
        )
    elif kind == "boolean" and isinstance(default, str) and default not in ("true", "false"):
        findings.warn(
            f"{where}: boolean option with the default {default!r}",
            'templates apply substitutes it as written; tools offer "true" and "false"',
            field=f"{field}.default",
        )
    elif kind == "string" and isinstance(default, bool):
        findings.warn(
            f"{where}: string option with a boolean default",
            "templates apply substitutes true as 'true' and false as nothing; write a string",
            field=f"{field}.default",
        )


# --- the files -----------------------------------------------------------------------------------------------


def _optional_paths(paths: list[Any], tree: Tree, findings: Findings) -> None:
    # How templates apply omits them (getBlob in containerCollectionsOCI.ts): `dir/*` leaves out every
    # path starting with `dir/`, anything else the one path equal to it.
    names = {entry.name for entry in tree.entries}
    folders = {entry.name for entry in tree.entries if entry.kind == "dir"}
    for index, entry in enumerate(paths):
        if not isinstance(entry, str):
            continue  # the schema's to refuse
        field = f"optionalPaths[{index}]"
        if entry.endswith("/*"):
            if not any(name.startswith(entry[:-1]) for name in names):
                findings.warn(
                    f"optional path {entry!r} matches nothing in the template",
                    "tools offer to leave out a folder that is not there",
                    field=field,
                )
        elif entry in folders:
            findings.warn(
                f"optional path {entry!r} is a folder",
                f"templates apply leaves out a folder only when it is written {entry + '/*'!r}",
                field=field,
            )
        elif entry not in names:
            findings.warn(
                f"optional path {entry!r} matches no file in the template",
                "paths are relative to the template's folder, without a leading './' or '/'",
                field=field,
            )


def _option_use(declared: list[str], tree: Tree, findings: Findings) -> None:
    used: dict[str, str] = {}  # option id -> the first file using it
    budget, complete = MAX_SCANNED_TOTAL, True
    for entry in tree.entries:
        if entry.kind != "file" or entry.name in NEVER_APPLIED:
            continue
        if entry.size > min(MAX_SCANNED_FILE, budget):
            complete = False
            continue
        try:
            content = read_small_file(entry.path, MAX_SCANNED_FILE)
        except (OSError, UnreadableFile):
            complete = False
            continue
        budget -= len(content)
        for match in _OPTION_TOKEN.finditer(content):
            used.setdefault(match.group(1).decode("ascii"), entry.name)
    for option_id, name in used.items():
        if option_id not in declared:
            findings.warn(
                f"{name} uses ${{templateOption:{option_id}}}, which is no option of the template",
                "templates apply replaces it with nothing unless the user passes that option",
                field="options",
            )
    if complete:
        for option_id in declared:
            if _SUBSTITUTABLE_ID.fullmatch(option_id) and option_id not in used:
                findings.warn(
                    f"option {option_id!r} is used in no file",
                    f"no file holds ${{templateOption:{option_id}}}, so choosing a value changes nothing",
                    field=f"options.{option_id}",
                )
