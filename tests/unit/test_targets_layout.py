"""featurepub.targets.layout: an OCI image layout folder as a publish target."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

import pytest

from featurepub.errors import ConfigError
from featurepub.oci import mediatypes
from featurepub.oci.descriptor import Blob, Descriptor
from featurepub.oci.manifest import EMPTY_CONFIG, Manifest, build_manifest
from featurepub.targets.layout import LayoutTarget

REPO = "ns/feat"


def artifact(content: bytes) -> tuple[Blob, Manifest]:
    layer = Blob.from_bytes(mediatypes.FEATURE_LAYER, content, {mediatypes.ANNOTATION_TITLE: "layer.tgz"})
    return layer, build_manifest(layer.descriptor, {mediatypes.ANNOTATION_METADATA: "{}"})


def publish(target: LayoutTarget, repository: str, tags: list[str], content: bytes) -> Manifest:
    layer, manifest = artifact(content)
    for blob in (EMPTY_CONFIG, layer):
        target.push_blob(repository, blob)
    for tag in tags:
        assert target.push_manifest(repository, tag, manifest) == manifest.digest
    return manifest


def index_of(root: Path) -> dict[str, Any]:
    index: dict[str, Any] = json.loads((root / "index.json").read_bytes())
    return index


def test_publish_writes_layout_index_and_blobs(tmp_path: Path) -> None:
    root = tmp_path / "layout"
    target = LayoutTarget(root)
    manifest = publish(target, REPO, ["1.0.0", "1.0", "1", "latest"], b"layer-bytes")
    target.close()

    assert json.loads((root / "oci-layout").read_bytes()) == {"imageLayoutVersion": "1.0.0"}
    index = index_of(root)
    assert index["schemaVersion"] == 2
    assert index["mediaType"] == mediatypes.OCI_INDEX
    manifests = index["manifests"]
    assert [d["annotations"]["org.opencontainers.image.ref.name"] for d in manifests] == [
        f"{REPO}:1.0.0",
        f"{REPO}:1.0",
        f"{REPO}:1",
        f"{REPO}:latest",
    ]
    for descriptor in manifests:
        assert descriptor["mediaType"] == mediatypes.OCI_MANIFEST
        assert descriptor["digest"] == manifest.digest
        assert descriptor["size"] == manifest.size
        assert descriptor["artifactType"] == "application/vnd.devcontainers"

    blobs = sorted(p.name for p in (root / "blobs" / "sha256").iterdir())
    layer, _ = artifact(b"layer-bytes")
    expected = sorted(d.split(":")[1] for d in (EMPTY_CONFIG.digest, layer.digest, manifest.digest))
    assert blobs == expected
    for path in (root / "blobs" / "sha256").iterdir():
        assert hashlib.sha256(path.read_bytes()).hexdigest() == path.name
    assert (root / "blobs" / "sha256" / manifest.digest.split(":")[1]).read_bytes() == manifest.data
    assert not list(root.rglob("*.partial*"))


def test_repushing_a_tag_replaces_its_descriptor(tmp_path: Path) -> None:
    target = LayoutTarget(tmp_path)
    first = publish(target, REPO, ["1.0.0", "latest"], b"one")
    second = publish(target, REPO, ["latest"], b"two")
    assert first.digest != second.digest
    names = [d["annotations"]["org.opencontainers.image.ref.name"] for d in index_of(tmp_path)["manifests"]]
    assert sorted(names) == [f"{REPO}:1.0.0", f"{REPO}:latest"]
    assert target.tag_digest(REPO, "latest") == second.digest
    assert target.tag_digest(REPO, "1.0.0") == first.digest
    # and the same on disk, read back by a fresh target
    reread = LayoutTarget(tmp_path)
    assert reread.tag_digest(REPO, "latest") == second.digest
    assert len(index_of(tmp_path)["manifests"]) == 2


def test_same_tag_same_manifest_twice_is_one_descriptor(tmp_path: Path) -> None:
    target = LayoutTarget(tmp_path)
    publish(target, REPO, ["1"], b"x")
    publish(target, REPO, ["1"], b"x")
    assert len(index_of(tmp_path)["manifests"]) == 1


def test_list_tags_and_tag_digest_per_repository(tmp_path: Path) -> None:
    target = LayoutTarget(tmp_path)
    feat = publish(target, REPO, ["1.0.0", "1"], b"feat")
    publish(target, "ns/feat-two", ["2.0.0"], b"two")
    publish(target, "ns", ["latest"], b"collection")
    assert sorted(target.list_tags(REPO)) == ["1", "1.0.0"]
    assert target.list_tags("ns/feat-two") == ["2.0.0"]
    assert target.list_tags("ns") == ["latest"]
    assert target.list_tags("ns/missing") == []
    assert target.tag_digest(REPO, "1") == feat.digest
    assert target.tag_digest(REPO, "2.0.0") is None
    assert target.tag_digest("ns/missing", "1") is None


def test_read_manifest_by_tag_and_digest(tmp_path: Path) -> None:
    target = LayoutTarget(tmp_path)
    manifest = publish(target, REPO, ["1"], b"x")
    assert target.read_manifest(REPO, "1") == manifest
    assert target.read_manifest(REPO, manifest.digest) == manifest
    assert target.read_manifest(REPO, "2") is None
    assert target.read_manifest(REPO, "sha256:" + "0" * 64) is None


def test_push_blob_reports_bytes_and_skips_existing(tmp_path: Path) -> None:
    target = LayoutTarget(tmp_path)
    blob = Blob.from_bytes("m", b"12345")
    progress: list[int] = []
    assert not target.has_blob(REPO, blob.digest)
    assert target.push_blob(REPO, blob, progress.append) == 5
    assert target.has_blob(REPO, blob.digest)
    assert target.push_blob(REPO, blob, progress.append) == 0
    assert progress == [5]


def test_push_blob_from_file(tmp_path: Path) -> None:
    source = tmp_path / "layer.tar"
    source.write_bytes(b"file content")
    blob = Blob.from_file(Descriptor("m", "sha256:" + hashlib.sha256(b"file content").hexdigest(), 12), source)
    target = LayoutTarget(tmp_path / "layout")
    assert target.push_blob(REPO, blob) == 12
    assert (tmp_path / "layout" / "blobs" / "sha256" / blob.digest.split(":")[1]).read_bytes() == b"file content"


def test_push_blob_with_wrong_digest_is_refused_and_leaves_nothing(tmp_path: Path) -> None:
    lying = Blob(Descriptor("m", "sha256:" + "1" * 64, 3), data=b"abc")
    target = LayoutTarget(tmp_path)
    with pytest.raises(ConfigError, match="content changed"):
        target.push_blob(REPO, lying)
    assert not target.has_blob(REPO, lying.digest)
    assert list((tmp_path / "blobs" / "sha256").iterdir()) == []


def test_a_target_that_wrote_nothing_leaves_no_folder(tmp_path: Path) -> None:
    # `publish --layout out/x --dry-run` reads the layout only: out/x must not appear.
    root = tmp_path / "out" / "x"
    target = LayoutTarget(root)
    assert target.list_tags(REPO) == []
    assert not target.has_blob(REPO, EMPTY_CONFIG.digest)
    target.close()
    assert not (tmp_path / "out").exists()
    assert LayoutTarget(root).display_name == f"layout {root}"


def test_blobs_without_a_manifest_still_make_a_layout(tmp_path: Path) -> None:
    root = tmp_path / "new"
    target = LayoutTarget(root)
    target.push_blob(REPO, EMPTY_CONFIG)  # a run that failed before its first tag
    target.close()
    assert index_of(root) == {"schemaVersion": 2, "mediaType": mediatypes.OCI_INDEX, "manifests": []}
    assert (root / "oci-layout").is_file()


def test_the_same_tags_pushed_in_another_order_give_the_same_index(tmp_path: Path) -> None:
    # Features publish in parallel: their tags reach the index interleaved differently each run
    # (each repository's own tags always in the same order).
    b_exact, b_major, a_exact = ("ns/b", "1.0.0", b"b"), ("ns/b", "1", b"b"), ("ns/a", "1.0.0", b"a")
    collection = ("ns", "latest", b"c")
    indexes = []
    for name, order in (
        ("one", [b_exact, a_exact, b_major, collection]),
        ("two", [a_exact, b_exact, b_major, collection]),
    ):
        target = LayoutTarget(tmp_path / name)
        for repository, tag, content in order:
            publish(target, repository, [tag], content)
        target.close()
        indexes.append((tmp_path / name / "index.json").read_bytes())
    assert indexes[0] == indexes[1]
    names = [
        d["annotations"]["org.opencontainers.image.ref.name"] for d in index_of(tmp_path / "one")["manifests"]
    ]
    assert names == ["ns:latest", "ns/a:1.0.0", "ns/b:1.0.0", "ns/b:1"]


def test_existing_index_is_kept(tmp_path: Path) -> None:
    foreign = {
        "mediaType": "application/vnd.oci.image.manifest.v1+json",
        "digest": "sha256:" + "2" * 64,
        "size": 10,
        "annotations": {"org.opencontainers.image.ref.name": "other:v1"},
    }
    untagged = {
        "mediaType": "application/vnd.oci.image.manifest.v1+json",
        "digest": "sha256:" + "3" * 64,
        "size": 1,
    }
    (tmp_path / "index.json").write_text(json.dumps({"schemaVersion": 2, "manifests": [foreign, untagged]}))
    target = LayoutTarget(tmp_path)
    assert target.list_tags("other") == ["v1"]
    publish(target, REPO, ["1"], b"x")
    manifests = index_of(tmp_path)["manifests"]
    assert manifests[:2] == [foreign, untagged]
    assert len(manifests) == 3


@pytest.mark.parametrize("content", ["{broken", "[]", '{"manifests": {}}'])
def test_broken_index_is_a_config_error(tmp_path: Path, content: str) -> None:
    (tmp_path / "index.json").write_text(content)
    with pytest.raises(ConfigError, match=r"index\.json"):
        LayoutTarget(tmp_path)
