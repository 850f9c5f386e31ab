"""A template's devcontainer.json: where it is, what it holds, and the template `type` it gives.

The reference CLI (packageCommandImpl.ts, @devcontainers/cli 0.89.0) looks for `.devcontainer.json` at
the template's root, then `.devcontainer/devcontainer.json` (following links), and refuses a template
with neither, or whose config has none of `image`, `dockerFile` / `build.dockerfile` and
`dockerComposeFile`: that decides the `type` it publishes.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from featurepub.errors import Problem
from featurepub.features.metadata import MAX_METADATA_BYTES, code_mask, loads_jsonc, parse_metadata
from featurepub.localfiles import UnreadableFile, read_small_file

CONFIG_PATHS = (".devcontainer.json", ".devcontainer/devcontainer.json")  # in the order the reference tries
IMAGE, DOCKERFILE, DOCKER_COMPOSE = "image", "dockerfile", "dockerCompose"
# What `devcontainer templates apply` replaces with an option's value (replaceTemplatedValues in
# containerTemplatesOCI.ts): `\w` in JavaScript is ASCII letters, digits and '_'.
OPTION_TOKEN = re.compile(r"\$\{templateOption:\s*([A-Za-z0-9_]+?)\s*\}")


@dataclass(frozen=True)
class TemplateConfig:
    path: Path
    data: dict[str, Any]
    type: str  # image, dockerfile or dockerCompose


def config_path(directory: Path) -> Path | None:
    """The devcontainer.json the reference reads: the first of CONFIG_PATHS that is a file."""
    return next((directory / name for name in CONFIG_PATHS if os.path.isfile(directory / name)), None)


def template_type(config: dict[str, Any]) -> str | None:
    """`image`, `dockerfile` or `dockerCompose`, tested in the reference's order; None for none of them."""
    if "image" in config:
        return IMAGE
    build = config.get("build")
    if "dockerFile" in config or (isinstance(build, dict) and "dockerfile" in build):
        return DOCKERFILE
    if "dockerComposeFile" in config:
        return DOCKER_COMPOSE
    return None


def _with_placeholders(path: Path) -> dict[str, Any] | None:
    """The config parsed with each option token outside strings replaced by 0, for a config that is
    JSON only once `templates apply` substituted its options (`"forwardPorts": [${templateOption:port}]`);
    None when there is no such token or it still does not parse."""
    try:
        text = read_small_file(path, MAX_METADATA_BYTES).decode("utf-8-sig")
    except (OSError, UnreadableFile, UnicodeDecodeError):
        return None
    spans = [m.span() for m in OPTION_TOKEN.finditer(code_mask(text))]
    if not spans:
        return None
    pieces, last = [], 0
    for start, end in spans:
        pieces += [text[last:start], "0"]
        last = end
    try:
        data = loads_jsonc("".join(pieces) + text[last:])
    except ValueError:
        return None
    return data if isinstance(data, dict) else None


def read_config(directory: Path) -> tuple[TemplateConfig | None, list[Problem]]:
    """The template's devcontainer.json and its type, or None and why it cannot be used."""
    path = config_path(directory)
    if path is None:
        # Something is there but is no file (a folder, a pipe, a dangling link): reading it says what.
        there = [directory / name for name in CONFIG_PATHS if os.path.lexists(directory / name)]
        if there:
            return None, parse_metadata(there[-1], "template")[1]
        message = (
            f"missing: every template needs a {CONFIG_PATHS[1]} (or a {CONFIG_PATHS[0]} at its root); "
            "the reference CLI refuses to package a template without one"
        )
        return None, [Problem(directory / CONFIG_PATHS[1], message)]
    data, problems = parse_metadata(path, "template")
    if data is None:
        data = _with_placeholders(path)
        if data is None:
            return None, problems
    found = template_type(data)
    if found is None:
        message = (
            "has none of 'image', 'dockerFile' (or 'build.dockerfile') and 'dockerComposeFile': the template's "
            "type cannot be told, and the reference CLI refuses to package it"
        )
        return None, [Problem(path, message)]
    return TemplateConfig(path, data, found), []
