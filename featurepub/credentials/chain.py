"""The credential chain: ask each source in order; the first that knows the host wins."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from featurepub.credentials import sources


@dataclass(frozen=True)
class Credential:
    """A username and secret for one registry, and which source supplied them."""

    username: str
    password: str = field(repr=False)
    source: str

    def __repr__(self) -> str:  # never show the secret, even in a debugger dump
        return f"Credential(username={self.username!r}, source={self.source!r})"


Source = Callable[[str], "Credential | None"]


class CredentialChain:
    def __init__(self, chain: Iterable[Source]) -> None:
        self._sources = list(chain)
        self._cache: dict[str, Credential | None] = {}

    def resolve(self, registry: str) -> Credential | None:
        if registry not in self._cache:
            self._cache[registry] = next(
                (found for source in self._sources if (found := source(registry)) is not None), None
            )
        return self._cache[registry]


def default_chain(explicit: dict[str, Credential] | None = None) -> CredentialChain:
    """Explicit credentials, then DEVCONTAINERS_OCI_AUTH, then Docker config `auths`."""
    given = dict(explicit or {})

    def from_explicit(registry: str) -> Credential | None:
        return given.get(registry)

    def from_env(registry: str) -> Credential | None:
        found = sources.devcontainers_oci_auth(registry)
        return Credential(found[0], found[1], "DEVCONTAINERS_OCI_AUTH") if found else None

    def from_docker(registry: str) -> Credential | None:
        found = sources.docker_config_auth(registry)
        return Credential(found[0], found[1], f"docker config {found[2]}") if found else None

    return CredentialChain([from_explicit, from_env, from_docker])
