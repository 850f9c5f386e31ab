"""Publishing through ECR-, GHCR- and ACR-like registries with their profiles, and the profiles
command and config file that choose and change them.

Each mode is the real registry behind a proxy that answers like that registry
(tests/support/quirks.py); what was published is then read back by the reference CLI
directly from the real registry.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import json5
import pytest

import featurepub
from featurepub.config import load_config, select_profile
from featurepub.errors import ConfigError
from featurepub.registry.profiles import MiB
from featurepub.registry.retry import RetryPolicy
from tests.conftest import ROOT, copy_samples
from tests.support import consumers
from tests.support.proxy import RegistryProxy
from tests.support.publishing import CliRun
from tests.support.quirks import (
    AcrContentRangeFormat,
    AcrThrottle,
    AcrTokenServer,
    EcrBasicAuth,
    EcrUploads,
    GhcrTokenServer,
    QuirkMode,
    acr_mode,
    ecr_mode,
    ghcr_mode,
)
from tests.support.registry import RegistryServer

BIG_ID = "big-tool"
BIG_LEGACY = "old-big-tool"
BIG_PAYLOAD = 13 * MiB  # over 12 MiB: more than one chunk for every chunk size a profile uses


def run(*args: str | Path, env: dict[str, str] | None = None, cwd: Path | None = None) -> CliRun:
    done = subprocess.run(
        [sys.executable, "-m", "featurepub", *map(str, args)],
        capture_output=True,
        text=True,
        env={**os.environ, **(env or {})},
        cwd=cwd,
        timeout=300,
        check=False,
    )
    return CliRun(done.returncode, done.stdout, done.stderr)


def big_collection(tmp_path: Path, registry: RegistryServer, namespace: str) -> Path:
    """The sample collection plus a feature carrying 13 MiB of random bytes (and a legacy id)."""
    root = copy_samples(tmp_path / "collection", f"{registry.host}/{namespace}")
    folder = root / "src" / BIG_ID
    folder.mkdir()
    metadata = {"id": BIG_ID, "version": "1.0.0", "name": "Big tool", "legacyIds": [BIG_LEGACY]}
    (folder / "devcontainer-feature.json").write_text(json.dumps(metadata), encoding="utf-8")
    (folder / "install.sh").write_text("#!/bin/sh\necho big\n", encoding="utf-8")
    with (folder / "payload.bin").open("wb") as handle:
        for _ in range(BIG_PAYLOAD // MiB):
            handle.write(os.urandom(MiB))
    return root


def repositories_of(root: Path, namespace: str) -> set[str]:
    """Every repository publishing `root` writes to: the collection's and one per feature id and legacy id."""
    found = {namespace}
    for metadata in root.glob("src/*/devcontainer-feature.json"):
        data = json5.loads(metadata.read_text(encoding="utf-8"))
        found |= {f"{namespace}/{name}" for name in [data["id"], *data.get("legacyIds", [])]}
    return found


def write_config(path: Path, host: str, **settings: object) -> Path:
    lines = [f'[registries."{host}"]'] + [f"{key} = {json.dumps(value)}" for key, value in settings.items()]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def stored_digest(registry: RegistryServer, repository: str, digest: str) -> str:
    hasher = hashlib.sha256()
    with httpx.stream("GET", f"{registry.url}/v2/{repository}/blobs/{digest}", timeout=60) as response:
        assert response.status_code == 200
        for chunk in response.iter_bytes():
            hasher.update(chunk)
    return "sha256:" + hasher.hexdigest()


def read_back(registry: RegistryServer, namespace: str, report: dict[str, Any]) -> None:
    """The reference CLI reads every feature straight from the registry; the big layer is intact."""
    assert report[BIG_ID]["publishedTags"] == ["1", "1.0", "1.0.0", "latest"]
    for feature_id, entry in report.items():
        ref = f"{registry.host}/{namespace}/{feature_id}:{entry['version']}"
        info = consumers.info_manifest(ref)
        assert info["canonicalId"] == f"{registry.host}/{namespace}/{feature_id}@{entry['digest']}"
    for name in (BIG_ID, BIG_LEGACY):
        info = consumers.info_manifest(f"{registry.host}/{namespace}/{name}:1")
        assert info["canonicalId"].endswith(f"@{report[BIG_ID]['digest']}")
        (layer,) = info["manifest"]["layers"]
        assert layer["size"] > BIG_PAYLOAD
        assert stored_digest(registry, f"{namespace}/{name}", layer["digest"]) == layer["digest"]
    assert sorted(consumers.info_tags(f"{registry.host}/{namespace}/{BIG_ID}")) == ["1", "1.0", "1.0.0", "latest"]


def start(mode: QuirkMode, make_proxy: Callable[..., RegistryProxy]) -> RegistryProxy:
    proxy = make_proxy(*mode.rules)
    mode.bind(proxy)
    return proxy


def upload_puts(proxy: RegistryProxy) -> list[int]:
    return [r.body_bytes for r in proxy.requests("PUT", "/blobs/uploads/")]


# --- AWS ECR ----------------------------------------------------------------------------


def test_ecr_mode_publishes_with_its_profile(
    tmp_path: Path, registry: RegistryServer, make_proxy: Callable[..., RegistryProxy], namespace: str
) -> None:
    root = big_collection(tmp_path, registry, namespace)
    mode = ecr_mode(repositories_of(root, namespace))
    proxy = start(mode, make_proxy)
    result = run("publish", root, "-r", proxy.host, "-n", namespace, "--profile", "ecr", env=mode.env(proxy))
    assert result.code == 0, result.stderr
    read_back(registry, namespace, result.json)
    rules = mode.extra["uploads"]
    assert isinstance(rules, EcrUploads)
    assert rules.refused == []
    assert next(r for r in mode.rules if isinstance(r, EcrBasicAuth)).challenges >= 1
    assert proxy.requests("PATCH") == []  # the ECR profile uploads monolithically
    assert proxy.requests("POST", "mount=") == []  # and does not try mounts
    assert min(upload_puts(proxy)) > 0


def test_ecr_mode_chunked_counts_its_own_offset(
    tmp_path: Path, registry: RegistryServer, make_proxy: Callable[..., RegistryProxy], namespace: str
) -> None:
    # ECR answers PATCH with 201 and a Range stuck at the first chunk, and 416 for a chunk that
    # does not start where the session ends: only a client counting its own offset gets through.
    root = big_collection(tmp_path, registry, namespace)
    mode = ecr_mode(repositories_of(root, namespace))
    proxy = start(mode, make_proxy)
    config = write_config(tmp_path / "featurepub.toml", proxy.host, profile="ecr", upload="chunked")
    result = run("publish", root, "-r", proxy.host, "-n", namespace, "--config", config, env=mode.env(proxy))
    assert result.code == 0, result.stderr
    read_back(registry, namespace, result.json)
    patches = proxy.requests("PATCH")
    assert [r.body_bytes for r in patches] == [10 * MiB, 10 * MiB]  # the big layer, in its two repositories
    assert {r.status for r in patches} == {201}
    uploads = mode.extra["uploads"]
    assert isinstance(uploads, EcrUploads)
    assert uploads.refused == []


def test_forcing_small_chunks_on_ecr_fails_before_anything_is_sent(
    tmp_path: Path, registry: RegistryServer, make_proxy: Callable[..., RegistryProxy], namespace: str
) -> None:
    root = big_collection(tmp_path, registry, namespace)
    mode = ecr_mode(repositories_of(root, namespace))
    proxy = start(mode, make_proxy)
    config = write_config(tmp_path / "featurepub.toml", proxy.host, upload="chunked", chunk_size="1MiB")
    result = run(
        "publish",
        root,
        "-r",
        proxy.host,
        "-n",
        namespace,
        "--profile",
        "ecr",
        "--config",
        config,
        env=mode.env(proxy),
    )
    assert result.code == 2, result.stderr
    assert f"registries -> {proxy.host} -> chunk_size: 1 MiB is below the minimum of 5 MiB" in result.stderr
    assert "AWS ECR refuses chunks under 5 MiB except the last" in result.stderr
    assert "Traceback" not in result.stderr
    assert proxy.requests() == []


def test_ecr_refusing_small_chunks_is_explained(
    tmp_path: Path,
    registry: RegistryServer,
    make_proxy: Callable[..., RegistryProxy],
    namespace: str,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # A config that lowers the minimum too gets past the checks; then ECR itself refuses.
    root = big_collection(tmp_path, registry, namespace)
    mode = ecr_mode(repositories_of(root, namespace))
    proxy = start(mode, make_proxy)
    settings = {"profile": "ecr", "upload": "chunked", "chunk_size": "1MiB", "chunk_min": "1MiB"}
    config = write_config(tmp_path / "featurepub.toml", proxy.host, **settings)
    monkeypatch.setenv("DEVCONTAINERS_OCI_AUTH", mode.env(proxy)["DEVCONTAINERS_OCI_AUTH"])
    report = featurepub.publish(
        root, registry=proxy.host, namespace=namespace, config=config, retry=RetryPolicy(max_attempts=1)
    )
    assert not report.ok
    big = next(f for f in report.features if f.id == BIG_ID)
    error = big.repositories[0].error or ""
    assert "HTTP 400 BLOB_UPLOAD_INVALID: Layer parts must be at least 5 MiB in size" in error
    assert "ECR refuses chunks under 5 MiB except the last" in error
    uploads = mode.extra["uploads"]
    assert isinstance(uploads, EcrUploads)
    assert uploads.refused == ["small-part"]


def test_ecr_repository_that_was_never_created(
    tmp_path: Path, registry: RegistryServer, make_proxy: Callable[..., RegistryProxy], namespace: str
) -> None:
    root = big_collection(tmp_path, registry, namespace)
    mode = ecr_mode(repositories_of(root, namespace) - {f"{namespace}/{BIG_ID}"})
    proxy = start(mode, make_proxy)
    result = run(
        "publish", root, "-r", proxy.host, "-n", namespace, "--profile", "ecr", "--json", env=mode.env(proxy)
    )
    assert result.code == 4
    assert result.features[BIG_ID]["status"] == "failed"
    assert "NAME_UNKNOWN: The repository with name" in result.stderr
    assert f"aws ecr create-repository --repository-name {namespace}/{BIG_ID}" in result.stderr
    assert "CREATE_ON_PUSH" in result.stderr


def test_ecr_immutable_tags_are_explained(
    tmp_path: Path, registry: RegistryServer, make_proxy: Callable[..., RegistryProxy], namespace: str
) -> None:
    def feature(version: str) -> Path:
        folder = tmp_path / version / "src" / "tool"
        folder.mkdir(parents=True)
        metadata = {"id": "tool", "version": version, "name": "Tool"}
        (folder / "devcontainer-feature.json").write_text(json.dumps(metadata), encoding="utf-8")
        (folder / "install.sh").write_text(f"#!/bin/sh\necho {version}\n", encoding="utf-8")
        return folder.parent.parent

    mode = ecr_mode({namespace, f"{namespace}/tool"}, immutable_tags=True)
    proxy = start(mode, make_proxy)
    first = run(
        "publish", feature("1.0.0"), "-r", proxy.host, "-n", namespace, "--profile", "ecr", env=mode.env(proxy)
    )
    assert first.code == 0, first.stderr
    second = run(
        "publish", feature("1.1.0"), "-r", proxy.host, "-n", namespace, "--profile", "ecr", env=mode.env(proxy)
    )
    assert second.code == 4
    assert "TAG_INVALID" in second.stderr
    assert "immutable tags" in second.stderr
    assert "MUTABLE" in second.stderr


# --- GHCR -------------------------------------------------------------------------------


def test_ghcr_mode_publishes_with_its_profile(
    tmp_path: Path, registry: RegistryServer, make_proxy: Callable[..., RegistryProxy], namespace: str
) -> None:
    root = big_collection(tmp_path, registry, namespace)
    mode = ghcr_mode()
    proxy = start(mode, make_proxy)
    result = run("publish", root, "-r", proxy.host, "-n", namespace, "--profile", "ghcr", env=mode.env(proxy))
    assert result.code == 0, result.stderr
    read_back(registry, namespace, result.json)
    tokens = mode.extra["tokens"]
    assert isinstance(tokens, GhcrTokenServer)
    assert f"repository:{namespace}/{BIG_ID}:pull,push" in tokens.token_requests
    assert proxy.requests("PATCH") == []
    assert max(upload_puts(proxy)) > BIG_PAYLOAD  # large monolithic PUTs are fine on ghcr.io
    # The legacy repository got the big layer by a cross-repository mount, not a second upload.
    assert [r.status for r in proxy.requests("POST", f"/v2/{namespace}/{BIG_LEGACY}/blobs/uploads/?mount=")] == [
        201,
        201,
    ]
    assert proxy.requests("PUT", f"/v2/{namespace}/{BIG_LEGACY}/blobs/uploads/") == []


def test_ghcr_mode_chunks_stay_under_its_limit(
    tmp_path: Path, registry: RegistryServer, make_proxy: Callable[..., RegistryProxy], namespace: str
) -> None:
    root = big_collection(tmp_path, registry, namespace)
    mode = ghcr_mode()
    proxy = start(mode, make_proxy)
    config = write_config(tmp_path / "featurepub.toml", proxy.host, profile="ghcr", upload="chunked")
    result = run("publish", root, "-r", proxy.host, "-n", namespace, "--config", config, env=mode.env(proxy))
    assert result.code == 0, result.stderr
    read_back(registry, namespace, result.json)
    patches = proxy.requests("PATCH")
    assert [r.body_bytes for r in patches] == [4 * MiB] * 3
    assert {r.status for r in patches} == {202}


def test_ghcr_refusing_large_chunks_is_explained(
    tmp_path: Path,
    registry: RegistryServer,
    make_proxy: Callable[..., RegistryProxy],
    namespace: str,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    root = big_collection(tmp_path, registry, namespace)
    mode = ghcr_mode()
    proxy = start(mode, make_proxy)
    config = tmp_path / "featurepub.toml"
    monkeypatch.setenv("DEVCONTAINERS_OCI_AUTH", mode.env(proxy)["DEVCONTAINERS_OCI_AUTH"])
    # The profile's own limit stops 8 MiB chunks before anything is sent...
    write_config(config, proxy.host, profile="ghcr", upload="chunked", chunk_size="8MiB")
    with pytest.raises(ConfigError, match="8 MiB is above the maximum of 4 MiB"):
        featurepub.publish(root, registry=proxy.host, namespace=namespace, config=config)
    assert proxy.requests() == []
    # ...and when the limit is lifted too, ghcr.io's 416 comes back with the fix.
    write_config(config, proxy.host, profile="ghcr", upload="chunked", chunk_size="8MiB", chunk_max="8MiB")
    report = featurepub.publish(
        root, registry=proxy.host, namespace=namespace, config=config, retry=RetryPolicy(max_attempts=1)
    )
    big = next(f for f in report.features if f.id == BIG_ID)
    error = big.repositories[0].error or ""
    assert "HTTP 416" in error
    assert "exceeds the maximum permissible limit of 4.00MiB" in error
    assert "ghcr.io refuses chunk bodies over 4 MiB" in error


def test_ghcr_token_without_push_is_explained(
    tmp_path: Path, registry: RegistryServer, make_proxy: Callable[..., RegistryProxy], namespace: str
) -> None:
    root = big_collection(tmp_path, registry, namespace)
    mode = ghcr_mode(may_push=False)
    proxy = start(mode, make_proxy)
    result = run("publish", root, "-r", proxy.host, "-n", namespace, "--profile", "ghcr", env=mode.env(proxy))
    assert result.code == 3
    assert "HTTP 403 DENIED: permission_denied: write_package" in result.stderr
    assert "packages: write" in result.stderr
    assert "classic personal access token" in result.stderr
    assert mode.password not in result.stdout + result.stderr


# --- Azure ACR --------------------------------------------------------------------------


def test_acr_mode_publishes_with_its_profile(
    tmp_path: Path, registry: RegistryServer, make_proxy: Callable[..., RegistryProxy], namespace: str
) -> None:
    root = big_collection(tmp_path, registry, namespace)
    mode = acr_mode(throttled=2)
    proxy = start(mode, make_proxy)
    result = run("publish", root, "-r", proxy.host, "-n", namespace, "--profile", "acr", env=mode.env(proxy))
    assert result.code == 0, result.stderr
    read_back(registry, namespace, result.json)
    tokens, ranges, throttle = mode.extra["tokens"], mode.extra["ranges"], mode.extra["throttle"]
    assert isinstance(tokens, AcrTokenServer) and isinstance(ranges, AcrContentRangeFormat)
    assert isinstance(throttle, AcrThrottle)
    assert tokens.token_requests  # served from /oauth2/token, read from "access_token"
    # The ACR profile chunks: the big layer goes as one 8 MiB PATCH (with a plain start-end
    # Content-Range, which ACR requires) and a PUT with the rest, through relative Locations.
    assert [r.body_bytes for r in proxy.requests("PATCH")] == [8 * MiB]
    assert ranges.refused == 0
    assert throttle.sent == 2
    assert [r.status for r in proxy.requests("POST")].count(429) == 2


# --- cross-repository mounts, profile choice ------------------------------------------------


def test_legacy_ids_mount_instead_of_uploading_again(
    tmp_path: Path, registry: RegistryServer, make_proxy: Callable[..., RegistryProxy], namespace: str
) -> None:
    root = big_collection(tmp_path, registry, namespace)
    proxy = make_proxy()
    result = run("publish", root, "-r", proxy.host, "-n", namespace)
    assert result.code == 0, result.stderr
    read_back(registry, namespace, result.json)
    for legacy in (BIG_LEGACY, "hello"):
        mounts = proxy.requests("POST", f"/v2/{namespace}/{legacy}/blobs/uploads/?mount=")
        assert [r.status for r in mounts] == [201, 201]  # the {} config and the layer
        assert proxy.requests("PUT", f"/v2/{namespace}/{legacy}/blobs/") == []
    assert proxy.blob_bytes_uploaded < 2 * BIG_PAYLOAD


def test_config_in_pyproject_chooses_the_profile_for_a_host(
    tmp_path: Path, registry: RegistryServer, make_proxy: Callable[..., RegistryProxy], namespace: str
) -> None:
    root = big_collection(tmp_path, registry, namespace)
    proxy = make_proxy()
    project = tmp_path / "project"
    project.mkdir()
    table = f'[tool.featurepub.registries."{proxy.host}"]\nprofile = "acr"\nchunk_size = "4MiB"\n'
    (project / "pyproject.toml").write_text(f'[project]\nname = "x"\n\n{table}', encoding="utf-8")
    shown = run("profiles", "--host", proxy.host, "--json", cwd=project)
    assert shown.code == 0, shown.stderr
    assert (shown.json["name"], shown.json["upload"], shown.json["chunk_size"]) == ("acr", "chunked", 4 * MiB)
    result = run("publish", root, "-r", proxy.host, "-n", namespace, cwd=project)
    assert result.code == 0, result.stderr
    assert [r.body_bytes for r in proxy.requests("PATCH", f"/v2/{namespace}/{BIG_ID}/")] == [4 * MiB] * 3


def test_docker_hub_paths_deeper_than_two_levels_are_refused_before_pushing(
    tmp_path: Path, registry: RegistryServer, make_proxy: Callable[..., RegistryProxy], namespace: str
) -> None:
    proxy = make_proxy()
    root = copy_samples(tmp_path / "samples", f"{registry.host}/{namespace}")
    result = run("publish", root, "-r", proxy.host, "-n", namespace, "--profile", "dockerhub")
    assert result.code == 2, result.stderr
    assert f"{namespace}/common-utils: Docker Hub repository names have at most 2 levels, this one has 3" in (
        result.stderr
    )
    assert {r.method for r in proxy.requests()} <= {"GET", "HEAD"}
    # Only the collection's own (two-level) repository was read; no feature repository was touched.
    own = tuple(f"/v2/{namespace}/{kind}/" for kind in ("manifests", "blobs", "tags"))
    assert proxy.requests() and all(r.path.startswith(own) for r in proxy.requests())


def test_unknown_profile_is_an_input_error(
    tmp_path: Path, registry: RegistryServer, make_proxy: Callable[..., RegistryProxy], namespace: str
) -> None:
    proxy = make_proxy()
    root = copy_samples(tmp_path / "samples", f"{registry.host}/{namespace}")
    result = run("publish", root, "-r", proxy.host, "-n", namespace, "--profile", "nosuch")
    assert result.code == 2
    assert "unknown registry profile 'nosuch'" in result.stderr
    assert "ecr, ghcr, acr" in result.stderr
    assert proxy.requests() == []


def test_bad_config_names_the_key_path(tmp_path: Path, registry: RegistryServer, namespace: str) -> None:
    root = copy_samples(tmp_path / "samples", f"{registry.host}/{namespace}")
    config = tmp_path / "featurepub.toml"
    config.write_text('[registries."ghcr.io"]\nchunk_min = "lots"\n', encoding="utf-8")
    result = run("publish", root, "-r", "ghcr.io", "-n", namespace, "--config", config)
    assert result.code == 2
    assert "featurepub.toml: registries -> ghcr.io -> chunk_min: expected a size such as 5MiB, got 'lots'" in (
        result.stderr
    )


# --- featurepub profiles ------------------------------------------------------------------


def test_profiles_lists_every_registry() -> None:
    table = run("profiles")
    assert table.code == 0, table.stderr
    names = [line.split()[0] for line in table.stdout.splitlines()[1:]]
    expected = ["ecr", "ghcr", "acr", "dockerhub", "gar", "gitlab", "harbor", "quay", "artifactory", "nexus"]
    assert names == [*expected, "gitea", "zot", "distribution", "generic"]
    assert "10 MiB (min 5 MiB, max 20 MiB)" in table.stdout
    listed = run("profiles", "--json")
    assert [p["name"] for p in json.loads(listed.stdout)] == names
    one = run("profiles", "ecr")
    assert "chunk_min              5 MiB" in one.stdout
    assert "when NAME_UNKNOWN: ECR does not create repositories on push" in one.stdout
    missing = run("profiles", "nosuch")
    assert missing.code == 2
    assert "unknown registry profile" in missing.stderr


def test_profiles_for_a_host_follow_its_pattern() -> None:
    shown = run("profiles", "--host", "123456789012.dkr.ecr.eu-west-1.amazonaws.com", "--json")
    assert shown.code == 0, shown.stderr
    assert shown.json["name"] == "ecr"
    assert shown.json["empty_blobs"] is False
    assert run("profiles", "--host", "myregistry.azurecr.io", "--json").json["token_keys"] == ["access_token"]
    assert run("profiles", "--host", "localhost:5000", "--json").json["name"] == "generic"


def test_readme_documents_the_current_profiles(tmp_path: Path) -> None:
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    start = text.index("### Registry profiles")
    section = text[start : text.index("\n### ", start + 1)]
    table = run("profiles").stdout.rstrip("\n")
    assert f"$ featurepub profiles\n{table}\n```" in section
    block = re.search(r"```toml\n(.*?)```", section, re.S)
    assert block is not None
    config = load_config(write_text(tmp_path / "featurepub.toml", block.group(1)))
    custom = select_profile("registry.example.com", config=config)
    assert (custom.name, custom.upload, custom.chunk_size) == ("ecr", "chunked", 10 * MiB)
    assert select_profile("acme.jfrog.io", config=config).mount is False
    prose = " ".join(section.split())
    assert "1 MiB is below the minimum of 5 MiB: AWS ECR refuses chunks under 5 MiB except the last" in prose


def write_text(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path
