"""publish --layout, then push-layout, then the reference CLI and skopeo read what arrived.

Also layouts written by another tool (skopeo: ref names that are bare tags, two of them on one
manifest), descriptors without ref names, selection by ref name, and a broken layout that must
push nothing at all.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.conftest import copy_samples
from tests.support import consumers
from tests.support.proxy import RegistryProxy
from tests.support.publishing import PublishedFeature, featurepub, registry_tags, tag_digest
from tests.support.registry import RegistryServer

pytestmark = pytest.mark.interop

SAMPLE_IDS = ["common-utils", "deprecated-tool", "hello-cli", "node-tool", "shell-prompt"]


@pytest.fixture
def layout(tmp_path: Path, registry: RegistryServer, namespace: str) -> tuple[Path, dict[str, PublishedFeature]]:
    samples = copy_samples(tmp_path / "samples", f"{registry.host}/{namespace}")
    folder = tmp_path / "layout"
    run = featurepub("publish", samples, "--namespace", namespace, "--layout", folder)
    assert run.code == 0, run.stderr
    return folder, run.json


def ref_names(layout: Path) -> list[str]:
    index = json.loads((layout / "index.json").read_text())
    return [d["annotations"]["org.opencontainers.image.ref.name"] for d in index["manifests"]]


def test_round_trip_is_read_by_the_reference_cli_and_skopeo(
    layout: tuple[Path, dict[str, PublishedFeature]], registry: RegistryServer, namespace: str, tmp_path: Path
) -> None:
    folder, published = layout
    run = featurepub("push-layout", folder, "--registry", registry.host, "--namespace", namespace)
    assert run.code == 0, run.stderr
    report = run.json
    assert report["ok"] is True
    assert {r["status"] for r in report["refs"]} == {"published"}
    assert len(report["refs"]) == len(ref_names(folder))
    # The collection goes last, as publish pushes it.
    assert report["refs"][-1]["repository"] == namespace
    for feature_id, entry in published.items():
        digest = entry["digest"]
        tags = entry["publishedTags"]
        assert registry_tags(registry.url, f"{namespace}/{feature_id}") == sorted(tags)
        for tag in tags:
            assert tag_digest(registry.url, f"{namespace}/{feature_id}", tag) == digest
        info = consumers.info_manifest(f"{registry.host}/{namespace}/{feature_id}:{entry['version']}")
        assert info["canonicalId"] == f"{registry.host}/{namespace}/{feature_id}@{digest}"
        assert sorted(consumers.info_tags(f"{registry.host}/{namespace}/{feature_id}")) == sorted(tags)
        raw = consumers.skopeo_raw(f"docker://{registry.host}/{namespace}/{feature_id}:{entry['version']}")
        assert raw["artifactType"] == "application/vnd.devcontainers"
    # The legacy id came along, and dependencies resolve through the pushed content.
    assert tag_digest(registry.url, f"{namespace}/hello", "2") == published["hello-cli"]["digest"]
    order = consumers.resolve_dependencies(tmp_path / "ws", {f"{registry.host}/{namespace}/hello-cli:2": {}})
    assert [ref.split("@")[0].rsplit("/", 1)[1] for ref in order] == ["common-utils", "hello-cli"]
    # Pushing again changes nothing.
    again = featurepub("push-layout", folder, "-r", registry.host, "-n", namespace)
    assert again.code == 0, again.stderr
    assert {r["status"] for r in again.json["refs"]} == {"unchanged"}
    assert again.json["bytesUploaded"] == 0


def test_a_layout_from_skopeo_with_two_ref_names_on_one_manifest(
    layout: tuple[Path, dict[str, PublishedFeature]], registry: RegistryServer, namespace: str, tmp_path: Path
) -> None:
    folder, published = layout
    # skopeo names descriptors with bare tags; two copies of one manifest give two ref names.
    other = tmp_path / "skopeo-layout"
    source = f"oci:{folder}:{namespace}/node-tool:0.3.0"
    consumers.skopeo_copy(source, f"oci:{other}:0.3.0")
    consumers.skopeo_copy(source, f"oci:{other}:stable")
    assert sorted(ref_names(other)) == ["0.3.0", "stable"]
    index = json.loads((other / "index.json").read_text())
    assert len({d["digest"] for d in index["manifests"]}) == 1
    target_ns = f"{namespace}-copy"
    # A bare tag does not say which repository it belongs to: featurepub does not guess.
    refused = featurepub("push-layout", other, "-r", registry.host, "-n", target_ns)
    assert refused.code == 2
    assert "bare tag" in refused.stderr
    assert "--repository" in refused.stderr
    run = featurepub("push-layout", other, "-r", registry.host, "-n", target_ns, "--repository", "node-tool")
    assert run.code == 0, run.stderr
    digest = published["node-tool"]["digest"]
    assert [(r["tag"], r["status"]) for r in run.json["refs"]] == [("0.3.0", "published"), ("stable", "published")]
    assert registry_tags(registry.url, f"{target_ns}/node-tool") == ["0.3.0", "stable"]
    assert tag_digest(registry.url, f"{target_ns}/node-tool", "0.3.0") == digest
    assert tag_digest(registry.url, f"{target_ns}/node-tool", "stable") == digest
    info = consumers.info_manifest(f"{registry.host}/{target_ns}/node-tool:stable")
    assert info["canonicalId"].endswith(f"@{digest}")
    assert consumers.skopeo_raw(f"docker://{registry.host}/{target_ns}/node-tool:0.3.0")["layers"]


def test_select_by_ref_name_and_ignore_unnamed_descriptors(
    layout: tuple[Path, dict[str, PublishedFeature]], registry: RegistryServer, namespace: str
) -> None:
    folder, _ = layout
    index_path = folder / "index.json"
    index = json.loads(index_path.read_text())
    unnamed = dict(index["manifests"][0])
    unnamed.pop("annotations")
    index["manifests"].append(unnamed)
    index_path.write_text(json.dumps(index))
    wanted = f"{namespace}/shell-prompt:1.0.0"
    run = featurepub("push-layout", folder, "-r", registry.host, "-n", namespace, "--ref", wanted)
    assert run.code == 0, run.stderr
    assert [r["refName"] for r in run.json["refs"]] == [wanted]
    assert registry_tags(registry.url, f"{namespace}/shell-prompt") == ["1.0.0"]
    assert registry_tags(registry.url, f"{namespace}/common-utils") == []
    everything = featurepub("push-layout", folder, "-r", registry.host, "-n", namespace, "--dry-run")
    assert everything.code == 0, everything.stderr
    assert everything.json["ignored"] == [unnamed["digest"]]
    assert "not pushed: 1 descriptor without a ref name" in everything.stderr
    statuses = {r["refName"]: r["status"] for r in everything.json["refs"]}
    assert statuses[wanted] == "unchanged"
    assert {s for name, s in statuses.items() if name != wanted} == {"planned"}
    assert registry_tags(registry.url, f"{namespace}/common-utils") == []  # a dry run pushes nothing
    unknown = featurepub("push-layout", folder, "-r", registry.host, "-n", namespace, "--ref", "nope:1")
    assert unknown.code == 2
    assert wanted in unknown.stderr  # the hint lists what the layout has


def test_a_broken_layout_pushes_nothing(
    layout: tuple[Path, dict[str, PublishedFeature]], make_proxy: Callable[..., RegistryProxy], namespace: str
) -> None:
    folder, published = layout
    # Corrupt the last feature's layer: the check must fail before the first feature is pushed.
    manifest = json.loads((folder / "blobs" / "sha256" / str(published["shell-prompt"]["digest"])[7:]).read_text())
    layer = folder / "blobs" / "sha256" / manifest["layers"][0]["digest"][7:]
    layer.write_bytes(layer.read_bytes()[:-1] + b"x")
    proxy = make_proxy()
    run = featurepub("push-layout", folder, "-r", proxy.host, "-n", namespace)
    assert run.code == 2
    assert "does not match its descriptor" in run.stderr
    assert str(layer) in run.stderr
    assert proxy.requests() == []


def test_existing_version_with_other_content_is_skipped_with_its_floating_tags(
    tmp_path: Path, registry: RegistryServer, namespace: str
) -> None:
    def layout_for(script: str) -> Path:
        root = tmp_path / script / "src" / "tool"
        root.mkdir(parents=True)
        (root / "devcontainer-feature.json").write_text('{"id": "tool", "version": "1.0.0", "name": "Tool"}')
        (root / "install.sh").write_text(f"#!/bin/sh\necho {script}\n")
        folder = tmp_path / f"layout-{script}"
        assert featurepub("publish", root.parent.parent, "-n", namespace, "--layout", folder).code == 0
        return folder

    first = featurepub("push-layout", layout_for("one"), "-r", registry.host, "-n", namespace)
    assert first.code == 0, first.stderr
    before = tag_digest(registry.url, f"{namespace}/tool", "latest")
    second = featurepub(
        "push-layout",
        layout_for("two"),
        "-r",
        registry.host,
        "-n",
        namespace,
        "--ref",
        f"{namespace}/tool:1.0.0",
        "--ref",
        f"{namespace}/tool:latest",
    )
    assert second.code == 0, second.stderr
    statuses = {r["tag"]: r["status"] for r in second.json["refs"]}
    assert statuses == {"1.0.0": "skipped", "latest": "skipped"}
    assert "--force" in second.stderr
    assert tag_digest(registry.url, f"{namespace}/tool", "latest") == before


def test_a_zero_byte_config_is_never_uploaded(tmp_path: Path, registry: RegistryServer, namespace: str) -> None:
    """An old artifact (0-byte config, reference CLI before 0.63.0) copied into a layout by skopeo:
    featurepub refuses to upload the zero-byte blob (AWS ECR and Google refuse them) and says why."""
    from tests.integration.test_inspect import feature_manifest, push_manifest

    body = feature_manifest(registry, f"{namespace}/old", {"id": "old", "version": "0.9.0"}, config=b"")
    push_manifest(registry, f"{namespace}/old", "0.9.0", body)
    folder = tmp_path / "old-layout"
    consumers.skopeo_copy(f"docker://{registry.host}/{namespace}/old:0.9.0", f"oci:{folder}:0.9.0")
    run = featurepub("push-layout", folder, "-r", registry.host, "-n", f"{namespace}-new", "--repository", "old")
    assert run.code == 2
    assert "zero-byte blob" in run.stderr
    assert "republish the feature from its source folder" in run.stderr
    assert json.loads(run.stdout)["refs"][0]["status"] == "failed"
    assert registry_tags(registry.url, f"{namespace}-new/old") == []
