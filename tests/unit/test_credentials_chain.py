"""The full credential chain: order, Docker-style key matching, credential helpers, keyring, containers
auth.json, GitHub tokens, the trail `auth status` shows, and secrets registered with the redactor."""

from __future__ import annotations

import ast
import base64
import json
import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from featurepub.credentials.chain import EXPLICIT_SOURCE, default_chain, explicit_credential
from featurepub.credentials.helpers import helper_get
from featurepub.credentials.sources import containers_auth_paths, from_docker_config, from_github_token
from featurepub.credentials.store import keyring_delete, keyring_get, keyring_set
from featurepub.credentials.types import Credential
from featurepub.errors import EXIT_AUTH, CredentialError
from featurepub.redact import redact
from tests.conftest import ROOT
from tests.support.credhelper import helper_calls, install_helper

HOST = "ghcr.io"
FILE_KEYRING = "tests.support.keyring_backend.FileKeyring"


def use_keyring(monkeypatch: pytest.MonkeyPatch, backend: str, path: Path | None = None) -> None:
    """Choose the keyring backend for this process (keyring caches its choice: make it choose again)."""
    import keyring.core

    monkeypatch.syspath_prepend(str(ROOT))
    monkeypatch.setenv("PYTHON_KEYRING_BACKEND", backend)
    if path is not None:
        monkeypatch.setenv("FEATUREPUB_TEST_KEYRING", str(path))
    keyring.core.init_backend()


@pytest.fixture(autouse=True)
def _fresh_keyring() -> Iterator[None]:
    import keyring.core

    keyring.core.init_backend()  # the null backend tests/conftest.py selects
    yield
    keyring.core.init_backend()


def b64(text: str) -> str:
    return base64.b64encode(text.encode()).decode()


@pytest.fixture
def everywhere(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> dict[str, Path]:
    """ghcr.io credentials in every source at once, each with its own user name."""
    use_keyring(monkeypatch, FILE_KEYRING, tmp_path / "keyring.json")
    keyring_set(HOST, "from-keyring", "kr-secret")
    monkeypatch.setenv("DEVCONTAINERS_OCI_AUTH", f"{HOST}|from-env|env-secret")
    docker = Path(os.environ["DOCKER_CONFIG"])
    docker.mkdir()
    (docker / "config.json").write_text(json.dumps({"auths": {HOST: {"auth": b64("from-docker:dk-secret")}}}))
    runtime = Path(os.environ["XDG_RUNTIME_DIR"]) / "containers"
    runtime.mkdir(parents=True)
    (runtime / "auth.json").write_text(json.dumps({"auths": {HOST: {"auth": b64("from-containers:ct-secret")}}}))
    monkeypatch.setenv("GITHUB_TOKEN", "gh-secret-token")
    return {"docker": docker / "config.json", "containers": runtime / "auth.json"}


def winner(explicit: bool = False) -> str:
    given = explicit_credential(HOST, "from-flag", "flag-secret") if explicit else None
    found = default_chain(given).resolve(HOST)
    return found.username if found else "anonymous"


def test_the_whole_order(everywhere: dict[str, Path], monkeypatch: pytest.MonkeyPatch) -> None:
    seen = [winner(explicit=True)]
    seen.append(winner())
    monkeypatch.delenv("DEVCONTAINERS_OCI_AUTH")
    seen.append(winner())
    keyring_delete(HOST)
    seen.append(winner())
    everywhere["docker"].unlink()
    seen.append(winner())
    everywhere["containers"].unlink()
    seen.append(winner())
    monkeypatch.delenv("GITHUB_TOKEN")
    seen.append(winner())
    assert seen == [
        "from-flag",
        "from-env",
        "from-keyring",
        "from-docker",
        "from-containers",
        "featurepub",  # GITHUB_TOKEN, with no GITHUB_ACTOR
        "anonymous",
    ]


def test_trail_names_every_source_asked_and_never_a_secret(everywhere: dict[str, Path]) -> None:
    lookup = default_chain().lookup(HOST)
    assert lookup.credential is not None
    assert lookup.describe() == f"{HOST}: credentials from DEVCONTAINERS_OCI_AUTH (user from-env)"
    assert [name for name, _ in lookup.trail] == [EXPLICIT_SOURCE, "DEVCONTAINERS_OCI_AUTH"]
    assert lookup.trail[0][1] == "nothing for this registry"
    assert "env-secret" not in repr(lookup)
    anonymous = default_chain().lookup("quay.io")
    assert anonymous.credential is None
    assert [name for name, _ in anonymous.trail][-1] == "GITHUB_TOKEN/GH_TOKEN"


def test_github_tokens_only_for_ghcr(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GH_TOKEN", "gh-cli-token")
    found = from_github_token("ghcr.io")
    assert found is not None
    assert (found.password, found.source) == ("gh-cli-token", "GH_TOKEN")
    monkeypatch.setenv("GITHUB_TOKEN", "actions-token")
    monkeypatch.setenv("GITHUB_ACTOR", "octocat")
    found = from_github_token("ghcr.io")
    assert found is not None
    assert (found.username, found.password, found.source) == ("octocat", "actions-token", "GITHUB_TOKEN")
    assert from_github_token("docker.io") is None
    assert from_github_token("ghcr.io.evil.example") is None


def test_containers_auth_paths(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "cfg"))
    runtime = os.environ["XDG_RUNTIME_DIR"]
    assert containers_auth_paths() == [
        Path(runtime) / "containers" / "auth.json",
        tmp_path / "cfg" / "containers" / "auth.json",
    ]
    monkeypatch.setenv("REGISTRY_AUTH_FILE", str(tmp_path / "only.json"))
    assert containers_auth_paths() == [tmp_path / "only.json"]


# --- the Docker config ---------------------------------------------------------------------------------


def write_config(config: object) -> Path:
    folder = Path(os.environ["DOCKER_CONFIG"])
    folder.mkdir(exist_ok=True)
    path = folder / "config.json"
    path.write_text(json.dumps(config))
    return path


def on_path(monkeypatch: pytest.MonkeyPatch, folder: Path) -> None:
    monkeypatch.setenv("PATH", f"{folder}{os.pathsep}{os.environ['PATH']}")


def test_cred_helpers_then_creds_store_then_auths(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    bin_dir = tmp_path / "bin"
    install_helper(bin_dir, "one", {"a.example": ("one-user", "one-secret")})
    install_helper(
        bin_dir, "store", {"a.example": ("store-user", "s"), "b.example": ("store-user", "store-secret")}
    )
    on_path(monkeypatch, bin_dir)
    path = write_config(
        {
            "credHelpers": {"a.example": "one", "c.example": "one"},
            "credsStore": "store",
            "auths": {"https://c.example/v1/": {"auth": b64("auths-user:auths-secret")}},
        }
    )
    a = from_docker_config("a.example", helper_timeout=10)
    b = from_docker_config("b.example", helper_timeout=10)
    c = from_docker_config("c.example", helper_timeout=10)
    assert a is not None
    assert b is not None
    assert c is not None
    assert (a.username, a.source) == ("one-user", f"docker config {path} (credHelpers: one)")
    assert (b.username, b.source) == ("store-user", f"docker config {path} (credsStore: store)")
    # Neither helper knows c.example ("credentials not found"): the auths entry answers.
    assert (c.username, c.password) == ("auths-user", "auths-secret")
    assert from_docker_config("d.example", helper_timeout=10) is None
    assert helper_calls(bin_dir, "one") == [["get", "a.example"], ["get", "c.example"]]


def test_docker_hub_is_asked_for_by_its_index_url(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    install_helper(tmp_path / "bin", "desktop", {"https://index.docker.io/v1/": ("hub-user", "hub-secret")})
    on_path(monkeypatch, tmp_path / "bin")
    write_config({"credsStore": "desktop"})
    found = from_docker_config("docker.io", helper_timeout=10)
    assert found is not None
    assert found.username == "hub-user"


def test_identity_tokens(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    install_helper(tmp_path / "bin", "acr", {"b.azurecr.io": ("<token>", "refresh-from-helper")})
    on_path(monkeypatch, tmp_path / "bin")
    zero = "00000000-0000-0000-0000-000000000000"
    write_config(
        {
            "credHelpers": {"b.azurecr.io": "acr"},
            "auths": {"a.azurecr.io": {"auth": b64(f"{zero}:"), "identitytoken": "refresh-from-config"}},
        }
    )
    a = from_docker_config("a.azurecr.io", helper_timeout=10)
    b = from_docker_config("b.azurecr.io", helper_timeout=10)
    assert a == Credential(zero, "refresh-from-config", a.source if a else "", identity_token=True)
    assert b is not None
    assert (b.identity_token, b.password) == (True, "refresh-from-helper")
    assert b.describe().endswith("(an identity token)")


def test_unreadable_config_is_skipped_with_a_reason() -> None:
    path = write_config({})
    path.write_text("{broken")
    lookup = default_chain().lookup("quay.io")
    assert lookup.credential is None
    assert ("docker config", f"{path} is unreadable (JSONDecodeError), skipped") in lookup.trail


def test_non_ascii_auth_entry_does_not_crash_the_chain() -> None:
    write_config({"auths": {"quay.io": {"auth": "é"}}})
    assert default_chain().resolve("quay.io") is None


# --- credential helpers ----------------------------------------------------------------------------------


def test_missing_helper(tmp_path: Path) -> None:
    with pytest.raises(CredentialError) as info:
        helper_get("not-installed-here", "x.example", timeout=5, origin="the test")
    assert info.value.exit_code == EXIT_AUTH
    assert "docker-credential-not-installed-here is not on PATH (named in the test)" in str(info.value)


def test_helper_that_hangs_is_stopped(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    install_helper(tmp_path / "bin", "slow", {"x.example": ("u", "p")}, sleep=5)
    on_path(monkeypatch, tmp_path / "bin")
    with pytest.raises(CredentialError, match=r"did not answer within 0\.5 s"):
        helper_get("slow", "x.example", timeout=0.5, origin="the test")


def test_helper_failure_and_garbage(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    install_helper(tmp_path / "bin", "broken", {}, fail="cannot reach the vault with password hunter2-vault")
    on_path(monkeypatch, tmp_path / "bin")
    Credential("vault", "hunter2-vault", "test")  # a secret featurepub knows is hidden even in a helper's words
    with pytest.raises(CredentialError) as info:
        helper_get("broken", "x.example", timeout=5, origin="the test")
    assert "failed for x.example (exit 2)" in str(info.value)
    assert "hunter2-vault" not in str(info.value)
    garbage = tmp_path / "bin" / "docker-credential-garbage"
    garbage.write_text("#!/bin/sh\necho not json\n")
    garbage.chmod(0o755)
    with pytest.raises(CredentialError, match="not its JSON"):
        helper_get("garbage", "x.example", timeout=5, origin="the test")


# --- keyring ---------------------------------------------------------------------------------------------


def test_keyring_round_trip_and_missing_backend(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    use_keyring(monkeypatch, FILE_KEYRING, tmp_path / "k.json")
    assert keyring_get("r.example") is None
    assert keyring_set("r.example", "me", "kr-pass-1").endswith("FileKeyring")
    assert keyring_get("r.example") == Credential("me", "kr-pass-1", "featurepub keyring")
    assert keyring_delete("r.example") is True
    assert keyring_delete("r.example") is False
    use_keyring(monkeypatch, "keyring.backends.fail.Keyring")
    with pytest.raises(CredentialError) as info:
        keyring_set("r.example", "me", "kr-pass-1")
    assert info.value.hint is not None
    assert "DEVCONTAINERS_OCI_AUTH" in info.value.hint
    # A registry nobody logged in to is not even looked up (no backend is loaded for it) ...
    lookup = default_chain().lookup("r.example")
    assert ("featurepub keyring", "nothing for this registry") in lookup.trail
    # ... one that was is, and a missing backend is said.
    index = tmp_path / "xdg" / "featurepub" / "keyring-hosts.json"
    index.parent.mkdir(parents=True)
    index.write_text('["r.example"]')
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "xdg"))
    lookup = default_chain().lookup("r.example")
    assert ("featurepub keyring", "no keyring backend is available") in lookup.trail
    monkeypatch.setenv("FEATUREPUB_NO_KEYRING", "1")
    assert ("featurepub keyring", "disabled by FEATUREPUB_NO_KEYRING") in default_chain().lookup("r.example").trail


# --- secrets are known to the redactor --------------------------------------------------------------------


def test_every_credential_is_registered_with_the_redactor() -> None:
    Credential("someone", "pa55-word-xyz", "test")
    assert redact("it was pa55-word-xyz") == "it was ***"
    assert b64("someone:pa55-word-xyz") not in redact(f"header {b64('someone:pa55-word-xyz')}")


# --- the package's own layering ------------------------------------------------------------------------


def credentials_imports() -> dict[str, set[str]]:
    """For each module of featurepub.credentials, the package's modules it imports (anywhere in it)."""
    folder = ROOT / "featurepub" / "credentials"
    modules = {path.stem for path in folder.glob("*.py")} - {"__init__"}
    graph: dict[str, set[str]] = {}
    for name in modules:
        tree = ast.parse((folder / f"{name}.py").read_text(encoding="utf-8"))
        found: set[str] = set()
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom) and node.module == "featurepub.credentials":
                found |= {alias.name for alias in node.names if alias.name in modules}
            elif isinstance(node, ast.ImportFrom) and (node.module or "").startswith("featurepub.credentials."):
                found.add((node.module or "").rsplit(".", 1)[1])
        graph[name] = found
    return graph


def test_credential_modules_import_each_other_without_a_cycle() -> None:
    graph = credentials_imports()
    assert graph["types"] == set()  # the shared types depend on nothing else here
    assert "chain" not in graph["sources"] | graph["store"] | graph["helpers"]
    ordered: list[str] = []
    while len(ordered) < len(graph):
        ready = sorted(m for m, deps in graph.items() if m not in ordered and deps <= set(ordered))
        assert ready, f"import cycle among {sorted(set(graph) - set(ordered))}"
        ordered += ready


# --- a registry with a path: the most specific key -------------------------------------------------------

FEED = "my-registry.com/features-feed"


def user(scope: str, given: dict[str, Credential] | None = None) -> str:
    found = default_chain(given).resolve(scope)
    return found.username if found else "anonymous"


@pytest.mark.parametrize(
    ("key", "scope", "rank"),
    [
        ("my-registry.com", f"{FEED}/ns", 0),
        ("https://my-registry.com/v2/", f"{FEED}/ns", 0),  # a URL's path is an API path
        (FEED, f"{FEED}/ns", 1),
        (f"{FEED}/ns", f"{FEED}/ns", 2),
        (f"{FEED}/ns/tool", f"{FEED}/ns", None),  # more specific than the scope: another repository
        ("my-registry.com/features", f"{FEED}/ns", None),  # a prefix of a name is not a path
        ("MY-REGISTRY.COM/Features-Feed", f"{FEED}/ns", 1),
        ("other.com/features-feed", f"{FEED}/ns", None),
        ("docker.io/library", "docker.io/library/node", 1),
        ("https://index.docker.io/v1/", "docker.io/library/node", 0),
    ],
)
def test_key_specificity(key: str, scope: str, rank: int | None) -> None:
    from featurepub.credentials.sources import key_specificity

    assert key_specificity(key, scope) == rank


def write_auth(path: Path, keys: dict[str, str]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps({"auths": {k: {"auth": b64(f"{user}:{user}-pw")} for k, user in keys.items()}}))


def test_every_source_keyed_by_registry_takes_its_most_specific_key(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """containers-auth.json(5), FORMAT: "the relevant repository is matched against available keys in its
    hierarchical order, going from most-specific to least-specific"; keys in any order in the file."""
    scope = f"{FEED}/ns"
    monkeypatch.setenv(
        "DEVCONTAINERS_OCI_AUTH", f"my-registry.com|env-host|p,{FEED}|env-feed|p,my-registry.com/other|env-other|p"
    )
    assert user(scope) == "env-feed"
    assert user("my-registry.com/other/ns") == "env-other"
    assert user("my-registry.com/else") == "env-host"
    monkeypatch.delenv("DEVCONTAINERS_OCI_AUTH")
    docker = Path(os.environ["DOCKER_CONFIG"]) / "config.json"
    write_auth(docker, {f"{FEED}": "docker-feed", "my-registry.com": "docker-host", f"{FEED}/ns": "docker-ns"})
    assert user(scope) == "docker-ns"
    assert user(f"{FEED}/other") == "docker-feed"
    docker.unlink()
    containers = Path(os.environ["XDG_RUNTIME_DIR"]) / "containers" / "auth.json"
    write_auth(containers, {"my-registry.com": "podman-host", FEED: "podman-feed"})
    found = default_chain().lookup(scope)
    assert found.credential is not None and found.credential.username == "podman-feed"
    assert f"({FEED})" in found.credential.source  # the key that matched is named
    assert found.describe().startswith("my-registry.com: credentials from containers auth")
    containers.unlink()
    use_keyring(monkeypatch, FILE_KEYRING, tmp_path / "keyring.json")
    keyring_set("my-registry.com", "kr-host", "s1")
    keyring_set(FEED, "kr-feed", "s2")
    assert user(scope) == "kr-feed"
    assert user("my-registry.com/x") == "kr-host"
    # Explicit credentials (--username) are for the registry as a whole.
    given = explicit_credential("my-registry.com", "flag-user", "flag-pw")
    assert user(scope, given) == "flag-user"


def test_cred_helpers_keyed_by_path(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    bin_dir = tmp_path / "bin"
    install_helper(bin_dir, "feed", {FEED: ("helper-feed", "hs")})
    install_helper(bin_dir, "whole", {"my-registry.com": ("helper-host", "hs")})
    monkeypatch.setenv("PATH", f"{bin_dir}{os.pathsep}{os.environ['PATH']}")
    config = {"credHelpers": {"my-registry.com": "whole", FEED: "feed"}}
    docker = Path(os.environ["DOCKER_CONFIG"])
    docker.mkdir()
    (docker / "config.json").write_text(json.dumps(config))
    assert user(f"{FEED}/ns") == "helper-feed"
    assert user("my-registry.com/x/ns") == "helper-host"
