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


def _in_our_order(reference: str | bytes, ours: str | bytes, *, indent: int | None = None) -> str:
    """The reference's JSON text, byte for byte, but for its `files` array written in the order `ours` lists
    them; both must list the same files. Only that array is rewritten: everything else stays the
    reference's own serialisation (JSON.stringify's numbers, escapes and key order)."""
    text = reference.decode("utf-8") if isinstance(reference, bytes) else reference
    theirs_files, our_files = json.loads(text)["files"], json.loads(ours)["files"]
    assert sorted(theirs_files) == sorted(our_files)

    def array(files: list[str]) -> str:
        if indent is None:
            return json.dumps(files, separators=(",", ":"), ensure_ascii=False)
        pad = " " * indent
        items = ",\n".join(pad * 2 + json.dumps(name, ensure_ascii=False) for name in files)
        return f"[\n{items}\n{pad}]"

    separator = ":" if indent is None else ": "
    old = f'"files"{separator}{array(theirs_files)}'
    assert text.count(old) == 1
    return text.replace(old, f'"files"{separator}{array(our_files)}')


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
        assert annotation == _in_our_order(reference, annotation)
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
        assert packed[0].decode("utf-8") == _in_our_order(packed[1], packed[0], indent=4)
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
    assert again.json == {template_id: {} for template_id in templates.SAMPLE_TEMPLATE_IDS}  # the reference's line
    report = json.loads((tmp_path / "r.json").read_text(encoding="utf-8"))
    assert {entry["status"] for entry in report["templates"].values()} == {"unchanged"}
    assert report["kind"] == "template"
    assert sorted(report["templates"]) == list(templates.SAMPLE_TEMPLATE_IDS)
    assert "features" not in report
    assert "4 templates to" in again.stderr


TRICKY_METADATA = r"""// JSON with comments, as the reference CLI reads it
{
    "id": "tricky",
    "10": "an integer-like key, which JavaScript lists first",
    "version": "1.0.0",
    "type": "written here, replaced when packaged",
    "name": "Tricky \u00fc \"quoted\" \u2028",
    "2": "another",
    "options": {
        "a": {"type": "string", "default": "x", "description": "tab\there"},
        "0": {"type": "boolean", "default": "true"},
    },
    "number": 1.0, "big": 12345678901234567890, "small": 1e-7, "large": 1e21, "negative": -0.0,
    "optionalPaths": ["tool/*", "lone/*", ".github/*", "nothing/*", "/*"],
    "files": ["stale"],
}
"""
TRICKY_CONFIG = """{
    // the type: a Dockerfile
    "build": {"dockerfile": "Dockerfile"},
    "features": {
        "GHCR.IO/Owner/Repo/Feature:1": {},
        "./local": {},
        "node": {},
        "ghcr.io/a/b/d@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef": {},
        "localhost:5000/ns/x": {}
    },
    "containerEnv": {"A": "${templateOption:a}", "B": "${templateOption:0}"}
}
"""


def test_tricky_metadata_is_published_as_the_reference_publishes_it(
    tmp_path: Path, registry: RegistryServer, namespace: str
) -> None:
    folder = tmp_path / "src" / "tricky"
    files = {
        "devcontainer-template.json": TRICKY_METADATA.encode("utf-8"),
        ".devcontainer/devcontainer.json": TRICKY_CONFIG.encode("utf-8"),
        ".devcontainer/Dockerfile": b"FROM debian\n",
        "tool/run.sh": b"#!/bin/sh\necho ${templateOption:a}\n",
        "tool-notes.txt": b"the prefix tool matches this file too\n",
        "lone/x/deep.txt": b"one file, two folders down\n",
        ".github/workflows/a.yml": b"a\n",
        ".github/b.yml": b"b\n",
        "bytes.bin": bytes(range(256)),
        "empty": b"",
    }
    for name, content in files.items():
        (folder / name).parent.mkdir(parents=True, exist_ok=True)
        (folder / name).write_bytes(content)
    (folder / "tool" / "run.sh").chmod(0o755)
    (folder / "sub").mkdir()
    (folder / "sub" / "lone").symlink_to("../lone")
    run = featurepub("publish", folder.parent, "-r", registry.host, "-n", f"{namespace}/fp")
    assert run.code == 0, run.stderr
    templates.reference_publish(folder.parent, registry.host, f"{namespace}/ref")
    layout = Published(registry, f"{namespace}/fp", f"{namespace}/ref", folder.parent, {"tricky": "1.0.0"})
    manifests = [layout.manifest(ns, "/tricky", "1.0.0") for ns in (layout.ours, layout.theirs)]
    annotation, reference = (m["annotations"][mediatypes.ANNOTATION_METADATA] for m in manifests)
    ours = json.loads(annotation)
    assert annotation == _in_our_order(reference, annotation)
    assert annotation.startswith('{"2":"another","10":')  # integer-like keys first, as JSON.stringify writes
    assert '"big":12345678901234567000,' in annotation and '"small":1e-7,"large":1e+21,"negative":0,' in annotation
    assert ours["optionalPaths"] == ["tool/*", "lone/x/deep.txt", ".github/*", "nothing/*", "/*"]
    assert ours["featureIds"] == ["ghcr.io/owner/repo/feature", "ghcr.io/a/b/d", "localhost:5000/ns/x"]
    assert "sub/lone/x/deep.txt" in ours["files"] and ours["type"] == "dockerfile"
    packed = [
        _member(layout.layer(ns, "/tricky", "1.0.0"), "./devcontainer-template.json")
        for ns in (layout.ours, layout.theirs)
    ]
    assert packed[0].decode("utf-8") == _in_our_order(packed[1], packed[0], indent=4)
    args = {"a": "A value", "0": "false"}
    applied = [
        templates.apply(layout.ref(ns, "tricky"), tmp_path / ns.rsplit("/", 1)[1], args)
        for ns in (layout.ours, layout.theirs)
    ]
    assert sorted(applied[0]) == sorted(applied[1])
    assert tree(tmp_path / "fp") == tree(tmp_path / "ref")
    assert templates.metadata(layout.ref(layout.ours, "tricky")) == ours
