"""The library side of `featurepub login`, `logout` and `auth status`. Nothing here prints.

`login` checks the credentials against the registry (GET /v2/ through the same Basic,
Bearer or refresh-token flow a publish uses) and stores them in the OS keyring only when
the registry accepted them. `status` says which source of the chain answers for a
registry, never the secret.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path

from featurepub.credentials import store
from featurepub.credentials.chain import CredentialChain, Lookup, NamedSource, default_chain
from featurepub.credentials.types import Credential
from featurepub.errors import InputError
from featurepub.reference import parse_registry
from featurepub.registry.transport import TransportOptions

Log = Callable[[str], None]


@dataclass(frozen=True)
class LoginResult:
    registry: str
    username: str
    backend: str
    # False when the registry let the check through without asking for credentials at all.
    challenged: bool


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
    """Check the credentials against `registry` (unless `check` is False), then store them in the keyring."""
    host = parse_registry(registry)
    if not username or not password:
        raise InputError("login needs a username and a password or token")
    credential = Credential(username, password, "login")
    challenged = False
    if check:
        challenged = check_credentials(host, credential, insecure_hosts=insecure_hosts, ca_file=ca_file, log=log)
    backend = store.keyring_set(host, username, password)
    return LoginResult(host, username, backend, challenged)


def logout(registry: str) -> bool:
    """Remove featurepub's keyring entry for `registry`; False when there was none."""
    return store.keyring_delete(parse_registry(registry))


def status(registry: str, *, chain: CredentialChain | None = None) -> Lookup:
    """Which source of the credential chain answers for `registry`, and what each source said."""
    return (chain or default_chain()).lookup(parse_registry(registry))
