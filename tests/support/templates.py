"""The reference CLI's template commands (`devcontainer templates publish|apply|metadata`) as oracles."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

from tests.support.consumers import DEVCONTAINER, ConsumerError, _run

ROOT = Path(__file__).resolve().parent.parent.parent
SAMPLE_TEMPLATES = ROOT / "sample-templates"
SAMPLE_TEMPLATE_IDS = ("debian-basic", "node-postgres", "python-app", "static-site")


def copy_sample_templates(destination: Path) -> Path:
    shutil.copytree(SAMPLE_TEMPLATES, destination, symlinks=True)
    return destination


def reference_publish(src: Path, registry: str, namespace: str) -> dict[str, Any]:
    """`devcontainer templates publish`: its stdout JSON ({"<id>": {"publishedTags", "digest", "version"}})."""
    code, out, err = _run([DEVCONTAINER, "templates", "publish", "-r", registry, "-n", namespace, str(src)])
    if code != 0:
        raise ConsumerError(f"templates publish exited {code}: {out.strip()} {err.strip()[-2000:]}")
    result: dict[str, Any] = json.loads(out.strip().split("\n")[-1])
    return result


def apply(
    ref: str, workspace: Path, args: dict[str, str] | None = None, omit: list[str] | None = None
) -> list[str]:
    """`devcontainer templates apply` into `workspace`; the files it reports having written."""
    workspace.mkdir(parents=True, exist_ok=True)
    command = [DEVCONTAINER, "templates", "apply", "--template-id", ref, "--workspace-folder", str(workspace)]
    command += ["--template-args", json.dumps(args or {})]
    if omit is not None:
        command += ["--omit-paths", json.dumps(omit)]
    # The reference CLI keeps its download in a temporary folder: one per run, inside the test's tmp.
    tmp = workspace.parent / f"{workspace.name}.cli-tmp"
    code, out, err = _run([*command, "--tmp-dir", str(tmp)])
    if code != 0:
        raise ConsumerError(f"templates apply {ref} exited {code}: {out.strip()} {err.strip()[-2000:]}")
    files: list[str] = json.loads(out.strip().split("\n")[-1])["files"]
    return files


def metadata(ref: str) -> dict[str, Any]:
    """`devcontainer templates metadata`: the metadata annotation, as the reference CLI prints it."""
    code, out, err = _run([DEVCONTAINER, "templates", "metadata", ref])
    if code != 0:
        raise ConsumerError(f"templates metadata {ref} exited {code}: {out.strip()} {err.strip()[-2000:]}")
    result: dict[str, Any] = json.loads(out.strip().split("\n")[-1])
    return result
