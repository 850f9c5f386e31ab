"""Every source of the credential chain, against real registries over TLS (test CA): htpasswd Basic
auth, and token auth with JWTs from the suite's token server. Publish succeeds with credentials
from each source, fails clearly with wrong ones, and the first source that answers wins."""

from __future__ import annotations

import base64
import json
import os
import secrets
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import pytest

from featurepub import api
from tests.conftest import ROOT
from tests.integration.conftest import Accounts, write_feature
from tests.support.connectproxy import ConnectProxy
from tests.support.credhelper import helper_calls, helper_entries, install_helper
from tests.support.publishing import CliRun, featurepub
from tests.support.registry import RegistryServer
from tests.support.secure import Secure, basic_digest, loopback_only, token_digest


@dataclass
class Setup:
    label: str  # how featurepub names the source
    env: dict[str, str] = field(default_factory=dict)
    args: list[str] = field(default_factory=list)
    stdin: str | None = None

    def __add__(self, other: Setup) -> Setup:
        return Setup(self.label, {**self.env, **other.env}, self.args + other.args, self.stdin or other.stdin)


def b64(text: str) -> str:
    return base64.b64encode(text.encode()).decode()


def docker_dir() -> Path:
    folder = Path(os.environ["DOCKER_CONFIG"])  # a fresh folder per test (tests/conftest.py)
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def write_docker_config(config: dict[str, object]) -> Path:
    path = docker_dir() / "config.json"
    path.write_text(json.dumps(config), encoding="utf-8")
    return path


def keyring_env(path: Path) -> dict[str, str]:
    return {
        "PYTHON_KEYRING_BACKEND": "tests.support.keyring_backend.FileKeyring",
        "FEATUREPUB_TEST_KEYRING": str(path),
        "PYTHONPATH": str(ROOT),
    }


def with_helper(tmp_path: Path, name: str, entries: dict[str, tuple[str, str]]) -> dict[str, str]:
    install_helper(tmp_path / "bin", name, entries)
    return {"PATH": f"{tmp_path / 'bin'}{os.pathsep}{os.environ['PATH']}"}


def configure(kind: str, tmp_path: Path, host: str, user: str, secret: str) -> Setup:
    """Put (user, secret) for `host` into one source of the chain."""
    if kind == "explicit":
        return Setup("--username/--password-stdin", args=["--username", user, "--password-stdin"], stdin=secret)
    if kind == "env":
        return Setup("DEVCONTAINERS_OCI_AUTH", env={"DEVCONTAINERS_OCI_AUTH": f"{host}|{user}|{secret}"})
    if kind == "keyring":
        store = tmp_path / "keyring.json"
        record = json.dumps({"username": user, "secret": secret})
        store.write_text(json.dumps({f"featurepub\n{host}": record}), encoding="utf-8")
        # What `featurepub login` also records: which hosts have an entry (no secrets).
        index = Path(os.environ["XDG_CONFIG_HOME"]) / "featurepub" / "keyring-hosts.json"
        index.parent.mkdir(parents=True, exist_ok=True)
        index.write_text(json.dumps([host]), encoding="utf-8")
        return Setup("featurepub keyring", env=keyring_env(store))
    if kind == "docker-auths":
        path = write_docker_config({"auths": {f"https://{host}/v1/": {"auth": b64(f"{user}:{secret}")}}})
        return Setup(f"docker config {path} (https://{host}/v1/)")
    if kind == "docker-credhelpers":
        path = write_docker_config({"credHelpers": {host: "fake"}})
        return Setup(
            f"docker config {path} (credHelpers: fake)", env=with_helper(tmp_path, "fake", {host: (user, secret)})
        )
    if kind == "docker-credsstore":
        path = write_docker_config({"credsStore": "store", "auths": {host: {}}})
        return Setup(
            f"docker config {path} (credsStore: store)", env=with_helper(tmp_path, "store", {host: (user, secret)})
        )
    if kind == "registry-auth-file":
        path = tmp_path / "auth.json"
        path.write_text(json.dumps({"auths": {host: {"auth": b64(f"{user}:{secret}")}}}), encoding="utf-8")
        return Setup(f"containers auth {path} ({host})", env={"REGISTRY_AUTH_FILE": str(path)})
    if kind == "xdg-runtime":
        path = Path(os.environ["XDG_RUNTIME_DIR"]) / "containers" / "auth.json"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps({"auths": {host: {"auth": b64(f"{user}:{secret}")}}}), encoding="utf-8")
        return Setup(f"containers auth {path} ({host})")
    raise AssertionError(kind)


SOURCES = [
    "explicit",
    "env",
    "keyring",
    "docker-auths",
    "docker-credhelpers",
    "docker-credsstore",
    "registry-auth-file",
    "xdg-runtime",
]


def publish(server: RegistryServer, secure: Secure, tmp_path: Path, namespace: str, setup: Setup) -> CliRun:
    folder = tmp_path / f"feature-{secrets.token_hex(3)}"
    args = ["publish", str(write_feature(folder)), "-r", server.host, "-n", namespace, "-v"]
    args += ["--ca-file", str(secure.pki.ca_file), *setup.args]
    return featurepub(*args, env=setup.env, stdin=setup.stdin)


def assert_no_secret(run: CliRun, *values: str) -> None:
    for value in values:
        assert value not in run.stdout + run.stderr


# --- Basic auth (htpasswd) over TLS: every source --------------------------------------------------------


@pytest.mark.parametrize("kind", SOURCES)
def test_each_source_publishes_with_basic_auth(
    kind: str, secure: Secure, accounts: Accounts, tmp_path: Path, namespace: str
) -> None:
    setup = configure(kind, tmp_path, secure.basic.host, accounts.user, accounts.password)
    run = publish(secure.basic, secure, tmp_path, namespace, setup)
    assert run.code == 0, run.stderr
    assert run.json["tool"]["publishedTags"] == ["1", "1.0", "1.0.0", "latest"]
    assert f"credentials from {setup.label} (user {accounts.user})" in run.stderr
    digest = basic_digest(secure, accounts.user, accounts.password, f"{namespace}/tool", "1.0.0")
    assert digest == run.json["tool"]["digest"]
    assert_no_secret(run, accounts.password)


@pytest.mark.parametrize("kind", SOURCES)
def test_each_source_with_a_wrong_password_is_refused_clearly(
    kind: str, secure: Secure, accounts: Accounts, tmp_path: Path, namespace: str
) -> None:
    wrong = "wrong-" + secrets.token_urlsafe(12)
    setup = configure(kind, tmp_path, secure.basic.host, accounts.user, wrong)
    run = publish(secure.basic, secure, tmp_path, namespace, setup)
    assert run.code == 3, run.stderr  # credentials refused: never retried anonymously
    assert f"the registry refused the credentials from {setup.label}" in run.stderr
    assert "HTTP 401" in run.stderr
    assert basic_digest(secure, accounts.user, accounts.password, f"{namespace}/tool", "1.0.0") is None
    assert_no_secret(run, wrong, accounts.password)


def test_helpers_are_asked_with_the_docker_protocol(
    secure: Secure, accounts: Accounts, tmp_path: Path, namespace: str
) -> None:
    setup = configure("docker-credhelpers", tmp_path, secure.basic.host, accounts.user, accounts.password)
    assert publish(secure.basic, secure, tmp_path, namespace, setup).code == 0
    # `get`, with the registry host on stdin; asked once per run, not once per request.
    assert helper_calls(tmp_path / "bin", "fake") == [["get", secure.basic.host]]


def test_ecr_style_basic_with_user_aws_from_the_ecr_login_helper(
    secure: Secure, accounts: Accounts, tmp_path: Path, namespace: str
) -> None:
    # AWS ECR: Basic auth, user AWS, the 12-hour password from `aws ecr get-login-password` or the
    # amazon-ecr-credential-helper (docker-credential-ecr-login), named in credHelpers.
    path = write_docker_config({"credHelpers": {secure.basic.host: "ecr-login"}})
    env = with_helper(tmp_path, "ecr-login", {secure.basic.host: ("AWS", accounts.ecr_token)})
    run = publish(secure.basic, secure, tmp_path, namespace, Setup("", env=env))
    assert run.code == 0, run.stderr
    assert f"credentials from docker config {path} (credHelpers: ecr-login) (user AWS)" in run.stderr
    assert_no_secret(run, accounts.ecr_token)


# --- token auth (Bearer JWTs) over TLS -----------------------------------------------------------------


@pytest.mark.parametrize("kind", ["env", "docker-auths", "docker-credsstore"])
def test_bearer_token_from_basic_credentials(
    kind: str, secure: Secure, accounts: Accounts, tmp_path: Path, namespace: str
) -> None:
    setup = configure(kind, tmp_path, secure.token.host, accounts.user, accounts.password)
    before = len(secure.tokens.requests)
    run = publish(secure.token, secure, tmp_path, namespace, setup)
    assert run.code == 0, run.stderr
    assert token_digest(secure, f"{namespace}/tool", "1.0.0") == run.json["tool"]["digest"]
    mine = [r for r in secure.tokens.requests[before:] if r.user == accounts.user]
    assert mine, "no token was issued to the user"
    assert {r.grant for r in mine} == {"basic"}
    # push and pull asked up front, per repository; the collection's mount also asks pull on the source.
    scopes = {s for r in mine for s in r.scopes}
    assert f"repository:{namespace}/tool:pull,push" in scopes
    assert f"repository:{namespace}:pull,push" in scopes
    assert_no_secret(run, accounts.password, *secure.tokens.issued)


def test_wrong_password_at_the_token_endpoint_is_refused_clearly(
    secure: Secure, accounts: Accounts, tmp_path: Path, namespace: str
) -> None:
    setup = configure("env", tmp_path, secure.token.host, accounts.user, "nope-" + secrets.token_hex(6))
    run = publish(secure.token, secure, tmp_path, namespace, setup)
    assert run.code == 3, run.stderr
    assert "the token endpoint refused the credentials (HTTP 401)" in run.stderr
    assert "refused the credentials from DEVCONTAINERS_OCI_AUTH" in run.stderr


def test_identity_token_uses_the_refresh_token_flow(
    secure: Secure, accounts: Accounts, tmp_path: Path, namespace: str
) -> None:
    # Azure ACR: `az acr login` leaves an identitytoken (a refresh token) in the Docker config, with the
    # all-zero user; it is POSTed to the realm with grant_type=refresh_token for an access token.
    user = "00000000-0000-0000-0000-000000000000"
    entry = {"auth": b64(f"{user}:"), "identitytoken": accounts.refresh_token}
    path = write_docker_config({"auths": {secure.token.host: entry}})
    before = len(secure.tokens.requests)
    run = publish(secure.token, secure, tmp_path, namespace, Setup(""))
    assert run.code == 0, run.stderr
    assert f"credentials from docker config {path} ({secure.token.host}) (an identity token)" in run.stderr
    mine = secure.tokens.requests[before:]
    assert mine
    assert all(r.method == "POST" and r.grant == "refresh_token" and r.user == "acr-user" for r in mine)
    assert token_digest(secure, f"{namespace}/tool", "1.0.0") == run.json["tool"]["digest"]
    assert_no_secret(run, accounts.refresh_token, *secure.tokens.issued)


def test_helper_token_user_means_an_identity_token(
    secure: Secure, accounts: Accounts, tmp_path: Path, namespace: str
) -> None:
    write_docker_config({"credsStore": "acr"})
    env = with_helper(tmp_path, "acr", {secure.token.host: ("<token>", accounts.refresh_token)})
    before = len(secure.tokens.requests)
    run = publish(secure.token, secure, tmp_path, namespace, Setup("", env=env))
    assert run.code == 0, run.stderr
    assert {r.grant for r in secure.tokens.requests[before:]} == {"refresh_token"}


def test_refused_identity_token_is_said_so(secure: Secure, tmp_path: Path, namespace: str) -> None:
    write_docker_config({"auths": {secure.token.host: {"identitytoken": "idt-revoked-" + secrets.token_hex(8)}}})
    run = publish(secure.token, secure, tmp_path, namespace, Setup(""))
    assert run.code == 3
    assert "the token endpoint refused the credentials (HTTP 401)" in run.stderr
    assert "refused the credentials from docker config" in run.stderr
    assert "idt-revoked-" not in run.stdout + run.stderr


@pytest.mark.parametrize("variable", ["GITHUB_TOKEN", "GH_TOKEN"])
def test_github_token_for_ghcr_io_through_an_https_proxy(
    variable: str,
    secure: Secure,
    accounts: Accounts,
    tmp_path: Path,
    namespace: str,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # ghcr.io is served by the local token registry behind a CONNECT proxy (its certificate names ghcr.io);
    # nothing in this process may look up or connect to anything but loopback.
    proxy = ConnectProxy({"ghcr.io:443": ("127.0.0.1", secure.token.port)}).start()
    try:
        monkeypatch.setenv(variable, accounts.github_token)
        monkeypatch.setenv("GITHUB_ACTOR", accounts.github_actor)
        monkeypatch.setenv("HTTPS_PROXY", proxy.url)
        monkeypatch.setenv("NO_PROXY", "localhost")  # the token realm (localhost) is reached directly
        lines: list[str] = []
        before = len(secure.tokens.requests)
        with loopback_only(monkeypatch):
            report = api.publish(
                write_feature(tmp_path / "f"),
                registry="ghcr.io",
                namespace=namespace,
                ca_file=secure.pki.ca_file,
                log=lines.append,
            )
    finally:
        proxy.stop()
    assert report.ok, report.summary_json()
    assert f"ghcr.io: credentials from {variable} (user {accounts.github_actor})" in lines
    assert proxy.connects and set(proxy.connects) == {"CONNECT ghcr.io:443"}
    assert proxy.refused == []
    assert {r.user for r in secure.tokens.requests[before:]} == {accounts.github_actor}
    assert token_digest(secure, f"{namespace}/tool", "1.0.0") == report.features[0].digest


def test_https_proxy_without_no_proxy_carries_the_token_realm_too(
    secure: Secure, accounts: Accounts, tmp_path: Path, namespace: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    proxy = ConnectProxy().start()
    try:
        monkeypatch.setenv("https_proxy", proxy.url)
        monkeypatch.delenv("NO_PROXY", raising=False)
        monkeypatch.delenv("no_proxy", raising=False)
        monkeypatch.setenv("DEVCONTAINERS_OCI_AUTH", f"{secure.token.host}|{accounts.user}|{accounts.password}")
        with loopback_only(monkeypatch):
            report = api.publish(
                write_feature(tmp_path / "f"),
                registry=secure.token.host,
                namespace=namespace,
                ca_file=secure.pki.ca_file,
                insecure_hosts=[],
            )
    finally:
        proxy.stop()
    assert report.ok, report.summary_json()
    # The registry itself is localhost: spoken to in plain HTTP first (http_proxy is unset, so direct),
    # then over TLS through the HTTPS proxy, like the token realm.
    assert set(proxy.connects) == {f"CONNECT {secure.token.host}", f"CONNECT localhost:{secure.tokens.port}"}


# --- precedence: the first source that answers wins, and a refusal is never "fixed" by the next -----------

PAIRS = [
    ("explicit", "env"),
    ("env", "keyring"),
    ("keyring", "docker-auths"),
    ("docker-credhelpers", "docker-auths"),
    ("docker-auths", "registry-auth-file"),
    ("registry-auth-file", "xdg-runtime"),
]


@pytest.mark.parametrize(("first", "second"), PAIRS)
def test_the_earlier_source_wins(
    first: str, second: str, secure: Secure, accounts: Accounts, tmp_path: Path, namespace: str
) -> None:
    host = secure.basic.host
    wrong = "wrong-" + secrets.token_hex(6)
    if first == "docker-credhelpers":  # one Docker config holding both
        write_docker_config(
            {"credHelpers": {host: "fake"}, "auths": {host: {"auth": b64(f"{accounts.user}:{wrong}")}}}
        )
        env = with_helper(tmp_path, "fake", {host: (accounts.user, accounts.password)})
        run = publish(secure.basic, secure, tmp_path, namespace, Setup("", env=env))
        assert run.code == 0, run.stderr
        assert "(credHelpers: fake)" in run.stderr
        return
    good = configure(first, tmp_path, host, accounts.user, accounts.password)
    bad = configure(second, tmp_path, host, accounts.user, wrong)
    run = publish(secure.basic, secure, tmp_path, namespace, good + bad)
    assert run.code == 0, run.stderr
    assert f"credentials from {good.label}" in run.stderr


@pytest.mark.parametrize(("first", "second"), [p for p in PAIRS if p[0] != "docker-credhelpers"])
def test_a_refused_earlier_source_is_not_replaced_by_a_later_one(
    first: str, second: str, secure: Secure, accounts: Accounts, tmp_path: Path, namespace: str
) -> None:
    host = secure.basic.host
    wrong = "wrong-" + secrets.token_hex(6)
    bad = configure(first, tmp_path, host, accounts.user, wrong)
    good = configure(second, tmp_path, host, accounts.user, accounts.password)
    run = publish(secure.basic, secure, tmp_path, namespace, bad + good)
    assert run.code == 3, run.stderr
    assert f"the registry refused the credentials from {bad.label}" in run.stderr


# --- login / logout / auth status ---------------------------------------------------------------------


def test_login_status_publish_logout(secure: Secure, accounts: Accounts, tmp_path: Path, namespace: str) -> None:
    host = secure.basic.host
    store = tmp_path / "keyring.json"
    env = keyring_env(store)
    ca = ["--ca-file", str(secure.pki.ca_file)]

    login = featurepub(
        "login", host, "-u", accounts.user, "--password-stdin", *ca, env=env, stdin=accounts.password
    )
    assert login.code == 0, login.stderr
    assert f"logged in to {host} as {accounts.user}" in login.stderr
    assert "FileKeyring" in login.stderr
    stored = json.loads(json.loads(store.read_text())[f"featurepub\n{host}"])
    assert stored == {"username": accounts.user, "secret": accounts.password}
    assert accounts.password not in login.stdout + login.stderr

    status = featurepub("auth", "status", host, env=env)
    assert status.code == 0
    assert f"{host}: credentials from featurepub keyring (user {accounts.user})" in status.stdout
    assert "DEVCONTAINERS_OCI_AUTH: nothing for this registry" in status.stdout
    assert accounts.password not in status.stdout + status.stderr

    checked = featurepub("auth", "status", host, "--check", *ca, env=env)
    assert checked.code == 0, checked.stderr
    assert f"{host} accepted the credentials" in checked.stdout

    run = publish(secure.basic, secure, tmp_path, namespace, Setup("", env=env))
    assert run.code == 0, run.stderr
    assert "credentials from featurepub keyring" in run.stderr

    logout = featurepub("logout", host, env=env)
    assert logout.code == 0
    assert f"removed the credentials for {host}" in logout.stderr
    assert json.loads(store.read_text()) == {}
    again = featurepub("logout", host, env=env)
    assert f"not logged in to {host}" in again.stderr

    anonymous = featurepub("auth", "status", host, env=env)
    assert anonymous.code == 3
    assert f"{host}: no credentials found, anonymous" in anonymous.stdout


def test_login_with_a_wrong_password_stores_nothing(secure: Secure, accounts: Accounts, tmp_path: Path) -> None:
    store = tmp_path / "keyring.json"
    wrong = "wrong-" + secrets.token_hex(6)
    run = featurepub(
        "login",
        secure.basic.host,
        "-u",
        accounts.user,
        "--password-stdin",
        "--ca-file",
        str(secure.pki.ca_file),
        env=keyring_env(store),
        stdin=wrong,
    )
    assert run.code == 3
    assert "refused the credentials" in run.stderr
    assert not store.exists()
    assert wrong not in run.stdout + run.stderr


def test_login_against_a_token_registry(secure: Secure, accounts: Accounts, tmp_path: Path) -> None:
    store = tmp_path / "keyring.json"
    run = featurepub(
        "login",
        secure.token.host,
        "-u",
        accounts.user,
        "--password-stdin",
        "--ca-file",
        str(secure.pki.ca_file),
        env=keyring_env(store),
        stdin=accounts.password + "\n",
    )
    assert run.code == 0, run.stderr
    record = json.loads(json.loads(store.read_text())[f"featurepub\n{secure.token.host}"])
    assert record == {"username": accounts.user, "secret": accounts.password}  # the newline is not kept


# --- login / logout without a keyring: the Docker config ---------------------------------------------------

NO_KEYRING = {"PYTHON_KEYRING_BACKEND": "keyring.backends.fail.Keyring"}  # what CI and containers have
# What a user's Docker config may hold besides featurepub's entry: all of it must survive login and logout.
KEPT: dict[str, object] = {
    "auths": {"other.example": {"auth": b64("bob:not-yours")}},
    "currentContext": "remote",
    "proxies": {"default": {"noProxy": "localhost"}},
    "x-not-docker": {"kept": ["ü", 1]},
}


def plain_manifest(server: RegistryServer, auth: tuple[str, str], repository: str, tag: str) -> int:
    """The status of a manifest HEAD on the plain-HTTP htpasswd registry, read without featurepub."""
    url = f"{server.url}/v2/{repository}/manifests/{tag}"
    accept = "application/vnd.oci.image.manifest.v1+json"
    return httpx.head(url, auth=auth, headers={"Accept": accept}, trust_env=False).status_code


def test_login_publish_logout_without_a_keyring(
    plain_basic: RegistryServer, accounts: Accounts, tmp_path: Path, namespace: str
) -> None:
    host = plain_basic.host
    path = write_docker_config(KEPT)
    path.chmod(0o644)
    login = featurepub(
        "login", host, "-u", accounts.user, "--password-stdin", env=NO_KEYRING, stdin=accounts.password
    )
    assert login.code == 0, login.stderr
    # Said on stderr: no keyring, where the credentials went, and that base64 is not encryption.
    assert "no keyring backend is available: storing the credentials in the Docker config instead" in login.stderr
    assert f"{path} base64-encoded, which is not encryption" in login.stderr
    assert f"logged in to {host} as {accounts.user}; stored in the Docker config {path}" in login.stderr
    expected = json.loads(json.dumps(KEPT))
    expected["auths"][host] = {"auth": b64(f"{accounts.user}:{accounts.password}")}
    assert json.loads(path.read_text(encoding="utf-8")) == expected
    assert oct(path.stat().st_mode & 0o777) == oct(0o600)

    status = featurepub("auth", "status", host, env=NO_KEYRING)
    assert status.code == 0
    assert f"{host}: credentials from docker config {path} ({host}) (user {accounts.user})" in status.stdout

    folder = write_feature(tmp_path / "first")
    run = featurepub("publish", folder, "-r", host, "-n", namespace, "-v", env=NO_KEYRING)
    assert run.code == 0, run.stderr
    assert f"credentials from docker config {path} ({host}) (user {accounts.user})" in run.stderr
    assert plain_manifest(plain_basic, (accounts.user, accounts.password), f"{namespace}/tool", "1.0.0") == 200

    logout = featurepub("logout", host, env=NO_KEYRING)
    assert logout.code == 0, logout.stderr
    assert f"removed the credentials for {host} from the Docker config {path} ({host})" in logout.stderr
    assert json.loads(path.read_text(encoding="utf-8")) == KEPT
    again = featurepub("logout", host, env=NO_KEYRING)
    assert f"not logged in to {host}: nothing for it in the Docker config" in again.stderr

    anonymous = featurepub(
        "publish", write_feature(tmp_path / "second"), "-r", host, "-n", namespace, env=NO_KEYRING
    )
    assert anonymous.code == 3, anonymous.stderr  # without the entry the registry refuses
    for done in (login, status, run, logout, again, anonymous):
        assert_no_secret(done, accounts.password, b64(f"{accounts.user}:{accounts.password}"))


def test_login_without_a_keyring_stores_nothing_when_refused(
    plain_basic: RegistryServer, accounts: Accounts
) -> None:
    wrong = "wrong-" + secrets.token_hex(6)
    run = featurepub(
        "login", plain_basic.host, "-u", accounts.user, "--password-stdin", env=NO_KEYRING, stdin=wrong
    )
    assert run.code == 3
    assert "refused the credentials" in run.stderr
    assert not (docker_dir() / "config.json").exists()
    assert_no_secret(run, wrong)


def test_login_without_a_keyring_uses_the_credential_helper_the_config_names(
    secure: Secure, accounts: Accounts, tmp_path: Path, namespace: str
) -> None:
    # As docker login does: a credsStore (or credHelpers entry) gets the credentials, the file no base64 copy.
    host = secure.basic.host
    path = write_docker_config({"credsStore": "vault", "currentContext": "remote"})
    before = path.read_bytes()
    env = {**NO_KEYRING, **with_helper(tmp_path, "vault", {})}
    ca = ["--ca-file", str(secure.pki.ca_file)]
    login = featurepub(
        "login", host, "-u", accounts.user, "--password-stdin", *ca, env=env, stdin=accounts.password
    )
    assert login.code == 0, login.stderr
    assert (
        f"stored in credential helper docker-credential-vault (named in the Docker config {path})" in login.stderr
    )
    assert "base64" not in login.stderr
    assert helper_entries(tmp_path / "bin", "vault") == {host: [accounts.user, accounts.password]}
    assert path.read_bytes() == before

    run = publish(secure.basic, secure, tmp_path, namespace, Setup("", env=env))
    assert run.code == 0, run.stderr
    assert f"credentials from docker config {path} (credsStore: vault) (user {accounts.user})" in run.stderr
    assert (
        basic_digest(secure, accounts.user, accounts.password, f"{namespace}/tool", "1.0.0")
        == run.json["tool"]["digest"]
    )

    logout = featurepub("logout", host, env=env)
    assert logout.code == 0, logout.stderr
    assert helper_entries(tmp_path / "bin", "vault") == {}
    assert path.read_bytes() == before
    assert [call[0] for call in helper_calls(tmp_path / "bin", "vault")] == ["store", "get", "erase"]
    for done in (login, run, logout):
        assert_no_secret(done, accounts.password)


def test_password_is_never_taken_from_argv(secure: Secure, tmp_path: Path, namespace: str) -> None:
    run = featurepub("publish", write_feature(tmp_path), "-r", secure.basic.host, "-n", namespace, "-u", "alice")
    assert run.code == 2
    assert "--username needs --password-stdin" in run.stderr
    lonely = featurepub(
        "publish",
        write_feature(tmp_path / "x"),
        "-r",
        secure.basic.host,
        "-n",
        namespace,
        "--password-stdin",
        stdin="pw",
    )
    assert lonely.code == 2
    assert "--password-stdin needs --username" in lonely.stderr
    assert featurepub("login", secure.basic.host, "--password", "x").code == 2  # no such option


# --- helpers that are missing, fail or hang ------------------------------------------------------------


def test_missing_credential_helper_is_a_clear_error(secure: Secure, tmp_path: Path, namespace: str) -> None:
    path = write_docker_config({"credsStore": "does-not-exist"})
    run = publish(secure.basic, secure, tmp_path, namespace, Setup(""))
    assert run.code == 3
    assert "credential helper docker-credential-does-not-exist is not on PATH" in run.stderr
    assert str(path) in run.stderr


def test_failing_helper_is_an_error_not_anonymous(secure: Secure, tmp_path: Path, namespace: str) -> None:
    write_docker_config({"credHelpers": {secure.basic.host: "broken"}})
    install_helper(tmp_path / "bin", "broken", {}, fail="keychain is locked")
    env = {"PATH": f"{tmp_path / 'bin'}{os.pathsep}{os.environ['PATH']}"}
    run = publish(secure.basic, secure, tmp_path, namespace, Setup("", env=env))
    assert run.code == 3
    assert "credential helper docker-credential-broken failed" in run.stderr
    assert "keychain is locked" in run.stderr


def test_readback_commands_take_the_same_connection_options(
    secure: Secure, accounts: Accounts, tmp_path: Path, namespace: str
) -> None:
    explicit = Setup("", args=["--username", accounts.user, "--password-stdin"], stdin=accounts.password)
    published = publish(secure.basic, secure, tmp_path, namespace, explicit)
    assert published.code == 0, published.stderr
    digest = published.json["tool"]["digest"]
    ref = f"{secure.basic.host}/{namespace}/tool:1.0.0"
    connection = ["--ca-file", str(secure.pki.ca_file), "--username", accounts.user, "--password-stdin"]
    inspected = featurepub("inspect", ref, "--json", *connection, stdin=accounts.password)
    assert inspected.code == 0, inspected.stderr
    assert inspected.json["digest"] == digest
    listed = featurepub("tags", ref, "--json", *connection, stdin=accounts.password)
    assert listed.code == 0, listed.stderr
    assert set(listed.json["publishedTags"]) == {"1.0.0", "1.0", "1", "latest"}
    # Without the CA the same command fails clearly; without credentials it is refused.
    untrusted = featurepub("tags", ref, "--username", accounts.user, "--password-stdin", stdin=accounts.password)
    assert untrusted.code == 4
    assert "not trusted" in untrusted.stderr
    anonymous = featurepub("tags", ref, "--ca-file", str(secure.pki.ca_file))
    assert anonymous.code == 3
    assert_no_secret(inspected, accounts.password)
    assert_no_secret(listed, accounts.password)
