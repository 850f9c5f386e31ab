"""Switching from the reference CLI: featurepub publishes the same sources onto a registry the reference
filled, and prints on stdout what the reference prints.

The reference's layers are not reproducible, so every version it published has another digest than
featurepub's re-pack of the same folder: featurepub compares the content, reports `unchanged`, uploads
nothing, and names the registry's digest; a real change is `skipped`, naming the file.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from bench.layer_sizes import generate
from tests.conftest import copy_samples
from tests.support import consumers
from tests.support.proxy import RegistryProxy
from tests.support.publishing import CliRun, featurepub, registry_tags, tag_digest
from tests.support.registry import RegistryServer

pytestmark = pytest.mark.interop
PACKED_ELSEWHERE = "same content, packed by another tool"


def reference_publish(src: Path, registry: str, namespace: str) -> str:
    """`devcontainer features publish`; its stdout."""
    done = subprocess.run(
        [consumers.DEVCONTAINER, "features", "publish", "-r", registry, "-n", namespace, str(src)],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    return done.stdout


def without_featureignore(samples: Path) -> Path:
    """The samples as a reference user has them: .featureignore is featurepub's, the reference packs it
    (and what it excludes) as ordinary files."""
    node = samples / "src" / "node-tool"
    (node / ".featureignore").unlink()
    shutil.rmtree(node / "scratch")
    return samples


def report_of(path: Path) -> dict[str, Any]:
    report: dict[str, Any] = json.loads(path.read_text())
    return report


def note_of(entry: dict[str, Any], index: int = 0) -> str:
    return str(entry["repositories"][index].get("note", ""))


def test_republishing_what_the_reference_published_changes_nothing(
    tmp_path: Path, registry: RegistryServer, make_proxy: Callable[..., RegistryProxy], namespace: str
) -> None:
    samples = without_featureignore(copy_samples(tmp_path / "samples", f"{registry.host}/{namespace}"))
    reference_publish(samples / "src", registry.host, namespace)
    proxy = make_proxy()
    run = featurepub("publish", samples, "-r", proxy.host, "-n", namespace, "--report", tmp_path / "r.json")
    assert run.code == 0, run.stderr
    assert run.stdout.count("\n") == 1
    ids = sorted(p.name for p in (samples / "src").iterdir())
    assert json.loads(run.stdout) == {i: {} for i in ids}  # what the reference prints for skipped versions
    assert proxy.blob_bytes_uploaded == 0
    assert [r.method for r in proxy.requests() if r.method not in ("GET", "HEAD")] == []
    report = report_of(tmp_path / "r.json")
    assert report["bytesUploaded"] == 0
    for feature_id, entry in report["features"].items():
        assert entry["status"] == "unchanged", entry
        assert all(note_of(entry, n).endswith(PACKED_ELSEWHERE) for n in range(len(entry["repositories"])))
        # The registry's digest, not featurepub's own packing of the folder.
        assert entry["digest"] == tag_digest(registry.url, f"{namespace}/{feature_id}", entry["version"])
        assert entry["packedDigest"] != entry["digest"]
    assert report["collection"]["status"] == "unchanged"
    # The legacy id's repository holds the same layer: it is downloaded once, for hello-cli.
    layer_reads = [r.path for r in proxy.requests("GET", "/blobs/")]
    assert len(layer_reads) == len(ids) + 1  # each feature's layer, and the collection's document

    # README.md regenerated after publishing (devcontainers/action runs generate-docs after publish):
    # no consumer reads it, so the version stays unchanged, and the note says what differs.
    readme = samples / "src" / "common-utils" / "README.md"
    readme.write_text("# Common utilities\n\nRegenerated after publishing.\n")
    docs = featurepub("publish", samples, "-r", registry.host, "-n", namespace, "--report", tmp_path / "d.json")
    assert docs.code == 0, docs.stderr
    assert json.loads(docs.stdout)["common-utils"] == {}
    common = report_of(tmp_path / "d.json")["features"]["common-utils"]
    assert common["status"] == "unchanged", common
    assert "only documentation no consumer reads differs (README.md " in note_of(common)
    assert report_of(tmp_path / "d.json")["bytesUploaded"] == 0

    # A changed install.sh without a version bump: skipped, naming the file, on both repositories.
    script = samples / "src" / "hello-cli" / "install.sh"
    script.write_text(script.read_text() + "echo changed\n")
    changed = featurepub("publish", samples, "-r", registry.host, "-n", namespace, "--report", tmp_path / "c.json")
    assert changed.code == 0, changed.stderr
    assert json.loads(changed.stdout)["hello-cli"] == {}
    hello = report_of(tmp_path / "c.json")["features"]["hello-cli"]
    assert hello["status"] == "skipped"
    assert [note_of(hello, n).split(": ")[1] for n in (0, 1)] == [
        "install.sh differs; bump the version, or use --force to replace it"
    ] * 2
    assert "install.sh differs" in changed.stderr


def test_a_generated_collection_with_awkward_shapes_is_unchanged(
    tmp_path: Path, registry: RegistryServer, namespace: str
) -> None:
    """Symlinks, empty folders, long and non-ASCII paths, random bytes: packed by both tools alike."""
    src = generate(tmp_path / "gen" / "src", 12, seed=5)
    reference_publish(src, registry.host, namespace)
    run = featurepub("publish", src.parent, "-r", registry.host, "-n", namespace, "--json")
    assert run.code == 0, run.stderr
    assert {e["status"] for e in run.features.values()} == {"unchanged"}
    assert run.json["bytesUploaded"] == 0


def test_featureignore_is_a_difference_from_what_the_reference_packed(
    tmp_path: Path, registry: RegistryServer, namespace: str
) -> None:
    samples = copy_samples(tmp_path / "samples", f"{registry.host}/{namespace}")
    reference_publish(samples / "src", registry.host, namespace)
    run = featurepub("publish", samples, "-r", registry.host, "-n", namespace, "--json")
    assert run.code == 0, run.stderr
    node = run.features["node-tool"]
    assert node["status"] == "skipped"  # the reference packed .featureignore and scratch/: other content
    assert ".featureignore is only in the registry's version" in note_of(node)


def test_missing_floating_tags_point_at_the_registrys_manifest(
    tmp_path: Path, registry: RegistryServer, make_proxy: Callable[..., RegistryProxy], namespace: str
) -> None:
    """The reference's 1.0.0 is there without its floating tags and without a collection that lists it
    (copied alone): its floating tags are completed with the registry's manifest, not featurepub's."""
    root = tmp_path / "one"
    feature = root / "src" / "tool"
    feature.mkdir(parents=True)
    (feature / "devcontainer-feature.json").write_text('{"id": "tool", "version": "1.0.0", "name": "Tool"}')
    (feature / "install.sh").write_text("#!/bin/sh\necho tool\n")
    (feature / "install.sh").chmod(0o755)
    reference_publish(root / "src", registry.host, f"{namespace}/ref")
    theirs = tag_digest(registry.url, f"{namespace}/ref/tool", "1.0.0")
    consumers.skopeo_copy(
        f"docker://{registry.host}/{namespace}/ref/tool:1.0.0", f"docker://{registry.host}/{namespace}/tool:1.0.0"
    )
    assert registry_tags(registry.url, f"{namespace}/tool") == ["1.0.0"]
    proxy = make_proxy()
    run = featurepub("publish", root, "-r", proxy.host, "-n", namespace, "--report", tmp_path / "r.json")
    assert run.code == 0, run.stderr
    assert json.loads(run.stdout) == {
        "tool": {"publishedTags": ["1", "1.0", "latest"], "digest": theirs, "version": "1.0.0"}
    }
    for tag in ("1.0.0", "1.0", "1", "latest"):
        assert tag_digest(registry.url, f"{namespace}/tool", tag) == theirs
    assert proxy.requests(contains=f"/v2/{namespace}/tool/blobs/uploads/") == []  # no blob of the feature
    tool = report_of(tmp_path / "r.json")["features"]["tool"]
    assert (tool["status"], tool["digest"]) == ("published", theirs)
    tags = {"1.0.0": "unchanged", "1.0": "published", "1": "published", "latest": "published"}
    assert tool["repositories"][0]["tags"] == tags
    assert PACKED_ELSEWHERE in note_of(tool)


def normalised(stdout: str) -> str:
    return re.sub(r"sha256:[0-9a-f]{64}", "sha256:<digest>", stdout)


def test_stdout_is_the_reference_clis(tmp_path: Path, registry: RegistryServer, namespace: str) -> None:
    """The same collection published fresh by both tools: one line each, the same bytes but the digests."""
    samples = copy_samples(tmp_path / "samples", f"{registry.host}/{namespace}")
    theirs = reference_publish(samples / "src", registry.host, f"{namespace}/ref")
    ours = featurepub("publish", samples / "src", "-r", registry.host, "-n", f"{namespace}/fp")
    assert ours.code == 0, ours.stderr
    assert ours.stdout.count("\n") == theirs.count("\n") == 1
    assert normalised(ours.stdout) == normalised(theirs)
    parsed: dict[str, Any] = json.loads(ours.stdout)
    assert parsed["hello-cli"]["publishedLegacyIds"] == ["hello"]
    assert [k for k, v in parsed.items() if "publishedLegacyIds" in v] == ["hello-cli"]
    for feature_id, entry in parsed.items():
        assert entry["digest"] == tag_digest(registry.url, f"{namespace}/fp/{feature_id}", entry["version"])
    # Published again: nothing moved, and both print {} for every feature.
    again = featurepub("publish", samples / "src", "-r", registry.host, "-n", f"{namespace}/fp")
    assert again.stdout == reference_publish(samples / "src", registry.host, f"{namespace}/ref")


def test_versions_an_older_featurepub_padded_are_unchanged(
    tmp_path: Path, registry: RegistryServer, make_proxy: Callable[..., RegistryProxy], namespace: str
) -> None:
    """featurepub's layers used to end in Python tarfile's 10 KiB record padding: the same files, other bytes."""
    from featurepub.api import open_registry
    from featurepub.oci import mediatypes
    from featurepub.oci.descriptor import Blob
    from featurepub.oci.manifest import Manifest, canonical_json

    samples = copy_samples(tmp_path / "samples", f"{registry.host}/{namespace}")
    first = featurepub("publish", samples, "-r", registry.host, "-n", namespace)
    assert first.code == 0, first.stderr
    repository = f"{namespace}/common-utils"
    target = open_registry(registry.host)
    try:
        manifest = target.read_manifest(repository, "1.2.0")
        assert manifest is not None
        body = manifest.to_json()
        layer = target.read_blob(repository, body["layers"][0]["digest"])
        assert layer is not None
        padded = layer + bytes(10240 - len(layer) % 10240 or 10240)  # to a whole record, as tarfile pads
        blob = Blob.from_bytes(mediatypes.FEATURE_LAYER, padded, body["layers"][0]["annotations"])
        target.push_blob(repository, blob)
        body["layers"][0] = blob.descriptor.to_json()
        old = Manifest(canonical_json(body))
        for tag in ("1.2.0", "1.2", "1", "latest"):
            target.push_manifest(repository, tag, old)
    finally:
        target.close()
    proxy = make_proxy()
    again: CliRun = featurepub("publish", samples, "-r", proxy.host, "-n", namespace, "--json")
    assert again.code == 0, again.stderr
    entry = again.features["common-utils"]
    assert entry["status"] == "unchanged"
    assert note_of(entry) == f"1.2.0: {PACKED_ELSEWHERE}"
    assert entry["digest"] == old.digest
    assert again.json["bytesUploaded"] == 0
    assert [r.method for r in proxy.requests() if r.method not in ("GET", "HEAD")] == []


def test_a_layer_over_the_compare_limit_is_said_and_skipped(
    tmp_path: Path, registry: RegistryServer, namespace: str
) -> None:
    root = tmp_path / "big"
    feature = root / "src" / "big"
    feature.mkdir(parents=True)
    (feature / "devcontainer-feature.json").write_text('{"id": "big", "version": "1.0.0", "name": "Big"}')
    (feature / "install.sh").write_text("#!/bin/sh\n")
    (feature / "payload.bin").write_bytes(bytes(range(256)) * 1200)  # 300 KiB
    reference_publish(root / "src", registry.host, namespace)
    limited = featurepub(
        "publish", root, "-r", registry.host, "-n", namespace, "--compare-limit", "100KiB", "--json"
    )
    assert limited.code == 0, limited.stderr
    assert limited.features["big"]["status"] == "skipped"
    assert "over the 102400 bytes compare limit" in note_of(limited.features["big"])
    assert "--compare-limit" in limited.stderr
    whole = featurepub("publish", root, "-r", registry.host, "-n", namespace, "--json")
    assert whole.features["big"]["status"] == "unchanged"
    bad = featurepub("publish", root, "-r", registry.host, "-n", namespace, "--compare-limit", "lots")
    assert bad.code == 2
    assert "--compare-limit" in bad.stderr
