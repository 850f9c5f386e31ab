"""The metadata a template is published with: what the reference CLI computes when it packages one."""

from __future__ import annotations

import io
import json
import os
import tarfile
from pathlib import Path
from typing import Any

import pytest

from featurepub.features.archive import package_feature
from featurepub.features.collection import load_collection
from featurepub.features.model import Feature
from featurepub.kinds import TEMPLATE
from featurepub.oci import mediatypes
from featurepub.publishing.plan import make_plan
from featurepub.templates.enrich import compact_optional_paths, feature_resource
from tests.unit.templatetree import TEMPLATE_METADATA, minimal_template, write_template


def load_one(folder: Path) -> Feature:
    collection = load_collection(folder)
    assert collection.kind is TEMPLATE
    (template,) = collection.features
    return template


def published(folder: Path) -> dict[str, Any]:
    return load_one(folder).published_metadata


# --- type --------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("config", "expected"),
    [
        ({"image": "debian"}, "image"),
        ({"image": None}, "image"),  # the key is what counts, as JavaScript's `in`
        ({"dockerFile": "Dockerfile"}, "dockerfile"),
        ({"build": {"dockerfile": "Dockerfile", "context": ".."}}, "dockerfile"),
        ({"dockerComposeFile": "docker-compose.yml", "service": "app"}, "dockerCompose"),
        ({"dockerComposeFile": ["a.yml", "b.yml"], "service": "app"}, "dockerCompose"),
        # The reference tests image first, then a Dockerfile, then Compose.
        ({"dockerComposeFile": "c.yml", "image": "debian"}, "image"),
        ({"dockerComposeFile": "c.yml", "build": {"dockerfile": "D"}}, "dockerfile"),
        ({"build": "Dockerfile", "dockerComposeFile": "c.yml"}, "dockerCompose"),  # build must be an object
    ],
)
def test_type_comes_from_devcontainer_json(tmp_path: Path, config: dict[str, Any], expected: str) -> None:
    assert published(write_template(tmp_path, "t", config=config))["type"] == expected


def test_a_devcontainer_json_at_the_root_wins(tmp_path: Path) -> None:
    folder = write_template(tmp_path, "t", config={"dockerComposeFile": "c.yml"})
    (folder / ".devcontainer.json").write_text('{"image": "debian"}', encoding="utf-8")
    assert published(folder)["type"] == "image"


def test_devcontainer_json_with_comments_and_trailing_commas(tmp_path: Path) -> None:
    config = (
        '// a config\n{\n  /* how */ "build": {"dockerfile": "Dockerfile",},\n'
        '  "features": {"ghcr.io/a/b/c:1": {},},\n}\n'
    )
    result = published(write_template(tmp_path, "t", config=config))
    assert (result["type"], result["featureIds"]) == ("dockerfile", ["ghcr.io/a/b/c"])


def test_a_config_that_is_json_only_once_options_are_substituted(tmp_path: Path) -> None:
    # templates apply substitutes `${templateOption:port}` before anyone reads the file as JSON.
    config = '{"image": "x:${templateOption:tag}", "forwardPorts": [${templateOption:port}], "features": {}}'
    options = {"port": {"type": "string", "default": "80"}, "tag": {"type": "string", "default": "1"}}
    folder = write_template(tmp_path, "t", minimal_template("t", options=options), config=config)
    assert published(folder)["type"] == "image"


# --- featureIds ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("reference", "resource"),
    [
        ("ghcr.io/devcontainers/features/node:1", "ghcr.io/devcontainers/features/node"),
        ("ghcr.io/devcontainers/features/node", "ghcr.io/devcontainers/features/node"),
        ("GHCR.io/Owner/Repo/Feature:1.2", "ghcr.io/owner/repo/feature"),  # lowercased first
        ("ghcr.io/a/b/c@sha256:" + "0" * 64, "ghcr.io/a/b/c"),
        ("localhost:5000/ns/x", "localhost:5000/ns/x"),  # the port is no tag
        ("localhost:5000/ns/x:2", "localhost:5000/ns/x"),
        ("ghcr.io/a/b/c:", "ghcr.io/a/b/c"),  # an empty tag is not checked
        ("./local-feature", None),  # local paths
        ("../up", None),
        ("node", None),  # short ids: no namespace
        ("owner/feature", None),
        ("ghcr.io/a/b/c:bad tag", None),
        ("ghcr.io/a/b/c@md5:abc", None),
        ("ghcr.io/a/b/c@sha256:a:b", None),
        ("ghcr.io/a/b__c:1", None),  # the reference's path rule: one separator between runs
        ("https://example.com/f.tgz", None),
    ],
)
def test_feature_reference_resolves_like_the_reference_cli(reference: str, resource: str | None) -> None:
    assert feature_resource(reference) == resource


def test_feature_ids_keep_devcontainer_json_order_and_drop_what_is_no_reference(tmp_path: Path) -> None:
    features = {"ghcr.io/x/y/b:1": {}, "./local": {}, "node": {}, "ghcr.io/x/y/a": {"version": "2"}}
    assert published(write_template(tmp_path, "t", config={"image": "d", "features": features}))["featureIds"] == [
        "ghcr.io/x/y/b",
        "ghcr.io/x/y/a",
    ]


@pytest.mark.parametrize("features", [None, [], ["ghcr.io/a/b/c:1"], "ghcr.io/a/b/c", {}])
def test_feature_ids_are_empty_without_a_features_object(tmp_path: Path, features: Any) -> None:
    config: dict[str, Any] = {"image": "d"} if features is None else {"image": "d", "features": features}
    assert published(write_template(tmp_path, "t", config=config))["featureIds"] == []


# --- files and optionalPaths ---------------------------------------------------------------------------------


def test_files_are_every_file_in_archive_order(tmp_path: Path) -> None:
    folder = write_template(tmp_path, "t", files={"b.txt": "b", "a/z.txt": "z", "a/b/c.txt": "c", ".x": "x"})
    (folder / "empty").mkdir()
    (folder / ".git").mkdir()
    (folder / ".git" / "HEAD").write_text("ref", encoding="utf-8")
    result = published(folder)
    assert result["files"] == [
        ".devcontainer/devcontainer.json",
        ".x",
        "a/b/c.txt",
        "a/z.txt",
        "b.txt",
        TEMPLATE_METADATA,
    ]
    assert result["fileCount"] == 6


def test_a_link_to_a_folder_is_listed_as_the_files_inside_it(tmp_path: Path) -> None:
    # The reference's directory reader follows links: `files` names the files through the link.
    folder = write_template(tmp_path, "t", files={"docs/a.md": "a", "docs/b.md": "b", "README.md": "r"})
    (folder / "sub").mkdir()
    os.symlink("../docs", folder / "sub" / "docs")
    os.symlink("README.md", folder / "link.md")
    files = published(folder)["files"]
    assert "link.md" in files
    assert [f for f in files if f.startswith("sub/")] == ["sub/docs/a.md", "sub/docs/b.md"]


def test_a_link_loop_inside_the_template_ends(tmp_path: Path) -> None:
    # The reference's reader would follow it until the path is too long; featurepub stops at the loop.
    folder = write_template(tmp_path, "t", files={"docs/a.md": "a"})
    os.symlink("..", folder / "docs" / "up")
    files = published(folder)["files"]
    assert "docs/a.md" in files
    assert len(files) == len(set(files)) < 20


@pytest.mark.parametrize(
    ("entries", "expected"),
    [
        ([".github/*"], [".github/workflows/ci.yml"]),  # one file, however deep
        (["docs/*"], ["docs/*"]),  # two files
        (["lone/*", "README.md"], ["lone/only.txt", "README.md"]),
        (["missing/*"], ["missing/*"]),
        (["/*"], ["/*"]),  # too short to name a folder
        (["tool/*"], ["tool/*"]),  # the prefix also matches tool-notes.txt, as the reference compares it
        (["lone/*", "lone/*"], ["lone/only.txt", "lone/only.txt"]),
    ],
)
def test_optional_folder_holding_one_file_becomes_that_file(
    tmp_path: Path, entries: list[str], expected: list[str]
) -> None:
    files = {
        ".github/workflows/ci.yml": "ci",
        "docs/a.md": "a",
        "docs/b.md": "b",
        "lone/only.txt": "o",
        "README.md": "r",
        "tool/run.sh": "r",
        "tool-notes.txt": "n",
    }
    folder = write_template(tmp_path, "t", minimal_template("t", optionalPaths=entries), files=files)
    template = load_one(folder)
    assert template.published_metadata["optionalPaths"] == expected
    assert template.metadata["optionalPaths"] == entries  # the metadata as written is never changed


def test_compaction_skips_what_is_no_folder_entry_and_a_lone_link_to_a_folder(tmp_path: Path) -> None:
    (tmp_path / "d").mkdir()
    assert compact_optional_paths([1, "d/*", "x"], ["d/link"], tmp_path) == [1, "d/*", "x"]


def test_optional_paths_that_are_no_list_are_published_as_written(tmp_path: Path) -> None:
    metadata = minimal_template("t", optionalPaths="docs/*")
    folder = write_template(tmp_path, "t", metadata, files={"docs/a.md": "a"})
    template = load_collection(folder, schema_validation=False).features[0]
    assert template.published_metadata["optionalPaths"] == "docs/*"


# --- key order and the bytes published -----------------------------------------------------------------------


def test_computed_keys_come_last_and_a_written_one_keeps_its_place(tmp_path: Path) -> None:
    metadata = {"id": "t", "type": "preset", "version": "1.0.0", "name": "T", "optionalPaths": ["x"], "z": 1}
    result = published(write_template(tmp_path, "t", metadata, files={"x": "x"}))
    assert list(result) == [
        "id",
        "type",
        "version",
        "name",
        "optionalPaths",
        "z",
        "files",
        "fileCount",
        "featureIds",
    ]
    assert result["type"] == "image"


def test_the_layer_holds_the_published_metadata_as_4_space_json(tmp_path: Path) -> None:
    folder = write_template(tmp_path, "t", "// a comment\n" + json.dumps(minimal_template("t")))
    template = load_one(folder)
    blob = package_feature(template, tmp_path / "out")
    assert blob.descriptor.annotations[mediatypes.ANNOTATION_TITLE] == "devcontainer-template-t.tgz"
    assert blob.descriptor.media_type == mediatypes.FEATURE_LAYER
    with tarfile.open(fileobj=io.BytesIO((tmp_path / "out" / "devcontainer-template-t.tgz").read_bytes())) as tar:
        handle = tar.extractfile(f"./{TEMPLATE_METADATA}")
        assert handle is not None
        packed = handle.read()
    assert packed == json.dumps(template.published_metadata, indent=4).encode("utf-8")
    assert not packed.endswith(b"\n")  # JSON.stringify writes none
    assert (folder / TEMPLATE_METADATA).read_text(encoding="utf-8").startswith("// a comment")


@pytest.mark.parametrize(("registry", "ghcr"), [("ghcr.io", True), ("localhost:5000", False)])
def test_the_manifest_annotates_compact_metadata_and_the_package_type(
    tmp_path: Path, registry: str, ghcr: bool
) -> None:
    folder = write_template(tmp_path / "src", "t", minimal_template("t", description="ü"))
    collection = load_collection(folder.parent)
    plan = make_plan(collection, "owner/templates", tmp_path / "work", registry=registry)
    manifest = plan.features[0].artifact.manifest.to_json()
    annotation = manifest["annotations"][mediatypes.ANNOTATION_METADATA]
    assert annotation == json.dumps(
        collection.features[0].published_metadata, separators=(",", ":"), ensure_ascii=False
    )
    assert manifest["config"] == {
        "mediaType": "application/vnd.devcontainers",
        "digest": manifest["config"]["digest"],
        "size": 2,
    }
    package_type = manifest["annotations"].get(mediatypes.ANNOTATION_GITHUB_PACKAGE_TYPE)
    assert package_type == ("devcontainer_template" if ghcr else None)
    document = json.loads(plan.collection.blobs[-1].data or b"")
    assert list(document) == ["sourceInformation", "templates"]
    assert document["templates"] == [collection.features[0].published_metadata]
    collection_manifest = plan.collection.manifest.to_json()
    assert collection_manifest.get("annotations", {}).get(mediatypes.ANNOTATION_GITHUB_PACKAGE_TYPE) == (
        "devcontainer_collection" if ghcr else None
    )


def test_legacy_ids_of_a_template_publish_no_other_repository(tmp_path: Path) -> None:
    # The reference CLI publishes legacyIds for features only, and adds no currentId to templates.
    template = load_one(write_template(tmp_path, "t", minimal_template("t", legacyIds=["old"])))
    assert template.repository_names == ["t"]
    assert "currentId" not in template.published_metadata
