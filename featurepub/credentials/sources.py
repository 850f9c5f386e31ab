"""Credential sources. The low-level readers return (username, password, ...) or None; the
`from_*` functions are the chain's sources and return a Credential or None.

Each source is asked about a scope, `host[/repository path]` (reference.credential_scope). Hosts
match the way docker matches them: scheme ignored, case-insensitive, and every Docker Hub spelling
(`https://index.docker.io/v1/`, `docker.io`, `registry-1.docker.io`) is Docker Hub. A key that
names a path (`my-registry.com/features-feed`) applies to repositories under that path only, and
the most specific key that applies wins, as podman and skopeo match auth.json keys
(containers-auth.json(5), FORMAT: "the relevant repository is matched against available keys in
its hierarchical order, going from most-specific to least-specific"). A key written as a URL
(with a scheme) names a host: its path is an API path (`/v1/`), not a repository.
"""

from __future__ import annotations

import base64
import binascii
import json
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from featurepub.credentials.helpers import TOKEN_USER, helper_get
from featurepub.credentials.store import keyring_get
from featurepub.credentials.types import Credential, SourceSkipped
from featurepub.reference import DOCKER_HUB

_DOCKER_HUB_KEYS = ("https://index.docker.io/v1/", "index.docker.io", "docker.io", "registry-1.docker.io")


def devcontainers_oci_auth(scope: str) -> tuple[str, str] | None:
    """`DEVCONTAINERS_OCI_AUTH=host|user|password[,host|user|password...]`, as the reference CLI reads it;
    a `host/path` entry applies under that path, and the most specific entry wins (the first of equals)."""
    value = os.environ.get("DEVCONTAINERS_OCI_AUTH", "")
    best: tuple[int, str, str] | None = None
    for item in value.split(","):
        parts = item.strip().split("|", 2)
        if len(parts) != 3:
            continue
        rank = key_specificity(parts[0], scope)
        if rank is not None and (best is None or rank > best[0]):
            best = (rank, parts[1], parts[2])
    return (best[1], best[2]) if best else None


def normalise_key(key: str) -> str:
    """The host a registry key names, the way docker reads it: scheme and path ignored, Docker Hub aliased."""
    if key in _DOCKER_HUB_KEYS or key.rstrip("/") in _DOCKER_HUB_KEYS:
        return DOCKER_HUB
    host = key.split("://", 1)[-1].split("/", 1)[0].lower()
    return DOCKER_HUB if host in _DOCKER_HUB_KEYS else host


def key_specificity(key: str, scope: str) -> int | None:
    """How many path components of `scope` the key names (0: the whole registry), or None when the
    key does not apply to `scope` (another host, or a path `scope` is not under)."""
    host, _, path = scope.partition("/")
    if normalise_key(key) != normalise_key(host):
        return None
    key_path = "" if "://" in key else key.strip().partition("/")[2].strip("/").lower()
    if not key_path:
        return 0
    wanted = key_path.split("/")
    return len(wanted) if path.split("/")[: len(wanted)] == wanted else None


def docker_config_path() -> Path:
    base = os.environ.get("DOCKER_CONFIG")
    return Path(base) / "config.json" if base else Path.home() / ".docker" / "config.json"


def docker_config_auth(scope: str) -> tuple[str, str, str] | None:
    """Credentials from the `auths` section of the Docker config, with the key that matched."""
    path = docker_config_path()
    try:
        config: Any = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    auths = config.get("auths") if isinstance(config, dict) else None
    for key, entry in matching_entries(auths, scope):
        if not isinstance(entry, dict):
            continue
        decoded = _decode_auth(entry)
        if decoded:
            return decoded[0], decoded[1], f"{path} ({key})"
    return None


def _decode_auth(entry: dict[str, Any]) -> tuple[str, str] | None:
    if isinstance(entry.get("auth"), str) and entry["auth"]:
        try:
            user, sep, password = base64.b64decode(entry["auth"]).decode("utf-8").partition(":")
        except (binascii.Error, ValueError):  # ValueError: non-ASCII text is not base64 at all
            return None
        return (user, password) if sep else None
    if entry.get("username") and entry.get("password"):
        return str(entry["username"]), str(entry["password"])
    return None


# --- the chain's sources -------------------------------------------------------------------------------

GHCR = "ghcr.io"
# The server address docker hands credential helpers for Docker Hub.
DOCKER_HUB_SERVER = "https://index.docker.io/v1/"


def from_devcontainers_oci_auth(scope: str) -> Credential | None:
    found = devcontainers_oci_auth(scope)
    return Credential(found[0], found[1], "DEVCONTAINERS_OCI_AUTH") if found else None


def scope_candidates(scope: str) -> list[str]:
    """`host/a/b` -> [`host/a/b`, `host/a`, `host`]: the keys that apply, most specific first."""
    parts = scope.split("/")
    return ["/".join(parts[:n]) for n in range(len(parts), 0, -1)]


def from_keyring(scope: str) -> Credential | None:
    for candidate in scope_candidates(scope):
        found = keyring_get(candidate)
        if found is not None:
            return found
    return None


def from_docker_config(scope: str, *, helper_timeout: float) -> Credential | None:
    """`$DOCKER_CONFIG/config.json` (or ~/.docker/config.json): credHelpers, credsStore, then auths."""
    path = docker_config_path()
    return _from_config_file(path, scope, "docker config", helper_timeout)


def containers_auth_paths() -> list[Path]:
    """Where podman, skopeo and buildah keep credentials (containers-auth.json(5)), in their order."""
    explicit = os.environ.get("REGISTRY_AUTH_FILE")
    if explicit:
        return [Path(explicit)]
    paths = []
    runtime = os.environ.get("XDG_RUNTIME_DIR")
    if runtime:
        paths.append(Path(runtime) / "containers" / "auth.json")
    config_home = os.environ.get("XDG_CONFIG_HOME") or str(Path.home() / ".config")
    paths.append(Path(config_home) / "containers" / "auth.json")
    return paths


def from_containers_auth(scope: str, *, helper_timeout: float) -> Credential | None:
    for path in containers_auth_paths():
        found = _from_config_file(path, scope, "containers auth", helper_timeout)
        if found is not None:
            return found
    return None


def from_github_token(scope: str) -> Credential | None:
    """GITHUB_TOKEN (what GitHub Actions gives a job), else GH_TOKEN (the gh CLI's), for ghcr.io only."""
    if scope.partition("/")[0] != GHCR:
        return None
    for name in ("GITHUB_TOKEN", "GH_TOKEN"):
        token = os.environ.get(name, "").strip()
        if token:
            # ghcr.io checks the token, not the name; the actor is what docker/login-action sends.
            return Credential(os.environ.get("GITHUB_ACTOR") or "featurepub", token, name)
    return None


def _read_config(path: Path) -> dict[str, Any] | None:
    try:
        config: Any = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return None
    except (OSError, ValueError) as exc:
        raise SourceSkipped(f"{path} is unreadable ({type(exc).__name__}), skipped") from None
    return config if isinstance(config, dict) else None


def config_key(registry: str) -> str:
    """The key docker (and `featurepub login`) file `registry` under: the host, or for Docker Hub
    the historical index address."""
    return DOCKER_HUB_SERVER if registry == DOCKER_HUB else registry


def matching_entries(mapping: Any, scope: str) -> Iterator[tuple[str, Any]]:
    """Entries of a registry-keyed mapping that apply to `scope` (`host[/path]`): the most specific
    key first, and among keys for the whole registry the one docker writes first."""
    if not isinstance(mapping, dict):
        return
    exact = config_key(scope.partition("/")[0])
    ranked = []
    for key in (str(k) for k in mapping):
        rank = key_specificity(key, scope)
        if rank is not None:
            ranked.append((-rank, key.lower() != exact, key))
    for _, _, key in sorted(ranked, key=lambda r: r[:2]):
        yield key, mapping[key]


def helper_server(registry: str, key: str | None = None) -> str:
    """The server address a credential helper is asked about: the key docker uses, or the
    credHelpers key that named the helper when it is a plain host."""
    if registry == DOCKER_HUB:
        return DOCKER_HUB_SERVER
    return key if key and "://" not in key else registry


def _from_config_file(path: Path, scope: str, label: str, helper_timeout: float) -> Credential | None:
    config = _read_config(path)
    if config is None:
        return None
    registry = scope.partition("/")[0]
    # 1. a helper for this registry; 2. the default store; 3. what the file itself holds.
    for key, name in matching_entries(config.get("credHelpers"), scope):
        if isinstance(name, str) and name:
            where = f"{label} {path} (credHelpers: {name})"
            found = helper_get(name, helper_server(registry, key), timeout=helper_timeout, origin=where)
            if found is not None:
                return _helper_credential(found, where)
    store_name = config.get("credsStore")
    if isinstance(store_name, str) and store_name:
        where = f"{label} {path} (credsStore: {store_name})"
        found = helper_get(store_name, helper_server(registry), timeout=helper_timeout, origin=where)
        if found is not None:
            return _helper_credential(found, where)
    for key, entry in matching_entries(config.get("auths"), scope):
        if not isinstance(entry, dict):
            continue
        source = f"{label} {path} ({key})"
        token = entry.get("identitytoken")
        if isinstance(token, str) and token:
            username = _username_of(entry) or TOKEN_USER
            return Credential(username, token, source, identity_token=True)
        try:
            decoded = _decode_auth(entry)
        except ValueError:  # a non-ASCII `auth` value: unusable, like any other broken entry
            decoded = None
        if decoded:
            return Credential(decoded[0], decoded[1], source)
    return None


def _username_of(entry: dict[str, Any]) -> str | None:
    if isinstance(entry.get("username"), str) and entry["username"]:
        return str(entry["username"])
    if isinstance(entry.get("auth"), str) and entry["auth"]:
        try:
            user = base64.b64decode(entry["auth"]).decode("utf-8").partition(":")[0]
        except (ValueError, UnicodeDecodeError):
            return None
        return user or None
    return None


def _helper_credential(found: tuple[str, str], where: str) -> Credential:
    username, secret = found
    if username == TOKEN_USER:
        return Credential(username, secret, where, identity_token=True)
    return Credential(username, secret, where)
