"""featurepub login without a keyring: credentials kept in the Docker config the way `docker login`
writes them (a helper it names, else base64 in `auths`), the rest of the file untouched, and
`featurepub logout` removing them from the same place."""

from __future__ import annotations

import base64
import errno
import json
import os
import stat
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from featurepub import accounts
from featurepub.credentials.chain import default_chain
from featurepub.credentials.docker_login import remove, store
from featurepub.credentials.sources import from_docker_config
from featurepub.credentials.types import Credential
from featurepub.errors import EXIT_AUTH, CredentialError, InputError
from tests.conftest import ROOT
from tests.support.credhelper import helper_calls, helper_entries, install_helper

HOST = "registry.example:5000"
TIMEOUT = 10.0

# Fields docker itself writes, one it does not know, and text outside ASCII: all must survive a login.
OTHER_FIELDS: dict[str, Any] = {
    "auths": {"other.example": {"auth": base64.b64encode(b"x:y").decode()}, "quay.io": {"identitytoken": "t-1"}},
    "HttpHeaders": {"X-Meta": "é"},
    "psFormat": "table {{.ID}}\t{{.Names}}",
    "proxies": {"default": {"httpProxy": "http://proxy.example:3128", "noProxy": "localhost"}},
    "currentContext": "remote",
    "x-not-docker": {"kept": [1, 2.5, None, True, "ü"]},
}


def b64(text: str) -> str:
    return base64.b64encode(text.encode()).decode()


@pytest.fixture
def config_path() -> Path:
    return Path(os.environ["DOCKER_CONFIG"]) / "config.json"  # a fresh folder per test, not yet created


@pytest.fixture(autouse=True)
def _fresh_keyring() -> Iterator[None]:
    import keyring.core

    keyring.core.init_backend()  # the null backend tests/conftest.py selects: "no keyring"
    yield
    keyring.core.init_backend()


def write(path: Path, config: Any, mode: int = 0o644) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(config, indent=2), encoding="utf-8")
    path.chmod(mode)


def read(path: Path) -> Any:
    return json.loads(path.read_text(encoding="utf-8"))


def mode_of(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def found(registry: str = HOST) -> Credential | None:
    return from_docker_config(registry, helper_timeout=TIMEOUT)


# --- auths: where and how ------------------------------------------------------------------------------


def test_a_missing_config_is_created_private(config_path: Path) -> None:
    stored = store(HOST, "alice", "pw-1234", helper_timeout=TIMEOUT)
    assert stored.path == config_path
    assert stored.helper is None
    assert read(config_path) == {"auths": {HOST: {"auth": b64("alice:pw-1234")}}}
    assert mode_of(config_path) == 0o600
    assert mode_of(config_path.parent) == 0o700
    assert found() == Credential("alice", "pw-1234", f"docker config {config_path} ({HOST})")
    assert config_path.read_text(encoding="utf-8").startswith('{\n\t"auths"')  # docker's layout: tabs


def test_the_rest_of_the_file_is_kept(config_path: Path) -> None:
    write(config_path, OTHER_FIELDS, mode=0o644)
    store(HOST, "alice", "pw-1234", helper_timeout=TIMEOUT)
    after = read(config_path)
    expected = json.loads(json.dumps(OTHER_FIELDS))
    expected["auths"][HOST] = {"auth": b64("alice:pw-1234")}
    assert after == expected
    assert list(after) == list(OTHER_FIELDS)  # the order of the fields too
    assert mode_of(config_path) == 0o600  # it now holds a password
    assert "ü" in config_path.read_text(encoding="utf-8")
    assert sorted(p.name for p in config_path.parent.iterdir()) == ["config.json"]  # no temporary left


def test_a_new_login_replaces_the_whole_entry(config_path: Path) -> None:
    # An old identitytoken would win over the new password (the reader prefers it): it must go.
    write(config_path, {"auths": {HOST: {"auth": b64("old:old-pw"), "identitytoken": "idt-old", "email": "a@b"}}})
    store(HOST, "alice", "new-pw-99", helper_timeout=TIMEOUT)
    assert read(config_path)["auths"][HOST] == {"auth": b64("alice:new-pw-99")}
    assert found() == Credential("alice", "new-pw-99", f"docker config {config_path} ({HOST})")


def test_docker_hub_is_filed_under_the_index_address(config_path: Path) -> None:
    # docker login writes Docker Hub as https://index.docker.io/v1/; a stale `docker.io` key must not win.
    write(config_path, {"auths": {"docker.io": {"auth": b64("stale:stale-pw")}}})
    store("docker.io", "hubuser", "hub-pw-1", helper_timeout=TIMEOUT)
    auths = read(config_path)["auths"]
    assert auths["https://index.docker.io/v1/"] == {"auth": b64("hubuser:hub-pw-1")}
    credential = found("docker.io")
    assert credential is not None
    assert credential.password == "hub-pw-1"


def test_a_symlinked_config_is_updated_where_it_points(config_path: Path, tmp_path: Path) -> None:
    real = tmp_path / "dotfiles" / "docker.json"
    write(real, {"currentContext": "x"})
    config_path.parent.mkdir(parents=True)
    config_path.symlink_to(real)
    store(HOST, "alice", "pw-1234", helper_timeout=TIMEOUT)
    assert config_path.is_symlink()
    assert read(real) == {"currentContext": "x", "auths": {HOST: {"auth": b64("alice:pw-1234")}}}


@pytest.mark.parametrize(
    ("content", "said"),
    [
        ('{"auths": {', "is not valid JSON"),
        ("[1, 2]", "is not a JSON object"),
        ('{"auths": ["x"]}', "has an `auths` that is not an object"),
    ],
)
def test_a_file_featurepub_cannot_read_is_left_alone(config_path: Path, content: str, said: str) -> None:
    config_path.parent.mkdir(parents=True)
    config_path.write_text(content, encoding="utf-8")
    with pytest.raises(CredentialError) as info:
        store(HOST, "alice", "pw-1234", helper_timeout=TIMEOUT)
    assert said in info.value.message
    assert str(config_path) in info.value.message
    assert info.value.exit_code == EXIT_AUTH
    assert config_path.read_text(encoding="utf-8") == content


def test_empty_file_and_null_auths_are_an_empty_config(config_path: Path) -> None:
    config_path.parent.mkdir(parents=True)
    config_path.write_text("", encoding="utf-8")
    store(HOST, "alice", "pw-1234", helper_timeout=TIMEOUT)
    assert read(config_path) == {"auths": {HOST: {"auth": b64("alice:pw-1234")}}}
    config_path.write_text('{"auths": null, "psFormat": "x"}', encoding="utf-8")
    store(HOST, "alice", "pw-1234", helper_timeout=TIMEOUT)
    assert read(config_path) == {"auths": {HOST: {"auth": b64("alice:pw-1234")}}, "psFormat": "x"}


def test_an_unreadable_place_is_a_clear_error(config_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    blocker = config_path.parent.parent / "a-file"
    blocker.write_text("", encoding="utf-8")
    monkeypatch.setenv("DOCKER_CONFIG", str(blocker / "docker"))
    with pytest.raises(CredentialError, match=r"cannot read the Docker config .*a-file/docker/config\.json"):
        store(HOST, "alice", "pw-1234", helper_timeout=TIMEOUT)


def test_a_failed_write_leaves_the_old_file_and_no_temporary(
    config_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    write(config_path, OTHER_FIELDS)
    before = config_path.read_bytes()

    def disk_full(source: str, target: str) -> None:
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(os, "replace", disk_full)  # docker_login replaces the config with os.replace
    with pytest.raises(CredentialError, match=r"cannot write the Docker config .*: No space left on device"):
        store(HOST, "alice", "pw-1234", helper_timeout=TIMEOUT)
    assert config_path.read_bytes() == before
    assert sorted(p.name for p in config_path.parent.iterdir()) == ["config.json"]


def test_a_user_name_with_a_colon_is_refused(config_path: Path) -> None:
    with pytest.raises(InputError, match="contains ':'"):
        store(HOST, "a:b", "pw-1234", helper_timeout=TIMEOUT)
    assert not config_path.exists()


# --- logout --------------------------------------------------------------------------------------------


def test_remove_takes_every_spelling_of_the_host_and_nothing_else(config_path: Path) -> None:
    entries = {HOST: {"auth": b64("a:1111")}, f"https://{HOST}": {}, f"http://{HOST}/v2/": {"auth": b64("b:2222")}}
    config = json.loads(json.dumps(OTHER_FIELDS))
    config["auths"].update(entries)
    write(config_path, config)
    removed = remove(HOST, helper_timeout=TIMEOUT)
    assert removed == [f"the Docker config {config_path} ({HOST}, https://{HOST}, http://{HOST}/v2/)"]
    assert read(config_path) == OTHER_FIELDS
    assert found() is None


def test_remove_with_nothing_to_remove_writes_nothing(config_path: Path) -> None:
    assert remove(HOST, helper_timeout=TIMEOUT) == []
    assert not config_path.exists()
    write(config_path, OTHER_FIELDS)
    before = config_path.read_bytes()
    assert remove(HOST, helper_timeout=TIMEOUT) == []
    assert config_path.read_bytes() == before
    assert mode_of(config_path) == 0o644


# --- a credential helper named in the file ------------------------------------------------------------


def with_helper(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, name: str) -> Path:
    bin_dir = tmp_path / "bin"
    install_helper(bin_dir, name, {})
    monkeypatch.setenv("PATH", f"{bin_dir}{os.pathsep}{os.environ['PATH']}")
    return bin_dir


def test_creds_store_gets_the_credentials_and_the_file_stays(
    config_path: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    bin_dir = with_helper(tmp_path, monkeypatch, "vault")
    write(config_path, {"credsStore": "vault", "psFormat": "x"})
    before = config_path.read_bytes()
    stored = store(HOST, "alice", "pw-1234", helper_timeout=TIMEOUT)
    assert stored.helper == "vault"
    assert (
        stored.describe()
        == f"credential helper docker-credential-vault (named in the Docker config {config_path})"
    )
    assert helper_entries(bin_dir, "vault") == {HOST: ["alice", "pw-1234"]}
    assert config_path.read_bytes() == before  # no base64 copy next to the helper's
    assert found() == Credential("alice", "pw-1234", f"docker config {config_path} (credsStore: vault)")
    assert remove(HOST, helper_timeout=TIMEOUT) == [stored.describe()]
    assert helper_entries(bin_dir, "vault") == {}
    assert remove(HOST, helper_timeout=TIMEOUT) == []
    assert [call[0] for call in helper_calls(bin_dir, "vault")] == ["store", "get", "erase", "erase"]


def test_the_hosts_own_helper_wins_and_docker_hub_is_its_index_address(
    config_path: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    bin_dir = with_helper(tmp_path, monkeypatch, "hub")
    install_helper(bin_dir, "everything", {})
    write(config_path, {"credsStore": "everything", "credHelpers": {"docker.io": "hub"}})
    assert store("docker.io", "hubuser", "hub-pw-1", helper_timeout=TIMEOUT).helper == "hub"
    assert helper_entries(bin_dir, "hub") == {"https://index.docker.io/v1/": ["hubuser", "hub-pw-1"]}
    assert helper_entries(bin_dir, "everything") == {}


def test_a_missing_helper_is_an_error_not_a_plaintext_copy(config_path: Path) -> None:
    write(config_path, {"credsStore": "desktop"})  # e.g. a config copied from a Mac into a container
    with pytest.raises(CredentialError, match="docker-credential-desktop is not on PATH"):
        store(HOST, "alice", "pw-1234", helper_timeout=TIMEOUT)
    assert read(config_path) == {"credsStore": "desktop"}


# --- accounts.login / logout: the keyring when there is one, else the Docker config ------------------


def test_login_without_a_keyring_goes_to_the_docker_config(config_path: Path) -> None:
    result = accounts.login(HOST, "alice", "pw-1234", check=False)
    assert result.keyring_missing == "the keyring is turned off by its null backend"
    assert result.plaintext_file == config_path
    assert result.backend == f"the Docker config {config_path}"
    lookup = default_chain().lookup(HOST)
    assert lookup.credential == Credential("alice", "pw-1234", f"docker config {config_path} ({HOST})")
    out = accounts.logout(HOST)
    assert out.removed_from == (f"the Docker config {config_path} ({HOST})",)
    assert read(config_path) == {"auths": {}}
    assert not accounts.logout(HOST).removed


def use_file_keyring(monkeypatch: pytest.MonkeyPatch, path: Path) -> None:
    import keyring.core

    monkeypatch.syspath_prepend(str(ROOT))
    monkeypatch.setenv("PYTHON_KEYRING_BACKEND", "tests.support.keyring_backend.FileKeyring")
    monkeypatch.setenv("FEATUREPUB_TEST_KEYRING", str(path))
    keyring.core.init_backend()


def test_with_a_keyring_the_docker_config_is_not_touched(
    config_path: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    use_file_keyring(monkeypatch, tmp_path / "keyring.json")
    write(config_path, {"auths": {HOST: {"auth": b64("docker-user:docker-pw")}}})
    before = config_path.read_bytes()
    result = accounts.login(HOST, "alice", "pw-1234", check=False)
    assert result.keyring_missing is None
    assert result.plaintext_file is None
    assert result.backend.endswith("FileKeyring")
    assert accounts.logout(HOST).removed_from == ("tests.support.keyring_backend.FileKeyring",)
    assert config_path.read_bytes() == before  # docker's own entry stays: featurepub login did not write it


def test_featurepub_no_keyring_sends_login_to_the_docker_config(
    config_path: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    use_file_keyring(monkeypatch, tmp_path / "keyring.json")
    monkeypatch.setenv("FEATUREPUB_NO_KEYRING", "1")
    result = accounts.login(HOST, "alice", "pw-1234", check=False)
    assert result.keyring_missing == "the keyring is disabled by FEATUREPUB_NO_KEYRING"
    assert read(config_path) == {"auths": {HOST: {"auth": b64("alice:pw-1234")}}}
    assert not (tmp_path / "keyring.json").exists()
    assert accounts.logout(HOST).removed
    assert read(config_path) == {"auths": {}}
