"""`featurepub login` where there is no keyring: the Docker config, written the way `docker login`,
`oras login` and `crane auth login` write it, and `featurepub logout` undoing it.

The file is `$DOCKER_CONFIG/config.json`, else `~/.docker/config.json`, and the credentials go
where docker would put them for that host:

- to the credential helper the file names for the host (`credHelpers`) or for every host
  (`credsStore`), through the helper protocol's `store`. The file itself is left unchanged (docker
  adds an empty `auths` entry there, which only ever held an e-mail address);
- else into `auths`, as `{"<key>": {"auth": base64("user:password")}}`, the key being
  `host[:port]`, or `https://index.docker.io/v1/` for Docker Hub. Base64 is an encoding, not
  encryption: anyone who can read the file can use them.

Everything else in the file is kept as it was; only that one entry is replaced (docker rewrites
the file from the fields it knows and drops the others; oras keeps them, and so does featurepub).
The new file is written next to the old one and renamed over it, so no reader ever sees half a
file, with mode 0600 whatever the old file's mode was (it now holds a password), in a folder
created with mode 0700 when missing. A symlinked config.json is updated where it points.
"""

from __future__ import annotations

import base64
import contextlib
import json
import os
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from featurepub.credentials.helpers import PREFIX, helper_erase, helper_store
from featurepub.credentials.sources import config_key, docker_config_path, helper_server, matching_entries
from featurepub.errors import CredentialError, InputError


@dataclass(frozen=True)
class Stored:
    """Where `store` put the credentials: the Docker config's helper, or the file itself."""

    path: Path
    helper: str | None = None  # None: base64 in the file's `auths`

    def describe(self) -> str:
        if self.helper:
            return f"credential helper {PREFIX}{self.helper} (named in the Docker config {self.path})"
        return f"the Docker config {self.path}"


def store(registry: str, username: str, secret: str, *, helper_timeout: float) -> Stored:
    """Keep credentials for `registry` in the Docker config, where docker would keep them."""
    path = docker_config_path()
    config = _load(path)
    helper = _helper_for(config, registry)
    if helper is not None:
        name, server = helper
        helper_store(name, server, username, secret, timeout=helper_timeout, origin=f"the Docker config {path}")
        return Stored(path, name)
    if ":" in username:
        # The `auth` value is "user:password", split at the first colon by every reader.
        raise InputError(f"user name {username!r} contains ':', which the Docker config cannot hold")
    encoded = base64.b64encode(f"{username}:{secret}".encode()).decode("ascii")
    _auths(config, path)[config_key(registry)] = {"auth": encoded}
    _write(path, config)
    return Stored(path)


def remove(registry: str, *, helper_timeout: float) -> list[str]:
    """Remove the credentials for `registry` from the Docker config: from the helper it names for
    the host, and every `auths` key that names the host (as `docker logout` removes `host`,
    `http://host` and `https://host`). Returns where something was removed."""
    path = docker_config_path()
    config = _load(path)
    removed = []
    helper = _helper_for(config, registry)
    if helper is not None:
        name, server = helper
        if helper_erase(name, server, timeout=helper_timeout, origin=f"the Docker config {path}"):
            removed.append(Stored(path, name).describe())
    auths = config.get("auths")
    keys = [key for key, _ in matching_entries(auths, registry)]
    if isinstance(auths, dict) and keys:
        for key in keys:
            del auths[key]
        _write(path, config)
        removed.append(f"the Docker config {path} ({', '.join(keys)})")
    return removed


def _helper_for(config: dict[str, Any], registry: str) -> tuple[str, str] | None:
    """(helper name, server address) when the file sends `registry` to a credential helper: its
    credHelpers entry, else credsStore; the order the chain reads them in."""
    for key, name in matching_entries(config.get("credHelpers"), registry):
        if isinstance(name, str) and name:
            return name, helper_server(registry, key)
    name = config.get("credsStore")
    if isinstance(name, str) and name:
        return name, helper_server(registry)
    return None


def _load(path: Path) -> dict[str, Any]:
    """The file's content; {} when it does not exist. A file featurepub cannot parse is never rewritten."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return {}
    except (OSError, UnicodeDecodeError) as exc:
        raise CredentialError(f"cannot read the Docker config {path}: {_reason(exc)}") from None
    if not text.strip():
        return {}  # docker reads an empty file as an empty config
    try:
        config: Any = json.loads(text)
    except ValueError as exc:
        raise CredentialError(
            f"the Docker config {path} is not valid JSON ({exc}); featurepub left it unchanged",
            hint="fix or move that file, then try again",
        ) from None
    if not isinstance(config, dict):
        raise CredentialError(
            f"the Docker config {path} is not a JSON object; featurepub left it unchanged",
            hint="fix or move that file, then try again",
        )
    return config


def _auths(config: dict[str, Any], path: Path) -> dict[str, Any]:
    auths = config.get("auths")
    if auths is None:
        auths = config["auths"] = {}
    if not isinstance(auths, dict):
        raise CredentialError(
            f"the Docker config {path} has an `auths` that is not an object; featurepub left it unchanged",
            hint="fix or move that file, then try again",
        )
    return auths


def _write(path: Path, config: dict[str, Any]) -> None:
    target = Path(os.path.realpath(path))  # through a symlink, which stays a symlink
    text = json.dumps(config, indent="\t", ensure_ascii=False)  # docker's layout: tab-indented
    try:
        target.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        # mkstemp creates the file with mode 0600, readable by its owner only.
        handle, temporary = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=".tmp")
    except OSError as exc:
        raise CredentialError(f"cannot write the Docker config {path}: {_reason(exc)}") from None
    replaced = False
    try:
        with os.fdopen(handle, "w", encoding="utf-8") as out:
            out.write(text)
            out.flush()
            os.fsync(out.fileno())
        os.replace(temporary, target)
        replaced = True
    except OSError as exc:
        raise CredentialError(f"cannot write the Docker config {path}: {_reason(exc)}") from None
    finally:
        if not replaced:
            with contextlib.suppress(OSError):
                os.unlink(temporary)


def _reason(exc: Exception) -> str:
    return exc.strerror if isinstance(exc, OSError) and exc.strerror else type(exc).__name__
