"""featurepub.credentials: DEVCONTAINERS_OCI_AUTH, Docker config `auths`, and the chain."""

from __future__ import annotations

import base64
import json
from pathlib import Path
from typing import Any

import pytest

from featurepub.credentials import Credential, CredentialChain, default_chain
from featurepub.credentials.sources import (
    devcontainers_oci_auth,
    docker_config_auth,
    docker_config_path,
    normalise_key,
)


@pytest.fixture(autouse=True)
def _clean_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.delenv("DEVCONTAINERS_OCI_AUTH", raising=False)
    monkeypatch.delenv("DOCKER_CONFIG", raising=False)
    home = tmp_path / "home"
    home.mkdir()
    monkeypatch.setenv("HOME", str(home))


def write_docker_config(folder: Path, config: Any) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "config.json"
    path.write_text(json.dumps(config) if not isinstance(config, str) else config, encoding="utf-8")
    return path


def b64(text: str) -> str:
    return base64.b64encode(text.encode()).decode()


# --- DEVCONTAINERS_OCI_AUTH ------------------------------------------------------------------------------


def test_oci_auth_several_entries(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(
        "DEVCONTAINERS_OCI_AUTH", "ghcr.io|octocat|ghp_token, localhost:5000|admin|pa|ss|word ,bad-entry,x|y"
    )
    assert devcontainers_oci_auth("ghcr.io") == ("octocat", "ghp_token")
    assert devcontainers_oci_auth("localhost:5000") == ("admin", "pa|ss|word")  # '|' in the password kept
    assert devcontainers_oci_auth("bad-entry") is None
    assert devcontainers_oci_auth("x") is None
    assert devcontainers_oci_auth("quay.io") is None


def test_oci_auth_unset_or_empty(monkeypatch: pytest.MonkeyPatch) -> None:
    assert devcontainers_oci_auth("ghcr.io") is None
    monkeypatch.setenv("DEVCONTAINERS_OCI_AUTH", "")
    assert devcontainers_oci_auth("ghcr.io") is None


def test_oci_auth_first_matching_entry_wins(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DEVCONTAINERS_OCI_AUTH", "ghcr.io|first|1,ghcr.io|second|2")
    assert devcontainers_oci_auth("ghcr.io") == ("first", "1")


def test_oci_auth_host_keys_are_normalised(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DEVCONTAINERS_OCI_AUTH", "https://GHCR.io/|u|p,index.docker.io|hub|pw")
    assert devcontainers_oci_auth("ghcr.io") == ("u", "p")
    assert devcontainers_oci_auth("docker.io") == ("hub", "pw")


# --- key normalisation -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("key", "expected"),
    [
        ("https://index.docker.io/v1/", "docker.io"),
        ("https://index.docker.io/v1", "docker.io"),
        ("index.docker.io", "docker.io"),
        ("registry-1.docker.io", "docker.io"),
        ("docker.io", "docker.io"),
        ("https://registry-1.docker.io/v2/", "docker.io"),
        ("ghcr.io", "ghcr.io"),
        ("https://ghcr.io", "ghcr.io"),
        ("http://ghcr.io/v2/", "ghcr.io"),
        ("GHCR.IO", "ghcr.io"),
        ("localhost:5000", "localhost:5000"),
        ("http://localhost:5000/some/path", "localhost:5000"),
        ("123.dkr.ecr.eu-west-1.amazonaws.com", "123.dkr.ecr.eu-west-1.amazonaws.com"),
    ],
)
def test_normalise_key(key: str, expected: str) -> None:
    assert normalise_key(key) == expected


# --- Docker config ---------------------------------------------------------------------------------------


def test_docker_config_path_respects_docker_config(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    assert docker_config_path() == tmp_path / "home" / ".docker" / "config.json"
    monkeypatch.setenv("DOCKER_CONFIG", str(tmp_path / "elsewhere"))
    assert docker_config_path() == tmp_path / "elsewhere" / "config.json"


def test_docker_config_auth_field(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    path = write_docker_config(
        tmp_path / "dc",
        {
            "auths": {
                "https://index.docker.io/v1/": {"auth": b64("hubuser:hub:pass")},
                "ghcr.io": {"auth": b64("octo:ghp_x")},
            },
            "credsStore": "desktop",
        },
    )
    monkeypatch.setenv("DOCKER_CONFIG", str(tmp_path / "dc"))
    assert docker_config_auth("docker.io") == ("hubuser", "hub:pass", f"{path} (https://index.docker.io/v1/)")
    assert docker_config_auth("ghcr.io") == ("octo", "ghp_x", f"{path} (ghcr.io)")
    assert docker_config_auth("quay.io") is None


def test_docker_config_username_password(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    write_docker_config(
        tmp_path / "dc", {"auths": {"https://localhost:5000/v2/": {"username": "u", "password": "p"}}}
    )
    monkeypatch.setenv("DOCKER_CONFIG", str(tmp_path / "dc"))
    found = docker_config_auth("localhost:5000")
    assert found is not None
    assert found[:2] == ("u", "p")


def test_docker_config_in_home(tmp_path: Path) -> None:
    write_docker_config(tmp_path / "home" / ".docker", {"auths": {"ghcr.io": {"auth": b64("a:b")}}})
    found = docker_config_auth("ghcr.io")
    assert found is not None
    assert found[:2] == ("a", "b")


def test_docker_config_env_wins_over_home(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    write_docker_config(tmp_path / "home" / ".docker", {"auths": {"ghcr.io": {"auth": b64("home:1")}}})
    write_docker_config(tmp_path / "env", {"auths": {}})
    monkeypatch.setenv("DOCKER_CONFIG", str(tmp_path / "env"))
    assert docker_config_auth("ghcr.io") is None


@pytest.mark.parametrize(
    "entry",
    [
        {"auth": b64("no-colon")},
        {"auth": "!!!not base64"},
        {"auth": base64.b64encode(b"\xff\xfe:x").decode()},
        {"auth": ""},
        {"username": "u"},
        {"username": "u", "password": ""},
        {"identitytoken": "tok"},
        {},
        "not an object",
        None,
    ],
)
def test_unusable_entries_are_skipped(monkeypatch: pytest.MonkeyPatch, tmp_path: Path, entry: Any) -> None:
    write_docker_config(tmp_path / "dc", {"auths": {"ghcr.io": entry}})
    monkeypatch.setenv("DOCKER_CONFIG", str(tmp_path / "dc"))
    assert docker_config_auth("ghcr.io") is None


def test_non_ascii_auth_entry_is_skipped(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    write_docker_config(tmp_path / "dc", {"auths": {"ghcr.io": {"auth": "é"}}})
    monkeypatch.setenv("DOCKER_CONFIG", str(tmp_path / "dc"))
    assert docker_config_auth("ghcr.io") is None


def test_later_valid_entry_for_the_same_host_is_used(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    write_docker_config(
        tmp_path / "dc", {"auths": {"ghcr.io": {"auth": "!!!"}, "https://ghcr.io": {"auth": b64("ok:yes")}}}
    )
    monkeypatch.setenv("DOCKER_CONFIG", str(tmp_path / "dc"))
    found = docker_config_auth("ghcr.io")
    assert found is not None
    assert found[:2] == ("ok", "yes")


@pytest.mark.parametrize("content", ["{not json", "[]", '{"auths": []}', '{"auths": null}', '"x"', ""])
def test_broken_config_files_give_nothing(monkeypatch: pytest.MonkeyPatch, tmp_path: Path, content: str) -> None:
    write_docker_config(tmp_path / "dc", content)
    monkeypatch.setenv("DOCKER_CONFIG", str(tmp_path / "dc"))
    assert docker_config_auth("ghcr.io") is None


def test_missing_config_gives_nothing(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("DOCKER_CONFIG", str(tmp_path / "nope"))
    assert docker_config_auth("ghcr.io") is None


# --- the chain -------------------------------------------------------------------------------------------


def test_credential_repr_hides_the_password() -> None:
    credential = Credential("octocat", "hunter2-secret", "test")
    for text in (repr(credential), str(credential), f"{credential!r}", repr([credential])):
        assert "hunter2-secret" not in text
        assert "octocat" in text


def test_chain_order_explicit_then_env_then_docker(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    write_docker_config(
        tmp_path / "dc",
        {
            "auths": {
                "ghcr.io": {"auth": b64("docker:1")},
                "quay.io": {"auth": b64("docker:2")},
                "a.io": {"auth": b64("d:3")},
            }
        },
    )
    monkeypatch.setenv("DOCKER_CONFIG", str(tmp_path / "dc"))
    monkeypatch.setenv("DEVCONTAINERS_OCI_AUTH", "ghcr.io|env|1,quay.io|env|2")
    chain = default_chain({"ghcr.io": Credential("explicit", "0", "flag")})
    assert chain.resolve("ghcr.io") == Credential("explicit", "0", "flag")
    quay = chain.resolve("quay.io")
    assert quay is not None
    assert (quay.username, quay.password, quay.source) == ("env", "2", "DEVCONTAINERS_OCI_AUTH")
    other = chain.resolve("a.io")
    assert other is not None
    assert (other.username, other.password) == ("d", "3")
    assert other.source.startswith("docker config ")
    assert chain.resolve("nowhere.example") is None


def test_chain_caches_per_registry() -> None:
    calls: list[str] = []

    def source(registry: str) -> Credential | None:
        calls.append(registry)
        return Credential("u", "p", "s") if registry == "a" else None

    chain = CredentialChain([source])
    assert chain.resolve("a") == chain.resolve("a")
    assert chain.resolve("b") is None
    assert chain.resolve("b") is None
    assert calls == ["a", "b"]
