"""Credential sources. Each returns (username, password, ...) for a registry, or None."""

from __future__ import annotations

import base64
import binascii
import json
import os
from pathlib import Path
from typing import Any

from featurepub.reference import DOCKER_HUB

_DOCKER_HUB_KEYS = ("https://index.docker.io/v1/", "index.docker.io", "docker.io", "registry-1.docker.io")


def devcontainers_oci_auth(registry: str) -> tuple[str, str] | None:
    """`DEVCONTAINERS_OCI_AUTH=host|user|password[,host|user|password...]`, as the reference CLI reads it."""
    value = os.environ.get("DEVCONTAINERS_OCI_AUTH", "")
    for item in value.split(","):
        parts = item.strip().split("|", 2)
        if len(parts) == 3 and normalise_key(parts[0]) == registry:
            return parts[1], parts[2]
    return None


def normalise_key(key: str) -> str:
    """Match registry keys the way docker does: scheme and trailing path ignored, Docker Hub aliased."""
    if key in _DOCKER_HUB_KEYS or key.rstrip("/") in _DOCKER_HUB_KEYS:
        return DOCKER_HUB
    host = key.split("://", 1)[-1].split("/", 1)[0].lower()
    return DOCKER_HUB if host in _DOCKER_HUB_KEYS else host


def docker_config_path() -> Path:
    base = os.environ.get("DOCKER_CONFIG")
    return Path(base) / "config.json" if base else Path.home() / ".docker" / "config.json"


def docker_config_auth(registry: str) -> tuple[str, str, str] | None:
    """Credentials from the `auths` section of the Docker config, with the key that matched."""
    path = docker_config_path()
    try:
        config: Any = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    auths = config.get("auths") if isinstance(config, dict) else None
    if not isinstance(auths, dict):
        return None
    for key, entry in auths.items():
        if normalise_key(str(key)) != registry or not isinstance(entry, dict):
            continue
        decoded = _decode_auth(entry)
        if decoded:
            return decoded[0], decoded[1], f"{path} ({key})"
    return None


def _decode_auth(entry: dict[str, Any]) -> tuple[str, str] | None:
    if isinstance(entry.get("auth"), str) and entry["auth"]:
        try:
            user, sep, password = base64.b64decode(entry["auth"]).decode("utf-8").partition(":")
        except (binascii.Error, UnicodeDecodeError):
            return None
        return (user, password) if sep else None
    if entry.get("username") and entry.get("password"):
        return str(entry["username"]), str(entry["password"])
    return None
