"""Publishing to a real distribution registry, checked by reading the registry directly."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import json5
import pytest

from featurepub.api import open_registry
from tests.conftest import copy_samples
from tests.support.proxy import RegistryProxy
from tests.support.publishing import featurepub, registry_tags, tag_digest
from tests.support.registry import RegistryServer
from tests.support.rules import NullTagsForNewRepository, PaginateTags, RelativeLocation, WrongManifestDigest

SAMPLE_IDS = ["common-utils", "deprecated-tool", "hello-cli", "node-tool", "shell-prompt"]


def write_feature(root: Path, feature_id: str, version: str, script: str = "echo hi\n") -> Path:
    folder = root / "src" / feature_id
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "devcontainer-feature.json").write_text(
        json.dumps({"id": feature_id, "version": version, "name": feature_id.title()}), encoding="utf-8"
    )
    install = folder / "install.sh"
    install.write_text(f"#!/bin/sh\n{script}", encoding="utf-8")
    install.chmod(0o755)
    return root


def test_publish_samples_pushes_every_tag_and_the_collection(
    samples: Path, registry: RegistryServer, namespace: str
) -> None:
    run = featurepub("publish", samples, "--registry", registry.host, "--namespace", namespace)
    assert run.code == 0, run.stderr
    report = run.json  # the reference CLI's stdout: its tag order, legacy ids only where published
    assert sorted(report) == SAMPLE_IDS
    assert [k for k, v in report.items() if "publishedLegacyIds" in v] == ["hello-cli"]
    assert report["hello-cli"]["publishedLegacyIds"] == ["hello"]
    for feature_id, entry in report.items():
        version = entry["version"]
        major, minor, _ = version.split(".")
        assert entry["publishedTags"] == [major, f"{major}.{minor}", version, "latest"]
        assert registry_tags(registry.url, f"{namespace}/{feature_id}") == sorted(entry["publishedTags"])
        for tag in entry["publishedTags"]:
            assert tag_digest(registry.url, f"{namespace}/{feature_id}", tag) == entry["digest"]
    # legacyIds: the old name serves the same content.
    hello = report["hello-cli"]
    assert tag_digest(registry.url, f"{namespace}/hello", "2.0.1") == hello["digest"]
    # The collection is a manifest under the namespace itself.
    assert tag_digest(registry.url, namespace, "latest") is not None


def test_metadata_annotation_matches_the_file(samples: Path, registry: RegistryServer, namespace: str) -> None:
    import httpx

    from featurepub.oci import mediatypes

    assert featurepub("publish", samples, "-r", registry.host, "-n", namespace, "-q").code == 0
    for feature_id in SAMPLE_IDS:
        manifest = httpx.get(
            f"{registry.url}/v2/{namespace}/{feature_id}/manifests/latest",
            headers={"Accept": mediatypes.OCI_MANIFEST},
        ).json()
        assert manifest["artifactType"] == "application/vnd.devcontainers"
        assert manifest["config"] == {
            "mediaType": "application/vnd.devcontainers",
            "digest": "sha256:44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a",
            "size": 2,
        }
        (layer,) = manifest["layers"]
        assert layer["mediaType"] == "application/vnd.devcontainers.layer.v1+tar"
        assert layer["annotations"] == {"org.opencontainers.image.title": f"devcontainer-feature-{feature_id}.tgz"}
        metadata = json.loads(manifest["annotations"]["dev.containers.metadata"])
        expected = json5.loads((samples / "src" / feature_id / "devcontainer-feature.json").read_text())
        if expected.get("legacyIds"):
            expected["currentId"] = feature_id  # what the reference CLI adds for renamed features
        assert metadata == expected
        assert "com.github.package.type" not in manifest["annotations"]  # only on ghcr.io


def test_republish_unchanged_uploads_nothing(
    samples: Path, make_proxy: Callable[..., RegistryProxy], namespace: str
) -> None:
    proxy = make_proxy()
    first = featurepub("publish", samples, "-r", proxy.host, "-n", namespace)
    assert first.code == 0, first.stderr
    assert proxy.blob_bytes_uploaded > 0
    proxy.reset()
    second = featurepub("publish", samples, "-r", proxy.host, "-n", namespace, "--json")
    assert second.code == 0, second.stderr
    assert proxy.blob_bytes_uploaded == 0
    assert proxy.requests("POST") == []
    assert proxy.requests("PUT") == []
    assert proxy.requests("PATCH") == []
    assert {entry["status"] for entry in second.features.values()} == {"unchanged"}
    # The catalog (which repositories exist), the collection (its manifest and document: which
    # versions are complete), then one HEAD of the exact version per repository (six: five
    # features and one legacy id).
    assert len(proxy.requests()) == 9
    assert len(proxy.requests("HEAD", "/manifests/")) == 6


def test_repositories_are_listed_across_catalog_pages(
    samples: Path, make_proxy: Callable[..., RegistryProxy], namespace: str
) -> None:
    proxy = make_proxy()
    assert featurepub("publish", samples, "-r", proxy.host, "-n", namespace).code == 0
    proxy.reset()
    target = open_registry(proxy.host)
    try:
        found = target.client.repositories_under(namespace, page_size=2)
    finally:
        target.close()
    features = ["common-utils", "deprecated-tool", "hello", "hello-cli", "node-tool", "shell-prompt"]
    assert found == {f"{namespace}/{name}" for name in features}
    # distribution answers two names a page with a Link to the next; the walk stops past the namespace.
    assert 3 <= len(proxy.requests("GET", "/_catalog")) <= 4


def test_floating_tags_follow_the_highest_release(
    tmp_path: Path, registry: RegistryServer, namespace: str
) -> None:
    repo = f"{namespace}/tool"

    def publish(version: str) -> dict[str, object]:
        root = write_feature(tmp_path / version, "tool", version, script=f"echo {version}\n")
        run = featurepub("publish", root, "-r", registry.host, "-n", namespace, "--json")
        assert run.code == 0, run.stderr
        entry: dict[str, object] = run.features["tool"]
        return entry

    v100 = publish("1.0.0")
    v110 = publish("1.1.0")
    v105 = publish("1.0.5")
    assert v105["publishedTags"] == ["1.0.5", "1.0"]
    assert tag_digest(registry.url, repo, "1.0") == v105["digest"]
    assert tag_digest(registry.url, repo, "1") == v110["digest"]
    assert tag_digest(registry.url, repo, "latest") == v110["digest"]
    assert tag_digest(registry.url, repo, "1.0.0") == v100["digest"]
    rc = publish("2.0.0-rc.1")
    assert rc["publishedTags"] == ["2.0.0-rc.1"]
    assert tag_digest(registry.url, repo, "latest") == v110["digest"]
    assert "2" not in registry_tags(registry.url, repo)


def test_existing_version_with_new_content_is_skipped_unless_forced(
    tmp_path: Path, registry: RegistryServer, namespace: str
) -> None:
    root = write_feature(tmp_path / "a", "tool", "1.0.0", script="echo one\n")
    first = featurepub("publish", root, "-r", registry.host, "-n", namespace)
    assert first.code == 0
    write_feature(root, "tool", "1.0.0", script="echo two\n")
    second = featurepub("publish", root, "-r", registry.host, "-n", namespace, "--json")
    assert second.code == 0
    assert second.features["tool"]["status"] == "skipped"
    assert second.features["tool"]["digest"] == first.json["tool"]["digest"]  # the registry's, not ours
    assert "other content" in second.stderr
    assert "install.sh differs" in second.features["tool"]["repositories"][0]["note"]
    assert "--force" in second.stderr
    assert tag_digest(registry.url, f"{namespace}/tool", "1.0.0") == first.json["tool"]["digest"]
    forced = featurepub("publish", root, "-r", registry.host, "-n", namespace, "--force")
    assert forced.code == 0
    assert forced.json["tool"]["publishedTags"] == ["1", "1.0", "1.0.0", "latest"]
    assert forced.json["tool"]["digest"] != first.json["tool"]["digest"]
    assert tag_digest(registry.url, f"{namespace}/tool", "1.0.0") == forced.json["tool"]["digest"]
    assert tag_digest(registry.url, f"{namespace}/tool", "latest") == forced.json["tool"]["digest"]


def test_invalid_features_push_nothing_and_exit_2(
    tmp_path: Path, make_proxy: Callable[..., RegistryProxy], namespace: str
) -> None:
    root = copy_samples(tmp_path / "broken", "localhost:1/x")
    bad = root / "src" / "node-tool" / "devcontainer-feature.json"
    bad.write_text(bad.read_text().replace('"version": "0.3.0"', '"version": "v0.3.0"'))
    (root / "src" / "shell-prompt" / "install.sh").unlink()
    proxy = make_proxy()
    run = featurepub("publish", root, "-r", proxy.host, "-n", namespace)
    assert run.code == 2
    errors = [line for line in run.stderr.splitlines() if line.startswith("error: ")]
    assert any(str(bad) in line and "leading 'v'" in line for line in errors)
    assert any(str(root / "src" / "shell-prompt" / "install.sh") in line for line in errors)
    assert "Traceback" not in run.stderr
    assert run.stdout == ""
    assert proxy.requests() == []


def test_retries_and_timeouts_are_options(
    tmp_path: Path, make_proxy: Callable[..., RegistryProxy], namespace: str
) -> None:
    from tests.support.faults import RefuseAfter

    proxy = make_proxy(RefuseAfter(healthy=0))
    root = write_feature(tmp_path, "tool", "0.1.0")
    args = ["--retries", "2", "--retry-time", "5", "--timeout", "5", "--connect-timeout", "2"]
    run = featurepub("publish", root, "-r", proxy.host, "-n", namespace, *args)
    assert run.code == 4
    # The first read (the collection) is tried three times: once and two retries.
    assert len(proxy.requests("GET", f"/v2/{namespace}/manifests/latest")) == 3


def test_dry_run_reads_but_never_writes(
    samples: Path, make_proxy: Callable[..., RegistryProxy], namespace: str
) -> None:
    proxy = make_proxy()
    run = featurepub("publish", samples, "-r", proxy.host, "-n", namespace, "--dry-run", "--json")
    assert run.code == 0, run.stderr
    assert {entry["status"] for entry in run.features.values()} == {"planned"}
    assert "would push tags 1.2.0, 1.2, 1, latest" in run.stderr
    assert {r.method for r in proxy.requests()} <= {"GET", "HEAD"}


def test_paginated_tags_are_all_read(
    tmp_path: Path, registry: RegistryServer, make_proxy: Callable[..., RegistryProxy], namespace: str
) -> None:
    for version in ["1.0.0", "1.1.0", "1.2.0", "1.3.0", "1.4.0"]:
        root = write_feature(tmp_path / version, "tool", version, script=f"echo {version}\n")
        assert featurepub("publish", root, "-r", registry.host, "-n", namespace).code == 0
    proxy = make_proxy(PaginateTags(page_size=2))
    root = write_feature(tmp_path / "old", "tool", "1.2.5", script="echo fix\n")
    run = featurepub("publish", root, "-r", proxy.host, "-n", namespace)
    assert run.code == 0, run.stderr
    # 1.4.0 is only on the last page: seeing it keeps "1" and "latest" where they are.
    assert run.json["tool"]["publishedTags"] == ["1.2", "1.2.5"]
    assert len(proxy.requests("GET", "/tags/list")) >= 4


def test_null_tags_for_a_new_repository(
    tmp_path: Path, make_proxy: Callable[..., RegistryProxy], namespace: str
) -> None:
    proxy = make_proxy(NullTagsForNewRepository())
    root = write_feature(tmp_path, "tool", "0.1.0")
    run = featurepub("publish", root, "-r", proxy.host, "-n", namespace)
    assert run.code == 0, run.stderr
    assert run.json["tool"]["publishedTags"] == ["0", "0.1", "0.1.0", "latest"]


def test_relative_upload_location_is_resolved(
    tmp_path: Path, registry: RegistryServer, make_proxy: Callable[..., RegistryProxy], namespace: str
) -> None:
    proxy = make_proxy(RelativeLocation())
    root = write_feature(tmp_path, "tool", "0.1.0")
    run = featurepub("publish", root, "-r", proxy.host, "-n", namespace)
    assert run.code == 0, run.stderr
    assert tag_digest(registry.url, f"{namespace}/tool", "0.1.0") == run.json["tool"]["digest"]


def test_wrong_manifest_digest_from_registry_is_an_error(
    tmp_path: Path, make_proxy: Callable[..., RegistryProxy], namespace: str
) -> None:
    proxy = make_proxy(WrongManifestDigest())
    root = write_feature(tmp_path, "tool", "0.1.0")
    run = featurepub("publish", root, "-r", proxy.host, "-n", namespace, "--json")
    assert run.code == 4
    assert run.features["tool"]["status"] == "failed"
    assert "stored the manifest as sha256:000" in run.stderr
    # The human summary accounts for every tag.
    assert f"tool 0.1.0 [{namespace}/tool]: failed (failed 0.1.0; not-attempted 0.1, 0, latest)" in run.stderr
    # The collection is not pushed when a feature failed.
    assert "collection" in run.stderr
    assert "not pushed" in run.stderr


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["-r", "https://ghcr.io"], "has a scheme"),
        (["-r", "ghcr.io/Owner"], "lowercase"),
        (["-n", "My-Org/features"], "lowercase"),
        (["-n", "bad name"], "invalid path component"),
        (["-r", "localhost:99999"], "invalid port"),
    ],
)
def test_bad_names_are_refused_before_anything_is_read(args: list[str], message: str, tmp_path: Path) -> None:
    root = write_feature(tmp_path, "tool", "0.1.0")
    full = ["-r", "localhost:5000", "-n", "ns", *args]
    run = featurepub("publish", root, *full)
    assert run.code == 2
    assert message in run.stderr
    assert "Traceback" not in run.stderr


def test_fresh_publish_needs_few_requests(
    samples: Path, make_proxy: Callable[..., RegistryProxy], namespace: str
) -> None:
    proxy = make_proxy()
    run = featurepub("publish", samples, "-r", proxy.host, "-n", namespace)
    assert run.code == 0, run.stderr
    # New repositories (the catalog says so) are not probed: per repository the config blob is
    # mounted or uploaded, the layer uploaded (POST, PUT) and four tags pushed. The tags are listed
    # once, after the floating tags went up (another run may have pushed another version meanwhile).
    listed = [r.path for r in proxy.requests("GET", "/tags/list")]
    assert len(listed) == len(set(listed)) == 6  # five features, one legacy id; not the collection
    # Only the collection's repository (the namespace itself, which the catalog page does not
    # cover) checks its blobs first.
    assert {r.path.split("/blobs/")[0] for r in proxy.requests("HEAD", "/blobs/")} <= {f"/v2/{namespace}"}
    assert len(proxy.requests("GET", "/_catalog")) == 1
    repositories = 7  # five features, one legacy id, the collection
    assert len(proxy.requests()) <= 8 * repositories + len(listed)
