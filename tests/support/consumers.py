"""The real consumers used as oracles: the reference Dev Containers CLI and skopeo."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path
from typing import Any

DEVCONTAINER = "devcontainer"
SKOPEO = "skopeo"


class ConsumerError(AssertionError):
    pass


def _run(args: list[str], *, env: dict[str, str] | None = None, cwd: Path | None = None) -> tuple[int, str, str]:
    merged = {**os.environ, **(env or {})}
    done = subprocess.run(args, capture_output=True, text=True, env=merged, cwd=cwd, timeout=120, check=False)
    return done.returncode, done.stdout, done.stderr


def devcontainer_json(args: list[str], *, env: dict[str, str] | None = None) -> dict[str, Any]:
    """Run a `devcontainer features ...` command in JSON mode; fail with its output when it fails."""
    code, out, err = _run([DEVCONTAINER, "features", *args, "--output-format", "json"], env=env)
    if code != 0:
        raise ConsumerError(f"devcontainer {' '.join(args)} exited {code}: {out.strip()} {err.strip()[-2000:]}")
    result: dict[str, Any] = json.loads(out)
    return result


def info_manifest(ref: str, *, env: dict[str, str] | None = None) -> dict[str, Any]:
    return devcontainer_json(["info", "manifest", ref], env=env)


def info_tags(ref: str, *, env: dict[str, str] | None = None) -> list[str]:
    tags: list[str] = devcontainer_json(["info", "tags", ref], env=env)["publishedTags"]
    return tags


def resolve_dependencies(
    workspace: Path, features: dict[str, Any], env: dict[str, str] | None = None
) -> list[str]:
    """Install order the reference CLI computes for a devcontainer.json using `features`."""
    config = workspace / ".devcontainer" / "devcontainer.json"
    config.parent.mkdir(parents=True, exist_ok=True)
    config.write_text(json.dumps({"image": "debian:bookworm", "features": features}), encoding="utf-8")
    code, out, err = _run(
        [DEVCONTAINER, "features", "resolve-dependencies", "--workspace-folder", str(workspace)], env=env
    )
    if code != 0:
        raise ConsumerError(f"resolve-dependencies exited {code}: {err.strip()[-2000:]}")
    # stdout is a mermaid graph, then the JSON document starting at a line that is exactly "{".
    lines = out.splitlines()
    start = lines.index("{")
    order = json.loads("\n".join(lines[start:]))["installOrder"]
    return [str(item["id"]) for item in order]


def skopeo_raw(ref: str) -> dict[str, Any]:
    code, out, err = _run([SKOPEO, "inspect", "--raw", "--tls-verify=false", ref])
    if code != 0:
        raise ConsumerError(f"skopeo inspect --raw {ref} exited {code}: {err.strip()}")
    result: dict[str, Any] = json.loads(out)
    return result


def skopeo_copy(source: str, destination: str) -> None:
    code, _, err = _run([SKOPEO, "copy", "--src-tls-verify=false", "--dest-tls-verify=false", source, destination])
    if code != 0:
        raise ConsumerError(f"skopeo copy {source} {destination} exited {code}: {err.strip()}")
