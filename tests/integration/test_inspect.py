"""`featurepub inspect` / `tags` on what featurepub never writes: an index, a zero-byte config, foreign configs.

These artifacts are pushed by hand with httpx, straight to the registry fixture, so the reader is
tested on content no featurepub code produced. The reference CLI is the oracle for "consumable".
"""

from __future__ import annotations

import hashlib
import io
import json
import re
import tarfile
from collections.abc import Callable, Mapping
from pathlib import Path

import httpx
import pytest

from featurepub.oci import mediatypes
from tests.integration.test_terminal_errors import RETRY_LINE, Unavailable
from tests.support import consumers
from tests.support.proxy import ProxyRequest, ProxyResponse, RegistryProxy, Rule
from tests.support.publishing import featurepub
from tests.support.registry import RegistryServer
from tests.support.rules import PaginateTags

EMPTY_DIGEST = "sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"


def digest_of(data: bytes) -> str:
    return "sha256:" + hashlib.sha256(data).hexdigest()


def push_blob(registry: RegistryServer, repository: str, data: bytes) -> dict[str, object]:
    """POST a session, PUT the body with its digest: the plain monolithic upload, zero bytes allowed."""
    digest = digest_of(data)
    started = httpx.post(f"{registry.url}/v2/{repository}/blobs/uploads/")
    assert started.status_code == 202, started.text
    location = httpx.URL(registry.url).join(started.headers["Location"])
    done = httpx.put(
        str(location.copy_merge_params({"digest": digest})),
        content=data,
        headers={"Content-Type": "application/octet-stream"},
    )
    assert done.status_code == 201, done.text
    return {"digest": digest, "size": len(data)}


def push_manifest(registry: RegistryServer, repository: str, reference: str, body: dict[str, object]) -> str:
    data = json.dumps(body, separators=(",", ":")).encode()
    response = httpx.put(
        f"{registry.url}/v2/{repository}/manifests/{reference}",
        content=data,
        headers={"Content-Type": str(body["mediaType"])},
    )
    assert response.status_code == 201, response.text
    return digest_of(data)


def feature_tar(metadata: Mapping[str, object], *, gzip: bool = False) -> bytes:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz" if gzip else "w") as archive:
        for name, content in [
            ("./devcontainer-feature.json", json.dumps(metadata).encode()),
            ("./install.sh", b"#!/bin/sh\necho hi\n"),
        ]:
            info = tarfile.TarInfo(name)
            info.size = len(content)
            info.mode = 0o755
            archive.addfile(info, io.BytesIO(content))
    return buffer.getvalue()


def feature_manifest(
    registry: RegistryServer,
    repository: str,
    metadata: Mapping[str, object],
    *,
    config: bytes = b"{}",
    config_type: str = mediatypes.DEVCONTAINERS_CONFIG,
    annotate: bool = True,
    gzip: bool = False,
) -> dict[str, object]:
    config_desc = {"mediaType": config_type, **push_blob(registry, repository, config)}
    layer = {
        "mediaType": mediatypes.FEATURE_LAYER,
        **push_blob(registry, repository, feature_tar(metadata, gzip=gzip)),
        "annotations": {"org.opencontainers.image.title": f"devcontainer-feature-{metadata['id']}.tgz"},
    }
    body: dict[str, object] = {
        "schemaVersion": 2,
        "mediaType": mediatypes.OCI_MANIFEST,
        "config": config_desc,
        "layers": [layer],
    }
    if annotate:
        body["annotations"] = {"dev.containers.metadata": json.dumps(metadata)}
    return body


@pytest.fixture
def index_ref(registry: RegistryServer, namespace: str) -> dict[str, str]:
    """A tag on an OCI index of two feature manifests: linux/arm64 listed first, linux/amd64 second."""
    repo = f"{namespace}/multi"
    digests, sizes = {}, {}
    for arch in ("arm64", "amd64"):
        body = feature_manifest(registry, repo, {"id": "multi", "version": "1.0.0", "name": f"Multi {arch}"})
        data = json.dumps(body, separators=(",", ":")).encode()
        digests[arch], sizes[arch] = push_manifest(registry, repo, digest_of(data), body), len(data)
    index = {
        "schemaVersion": 2,
        "mediaType": mediatypes.OCI_INDEX,
        "manifests": [
            {
                "mediaType": mediatypes.OCI_MANIFEST,
                "digest": digests[arch],
                "size": sizes[arch],
                "platform": {"os": "linux", "architecture": arch},
            }
            for arch in ("arm64", "amd64")
        ],
    }
    digests["index"] = push_manifest(registry, repo, "1.0.0", index)
    return {"ref": f"{registry.host}/{repo}:1.0.0", **digests}


def test_inspect_resolves_an_index_to_linux_amd64(index_ref: dict[str, str]) -> None:
    run = featurepub("inspect", index_ref["ref"], "--json")
    assert run.code == 0, run.stderr
    result = run.json
    assert result["index"]["digest"] == index_ref["index"]
    assert result["index"]["platforms"] == ["linux/arm64", "linux/amd64"]
    assert result["index"]["selected"] == "linux/amd64"
    assert result["digest"] == index_ref["amd64"]
    assert result["metadata"]["name"] == "Multi amd64"
    assert result["tags"] == ["1.0.0"]
    assert result["tagsHere"] == ["1.0.0"]  # the tag points at the index, which is what was asked for
    # The reference CLI asks only for an image manifest: a tag on an index is not for it.
    assert result["referenceCli"]["consumable"] is False
    assert "index" in result["referenceCli"]["reason"]


def test_inspect_picks_another_platform_or_explains(index_ref: dict[str, str]) -> None:
    arm = featurepub("inspect", index_ref["ref"], "--platform", "linux/arm64", "--json")
    assert arm.code == 0, arm.stderr
    assert arm.json["digest"] == index_ref["arm64"]
    assert arm.json["metadata"]["name"] == "Multi arm64"
    missing = featurepub("inspect", index_ref["ref"], "--platform", "windows/amd64")
    assert missing.code == 2
    assert "no manifest for platform windows/amd64" in missing.stderr
    assert "linux/arm64, linux/amd64" in missing.stderr
    people = featurepub("inspect", index_ref["ref"])
    assert people.code == 0
    assert "showing linux/amd64" in people.stdout
    assert index_ref["amd64"] in people.stdout


def test_inspect_without_linux_amd64_takes_the_first(registry: RegistryServer, namespace: str) -> None:
    import featurepub as library

    repo = f"{namespace}/arm-only"
    body = feature_manifest(registry, repo, {"id": "arm-only", "version": "1.0.0"})
    data = json.dumps(body, separators=(",", ":")).encode()
    child = push_manifest(registry, repo, digest_of(data), body)
    index = {
        "schemaVersion": 2,
        "mediaType": mediatypes.OCI_INDEX,
        "manifests": [
            {"mediaType": mediatypes.OCI_MANIFEST, "digest": child, "size": len(data), "platform": p}
            for p in (
                {"os": "linux", "architecture": "arm", "variant": "v7"},
                {"os": "linux", "architecture": "s390x"},
            )
        ],
    }
    push_manifest(registry, repo, "latest", index)
    result = library.inspect(f"{registry.host}/{repo}")
    assert result.index is not None
    assert result.index.selected == "linux/arm/v7"
    assert result.digest == child


def test_zero_byte_config_artifact_reads_fine(registry: RegistryServer, namespace: str) -> None:
    """An artifact as the reference CLI wrote it before 0.63.0: a 0-byte config, no metadata annotation."""
    repo = f"{namespace}/old"
    metadata = {
        "id": "old",
        "version": "0.9.0",
        "name": "Old",
        "options": {"flag": {"type": "boolean", "default": True}},
    }
    body = feature_manifest(registry, repo, metadata, config=b"", annotate=False)
    assert body["config"] == {"mediaType": mediatypes.DEVCONTAINERS_CONFIG, "digest": EMPTY_DIGEST, "size": 0}
    digest = push_manifest(registry, repo, "0.9.0", body)
    run = featurepub("inspect", f"{registry.host}/{repo}:0.9.0", "--json")
    assert run.code == 0, run.stderr
    result = run.json
    assert result["digest"] == digest
    assert result["config"]["size"] == 0
    assert result["metadataSource"] == "layer"
    assert result["metadata"] == metadata
    assert any("zero-byte config" in note for note in result["notes"])
    assert result["referenceCli"]["consumable"] is True
    # The oracle agrees: the reference CLI reads it.
    info = consumers.info_manifest(f"{registry.host}/{repo}:0.9.0")
    assert info["canonicalId"] == f"{registry.host}/{repo}@{digest}"
    people = featurepub("inspect", f"{registry.host}/{repo}:0.9.0")
    assert people.code == 0
    assert "feature old 0.9.0 (Old)" in people.stdout
    assert "flag: boolean = true" in people.stdout


def test_gzip_layer_without_annotation_reads_fine(registry: RegistryServer, namespace: str) -> None:
    repo = f"{namespace}/zipped"
    metadata = {"id": "zipped", "version": "1.0.0", "dependsOn": {"ghcr.io/x/y:1": {}}}
    push_manifest(registry, repo, "1.0.0", feature_manifest(registry, repo, metadata, annotate=False, gzip=True))
    run = featurepub("inspect", f"{registry.host}/{repo}:1.0.0", "--json")
    assert run.code == 0, run.stderr
    assert run.json["metadata"] == metadata


def test_foreign_config_is_not_consumable_and_the_reference_cli_agrees(
    registry: RegistryServer, namespace: str
) -> None:
    repo = f"{namespace}/empty-type"
    body = feature_manifest(
        registry, repo, {"id": "empty-type", "version": "1.0.0"}, config_type="application/vnd.oci.empty.v1+json"
    )
    push_manifest(registry, repo, "1.0.0", body)
    run = featurepub("inspect", f"{registry.host}/{repo}:1.0.0", "--json")
    assert run.code == 0, run.stderr
    assert run.json["kind"] == "other"
    assert run.json["referenceCli"]["consumable"] is False
    assert "application/vnd.oci.empty.v1+json" in run.json["referenceCli"]["reason"]
    with pytest.raises(consumers.ConsumerError):
        consumers.info_manifest(f"{registry.host}/{repo}:1.0.0")


class RecordAccept(Rule):
    def __init__(self) -> None:
        self.accept: list[str] = []

    def before(self, request: ProxyRequest) -> ProxyResponse | None:
        if "/manifests/" in request.route and request.method == "GET":
            self.accept.append(request.header("Accept") or "")
        return None


def test_inspect_sends_the_full_accept_list(
    samples: Path, make_proxy: Callable[..., RegistryProxy], namespace: str
) -> None:
    recorder = RecordAccept()
    proxy = make_proxy(recorder)
    assert featurepub("publish", samples, "-r", proxy.host, "-n", namespace, "-q").code == 0
    run = featurepub("inspect", f"{proxy.host}/{namespace}/node-tool:0.3", "--json")
    assert run.code == 0, run.stderr
    assert run.json["metadata"]["id"] == "node-tool"
    assert recorder.accept
    for accept in recorder.accept:
        for media_type in (
            mediatypes.OCI_MANIFEST,
            mediatypes.OCI_INDEX,
            mediatypes.DOCKER_MANIFEST,
            mediatypes.DOCKER_MANIFEST_LIST,
        ):
            assert media_type in accept


def test_tags_reads_every_page_and_needs_no_latest(
    tmp_path: Path, registry: RegistryServer, make_proxy: Callable[..., RegistryProxy], namespace: str
) -> None:
    repo = f"{namespace}/paged"
    body = feature_manifest(registry, repo, {"id": "paged", "version": "1.0.0"})
    versions = ["1.0.0", "1.1.0", "1.2.0", "1.10.0", "2.0.0-rc.1"]
    for version in versions:
        push_manifest(registry, repo, version, body)
    proxy = make_proxy(PaginateTags(page_size=2))
    run = featurepub("tags", f"{proxy.host}/{repo}", "--json")
    assert run.code == 0, run.stderr
    assert sorted(run.json["publishedTags"]) == sorted(versions)
    assert len(proxy.requests("GET", "/tags/list")) == 3
    people = featurepub("tags", f"{proxy.host}/{repo}", "--digests")
    assert people.code == 0
    lines = people.stdout.splitlines()
    assert [line.split()[0] for line in lines] == ["2.0.0-rc.1", "1.10.0", "1.2.0", "1.1.0", "1.0.0"]
    assert all(line.split()[1].startswith("sha256:") for line in lines)


def test_inspect_and_tags_say_when_they_retry(
    registry: RegistryServer, make_proxy: Callable[..., RegistryProxy], namespace: str
) -> None:
    """One line per retry, as `publish` prints it: what, why, when the next try comes (-q: none)."""
    repo = f"{namespace}/flaky"
    push_manifest(registry, repo, "1.0.0", feature_manifest(registry, repo, {"id": "flaky", "version": "1.0.0"}))
    commands = {
        "inspect": ("GET", re.compile(r"/flaky/manifests/1\.0\.0$"), "GET manifest 1.0.0"),
        "tags": ("GET", re.compile(r"/flaky/tags/list"), "list tags"),
    }
    for command, (method, path, operation) in commands.items():
        proxy = make_proxy(Unavailable(method, path))
        run = featurepub(command, f"{proxy.host}/{repo}:1.0.0", "--json")
        assert run.code == 0, run.stderr
        retries = [m for m in map(RETRY_LINE.fullmatch, run.stderr.splitlines()) if m]
        assert len(retries) == 1, (command, run.stderr)
        retry = retries[0]
        assert (retry["subject"], retry["repository"], retry["operation"]) == ("flaky", repo, operation)
        assert (retry["reason"], retry["wait"], retry["attempt"]) == ("HTTP 503 (Retry-After 1 s)", "1.0", "2")
        assert "1.0.0" in run.stdout  # the answer after the retry, on stdout
        quiet = featurepub(command, f"{make_proxy(Unavailable(method, path)).host}/{repo}:1.0.0", "-q")
        assert quiet.code == 0, quiet.stderr
        assert quiet.stderr == ""


def test_missing_reference_exits_1(registry: RegistryServer, namespace: str) -> None:
    run = featurepub("inspect", f"{registry.host}/{namespace}/nothing:1.0.0")
    assert run.code == 1
    assert "not found" in run.stderr
    assert "Traceback" not in run.stderr
    bad = featurepub("inspect", f"{registry.host}/{namespace}/Bad:1")
    assert bad.code == 2
