"""Publishing one feature folder (or --feature) into a namespace keeps the other features in its collection."""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path
from typing import Any

import httpx

from featurepub.oci import mediatypes
from tests.conftest import copy_samples
from tests.support import consumers
from tests.support.publishing import featurepub, tag_digest
from tests.support.registry import RegistryServer


def collection(registry: RegistryServer, namespace: str) -> dict[str, Any]:
    """The collection document at `<namespace>:latest`, read straight from the registry."""
    accept = {"Accept": mediatypes.OCI_MANIFEST}
    manifest = httpx.get(f"{registry.url}/v2/{namespace}/manifests/latest", headers=accept).json()
    layer = manifest["layers"][0]["digest"]
    document: dict[str, Any] = httpx.get(f"{registry.url}/v2/{namespace}/blobs/{layer}").json()
    return document


def listed(registry: RegistryServer, namespace: str) -> list[tuple[str, str]]:
    return [(f["id"], f["version"]) for f in collection(registry, namespace)["features"]]


def bump(folder: Path, version: str) -> None:
    metadata = folder / "devcontainer-feature.json"
    text = metadata.read_text()
    metadata.write_text(re.sub(r'"version": "[^"]+"', f'"version": "{version}"', text, count=1))


def test_one_feature_folder_is_merged_into_the_collection(
    tmp_path: Path, registry: RegistryServer, namespace: str
) -> None:
    samples = copy_samples(tmp_path / "samples", f"{registry.host}/{namespace}")
    assert featurepub("publish", samples, "-r", registry.host, "-n", namespace).code == 0
    before = listed(registry, namespace)
    assert len(before) == 5
    hello = samples / "src" / "hello-cli"
    bump(hello, "2.1.0")
    run = featurepub("publish", hello, "-r", registry.host, "-n", namespace)
    assert run.code == 0, run.stderr
    assert json.loads(run.stdout)["hello-cli"]["version"] == "2.1.0"
    after = listed(registry, namespace)
    assert after == sorted([*(e for e in before if e[0] != "hello-cli"), ("hello-cli", "2.1.0")])
    # --feature does the same for a subset of a collection folder.
    bump(samples / "src" / "node-tool", "0.4.0")
    bump(samples / "src" / "shell-prompt", "1.1.0")
    subset = featurepub(
        "publish",
        samples,
        "-r",
        registry.host,
        "-n",
        namespace,
        "--feature",
        "node-tool",
        "--feature",
        "shell-prompt",
    )
    assert subset.code == 0, subset.stderr
    assert sorted(json.loads(subset.stdout)) == ["node-tool", "shell-prompt"]  # only those were published
    assert dict(listed(registry, namespace)) == {**dict(after), "node-tool": "0.4.0", "shell-prompt": "1.1.0"}
    # What consumers read of the collection is whole.
    info = consumers.devcontainer_json(["info", "manifest", f"{registry.host}/{namespace}"])
    assert info["manifest"]["layers"][0]["mediaType"] == mediatypes.COLLECTION_LAYER
    # A whole collection folder still publishes exactly its own set.
    shutil.rmtree(samples / "src" / "deprecated-tool")
    assert featurepub("publish", samples, "-r", registry.host, "-n", namespace).code == 0
    assert [i for i, _ in listed(registry, namespace)] == [
        "common-utils",
        "hello-cli",
        "node-tool",
        "shell-prompt",
    ]
    unknown = featurepub("publish", samples, "-r", registry.host, "-n", namespace, "--feature", "nope")
    assert unknown.code == 2
    assert "no feature 'nope'" in unknown.stderr


def test_a_collection_written_by_the_reference_keeps_its_entries(
    tmp_path: Path, registry: RegistryServer, namespace: str
) -> None:
    samples = copy_samples(tmp_path / "samples", f"{registry.host}/{namespace}")
    done = consumers._run(
        [consumers.DEVCONTAINER, "features", "publish", "-r", registry.host, "-n", namespace, str(samples / "src")]
    )
    assert done[0] == 0, done[2][-2000:]
    theirs = collection(registry, namespace)
    assert theirs["sourceInformation"]["source"] == "devcontainer-cli"
    bump(samples / "src" / "common-utils", "1.3.0")
    run = featurepub("publish", samples / "src" / "common-utils", "-r", registry.host, "-n", namespace)
    assert run.code == 0, run.stderr
    merged = collection(registry, namespace)["features"]
    assert [f["id"] for f in merged] == sorted(f["id"] for f in theirs["features"])
    kept = [f for f in theirs["features"] if f["id"] != "common-utils"]
    assert [f for f in merged if f["id"] != "common-utils"] == kept  # as the reference wrote them


def test_a_collection_that_cannot_be_read_is_not_replaced(
    tmp_path: Path, registry: RegistryServer, namespace: str
) -> None:
    from featurepub.api import open_registry
    from featurepub.oci.descriptor import Blob
    from featurepub.oci.manifest import EMPTY_CONFIG, build_manifest

    target = open_registry(registry.host)
    try:
        odd = Blob.from_bytes(mediatypes.COLLECTION_LAYER, b'{"features": "not a list"}', {})
        for blob in (EMPTY_CONFIG, odd):
            target.push_blob(namespace, blob)
        target.push_manifest(namespace, "latest", build_manifest(odd.descriptor, {}))
    finally:
        target.close()
    there = tag_digest(registry.url, namespace, "latest")
    samples = copy_samples(tmp_path / "samples", f"{registry.host}/{namespace}")
    run = featurepub("publish", samples / "src" / "node-tool", "-r", registry.host, "-n", namespace, "--json")
    assert run.code == 1, run.stderr  # the feature is published; the collection could not be completed
    assert run.features["node-tool"]["status"] == "published"
    assert run.json["collection"]["status"] == "failed"
    assert "could not be read" in run.stderr and "left as it is" in run.stderr
    assert tag_digest(registry.url, namespace, "latest") == there
    # The whole collection folder replaces it.
    whole = featurepub("publish", samples, "-r", registry.host, "-n", namespace)
    assert whole.code == 0, whole.stderr
    assert len(listed(registry, namespace)) == 5
