"""Helpers to run featurepub the way users do: the installed CLI as a subprocess, or the library."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypedDict

import httpx

from featurepub.oci import mediatypes


class PublishedFeature(TypedDict, total=False):
    """One id of what `publish` prints, the reference CLI's shape: empty when nothing of it was published."""

    publishedTags: list[str]
    digest: str
    version: str
    publishedLegacyIds: list[str]


@dataclass
class CliRun:
    code: int
    stdout: str
    stderr: str

    @property
    def json(self) -> dict[str, Any]:
        result: dict[str, Any] = json.loads(self.stdout)
        return result

    @property
    def features(self) -> dict[str, Any]:
        """Per feature id, what `publish --json` (the full report) says happened."""
        features: dict[str, Any] = self.json["features"]
        return features


def featurepub(*args: str | Path, env: dict[str, str] | None = None, stdin: str | None = None) -> CliRun:
    done = subprocess.run(
        [sys.executable, "-m", "featurepub", *map(str, args)],
        capture_output=True,
        text=True,
        env={**os.environ, **(env or {})},
        input=stdin,
        timeout=300,
        check=False,
    )
    return CliRun(done.returncode, done.stdout, done.stderr)


def tag_digest(base_url: str, repository: str, tag: str) -> str | None:
    """What a tag points at, read straight from the registry (no featurepub code involved)."""
    response = httpx.head(
        f"{base_url}/v2/{repository}/manifests/{tag}", headers={"Accept": mediatypes.MANIFEST_ACCEPT}
    )
    if response.status_code == 404:
        return None
    response.raise_for_status()
    return response.headers["Docker-Content-Digest"]


def registry_tags(base_url: str, repository: str) -> list[str]:
    response = httpx.get(f"{base_url}/v2/{repository}/tags/list")
    if response.status_code == 404:
        return []
    return sorted(response.json().get("tags") or [])
