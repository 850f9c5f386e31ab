"""featurepub's own credentials in the OS keyring (`featurepub login` / `logout`), via `keyring`.

One entry per registry: service `featurepub`, user name = the registry host, and as the
password a small JSON record `{"username": ..., "secret": ...}` (every keyring backend
can look an entry up by service and user; not every one can list a service's users).
Set FEATUREPUB_NO_KEYRING=1 to never touch the keyring (a locked desktop keyring can stall
a headless session), or PYTHON_KEYRING_BACKEND to choose a backend. Without a keyring,
`featurepub login` keeps credentials in the Docker config (credentials/docker_login.py).

The hosts that have an entry are also listed (no secrets) in
`$XDG_CONFIG_HOME/featurepub/keyring-hosts.json`, so looking up a registry nobody logged
in to never loads a keyring backend: that import alone costs tens of milliseconds per run.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from featurepub.credentials.types import Credential, SourceSkipped
from featurepub.errors import CredentialError

SERVICE = "featurepub"
SOURCE = "featurepub keyring"
NO_BACKEND_HINT = (
    "no keyring backend is available here (typical on CI and in containers): featurepub login stores "
    "credentials in the Docker config instead; or give them with DEVCONTAINERS_OCI_AUTH, --username with "
    "--password-stdin, or GITHUB_TOKEN for ghcr.io"
)
REFUSED_HINT = "unlock the keyring, or set FEATUREPUB_NO_KEYRING=1 to store them in the Docker config instead"


def _hosts_path() -> Path:
    base = os.environ.get("XDG_CONFIG_HOME") or str(Path.home() / ".config")
    return Path(base) / "featurepub" / "keyring-hosts.json"


def _logged_in_hosts() -> set[str]:
    try:
        hosts: Any = json.loads(_hosts_path().read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return set()
    return {str(h) for h in hosts} if isinstance(hosts, list) else set()


def _record_host(registry: str, present: bool) -> None:
    hosts = _logged_in_hosts()
    hosts = hosts | {registry} if present else hosts - {registry}
    path = _hosts_path()
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(sorted(hosts)) + "\n", encoding="utf-8")
    except OSError:
        pass  # only an index: without it lookups fall back to asking the keyring


def _disabled() -> bool:
    return os.environ.get("FEATUREPUB_NO_KEYRING", "").strip().lower() not in ("", "0", "false", "no")


def _backend() -> Any:
    import keyring

    return keyring.get_keyring()


def backend_name() -> str:
    if _disabled():
        return "disabled by FEATUREPUB_NO_KEYRING"
    backend = _backend()
    return f"{type(backend).__module__}.{type(backend).__name__}"


def _unusable(backend: Any) -> str | None:
    """Why `backend` cannot keep credentials, or None when it can."""
    from keyring.backends import fail, null

    if isinstance(backend, fail.Keyring):
        return "no keyring backend is available"
    if isinstance(backend, null.Keyring):  # keyring's documented way to turn itself off; it keeps nothing
        return "the keyring is turned off by its null backend"
    return None


def keyring_unavailable() -> str | None:
    """Why featurepub cannot keep credentials in a keyring here, or None when it can."""
    if _disabled():
        return "the keyring is disabled by FEATUREPUB_NO_KEYRING"
    return _unusable(_backend())


def keyring_get(registry: str) -> Credential | None:
    """The entry `featurepub login` stored for `registry`; raises SourceSkipped when no keyring is usable."""
    if _disabled():
        raise SourceSkipped("disabled by FEATUREPUB_NO_KEYRING")
    if registry not in _logged_in_hosts():
        return None  # featurepub login never stored anything for it
    from keyring.errors import KeyringError

    try:
        backend = _backend()
        unusable = _unusable(backend)
        if unusable:
            raise SourceSkipped(unusable)
        raw = backend.get_password(SERVICE, registry)
    except KeyringError as exc:
        raise SourceSkipped(f"keyring unavailable ({type(exc).__name__})") from None
    if not raw:
        return None
    try:
        record: Any = json.loads(raw)
    except ValueError:
        record = None
    if not isinstance(record, dict) or not isinstance(record.get("secret"), str) or not record["secret"]:
        raise SourceSkipped(f"the keyring entry for {registry} is not featurepub's; run featurepub login again")
    return Credential(
        str(record.get("username") or ""), record["secret"], SOURCE, identity_token=bool(record.get("token"))
    )


def keyring_set(registry: str, username: str, secret: str) -> str:
    """Store credentials for `registry`; returns the backend's name. Raises CredentialError with what
    to use instead when there is no keyring."""
    if _disabled():
        raise CredentialError("the keyring is disabled by FEATUREPUB_NO_KEYRING", hint=NO_BACKEND_HINT)
    from keyring.errors import KeyringError

    backend = _backend()
    unusable = _unusable(backend)
    if unusable:
        raise CredentialError(f"cannot store credentials: {unusable}", hint=NO_BACKEND_HINT)
    record = json.dumps({"username": username, "secret": secret})
    try:
        backend.set_password(SERVICE, registry, record)
    except KeyringError as exc:
        raise CredentialError(
            f"the keyring ({backend_name()}) refused to store the credentials: {type(exc).__name__}",
            hint=REFUSED_HINT,
        ) from None
    _record_host(registry, present=True)
    return backend_name()


def keyring_delete(registry: str) -> bool:
    """Remove the entry for `registry`; False when there was none."""
    if _disabled():
        raise CredentialError("the keyring is disabled by FEATUREPUB_NO_KEYRING", hint=NO_BACKEND_HINT)
    from keyring.errors import KeyringError, PasswordDeleteError

    backend = _backend()
    unusable = _unusable(backend)
    if unusable:
        raise CredentialError(f"cannot remove credentials: {unusable}", hint=NO_BACKEND_HINT)
    try:
        if backend.get_password(SERVICE, registry) is None:
            return False
        backend.delete_password(SERVICE, registry)
    except PasswordDeleteError:
        return False
    except KeyringError as exc:
        raise CredentialError(f"the keyring ({backend_name()}) failed: {type(exc).__name__}") from None
    _record_host(registry, present=False)
    return True
