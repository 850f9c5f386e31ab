"""featurepub.oci.document and Descriptor.from_json: whatever the JSON holds, a checked view or one
ContentError; and an OCI layout whose digests point outside blobs/ is refused before any file opens."""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import pathlib
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from featurepub.errors import ConfigError, ContentError, InputError
from featurepub.oci import mediatypes
from featurepub.oci.descriptor import Descriptor
from featurepub.oci.document import MAX_DEPTH, MAX_MANIFEST_BYTES, load_json, parse_document
from featurepub.oci.layout import blob_path, read_index
from featurepub.oci.manifest import Manifest
from featurepub.publishing.layout_push import OciLayout, closure
from tests.support import hostile_shapes as shapes

SHA = "sha256:" + "a" * 64
LAYER = {"mediaType": mediatypes.FEATURE_LAYER, "digest": SHA, "size": 5, "annotations": {"t": "x"}}
CONFIG = {"mediaType": mediatypes.DEVCONTAINERS_CONFIG, "digest": "sha256:" + "b" * 64, "size": 2}


def manifest(**fields: Any) -> bytes:
    body: dict[str, Any] = {"schemaVersion": 2, "mediaType": mediatypes.OCI_MANIFEST, "config": CONFIG}
    body["layers"] = [LAYER]
    body.update(fields)
    return json.dumps(body).encode()


def test_a_manifest_reads_into_checked_fields() -> None:
    document = parse_document(manifest(annotations={"a": "b"}, artifactType="x/y"))
    assert not document.is_index
    assert document.media_type == mediatypes.OCI_MANIFEST
    assert document.config == Descriptor(mediatypes.DEVCONTAINERS_CONFIG, "sha256:" + "b" * 64, 2)
    assert document.layers == (Descriptor(mediatypes.FEATURE_LAYER, SHA, 5, {"t": "x"}),)
    assert document.annotations == {"a": "b"}
    assert document.artifact_type == "x/y"


def test_an_index_reads_platforms() -> None:
    entries = [
        {**LAYER, "platform": {"os": "linux", "architecture": "arm64", "variant": "v8"}},
        {**LAYER, "platform": {"os": "linux"}},
        LAYER,
    ]
    document = parse_document(json.dumps({"manifests": entries}).encode())
    assert document.is_index
    assert [e.platform for e in document.entries] == ["linux/arm64/v8", "linux/unknown", "unknown"]


@pytest.mark.parametrize(
    ("body", "problem"),
    [
        (manifest(annotations=["a"]), "annotations is list"),
        (manifest(annotations="x"), "annotations is str"),
        (manifest(annotations={"a": 1}), "annotations['a'] is int"),
        (manifest(layers=3), "layers is a JSON number"),
        (manifest(layers="x"), "layers is a JSON string"),
        (manifest(config=[]), "config is list"),
        (manifest(mediaType=mediatypes.OCI_INDEX, manifests=7), "manifests is a JSON number"),
        (manifest(mediaType=5), "mediaType is a JSON number"),
        (manifest(layers=[{**LAYER, "size": "SIZE"}]).replace(b'"SIZE"', b"1e999"), "size inf"),
        (manifest(layers=[{**LAYER, "size": -1}]), "size -1"),
        (manifest(layers=[{**LAYER, "size": True}]), "size True"),
        (manifest(layers=[{**LAYER, "size": 1.5}]), "size 1.5"),
        (manifest(layers=[{**LAYER, "digest": "sha256:../../etc/passwd"}]), "not a valid digest"),
        (manifest(layers=[{**LAYER, "digest": 5}]), "not a valid digest"),
        (b"[1, 2]", "a JSON array, not an object"),
        (b"{", "not JSON"),
        (b"\xff\xfe\x00", "not JSON"),
        (b"[" * 100_000 + b"]" * 100_000, "nested too deeply"),
        (b"[" * (MAX_DEPTH + 1) + b"]" * (MAX_DEPTH + 1), f"more than {MAX_DEPTH} levels"),
        (b" " * (MAX_MANIFEST_BYTES + 1), "over the 4194304-byte limit"),
    ],
)
def test_malformed_documents_are_one_content_error(body: bytes, problem: str) -> None:
    with pytest.raises(ContentError) as caught:
        parse_document(body)
    assert problem in caught.value.message


def test_null_fields_read_as_absent() -> None:
    document = parse_document(json.dumps({"config": None, "layers": None, "annotations": None}).encode())
    assert (document.config, document.layers, document.annotations) == (None, (), {})


def test_content_error_is_also_a_value_error() -> None:
    # Callers that treat unreadable JSON as "nothing usable" (`except ValueError`) keep doing so.
    with pytest.raises(ValueError, match="not JSON"):
        Manifest(b"{nope").to_json()


@settings(max_examples=400, deadline=None)
@given(value=st.one_of(shapes.manifests, shapes.any_json))
def test_any_json_shape_gives_a_document_or_a_content_error(value: Any) -> None:
    try:
        document = parse_document(shapes.encoded(value))
    except ContentError:
        return
    for descriptor in document.descriptors:
        assert blob_path(Path("/layout"), descriptor.digest).is_relative_to("/layout/blobs")
        assert isinstance(descriptor.size, int) and descriptor.size >= 0
    assert all(isinstance(v, str) for v in document.annotations.values())


@settings(max_examples=300, deadline=None)
@given(data=st.binary(max_size=64))
def test_any_bytes_give_json_or_a_content_error(data: bytes) -> None:
    with contextlib.suppress(ContentError):
        load_json(data, "the body")


# --- the layout: no digest names a path outside blobs/ ------------------------------------------------


def write_layout(root: Path, entries: list[Any]) -> Path:
    root.mkdir(parents=True, exist_ok=True)
    (root / "oci-layout").write_text('{"imageLayoutVersion": "1.0.0"}')
    (root / "index.json").write_text(json.dumps({"schemaVersion": 2, "manifests": entries}))
    return root


def test_blob_path_refuses_what_is_not_a_digest(tmp_path: Path) -> None:
    with pytest.raises(ContentError, match="not a valid digest"):
        blob_path(tmp_path, "sha256:../../etc/passwd")


@pytest.mark.parametrize("digest", ["sha256:../../etc/passwd", "sha256:/etc/passwd", "../x:y", "sha256:a/../.."])
def test_a_layout_index_naming_a_path_is_refused_before_any_file_opens(
    digest: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    root = write_layout(tmp_path / "layout", [{"mediaType": mediatypes.OCI_MANIFEST, "digest": digest, "size": 1}])
    opened: list[Path] = []
    real_open = pathlib.Path.open

    def spy(self: Path, *args: Any, **kwargs: Any) -> Any:
        opened.append(self)
        return real_open(self, *args, **kwargs)

    monkeypatch.setattr(pathlib.Path, "open", spy)
    with pytest.raises(ConfigError, match="not a valid digest"):
        OciLayout(root)
    assert opened == [root / "index.json"]


def test_a_manifest_naming_a_path_is_refused_before_that_path_opens(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    root = tmp_path / "layout"
    body = manifest(layers=[{**LAYER, "digest": "sha256:../../../secret"}])
    blob = root / "blobs" / "sha256" / hashlib.sha256(body).hexdigest()
    blob.parent.mkdir(parents=True)
    blob.write_bytes(body)
    digest = "sha256:" + blob.name
    write_layout(root, [{"mediaType": mediatypes.OCI_MANIFEST, "digest": digest, "size": len(body)}])
    opened: list[Path] = []
    real_open = pathlib.Path.open

    def spy(self: Path, *args: Any, **kwargs: Any) -> Any:
        opened.append(self)
        return real_open(self, *args, **kwargs)

    layout = OciLayout(root)
    monkeypatch.setattr(pathlib.Path, "open", spy)
    with pytest.raises(InputError, match="not a valid digest"):
        closure(layout, layout.refs[0].descriptor)
    assert all(path.is_relative_to(root / "blobs") for path in opened)


def test_a_huge_manifest_in_a_layout_is_refused_before_it_is_read(tmp_path: Path) -> None:
    root = write_layout(
        tmp_path / "layout",
        [{"mediaType": mediatypes.OCI_MANIFEST, "digest": SHA, "size": MAX_MANIFEST_BYTES + 1}],
    )
    layout = OciLayout(root)
    with pytest.raises(InputError, match="over the 4194304 bytes"):
        closure(layout, layout.refs[0].descriptor)


def test_index_json_that_is_not_a_regular_file_is_refused(tmp_path: Path) -> None:
    root = tmp_path / "layout"
    root.mkdir()
    os.mkfifo(root / "index.json")  # reading it would block forever
    with pytest.raises(ConfigError, match="not a regular file"):
        read_index(root)
