"""Docker credential helpers: `docker-credential-<name> <action>`, its input on stdin.

The protocol (docker/docker-credential-helpers): `get` takes the server on stdin and prints
`{"ServerURL": ..., "Username": ..., "Secret": ...}`; a Username of `<token>` means the
Secret is an identity (refresh) token. `store` takes that same JSON on stdin, `erase` the
server. "credentials not found in native keychain" on a non-zero exit means it has nothing
for that server. Anything else is an error featurepub reports instead of quietly going on
without credentials (or believing it stored them).
"""

from __future__ import annotations

import json
import shutil
import subprocess
from typing import Any

from featurepub.errors import CredentialError
from featurepub.redact import redact

PREFIX = "docker-credential-"
TOKEN_USER = "<token>"
_NOT_FOUND = "credentials not found"
_MAX_SHOWN = 200


def _run(name: str, action: str, given: str, server: str, *, timeout: float, origin: str) -> str | None:
    """Run helper `name` with `action`, `given` on stdin; its stdout, or None when it has nothing for
    `server`. Raises CredentialError when it is missing, hangs past `timeout` seconds or fails."""
    program_name = PREFIX + name
    program = shutil.which(program_name)
    if program is None:
        raise CredentialError(
            f"credential helper {program_name} is not on PATH (named in {origin})",
            hint=f"install {program_name}, or remove it from that file to use other credentials",
        )
    try:
        done = subprocess.run(
            [program, action], input=given, capture_output=True, text=True, timeout=timeout, check=False
        )
    except subprocess.TimeoutExpired:
        raise CredentialError(
            f"credential helper {program_name} did not answer within {timeout:g} s (named in {origin})",
            hint="it may be waiting for a login or an unlock prompt; run it by hand: "
            f"echo {server} | {program_name} get",
        ) from None
    except OSError as exc:
        raise CredentialError(f"cannot run credential helper {program}: {exc.strerror or exc}") from None
    if done.returncode != 0:
        said = " ".join((done.stdout.strip() or done.stderr.strip()).split())[:_MAX_SHOWN]
        if _NOT_FOUND in said.lower():
            return None
        doing = "" if action == "get" else f" to {action} the credentials"
        raise CredentialError(
            f"credential helper {program_name} failed{doing} for {server} (exit {done.returncode}): "
            f"{redact(said) or 'no message'}",
            hint=f"named in {origin}",
        )
    return done.stdout


def helper_get(name: str, server: str, *, timeout: float, origin: str) -> tuple[str, str] | None:
    """(username, secret) from helper `name` for `server`, or None when it has none.

    Raises CredentialError when the helper is missing, hangs past `timeout` seconds, fails,
    or prints something that is not its JSON answer.
    """
    said = _run(name, "get", server, server, timeout=timeout, origin=origin)
    if said is None:
        return None
    try:
        answer: Any = json.loads(said)
    except ValueError:
        answer = None
    if not isinstance(answer, dict):
        raise CredentialError(
            f"credential helper {PREFIX}{name} answered something that is not its JSON for {server}",
            hint=f"named in {origin}",
        )
    username, secret = answer.get("Username"), answer.get("Secret")
    if not isinstance(secret, str) or not secret:
        return None  # some helpers answer an empty record for a server they do not know
    return (username if isinstance(username, str) else ""), secret


def helper_store(name: str, server: str, username: str, secret: str, *, timeout: float, origin: str) -> None:
    """Have helper `name` keep (username, secret) for `server`, as `docker login` does. The secret
    goes to the helper on stdin only."""
    record = json.dumps({"ServerURL": server, "Username": username, "Secret": secret})
    if _run(name, "store", record, server, timeout=timeout, origin=origin) is None:
        raise CredentialError(f"credential helper {PREFIX}{name} did not store the credentials for {server}")


def helper_erase(name: str, server: str, *, timeout: float, origin: str) -> bool:
    """Have helper `name` forget `server`; False when it had nothing for it."""
    return _run(name, "erase", server, server, timeout=timeout, origin=origin) is not None
