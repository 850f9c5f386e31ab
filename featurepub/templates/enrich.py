"""The metadata a template is published with: devcontainer-template.json plus what the reference CLI
computes when it packages the template (addsAdditionalTemplateProps in packageCommandImpl.ts,
@devcontainers/cli 0.89.0), so that consumers reading either publisher's template see the same JSON:

- `type`: `image`, `dockerfile` or `dockerCompose`, from devcontainer.json (featurepub.templates.config);
- `files`: every file in the layer, relative to the template's folder. The reference lists a link to a
  folder as the files inside it, as its directory reader follows links; featurepub does the same, in
  archive order (depth first, names sorted) where the reference's order varies from run to run;
- `fileCount`: how many;
- `featureIds`: the repository of each feature devcontainer.json uses, as the reference parses a feature
  reference (lowercased, without tag or digest; local paths and short ids left out);
- `optionalPaths`: an entry `dir/*` whose prefix matches exactly one file, and that a file, becomes that
  file. The reference compares the prefix without the `/`, so `dir/*` also counts `dir-other.txt`.

Keys keep the file's order; keys the file already has keep their place and get the computed value,
as assigning to a JavaScript object does.
"""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Any

from featurepub.features.archive import Tree

# getRef in containerCollectionsOCI.ts: the path (namespace/id) and the tag it accepts.
_REFERENCE_PATH = re.compile(r"[a-z0-9]+(?:[._-][a-z0-9]+)*(?:/[a-z0-9]+(?:[._-][a-z0-9]+)*)*")
_REFERENCE_TAG = re.compile(r"[a-zA-Z0-9_][a-zA-Z0-9._-]{0,127}")


def feature_resource(reference: str) -> str | None:
    """`registry/namespace/id` of a feature reference as the reference CLI resolves it, or None
    when it does not take it for an OCI reference (a local `./path`, a short id, a bad tag)."""
    reference = reference.lower()
    if reference.startswith("."):
        return None
    at, colon = reference.rfind("@"), reference.rfind(":")
    if at != -1:
        resource = reference[:at]
        algorithm = reference[at + 1 :].split(":")
        if len(algorithm) != 2 or algorithm[0] != "sha256":
            return None
    elif colon != -1 and colon > reference.rfind("/"):
        resource, tag = reference[:colon], reference[colon + 1 :]
        if tag and not _REFERENCE_TAG.fullmatch(tag):
            return None
    else:
        resource = reference
    parts = resource.split("/")
    path = "/".join(parts[1:-1]) + "/" + parts[-1]
    return resource if _REFERENCE_PATH.fullmatch(path) else None


def feature_ids(config: dict[str, Any]) -> list[str]:
    """The repositories of the features devcontainer.json's `features` object names, in its order."""
    features = config.get("features")
    if not isinstance(features, dict):
        return []  # Object.keys of anything else yields indexes or nothing, which never parse as references
    return [resource for ref in features if (resource := feature_resource(ref)) is not None]


def _files_under(folder: Path, name: str, seen: frozenset[str]) -> list[str]:
    """The files under `folder`, named from `name`, links followed as the reference's reader follows them."""
    real = os.path.realpath(folder)
    if real in seen:
        return []  # a loop, which the reference's reader would follow until it fails
    try:
        children = sorted(os.scandir(folder), key=lambda e: os.fsencode(e.name))
    except OSError:
        return []
    files: list[str] = []
    for child in children:
        child_name = f"{name}/{child.name}"
        if child.is_dir():  # follows a link
            files.extend(_files_under(Path(child.path), child_name, seen | {real}))
        else:
            files.append(child_name)
    return files


def layer_files(tree: Tree) -> list[str]:
    """The `files` list: each file and link of the layer, a link to a folder replaced by what it holds."""
    files: list[str] = []
    for entry in tree.entries:
        if entry.kind == "file":
            files.append(entry.name)
        elif entry.kind == "symlink":
            if os.path.isdir(entry.path):
                files.extend(_files_under(entry.path, entry.name, frozenset()))
            else:
                files.append(entry.name)
    return files


def compact_optional_paths(paths: list[Any], files: list[str], directory: Path) -> list[Any]:
    """Each `dir/*` entry whose prefix matches exactly one of `files`, a file, replaced by that file."""
    compacted = list(paths)
    for index, entry in enumerate(paths):
        if not isinstance(entry, str) or not entry.endswith("/*") or len(entry) < 3:
            continue
        matching = [name for name in files if name.startswith(entry[:-2])]
        if len(matching) == 1 and os.path.isfile(directory / matching[0]):
            compacted[index] = matching[0]
    return compacted


def enrich(
    metadata: dict[str, Any], directory: Path, template_type: str, files: list[str], config: dict[str, Any]
) -> dict[str, Any]:
    """The metadata as published: a new dict; `metadata` itself is never changed."""
    published = dict(metadata)
    published["type"] = template_type
    published["files"] = list(files)
    published["fileCount"] = len(files)
    published["featureIds"] = feature_ids(config)
    optional = published.get("optionalPaths")
    if isinstance(optional, list) and optional:
        published["optionalPaths"] = compact_optional_paths(optional, files, directory)
    return published
