"""Basic auth against the real registry (htpasswd) and Bearer tokens through a token-server proxy."""

from __future__ import annotations

import base64
import json
import secrets
from collections.abc import Callable, Iterator
from pathlib import Path

import bcrypt
import pytest

from tests.integration.conftest import write_feature
from tests.support.proxy import RegistryProxy
from tests.support.publishing import featurepub, tag_digest
from tests.support.registry import RegistryServer
from tests.support.rules import BearerTokenServer

USER = "alice"
PASSWORD = "s3cret-" + secrets.token_hex(8)


@pytest.fixture(scope="module")
def basic_registry(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RegistryServer]:
    root = tmp_path_factory.mktemp("basic-registry")
    htpasswd = root / "htpasswd"
    # A low bcrypt cost keeps each authenticated request fast.
    hashed = bcrypt.hashpw(PASSWORD.encode(), bcrypt.gensalt(rounds=4)).decode()
    htpasswd.write_text(f"{USER}:{hashed}\n")
    server = RegistryServer(root, htpasswd=htpasswd).start()
    yield server
    server.stop()


def test_basic_auth_from_devcontainers_oci_auth(
    basic_registry: RegistryServer, tmp_path: Path, namespace: str
) -> None:
    env = {"DEVCONTAINERS_OCI_AUTH": f"{basic_registry.host}|{USER}|{PASSWORD}"}
    run = featurepub("publish", write_feature(tmp_path), "-r", basic_registry.host, "-n", namespace, "-v", env=env)
    assert run.code == 0, run.stderr
    assert run.json["tool"]["version"] == "1.0.0"
    assert PASSWORD not in run.stdout + run.stderr


def test_basic_auth_from_docker_config(
    basic_registry: RegistryServer, tmp_path: Path, namespace: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    config_dir = tmp_path / "docker"
    config_dir.mkdir()
    auth = base64.b64encode(f"{USER}:{PASSWORD}".encode()).decode()
    (config_dir / "config.json").write_text(
        json.dumps({"auths": {f"http://{basic_registry.host}/v2/": {"auth": auth}}})
    )
    run = featurepub(
        "publish",
        write_feature(tmp_path),
        "-r",
        basic_registry.host,
        "-n",
        namespace,
        env={"DOCKER_CONFIG": str(config_dir)},
    )
    assert run.code == 0, run.stderr


def test_wrong_password_is_refused_clearly(basic_registry: RegistryServer, tmp_path: Path, namespace: str) -> None:
    wrong = "not-the-password-" + secrets.token_hex(4)
    env = {"DEVCONTAINERS_OCI_AUTH": f"{basic_registry.host}|{USER}|{wrong}"}
    run = featurepub(
        "publish", write_feature(tmp_path), "-r", basic_registry.host, "-n", namespace, "-v", "--json", env=env
    )
    assert run.code == 3  # credentials refused; the report says what was not published
    assert run.features["tool"]["status"] == "failed"
    assert "refused the credentials from DEVCONTAINERS_OCI_AUTH" in run.stderr
    assert basic_registry.host in run.stderr
    assert wrong not in run.stdout + run.stderr


def test_missing_credentials_say_where_to_put_them(
    basic_registry: RegistryServer, tmp_path: Path, namespace: str
) -> None:
    run = featurepub("publish", write_feature(tmp_path), "-r", basic_registry.host, "-n", namespace)
    assert run.code == 3
    assert "DEVCONTAINERS_OCI_AUTH" in run.stderr
    assert "HTTP 401" in run.stderr


@pytest.mark.parametrize("token_key", ["token", "access_token"])
def test_bearer_token_flow(
    token_key: str,
    registry: RegistryServer,
    make_proxy: Callable[..., RegistryProxy],
    tmp_path: Path,
    namespace: str,
) -> None:
    server = BearerTokenServer(USER, PASSWORD, token_key=token_key)
    proxy = make_proxy(server)
    server.realm = f"http://{proxy.host}/token"
    env = {"DEVCONTAINERS_OCI_AUTH": f"{proxy.host}|{USER}|{PASSWORD}"}
    run = featurepub("publish", write_feature(tmp_path), "-r", proxy.host, "-n", namespace, "-v", env=env)
    assert run.code == 0, run.stderr
    assert tag_digest(registry.url, f"{namespace}/tool", "1.0.0") == run.json["tool"]["digest"]
    # One token per repository (the feature's and the collection's), asked for push up front; features
    # publish concurrently and the collection is read first, so the order is not fixed.
    # (and one for the catalog, which names no repository)
    assert sorted(server.token_requests) == [
        "",
        f"repository:{namespace}/tool:pull,push",
        f"repository:{namespace}:pull,push",
    ]
    tokens = list(server.tokens)
    assert all(token not in run.stdout + run.stderr for token in tokens)
    assert PASSWORD not in run.stdout + run.stderr


def test_bearer_token_refused(make_proxy: Callable[..., RegistryProxy], tmp_path: Path, namespace: str) -> None:
    server = BearerTokenServer(USER, PASSWORD)
    proxy = make_proxy(server)
    server.realm = f"http://{proxy.host}/token"
    env = {"DEVCONTAINERS_OCI_AUTH": f"{proxy.host}|{USER}|wrong"}
    run = featurepub("publish", write_feature(tmp_path), "-r", proxy.host, "-n", namespace, env=env)
    assert run.code == 3
    assert "token endpoint refused the credentials (HTTP 401)" in run.stderr
