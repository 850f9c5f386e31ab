"""A registry with a path (`--registry my-registry.com/features-feed`, devcontainers/cli#1098): every repository
goes under it, consumers read it back, and credentials come from the most specific key that names it."""

from __future__ import annotations

import base64
import json
import re
import subprocess
from pathlib import Path

import pytest

from featurepub.errors import InputError
from tests.conftest import copy_samples
from tests.integration.conftest import Accounts, write_feature
from tests.support import consumers
from tests.support.publishing import featurepub, registry_tags, tag_digest
from tests.support.registry import RegistryServer


def test_the_path_prefixes_every_repository_and_consumers_read_it(
    tmp_path: Path, registry: RegistryServer, namespace: str
) -> None:
    samples = copy_samples(tmp_path / "samples", f"{registry.host}/feed/{namespace}")
    run = featurepub("publish", samples, "-r", f"{registry.host}/feed", "-n", namespace)
    assert run.code == 0, run.stderr
    published = json.loads(run.stdout)
    base = f"feed/{namespace}"
    for feature_id, entry in published.items():
        assert tag_digest(registry.url, f"{base}/{feature_id}", entry["version"]) == entry["digest"]
    assert registry_tags(registry.url, f"{base}/hello") == ["2", "2.0", "2.0.1", "latest"]  # the legacy id
    assert tag_digest(registry.url, base, "latest") is not None  # the collection
    assert registry_tags(registry.url, namespace) == []  # nothing outside the path
    ref = f"{registry.host}/{base}/hello-cli:2"
    info = consumers.info_manifest(ref)
    assert info["canonicalId"] == f"{registry.host}/{base}/hello-cli@{published['hello-cli']['digest']}"
    assert sorted(consumers.info_tags(f"{registry.host}/{base}/hello-cli")) == ["2", "2.0", "2.0.1", "latest"]
    raw = consumers.skopeo_raw(f"docker://{registry.host}/{base}/node-tool:0.3.0")
    assert raw["annotations"]["dev.containers.metadata"].startswith('{"id":"node-tool"')
    # The reference resolves dependencies across the path (hello-cli depends on common-utils there).
    order = consumers.resolve_dependencies(tmp_path / "ws", {f"{registry.host}/{base}/hello-cli:2": {}})
    assert [re.split("[:@]", o.rsplit("/", 1)[1])[0] for o in order] == ["common-utils", "hello-cli"]
    assert all(o.startswith(f"{registry.host}/{base}/") for o in order)
    # featurepub's own readers split host and path the same way.
    inspected = featurepub("inspect", ref, "--json")
    assert inspected.code == 0, inspected.stderr
    assert inspected.json["digest"] == published["hello-cli"]["digest"]
    tags = featurepub("tags", f"{registry.host}/{base}/hello-cli")
    assert tags.stdout.split() == ["latest", "2", "2.0", "2.0.1"]


def test_name_lengths_count_the_path(tmp_path: Path) -> None:
    from featurepub.api import plan

    root = write_feature(tmp_path)
    with pytest.raises(InputError, match="at most"):
        plan(root, registry=f"localhost:5000/{'p' * 120}", namespace="n" * 120)
    run = featurepub("publish", root, "-r", f"localhost:5000/{'p' * 120}", "-n", "n" * 120)
    assert run.code == 2
    assert f"{'p' * 30}" in run.stderr  # the repository named, with its path


def auth(user: str, password: str) -> dict[str, str]:
    return {"auth": base64.b64encode(f"{user}:{password}".encode()).decode()}


def test_credentials_come_from_the_most_specific_key(
    tmp_path: Path, plain_basic: RegistryServer, accounts: Accounts, namespace: str
) -> None:
    """The registry-wide key holds wrong credentials, the key naming the path the right ones: publishing
    under the path works, as podman and skopeo pick the key (containers-auth.json(5), FORMAT)."""
    host = plain_basic.host
    right, wrong = auth(accounts.user, accounts.password), auth(accounts.user, "not-the-password")
    auth_file = tmp_path / "auth.json"
    auth_file.write_text(json.dumps({"auths": {host: wrong, f"{host}/feed": right}}))
    env = {"REGISTRY_AUTH_FILE": str(auth_file)}
    run = featurepub(
        "publish", write_feature(tmp_path / "a"), "-r", f"{host}/feed", "-n", namespace, "-v", env=env
    )
    assert run.code == 0, run.stderr
    assert f"containers auth {auth_file} ({host}/feed)" in run.stderr
    status = featurepub("auth", "status", f"{host}/feed/{namespace}", env=env)
    assert status.code == 0, status.stderr
    assert f"containers auth {auth_file} ({host}/feed)" in status.stdout
    elsewhere = featurepub("publish", write_feature(tmp_path / "b"), "-r", host, "-n", namespace, env=env)
    assert elsewhere.code == 3  # outside the path the registry-wide key answers, and it is wrong
    # skopeo picks the same key: it reads what was published with that file and nothing else.
    done = subprocess.run(
        [consumers.SKOPEO, "inspect", "--raw", "--tls-verify=false", f"docker://{host}/feed/{namespace}/tool:1"],
        capture_output=True,
        text=True,
        env={"REGISTRY_AUTH_FILE": str(auth_file), "PATH": "/usr/bin:/bin", "HOME": str(tmp_path)},
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    # The reference's own variable and the Docker config take a path too.
    oci_auth = f"{host}|{accounts.user}|wrong,{host}/feed|{accounts.user}|{accounts.password}"
    again = featurepub(
        "publish",
        write_feature(tmp_path / "c"),
        "-r",
        f"{host}/feed",
        "-n",
        f"{namespace}/env",
        env={"DEVCONTAINERS_OCI_AUTH": oci_auth},
    )
    assert again.code == 0, again.stderr
    docker = tmp_path / "docker"
    docker.mkdir()
    (docker / "config.json").write_text(json.dumps({"auths": {host: wrong, f"{host}/feed/{namespace}": right}}))
    config = featurepub(
        "publish",
        write_feature(tmp_path / "d"),
        "-r",
        f"{host}/feed",
        "-n",
        namespace,
        env={"DOCKER_CONFIG": str(docker)},
    )
    assert config.code == 0, config.stderr
    assert accounts.password not in run.stdout + run.stderr + again.stderr + config.stderr
