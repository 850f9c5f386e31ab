"""The credential chain: ask each source in order; the first that knows the host wins.

The default order (README, "Registries and credentials"): explicit --username and
--password-stdin; DEVCONTAINERS_OCI_AUTH; featurepub's keyring entry (`featurepub login`);
the Docker config (credHelpers, credsStore, auths); the containers auth.json;
GITHUB_TOKEN / GH_TOKEN for ghcr.io; else anonymous. A lookup keeps a trail of what each
source said, so `featurepub auth status` and `--verbose` can tell which one was used,
never the secret.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from featurepub.credentials import sources
from featurepub.credentials.types import Credential, SourceSkipped

DOCKER_HELPER_TIMEOUT = 30.0


@dataclass(frozen=True)
class NamedSource:
    name: str
    lookup: Callable[[str], Credential | None]

    def __call__(self, registry: str) -> Credential | None:
        return self.lookup(registry)


Source = Callable[[str], "Credential | None"]


@dataclass(frozen=True)
class Lookup:
    """What the chain found for one registry, and what each source it asked said."""

    registry: str
    credential: Credential | None
    trail: tuple[tuple[str, str], ...]

    def describe(self) -> str:
        host = self.registry.partition("/")[0]  # the source names the key that matched a path
        if self.credential is None:
            return f"{host}: no credentials found, anonymous"
        return f"{host}: credentials from {self.credential.describe()}"


def _name_of(source: Source) -> str:
    if isinstance(source, NamedSource):
        return source.name
    return getattr(source, "__name__", type(source).__name__)


class CredentialChain:
    def __init__(self, chain: Iterable[Source]) -> None:
        self._sources = list(chain)
        self._cache: dict[str, Lookup] = {}
        self._lock = threading.Lock()

    def lookup(self, registry: str) -> Lookup:
        """Ask the sources in order; stop at the first that answers. Errors (a broken helper) propagate.
        `registry` is a host, or a scope `host/path` (reference.credential_scope): then each source
        answers with its most specific key that applies."""
        with self._lock:
            if registry in self._cache:
                return self._cache[registry]
        trail: list[tuple[str, str]] = []
        found: Credential | None = None
        for source in self._sources:
            name = _name_of(source)
            try:
                found = source(registry)
            except SourceSkipped as skipped:
                trail.append((name, str(skipped)))
                continue
            if found is not None:
                trail.append((name, f"used: {found.describe()}"))
                break
            trail.append((name, "nothing for this registry"))
        result = Lookup(registry, found, tuple(trail))
        with self._lock:
            self._cache[registry] = result
        return result

    def resolve(self, registry: str) -> Credential | None:
        return self.lookup(registry).credential


EXPLICIT_SOURCE = "--username/--password-stdin"


def explicit_credential(registry: str, username: str | None, password: str | None) -> dict[str, Credential]:
    """The `explicit` mapping for default_chain from a username and password given by the caller."""
    if username is None and password is None:
        return {}
    return {registry: Credential(username or "", password or "", EXPLICIT_SOURCE)}


def default_chain(
    explicit: dict[str, Credential] | None = None, *, helper_timeout: float = DOCKER_HELPER_TIMEOUT
) -> CredentialChain:
    """Explicit credentials, DEVCONTAINERS_OCI_AUTH, keyring, Docker config, containers auth.json,
    GITHUB_TOKEN/GH_TOKEN (ghcr.io only); anonymous when none answers."""
    given = dict(explicit or {})

    def from_explicit(scope: str) -> Credential | None:
        return given.get(scope.partition("/")[0])

    return CredentialChain(
        [
            NamedSource(EXPLICIT_SOURCE, from_explicit),
            NamedSource("DEVCONTAINERS_OCI_AUTH", sources.from_devcontainers_oci_auth),
            NamedSource("featurepub keyring", sources.from_keyring),
            NamedSource("docker config", lambda r: sources.from_docker_config(r, helper_timeout=helper_timeout)),
            NamedSource(
                "containers auth.json", lambda r: sources.from_containers_auth(r, helper_timeout=helper_timeout)
            ),
            NamedSource("GITHUB_TOKEN/GH_TOKEN", sources.from_github_token),
        ]
    )
