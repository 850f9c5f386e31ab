"""TLS and credentials around the real registry: a test CA (trustme), registries over TLS with
htpasswd Basic auth and with token (Bearer JWT) auth, and ways to read back what was pushed."""

from __future__ import annotations

import base64
import socket
import ssl
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import bcrypt
import httpx
import pytest
import trustme

from featurepub.oci import mediatypes
from tests.support.registry import RegistryServer, TokenAuth
from tests.support.tokenserver import ISSUER, SERVICE, TokenServer


@dataclass
class Pki:
    ca_file: Path  # the test CA's certificate: what --ca-file is given
    cert_chain: Path  # server certificate + chain, for localhost, 127.0.0.1 and ghcr.io
    key: Path

    @classmethod
    def create(cls, folder: Path) -> Pki:
        folder.mkdir(parents=True, exist_ok=True)
        ca = trustme.CA(organization_name="featurepub test CA")
        server = ca.issue_cert("localhost", "127.0.0.1", "ghcr.io")
        pki = cls(folder / "ca.pem", folder / "server-chain.pem", folder / "server.key")
        ca.cert_pem.write_to_path(str(pki.ca_file))
        pki.cert_chain.write_bytes(b"".join(blob.bytes() for blob in server.cert_chain_pems))
        server.private_key_pem.write_to_path(str(pki.key))
        return pki

    def client_context(self) -> ssl.SSLContext:
        return ssl.create_default_context(cafile=str(self.ca_file))


def write_htpasswd(path: Path, users: dict[str, str]) -> Path:
    # A low bcrypt cost keeps each authenticated request fast.
    lines = [f"{u}:{bcrypt.hashpw(p.encode(), bcrypt.gensalt(rounds=4)).decode()}" for u, p in users.items()]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


@dataclass
class Secure:
    pki: Pki
    basic: RegistryServer  # TLS + htpasswd
    token: RegistryServer  # TLS + token auth
    tokens: TokenServer


def start_secure(root: Path, users: dict[str, str]) -> Secure:
    pki = Pki.create(root / "pki")
    basic_root = root / "basic"
    basic_root.mkdir()
    basic = RegistryServer(
        basic_root, htpasswd=write_htpasswd(root / "htpasswd", users), tls=(pki.cert_chain, pki.key)
    ).start()
    tokens = TokenServer(users=dict(users)).start(pki.cert_chain, pki.key)
    token_root = root / "token"
    token_root.mkdir()
    auth = TokenAuth(tokens.realm, SERVICE, ISSUER, tokens.write_bundle(root / "token-bundle.pem"))
    token = RegistryServer(token_root, token=auth, tls=(pki.cert_chain, pki.key)).start()
    return Secure(pki, basic, token, tokens)


def stop_secure(secure: Secure) -> None:
    secure.basic.stop()
    secure.token.stop()
    secure.tokens.stop()


def basic_digest(secure: Secure, user: str, password: str, repository: str, tag: str) -> str | None:
    """What a tag points at on the Basic-auth registry, read without featurepub."""
    auth = "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()
    return _head(secure, secure.basic, repository, tag, auth)


def token_digest(secure: Secure, repository: str, tag: str) -> str | None:
    """What a tag points at on the token-auth registry, with a token minted for the test itself."""
    token = secure.tokens.mint("test-reader", [f"repository:{repository}:pull"])
    return _head(secure, secure.token, repository, tag, f"Bearer {token}")


def _head(secure: Secure, server: RegistryServer, repository: str, tag: str, auth: str) -> str | None:
    response = httpx.head(
        f"{server.url}/v2/{repository}/manifests/{tag}",
        headers={"Accept": mediatypes.MANIFEST_ACCEPT, "Authorization": auth},
        verify=secure.pki.client_context(),
        trust_env=False,  # a test's proxy variables are for featurepub, not for this check
    )
    if response.status_code == 404:
        return None
    response.raise_for_status()
    return response.headers["Docker-Content-Digest"]


_LOCAL_NAMES = {"localhost", "127.0.0.1", "::1"}


@contextmanager
def loopback_only(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """In this process, refuse any name lookup or connection that is not loopback: a test that names
    ghcr.io can only ever reach it through a local proxy."""
    real_getaddrinfo = socket.getaddrinfo
    real_create_connection = socket.create_connection

    def getaddrinfo(host: object, *args: object, **kwargs: object) -> object:
        name = host.decode() if isinstance(host, bytes) else str(host)
        if name not in _LOCAL_NAMES and not name.startswith("127."):
            raise socket.gaierror(f"test guard: no lookup of {name!r}")
        return real_getaddrinfo(host, *args, **kwargs)  # type: ignore[arg-type]

    def create_connection(address: tuple[str, int], *args: object, **kwargs: object) -> socket.socket:
        if address[0] not in _LOCAL_NAMES and not str(address[0]).startswith("127."):
            raise OSError(f"test guard: no connection to {address[0]!r}")
        return real_create_connection(address, *args, **kwargs)  # type: ignore[arg-type]

    with monkeypatch.context() as patch:
        patch.setattr(socket, "getaddrinfo", getaddrinfo)
        patch.setattr(socket, "create_connection", create_connection)
        yield
