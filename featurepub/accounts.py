"""The library side of `featurepub login`, `logout` and `auth status`. Nothing here prints.

`login` checks the credentials against the registry (GET /v2/ through the same Basic,
Bearer or refresh-token flow a publish uses) and stores them only when the registry
accepted them: in the OS keyring, or where there is none (CI, containers) in the Docker
config, as `docker login` would. `logout` removes them from the same place. `status` says
which source of the chain answers for a registry, never the secret.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path

from featurepub.credentials import docker_login, store
from featurepub.credentials.chain import DOCKER_HELPER_TIMEOUT, CredentialChain, Lookup, NamedSource, default_chain
from featurepub.credentials.types import Credential
from featurepub.errors import InputError
from featurepub.reference import credential_scope, parse_registry, parse_registry_location
from featurepub.registry.transport import TransportOptions

Log = Callable[[str], None]


@dataclass(frozen=True)
class LoginResult:
    registry: str
    username: str
    backend: str  # where the credentials are kept now: a keyring backend, a credential helper or a file
    # False when the registry let the check through without asking for credentials at all.
    challenged: bool
    # Why no keyring was used (None when one was); the credentials went to the Docker config.
    keyring_missing: str | None = None
    # The Docker config that now holds them base64-encoded, readable by whoever can read that file.
    plaintext_file: Path | None = None


@dataclass(frozen=True)
class LogoutResult:
    registry: str
    removed_from: tuple[str, ...]  # empty when nothing was stored for the registry
    keyring_missing: str | None = None  # why the Docker config was looked at instead of a keyring

    @property
    def removed(self) -> bool:
        return bool(self.removed_from)


def check_credentials(
    registry: str,
    credential: Credential | None,
    *,
    insecure_hosts: Iterable[str] = (),
    ca_file: str | Path | None = None,
    log: Log | None = None,
) -> bool:
    """GET /v2/ with `credential`; raises AuthError when refused. Returns whether the registry asked
    for credentials (False: it answers anonymously, so it could not check them)."""
    from featurepub.registry.client import RegistryClient
    from featurepub.registry.wire import expect
    from featurepub.targets.registry import RegistryTarget

    host = parse_registry(registry)
    options = TransportOptions(
        insecure_hosts=frozenset(parse_registry(h) for h in insecure_hosts), ca_file=ca_file, log=log
    )
    chain = CredentialChain([NamedSource(credential.source if credential else "none", lambda _: credential)])
    target = RegistryTarget(host, credentials=chain, transport=options, push=False)
    try:
        client: RegistryClient = target.client
        context = client.context("", "check credentials")
        expect(client.send("GET", "/v2/", context), context, 200)
        return target.auth.token_requests > 0 or target.auth.challenged
    finally:
        target.close()


def login(
    registry: str,
    username: str,
    password: str,
    *,
    check: bool = True,
    insecure_hosts: Iterable[str] = (),
    ca_file: str | Path | None = None,
    log: Log | None = None,
) -> LoginResult:
    """Check the credentials against `registry` (unless `check` is False), then store them: in the
    keyring, or without one in the Docker config (its credential helper for the host, else base64
    in its `auths`)."""
    host = parse_registry(registry)
    if not username or not password:
        raise InputError("login needs a username and a password or token")
    credential = Credential(username, password, "login")
    challenged = False
    if check:
        challenged = check_credentials(host, credential, insecure_hosts=insecure_hosts, ca_file=ca_file, log=log)
    missing = store.keyring_unavailable()
    if missing is None:
        return LoginResult(host, username, store.keyring_set(host, username, password), challenged)
    stored = docker_login.store(host, username, password, helper_timeout=DOCKER_HELPER_TIMEOUT)
    plaintext = None if stored.helper else stored.path
    return LoginResult(host, username, stored.describe(), challenged, missing, plaintext)


def logout(registry: str) -> LogoutResult:
    """Remove what `login` stored for `registry`, from where `login` stores: the keyring entry, or
    without a keyring the Docker config's (every `auths` key for the host, and the helper's entry)."""
    host = parse_registry(registry)
    missing = store.keyring_unavailable()
    if missing is None:
        removed = store.keyring_delete(host)
        return LogoutResult(host, (store.backend_name(),) if removed else ())
    places = docker_login.remove(host, helper_timeout=DOCKER_HELPER_TIMEOUT)
    return LogoutResult(host, tuple(places), missing)


def status(registry: str, *, chain: CredentialChain | None = None) -> Lookup:
    """Which source of the credential chain answers for `registry` (`host[:port]`, or `host/path` to ask
    for the most specific key that applies under a path), and what each source said."""
    host, path = parse_registry_location(registry)
    return (chain or default_chain()).lookup(credential_scope(host, path))
