"""What featurepub publishes, read back by the real consumers: the reference CLI and skopeo."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest

from tests.conftest import copy_samples
from tests.support import consumers
from tests.support.publishing import PublishedFeature, featurepub
from tests.support.registry import RegistryServer

pytestmark = pytest.mark.interop


@pytest.fixture
def published(samples: Path, registry: RegistryServer, namespace: str) -> dict[str, PublishedFeature]:
    run = featurepub("publish", samples, "-r", registry.host, "-n", namespace)
    assert run.code == 0, run.stderr
    return run.json


def test_reference_cli_reads_every_feature(
    published: dict[str, PublishedFeature], registry: RegistryServer, namespace: str
) -> None:
    for feature_id, entry in published.items():
        ref = f"{registry.host}/{namespace}/{feature_id}:{entry['version']}"
        info = consumers.info_manifest(ref)
        assert info["canonicalId"] == f"{registry.host}/{namespace}/{feature_id}@{entry['digest']}"
        assert info["manifest"]["config"]["mediaType"] == "application/vnd.devcontainers"
        tags = consumers.info_tags(f"{registry.host}/{namespace}/{feature_id}")
        assert sorted(tags) == sorted(entry["publishedTags"])


def test_reference_cli_reads_a_feature_by_its_legacy_id(
    published: dict[str, PublishedFeature], registry: RegistryServer, namespace: str
) -> None:
    info = consumers.info_manifest(f"{registry.host}/{namespace}/hello:2")
    assert info["canonicalId"].endswith(f"/hello@{published['hello-cli']['digest']}")


def test_reference_cli_resolves_dependencies(
    published: dict[str, PublishedFeature], registry: RegistryServer, namespace: str, tmp_path: Path
) -> None:
    prefix = f"{registry.host}/{namespace}"
    order = consumers.resolve_dependencies(
        tmp_path / "workspace",
        {f"{prefix}/node-tool:0": {}, f"{prefix}/hello-cli:2": {}, f"{prefix}/shell-prompt:1": {}},
    )
    names = [ref.split("@")[0].rsplit("/", 1)[1] for ref in order]
    # hello-cli dependsOn common-utils (pulled in although not listed); the others installAfter it.
    assert set(names) == {"common-utils", "hello-cli", "node-tool", "shell-prompt"}
    assert names.index("common-utils") < min(names.index(n) for n in ("hello-cli", "node-tool", "shell-prompt"))


def test_skopeo_reads_every_tag(
    published: dict[str, PublishedFeature], registry: RegistryServer, namespace: str
) -> None:
    for feature_id, entry in published.items():
        for tag in entry["publishedTags"]:
            raw = consumers.skopeo_raw(f"docker://{registry.host}/{namespace}/{feature_id}:{tag}")
            assert raw["artifactType"] == "application/vnd.devcontainers"
            assert raw["layers"][0]["annotations"]["org.opencontainers.image.title"].endswith(f"{feature_id}.tgz")


def test_layout_round_trip_through_skopeo(tmp_path: Path, registry: RegistryServer, namespace: str) -> None:
    samples = copy_samples(tmp_path / "samples", f"{registry.host}/{namespace}")
    layout = tmp_path / "layout"
    run = featurepub("publish", samples, "--namespace", namespace, "--layout", layout)
    assert run.code == 0, run.stderr
    assert (layout / "oci-layout").is_file()
    assert (layout / "index.json").is_file()
    digest = run.json["node-tool"]["digest"]
    blob = layout / "blobs" / "sha256" / digest.split(":")[1]
    assert "sha256:" + hashlib.sha256(blob.read_bytes()).hexdigest() == digest
    consumers.skopeo_copy(
        f"oci:{layout}:{namespace}/node-tool:0.3.0", f"docker://{registry.host}/{namespace}/node-tool:0.3.0"
    )
    info = consumers.info_manifest(f"{registry.host}/{namespace}/node-tool:0.3.0")
    # skopeo copies the manifest bytes unchanged, so the digest is the one featurepub computed.
    assert info["canonicalId"].endswith(f"@{digest}")


def test_layout_and_registry_publish_identical_bytes(
    tmp_path: Path, registry: RegistryServer, namespace: str
) -> None:
    samples = copy_samples(tmp_path / "samples", f"{registry.host}/{namespace}")
    to_layout = featurepub("publish", samples, "-n", namespace, "--layout", tmp_path / "layout")
    to_registry = featurepub("publish", samples, "-r", registry.host, "-n", namespace)
    assert to_layout.code == to_registry.code == 0
    assert {k: v["digest"] for k, v in to_layout.json.items()} == {
        k: v["digest"] for k, v in to_registry.json.items()
    }
