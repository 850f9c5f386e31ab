"""What every credential source and the chain share: the Credential itself, and how a source says
it had nothing to offer. Its own module so the chain, the sources and the keyring store can all
import it without importing each other."""

from __future__ import annotations

from dataclasses import dataclass, field

from featurepub.redact import register_credential


@dataclass(frozen=True)
class Credential:
    """A username and secret for one registry, and which source supplied them.

    With `identity_token` the secret is an OAuth2 refresh token (Docker config
    `identitytoken`, a helper's `<token>` user): it is exchanged at the registry's token
    endpoint with `grant_type=refresh_token` (Azure ACR, and registries like it).
    """

    username: str
    password: str = field(repr=False)
    source: str
    identity_token: bool = False

    def __post_init__(self) -> None:
        # Every secret featurepub holds is known to the redactor before it can reach a message.
        register_credential(self.username, self.password)

    def __repr__(self) -> str:  # never show the secret, even in a debugger dump
        return f"Credential(username={self.username!r}, source={self.source!r})"

    def describe(self) -> str:
        """Where the credentials came from, and for whom: safe to print."""
        who = "an identity token" if self.identity_token else f"user {self.username}"
        return f"{self.source} ({who})"


class SourceSkipped(Exception):
    """Raised by a source that has nothing to offer and wants to say why (e.g. no keyring backend)."""
