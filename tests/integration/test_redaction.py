"""No secret is ever printed: every line of `--verbose` output, errors included, passes the redactor."""

from __future__ import annotations

import base64
import json
import os
import secrets
from pathlib import Path

from tests.integration.conftest import Accounts, write_feature
from tests.support.credhelper import install_helper
from tests.support.publishing import featurepub
from tests.support.secure import Secure


def test_verbose_output_of_every_flow_holds_no_secret(
    secure: Secure, accounts: Accounts, tmp_path: Path, namespace: str
) -> None:
    ca = ["--ca-file", str(secure.pki.ca_file)]
    wrong = "wrong-" + secrets.token_urlsafe(12)
    docker = Path(os.environ["DOCKER_CONFIG"])
    docker.mkdir(parents=True, exist_ok=True)
    outputs: list[str] = []
    issued_before = len(secure.tokens.issued)

    def run(*args: str | Path, env: dict[str, str] | None = None, stdin: str | None = None) -> int:
        done = featurepub(*args, env=env, stdin=stdin)
        outputs.append(done.stdout + done.stderr)
        return done.code

    def publish(
        name: str, host: str, *extra: str, env: dict[str, str] | None = None, stdin: str | None = None
    ) -> int:
        report = tmp_path / f"{name}.json"
        code = run(
            "publish",
            write_feature(tmp_path / name),
            "-r",
            host,
            "-n",
            f"{namespace}/{name}",
            "-v",
            *ca,
            "--report",
            str(report),
            *extra,
            env=env,
            stdin=stdin,
        )
        outputs.append(report.read_text() if report.exists() else "")
        return code

    # Basic: explicit password on stdin, and a wrong one.
    assert (
        publish("basic", secure.basic.host, "-u", accounts.user, "--password-stdin", stdin=accounts.password) == 0
    )
    assert publish("basic-wrong", secure.basic.host, "-u", accounts.user, "--password-stdin", stdin=wrong) == 3
    # Bearer: Basic credentials exchanged for JWTs, and a refused exchange.
    auth = {"DEVCONTAINERS_OCI_AUTH": f"{secure.token.host}|{accounts.user}|{accounts.password}"}
    assert publish("bearer", secure.token.host, env=auth) == 0
    refused = {"DEVCONTAINERS_OCI_AUTH": f"{secure.token.host}|{accounts.user}|{wrong}"}
    assert publish("bearer-wrong", secure.token.host, env=refused) == 3
    # Refresh-token flow: an identity token from a credential helper; rotated refresh tokens come back.
    (docker / "config.json").write_text(json.dumps({"credsStore": "acr"}))
    install_helper(tmp_path / "bin", "acr", {secure.token.host: ("<token>", accounts.refresh_token)})
    path_env = {"PATH": f"{tmp_path / 'bin'}{os.pathsep}{os.environ['PATH']}"}
    assert publish("refresh", secure.token.host, env=path_env) == 0
    # ECR-style Basic with user AWS, status and a login check.
    (docker / "config.json").write_text(
        json.dumps(
            {
                "auths": {
                    secure.basic.host: {"auth": base64.b64encode(f"AWS:{accounts.ecr_token}".encode()).decode()}
                }
            }
        )
    )
    assert publish("ecr", secure.basic.host) == 0
    assert run("auth", "status", secure.basic.host, "--check", "-v", *ca) == 0
    # A login without a keyring, which writes the password base64-encoded into the Docker config.
    assert (
        run(
            "login",
            secure.token.host,
            "-u",
            accounts.user,
            "--password-stdin",
            "-v",
            "--no-check",
            env={"PYTHON_KEYRING_BACKEND": "keyring.backends.fail.Keyring"},
            stdin=accounts.password,
        )
        == 0
    )

    everything = "\n".join(outputs)
    issued = secure.tokens.issued[issued_before:]
    assert len(issued) >= 4  # JWTs and refresh tokens really were handed out during these runs
    basic_values = [
        base64.b64encode(f"{user}:{secret}".encode()).decode()
        for user, secret in (
            (accounts.user, accounts.password),
            ("AWS", accounts.ecr_token),
            (accounts.user, wrong),
        )
    ]
    for secret in [accounts.password, wrong, accounts.ecr_token, accounts.refresh_token, *issued, *basic_values]:
        assert secret not in everything
    for fragment in ("Authorization: ", "Bearer ey", "Basic "):
        assert fragment not in everything
    # ... and the output is the verbose one, naming requests and credential sources.
    assert f"GET https://localhost:{secure.tokens.port}/token?" in everything
    assert f"POST https://localhost:{secure.tokens.port}/token -> 200" in everything
    assert "credentials from --username/--password-stdin (user alice)" in everything
    assert "credentials from DEVCONTAINERS_OCI_AUTH (user alice)" in everything
    assert "(an identity token)" in everything
    assert "refused the credentials" in everything
