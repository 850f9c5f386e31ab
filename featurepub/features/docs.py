"""Write each feature's (or template's) README.md from its metadata, like the reference action's generate-docs.

A feature's page has the same parts as the reference action's (title, description, a usage snippet
with the published reference, the options table, VS Code extensions, the feature folder's
hand-written NOTES.md, the "auto-generated" footer) plus what it leaves out: enum values,
dependencies (`dependsOn`, `installsAfter`) and the ids a renamed feature was published under.
A template's page is featurepub.templates.docs'. Output depends only on the metadata and NOTES.md,
so regenerating unchanged folders changes nothing (and a re-publish of them stays `unchanged`).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from featurepub.errors import FeatureError, InputError, Problem
from featurepub.features.collection import Collection
from featurepub.features.model import METADATA_FILE, Feature
from featurepub.kinds import TEMPLATE
from featurepub.localfiles import UnreadableFile, read_small_file

README_FILE = "README.md"
NOTES_FILE = "NOTES.md"
MAX_PAGE_BYTES = 1024 * 1024


@dataclass(frozen=True)
class DocFile:
    feature: str  # the feature's or template's id
    path: Path
    changed: bool  # the content differs from what was there (or the file is new)


@dataclass(frozen=True)
class DocsResult:
    files: tuple[DocFile, ...]
    written: bool  # False for a check: nothing was written

    @property
    def changed(self) -> list[DocFile]:
        return [f for f in self.files if f.changed]

    def to_json(self) -> dict[str, Any]:
        return {
            "written": self.written,
            "files": [{"feature": f.feature, "path": str(f.path), "changed": f.changed} for f in self.files],
        }


def _cell(value: Any) -> str:
    """A Markdown table cell: JSON-ish scalars, pipes escaped, one line, '-' when empty."""
    if value is None or value == "":
        return "-"
    if isinstance(value, bool):
        text = "true" if value else "false"
    elif isinstance(value, (dict, list)):
        text = json.dumps(value, ensure_ascii=False)
    else:
        text = str(value)
    return " ".join(text.split()).replace("|", "\\|")


def major_tag(version: str) -> str:
    """The tag a usage snippet should pin: the major version (like the reference action), else latest."""
    major = version.split(".", 1)[0]
    return major if major.isdigit() else "latest"


def published_reference(feature: Feature, registry: str, namespace: str) -> str:
    return f"{registry}/{namespace}/{feature.id}:{major_tag(feature.version)}"


def options_table(options: Any) -> str:
    """`## Options` and its table (id, description with enum values, type, default); '' without options."""
    if not isinstance(options, dict) or not options:
        return ""
    rows = ["## Options", "", "| Options Id | Description | Type | Default Value |", "|-----|-----|-----|-----|"]
    for name, option in options.items():
        spec = option if isinstance(option, dict) else {}
        description = str(spec.get("description") or "")
        choices = spec.get("enum")
        if isinstance(choices, list) and choices:
            listed = ", ".join(f"`{_cell(c)}`" for c in choices)
            description = f"{description} (one of {listed})" if description else f"One of {listed}"
        rows.append(
            f"| {_cell(name)} | {_cell(description)} | {_cell(spec.get('type'))} | {_cell(spec.get('default'))} |"
        )
    return "\n".join(rows) + "\n"


def _dependency_options(options: Any) -> str:
    # A string value is devcontainer.json's shorthand for {"version": ...}.
    if isinstance(options, str):
        return f" (version `{options}`)"
    return f" with `{json.dumps(options, ensure_ascii=False)}`" if options else ""


def _dependencies(feature: Feature) -> str:
    lines: list[str] = []
    if feature.depends_on:
        lines += ["## Dependencies", "", "Installed first, with these options (`dependsOn`):", ""]
        for ref, options in feature.depends_on.items():
            lines.append(f"- `{ref}`{_dependency_options(options)}")
        lines.append("")
    if feature.installs_after:
        lines += ["## Installs after", "", "When also used, these are installed first (`installsAfter`):", ""]
        lines += [f"- `{ref}`" for ref in feature.installs_after]
        lines.append("")
    return "\n".join(lines)


def _extensions(metadata: dict[str, Any]) -> str:
    customizations = metadata.get("customizations")
    vscode = customizations.get("vscode") if isinstance(customizations, dict) else None
    extensions = vscode.get("extensions") if isinstance(vscode, dict) else None
    if not isinstance(extensions, list) or not extensions:
        return ""
    lines = ["## Customizations", "", "### VS Code Extensions", ""] + [f"- `{ext}`" for ext in extensions]
    return "\n".join(lines) + "\n"


def _important(feature: Feature) -> str:
    lines = []
    if feature.metadata.get("deprecated") is True:
        lines.append("- **This Feature is deprecated, and will no longer receive any further updates/support.**")
    if feature.legacy_ids:
        formatted = ", ".join(f"'{legacy}'" for legacy in feature.legacy_ids)
        lines.append(f"- **Ids used to publish this Feature in the past - {formatted}**")
    return "### **IMPORTANT NOTE**\n" + "\n".join(lines) + "\n" if lines else ""


def render_readme(feature: Feature, *, registry: str, namespace: str, notes: str | None = None) -> str:
    """The README.md text for one feature."""
    metadata = feature.metadata
    name = metadata.get("name")
    title = f"{name} ({feature.id})" if name else feature.id
    description = str(metadata.get("description") or "")
    usage = (
        "## Example Usage\n\n```json\n"
        f'"features": {{\n    "{published_reference(feature, registry, namespace)}": {{}}\n}}\n```\n'
    )
    parts = [
        _important(feature),
        f"# {title}\n",
        f"{description}\n" if description else "",
        usage,
        options_table(metadata.get("options")),
        _extensions(metadata),
        _dependencies(feature),
        *page_end(METADATA_FILE, notes),
    ]
    return "\n".join(part for part in parts if part)


def page_end(metadata_file: str, notes: str | None) -> list[str]:
    """The folder's NOTES.md, then the reference action's footer."""
    return [
        notes.rstrip("\n") + "\n" if notes and notes.strip() else "",
        "---\n",
        f"_Note: This file was auto-generated from the [{metadata_file}]({metadata_file}).  "
        f"Add additional notes to a `{NOTES_FILE}`._\n",
    ]


def _read_text(path: Path, *, generated: bool = False) -> str | None:
    """A page's text, None when absent (or, for a generated page, unreadable as UTF-8: it is rewritten);
    FeatureError when it is no regular file (writing to a FIFO would hang) or a hand-written one is not UTF-8."""
    try:
        return read_small_file(path, MAX_PAGE_BYTES).decode("utf-8")
    except FileNotFoundError:
        return None
    except UnreadableFile as exc:
        raise FeatureError([Problem(path, exc.reason)]) from None
    except UnicodeDecodeError as exc:
        if generated:
            return None
        raise FeatureError([Problem(path, f"is not UTF-8 (byte {exc.start})")]) from None


def generate_docs(
    collection: Collection, *, registry: str, namespace: str | None, check: bool = False
) -> DocsResult:
    """Write README.md into every feature or template folder (only where it changes); `check` writes nothing.
    A feature's page shows its published reference, so features need the `namespace`; templates do not."""
    if collection.kind is TEMPLATE:
        from featurepub.templates.docs import render_readme as render_template

        def render(feature: Feature, notes: str | None) -> str:
            return render_template(feature, notes=notes)
    elif namespace is None:
        raise InputError(
            "a namespace is required: a feature's README.md shows the reference it is published as",
            hint="e.g. --namespace my-org/features",
        )
    else:

        def render(feature: Feature, notes: str | None) -> str:
            return render_readme(feature, registry=registry, namespace=namespace, notes=notes)

    files = []
    for feature in collection.features:
        notes = _read_text(feature.directory / NOTES_FILE)
        text = render(feature, notes)
        path = feature.directory / README_FILE
        changed = _read_text(path, generated=True) != text
        if changed and not check:
            try:
                path.write_text(text, encoding="utf-8")
            except OSError as exc:
                raise FeatureError([Problem(path, f"cannot be written: {exc.strerror or exc}")]) from exc
        files.append(DocFile(feature.id, path, changed))
    return DocsResult(tuple(files), written=not check)
