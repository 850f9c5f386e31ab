"""Fixtures for the credential, TLS and redaction tests: registries over TLS (test CA) with
htpasswd Basic auth and with token auth, a plain htpasswd registry, and the secrets they accept."""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.support.registry import RegistryServer
from tests.support.secure import Secure, start_secure, stop_secure, write_htpasswd


@dataclass(frozen=True)
class Accounts:
    user: str
    password: str
    ecr_token: str  # the password of user AWS, as `aws ecr get-login-password` prints one
    refresh_token: str  # an identity token (ACR's refresh token) the token server accepts
    github_token: str
    github_actor: str

    def all_secrets(self) -> list[str]:
        return [self.password, self.ecr_token, self.refresh_token, self.github_token]


@pytest.fixture(scope="session")
def accounts() -> Accounts:
    return Accounts(
        user="alice",
        password="pw-" + secrets.token_urlsafe(16),
        ecr_token="ecr-" + secrets.token_urlsafe(40),
        refresh_token="idt-" + secrets.token_urlsafe(24),
        github_token="ghs_" + secrets.token_urlsafe(24),
        github_actor="octo-actor",
    )


@pytest.fixture(scope="session")
def secure(tmp_path_factory: pytest.TempPathFactory, accounts: Accounts) -> Iterator[Secure]:
    users = {
        accounts.user: accounts.password,
        "AWS": accounts.ecr_token,
        accounts.github_actor: accounts.github_token,
    }
    started = start_secure(tmp_path_factory.mktemp("secure"), users)
    started.tokens.refresh_tokens[accounts.refresh_token] = "acr-user"
    yield started
    stop_secure(started)


@pytest.fixture(scope="session")
def plain_basic(tmp_path_factory: pytest.TempPathFactory, accounts: Accounts) -> Iterator[RegistryServer]:
    """htpasswd Basic auth over plain HTTP, so the test proxy (plain HTTP) can stand in front of it."""
    root = tmp_path_factory.mktemp("plain-basic")
    server = RegistryServer(root, htpasswd=write_htpasswd(root / "htpasswd", {accounts.user: accounts.password}))
    server.start()
    yield server
    server.stop()


def write_feature(root: Path) -> Path:
    folder = root / "src" / "tool"
    folder.mkdir(parents=True)
    (folder / "devcontainer-feature.json").write_text('{"id": "tool", "version": "1.0.0", "name": "Tool"}')
    (folder / "install.sh").write_text("#!/bin/sh\necho tool\n")
    return root
