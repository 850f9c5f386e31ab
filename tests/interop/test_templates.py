"""Templates featurepub publishes against the same templates `devcontainer templates publish` publishes,
read back with the reference CLI: applied, they give identical trees; their metadata is the same JSON
(up to the order of `files`); the collection lists every template; a re-publish uploads nothing."""

from __future__ import annotations

import io
import json
import tarfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import pytest

from featurepub.oci import mediatypes
from tests.support import templates
from tests.support.proxy import RegistryProxy
from tests.support.publishing import featurepub
from tests.support.registry import RegistryServer
from tests.support.trees import tree

pytestmark = pytest.mark.interop

# Option values other than the defaults, so substitution is seen to happen; {} applies the defaults.
ARGS: dict[str, dict[str, str]] = {
    "debian-basic": {"imageVariant": "bullseye", "installZsh": "false"},
    "node-postgres": {"nodeVersion": "20", "postgresVersion": "17"},
    "python-app": {"pythonVersion": "3.13", "installDevTools": "true"},
    "static-site": {"siteTitle": "Hello | world", "liveReload": "false"},
}


class Published:
    def __init__(
        self, registry: RegistryServer, ours: str, theirs: str, src: Path, versions: dict[str, str]
    ) -> None:
        self.registry = registry
        self.versions = versions  # template id -> its version
        self.ours = ours  # featurepub's namespace
        self.theirs = theirs  # the reference CLI's
        self.src = src

    def ref(self, namespace: str, template_id: str, tag: str = "latest") -> str:
        return f"{self.registry.host}/{namespace}/{template_id}:{tag}"

    def manifest(self, namespace: str, repository: str, tag: str) -> dict[str, Any]:
        url = f"{self.registry.url}/v2/{namespace}{repository}/manifests/{tag}"
        response = httpx.get(url, headers={"Accept": mediatypes.OCI_MANIFEST})
        response.raise_for_status()
        result: dict[str, Any] = response.json()
        return result

    def layer(self, namespace: str, repository: str, tag: str) -> bytes:
        digest = self.manifest(namespace, repository, tag)["layers"][0]["digest"]
        response = httpx.get(f"{self.registry.url}/v2/{namespace}{repository}/blobs/{digest}")
        response.raise_for_status()
        return response.content


@pytest.fixture
def published(tmp_path: Path, registry: RegistryServer, namespace: str) -> Published:
    src = templates.copy_sample_templates(tmp_path / "sample-templates") / "src"
    run = featurepub("publish", src, "-r", registry.host, "-n", f"{namespace}/fp")
    assert run.code == 0, run.stderr
    assert sorted(run.json) == sorted(templates.SAMPLE_TEMPLATE_IDS)
    theirs = templates.reference_publish(src, registry.host, f"{namespace}/ref")
    assert sorted(theirs) == sorted(templates.SAMPLE_TEMPLATE_IDS)
    for template_id, entry in run.json.items():
        assert sorted(entry["publishedTags"]) == sorted(theirs[template_id]["publishedTags"])
        assert entry["version"] == theirs[template_id]["version"]
    versions = {template_id: str(entry["version"]) for template_id, entry in run.json.items()}
    return Published(registry, f"{namespace}/fp", f"{namespace}/ref", src, versions)


@pytest.mark.parametrize("with_args", [True, False], ids=["options", "defaults"])
def test_applied_templates_give_identical_trees(published: Published, tmp_path: Path, with_args: bool) -> None:
    for template_id in templates.SAMPLE_TEMPLATE_IDS:
        args = ARGS[template_id] if with_args else {}
        ours = tmp_path / "ours" / template_id
        theirs = tmp_path / "theirs" / template_id
        written = templates.apply(
            published.ref(published.ours, template_id, published.versions[template_id] if with_args else "latest"),
            ours,
            args,
        )
        expected = templates.apply(published.ref(published.theirs, template_id), theirs, args)
        assert sorted(written) == sorted(expected)
        assert tree(ours) == tree(theirs)
        assert "devcontainer-template.json" not in {p.name for p in ours.iterdir()}
    # Substitution happened: the options reached the files.
    static = (tmp_path / "ours" / "static-site" / "site" / "index.html").read_text(encoding="utf-8")
    assert "<title>Hello | world</title>" in static if with_args else "<title>My site</title>" in static
    dockerfile = (tmp_path / "ours" / "node-postgres" / ".devcontainer" / "Dockerfile").read_text(encoding="utf-8")
    assert f"javascript-node:1-{'20' if with_args else '22'}-bookworm" in dockerfile
    # The executable bit came through.
    mode = (tmp_path / "ours" / "static-site" / ".devcontainer" / "serve.sh").stat().st_mode
    assert mode & 0o111


def test_optional_paths_are_left_out_alike(published: Published, tmp_path: Path) -> None:
    metadata = templates.metadata(published.ref(published.ours, "python-app"))
    omit = list(metadata["optionalPaths"])
    assert omit == ["tests/test_main.py", "GETTING-STARTED.md"]  # `tests/*` holds one file: published as it
    ours = templates.apply(published.ref(published.ours, "python-app"), tmp_path / "ours", omit=omit)
    theirs = templates.apply(published.ref(published.theirs, "python-app"), tmp_path / "theirs", omit=omit)
    assert sorted(ours) == sorted(theirs)
    assert tree(tmp_path / "ours") == tree(tmp_path / "theirs")
    assert not (tmp_path / "ours" / "GETTING-STARTED.md").exists()
    assert not (tmp_path / "ours" / "tests" / "test_main.py").exists()
    assert (tmp_path / "ours" / "src" / "app" / "main.py").exists()


def _files_in_order_of(value: dict[str, Any], other: dict[str, Any]) -> dict[str, Any]:
    """`value` with its `files` in the order `other` lists them (the reference's order varies by run)."""
    assert sorted(value["files"]) == sorted(other["files"])
    return {**value, "files": list(other["files"])}


def test_metadata_is_the_reference_clis_up_to_the_order_of_files(published: Published) -> None:
    for template_id in templates.SAMPLE_TEMPLATE_IDS:
        ours = templates.metadata(published.ref(published.ours, template_id))
        theirs = templates.metadata(published.ref(published.theirs, template_id))
        assert _files_in_order_of(theirs, ours) == ours
        # The annotation's bytes: the same keys in the same order, serialised alike.
        manifests = [
            published.manifest(ns, f"/{template_id}", "latest") for ns in (published.ours, published.theirs)
        ]
        annotation, reference = (m["annotations"][mediatypes.ANNOTATION_METADATA] for m in manifests)
        reordered = _files_in_order_of(json.loads(reference), json.loads(annotation))
        assert annotation == json.dumps(reordered, separators=(",", ":"), ensure_ascii=False)
        assert ours["fileCount"] == len(ours["files"]) == theirs["fileCount"]
    compose = templates.metadata(published.ref(published.ours, "node-postgres"))
    assert (compose["type"], compose["featureIds"]) == (
        "dockerCompose",
        ["ghcr.io/devcontainers/features/github-cli"],
    )
    assert compose["optionalPaths"] == ["db/seed.sql"]
    assert templates.metadata(published.ref(published.ours, "python-app"))["type"] == "dockerfile"
    assert templates.metadata(published.ref(published.ours, "debian-basic"))["type"] == "image"


def test_manifests_and_packed_metadata_match_the_reference_clis(published: Published) -> None:
    for template_id in templates.SAMPLE_TEMPLATE_IDS:
        version = published.versions[template_id]
        ours = published.manifest(published.ours, f"/{template_id}", version)
        theirs = published.manifest(published.theirs, f"/{template_id}", version)
        assert ours["config"] == theirs["config"]  # the 2-byte {} with the devcontainers media type
        assert ours["config"]["size"] == 2
        ours_layer, theirs_layer = ours["layers"][0], theirs["layers"][0]
        assert ours_layer["mediaType"] == theirs_layer["mediaType"] == mediatypes.FEATURE_LAYER
        assert ours_layer["annotations"] == theirs_layer["annotations"]
        assert ours_layer["annotations"][mediatypes.ANNOTATION_TITLE] == f"devcontainer-template-{template_id}.tgz"
        assert ours["annotations"].keys() == theirs["annotations"].keys()
        # devcontainer-template.json in the layer: 4-space JSON, byte for byte once `files` is in one order.
        packed = [
            _member(published.layer(ns, f"/{template_id}", version), "./devcontainer-template.json")
            for ns in (published.ours, published.theirs)
        ]
        reordered = _files_in_order_of(json.loads(packed[1]), json.loads(packed[0]))
        assert packed[0] == json.dumps(reordered, indent=4, ensure_ascii=False).encode("utf-8")
        # The same content as the reference's layer: paths, bytes and executable bits.
        assert _contents(
            published.layer(published.ours, f"/{template_id}", version), skip="./devcontainer-template.json"
        ) == (
            _contents(
                published.layer(published.theirs, f"/{template_id}", version), skip="./devcontainer-template.json"
            )
        )


def _member(layer: bytes, name: str) -> bytes:
    with tarfile.open(fileobj=io.BytesIO(layer)) as archive:
        handle = archive.extractfile(name)
        assert handle is not None
        return handle.read()


def _contents(layer: bytes, *, skip: str) -> dict[str, tuple[str, bytes | str, bool]]:
    found: dict[str, tuple[str, bytes | str, bool]] = {}
    with tarfile.open(fileobj=io.BytesIO(layer)) as archive:
        for member in archive.getmembers():
            name = member.name.rstrip("/")
            if member.name == skip or name == ".":
                continue
            if member.issym():
                found[name] = ("link", member.linkname, False)
            elif member.isdir():
                found[name] = ("dir", "", False)
            else:
                handle = archive.extractfile(member)
                assert handle is not None
                found[name] = ("file", handle.read(), bool(member.mode & 0o111))
    return found


def test_the_collection_lists_every_template_like_the_reference_clis(published: Published) -> None:
    documents = []
    for namespace in (published.ours, published.theirs):
        manifest = published.manifest(namespace, "", "latest")
        assert manifest["layers"][0]["mediaType"] == mediatypes.COLLECTION_LAYER
        assert manifest["layers"][0]["annotations"][mediatypes.ANNOTATION_TITLE] == "devcontainer-collection.json"
        documents.append(json.loads(published.layer(namespace, "", "latest")))
    ours, theirs = documents
    assert list(ours) == list(theirs) == ["sourceInformation", "templates"]
    assert ours["sourceInformation"] == {"source": "featurepub"}
    assert theirs["sourceInformation"] == {"source": "devcontainer-cli"}
    assert [t["id"] for t in ours["templates"]] == list(templates.SAMPLE_TEMPLATE_IDS)
    assert sorted(t["id"] for t in theirs["templates"]) == list(templates.SAMPLE_TEMPLATE_IDS)
    by_id = {t["id"]: t for t in theirs["templates"]}
    for template in ours["templates"]:
        assert _files_in_order_of(by_id[template["id"]], template) == template


def test_a_republish_uploads_nothing(
    published: Published, make_proxy: Callable[..., RegistryProxy], tmp_path: Path
) -> None:
    proxy = make_proxy()
    again = featurepub(
        "publish", published.src, "-r", proxy.host, "-n", published.ours, "--report", tmp_path / "r.json"
    )
    assert again.code == 0, again.stderr
    assert proxy.blob_bytes_uploaded == 0
    assert proxy.requests("POST") == proxy.requests("PUT") == proxy.requests("PATCH") == []
    assert {entry["status"] for entry in again.json.values()} == {"unchanged"}
    report = json.loads((tmp_path / "r.json").read_text(encoding="utf-8"))
    assert report["kind"] == "template"
    assert sorted(report["templates"]) == list(templates.SAMPLE_TEMPLATE_IDS)
    assert "features" not in report
    assert "4 templates to" in again.stderr
