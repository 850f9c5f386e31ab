"""featurepub.oci (manifest, descriptor, digest) and the artifacts publish/plan builds from them."""

from __future__ import annotations

import hashlib
import io
import json
from pathlib import Path

import pytest

from featurepub.features.collection import load_collection
from featurepub.features.model import Feature
from featurepub.oci import mediatypes
from featurepub.oci.descriptor import Blob, Descriptor
from featurepub.oci.digest import HashingWriter, file_digest, read_chunks, sha256_digest
from featurepub.oci.manifest import EMPTY_CONFIG, EMPTY_CONFIG_BYTES, Manifest, build_manifest, canonical_json
from featurepub.publishing.plan import collection_artifact, feature_artifact

from .featuretree import write_feature

EMPTY_CONFIG_DIGEST = "sha256:44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a"
LAYER_DIGEST = "sha256:" + "ab" * 32

# The manifest featurepub writes for a fixed layer and metadata: the exact bytes pushed (and digested).
GOLDEN_MANIFEST = (
    '{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json",'
    '"artifactType":"application/vnd.devcontainers",'
    '"config":{"mediaType":"application/vnd.devcontainers",'
    '"digest":"sha256:44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a","size":2},'
    '"layers":[{"mediaType":"application/vnd.devcontainers.layer.v1+tar",'
    '"digest":"sha256:abababababababababababababababababababababababababababababababab","size":10240,'
    '"annotations":{"org.opencontainers.image.title":"devcontainer-feature-tiny.tgz"}}],'
    '"annotations":{"dev.containers.metadata":"{\\"id\\":\\"tiny\\",\\"version\\":\\"1.0.0\\",\\"name\\":\\"Tiny\\"}"}}'
)
GOLDEN_MANIFEST_DIGEST = "sha256:b5f99045f01c77e03a8a17f308cf7e56657017da79215fa8aeec3bcecabbbcf6"


def tiny_layer() -> Descriptor:
    return Descriptor(
        mediatypes.FEATURE_LAYER,
        LAYER_DIGEST,
        10240,
        {mediatypes.ANNOTATION_TITLE: "devcontainer-feature-tiny.tgz"},
    )


def test_golden_manifest_bytes_and_digest() -> None:
    manifest = build_manifest(
        tiny_layer(), {mediatypes.ANNOTATION_METADATA: '{"id":"tiny","version":"1.0.0","name":"Tiny"}'}
    )
    assert manifest.data == GOLDEN_MANIFEST.encode("utf-8")
    assert manifest.digest == GOLDEN_MANIFEST_DIGEST
    assert manifest.digest == "sha256:" + hashlib.sha256(GOLDEN_MANIFEST.encode()).hexdigest()
    assert manifest.size == len(GOLDEN_MANIFEST) == 619
    assert manifest.media_type == mediatypes.OCI_MANIFEST


def test_manifest_key_order() -> None:
    manifest = build_manifest(tiny_layer(), {"a": "b"})
    assert list(manifest.to_json()) == [
        "schemaVersion",
        "mediaType",
        "artifactType",
        "config",
        "layers",
        "annotations",
    ]
    assert list(manifest.to_json()["layers"][0]) == ["mediaType", "digest", "size", "annotations"]


def test_manifest_without_annotations_has_no_annotations_key() -> None:
    body = build_manifest(tiny_layer(), {}).to_json()
    assert "annotations" not in body
    assert body["schemaVersion"] == 2
    assert body["artifactType"] == "application/vnd.devcontainers"


def test_manifest_with_another_config() -> None:
    config = Descriptor("application/vnd.devcontainers", sha256_digest(b""), 0)
    body = build_manifest(tiny_layer(), {}, config=config).to_json()
    assert body["config"] == {
        "mediaType": "application/vnd.devcontainers",
        "digest": "sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
        "size": 0,
    }


def test_empty_config_is_the_two_byte_object() -> None:
    assert EMPTY_CONFIG_BYTES == b"{}"
    assert EMPTY_CONFIG.data == b"{}"
    assert EMPTY_CONFIG.digest == EMPTY_CONFIG_DIGEST
    assert EMPTY_CONFIG.size == 2
    assert EMPTY_CONFIG.descriptor.media_type == "application/vnd.devcontainers"
    assert EMPTY_CONFIG.descriptor.to_json() == {
        "mediaType": "application/vnd.devcontainers",
        "digest": EMPTY_CONFIG_DIGEST,
        "size": 2,
    }


def test_manifest_descriptor() -> None:
    manifest = Manifest(b'{"schemaVersion":2}')
    descriptor = manifest.descriptor({"k": "v"})
    assert descriptor == Descriptor(mediatypes.OCI_MANIFEST, sha256_digest(b'{"schemaVersion":2}'), 19, {"k": "v"})
    assert manifest.descriptor().annotations == {}


# --- canonical_json --------------------------------------------------------------------------------------


def test_canonical_json_is_compact_and_keeps_non_ascii() -> None:
    value = {"name": "Grüße ✓ 日本", "list": [1, True, None, "x"], "nested": {"a": {}}}
    assert canonical_json(value) == '{"name":"Grüße ✓ 日本","list":[1,true,null,"x"],"nested":{"a":{}}}'.encode()


def test_canonical_json_keeps_insertion_order() -> None:
    assert canonical_json({"z": 1, "a": 2, "m": 3}) == b'{"z":1,"a":2,"m":3}'


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ('quote"back\\slash', '"quote\\"back\\\\slash"'),
        ("tab\tnl\n", '"tab\\tnl\\n"'),
        ("\x01", '"\\u0001"'),
        ("/", '"/"'),  # JSON.stringify does not escape '/'
        ("\u2028", '"\u2028"'),  # nor U+2028
    ],
)
def test_canonical_json_string_escapes(value: str, expected: str) -> None:
    assert canonical_json(value) == expected.encode("utf-8")


@pytest.mark.parametrize("value", [float("nan"), float("inf"), {"a": [float("-inf")]}])
def test_canonical_json_refuses_non_finite_numbers(value: object) -> None:
    with pytest.raises(ValueError, match="JSON"):
        canonical_json(value)


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (1.0, "1"),
        (-0.0, "0"),
        (2.5, "2.5"),
        (100.0, "100"),
        (1e20, "100000000000000000000"),
        (1e21, "1e+21"),
        (1e-7, "1e-7"),
        (0.000001, "0.000001"),
    ],
)
def test_canonical_json_numbers_as_javascript_writes_them(value: float, expected: str) -> None:
    assert canonical_json(value) == expected.encode()


# --- the feature artifact --------------------------------------------------------------------------------


def _feature(tmp_path: Path, text: str) -> Feature:
    # Schema validation off: fields the schema does not know still reach the annotation exactly.
    folder = write_feature(tmp_path, "feat", text)
    return load_collection(folder, schema_validation=False).features[0]


def _layer() -> Blob:
    return Blob.from_bytes(
        mediatypes.FEATURE_LAYER, b"layer", {mediatypes.ANNOTATION_TITLE: "devcontainer-feature-feat.tgz"}
    )


METADATA_TEXT = """{
    // comments do not reach the annotation
    "name": "Feät",
    "version": "1.0.0",
    "id": "feat",
    "ratio": 1.0,
    "half": 2.50,
    "hundred": 1e2,
    "options": {"flag": {"type": "boolean", "default": true,}},
}"""


def test_metadata_annotation_is_compact_json_of_the_file_in_file_order(tmp_path: Path) -> None:
    feature = _feature(tmp_path, METADATA_TEXT)
    artifact = feature_artifact(feature, _layer(), None)
    annotations = artifact.manifest.to_json()["annotations"]
    assert annotations == {
        mediatypes.ANNOTATION_METADATA: (
            '{"name":"Feät","version":"1.0.0","id":"feat","ratio":1,"half":2.5,"hundred":100,'
            '"options":{"flag":{"type":"boolean","default":true}}}'
        )
    }


def test_feature_artifact_blobs_and_layer(tmp_path: Path) -> None:
    feature = _feature(tmp_path, METADATA_TEXT)
    layer = _layer()
    artifact = feature_artifact(feature, layer, "localhost:5000")
    assert artifact.blobs == (EMPTY_CONFIG, layer)
    body = artifact.manifest.to_json()
    assert body["layers"] == [layer.descriptor.to_json()]
    assert body["config"]["digest"] == EMPTY_CONFIG_DIGEST
    assert mediatypes.ANNOTATION_GITHUB_PACKAGE_TYPE not in body["annotations"]


def test_github_package_type_only_for_ghcr(tmp_path: Path) -> None:
    feature = _feature(tmp_path, METADATA_TEXT)
    on_ghcr = feature_artifact(feature, _layer(), "ghcr.io").manifest.to_json()["annotations"]
    assert list(on_ghcr) == [mediatypes.ANNOTATION_METADATA, "com.github.package.type"]
    assert on_ghcr["com.github.package.type"] == "devcontainer_feature"
    for registry in (None, "localhost:5000", "example.com", "ghcr.io.example.com"):
        annotations = feature_artifact(feature, _layer(), registry).manifest.to_json()["annotations"]
        assert "com.github.package.type" not in annotations, registry


def test_collection_artifact(tmp_path: Path) -> None:
    write_feature(tmp_path / "src", "one")
    write_feature(tmp_path / "src", "two")
    features = list(load_collection(tmp_path).features)
    artifact = collection_artifact(features, "ghcr.io")
    config, layer = artifact.blobs
    assert config is EMPTY_CONFIG
    assert layer.descriptor.media_type == mediatypes.COLLECTION_LAYER
    assert layer.descriptor.annotations == {mediatypes.ANNOTATION_TITLE: "devcontainer-collection.json"}
    assert layer.data is not None
    document = json.loads(layer.data)
    assert document["sourceInformation"] == {"source": "featurepub"}
    assert [f["id"] for f in document["features"]] == ["one", "two"]
    assert layer.data.startswith(b'{\n    "sourceInformation"')  # 4-space indent, like the reference CLI
    body = artifact.manifest.to_json()
    assert body["annotations"] == {"com.github.package.type": "devcontainer_collection"}
    assert "annotations" not in collection_artifact(features, "localhost:5000").manifest.to_json()


# --- descriptors and digests -----------------------------------------------------------------------------


def test_descriptor_json_round_trip() -> None:
    descriptor = Descriptor("m", LAYER_DIGEST, 3, {"a": "b"}, artifact_type="t")
    assert descriptor.to_json() == {
        "mediaType": "m",
        "digest": LAYER_DIGEST,
        "size": 3,
        "artifactType": "t",
        "annotations": {"a": "b"},
    }
    assert Descriptor.from_json(descriptor.to_json()) == descriptor
    assert Descriptor("m", LAYER_DIGEST, 3).to_json() == {"mediaType": "m", "digest": LAYER_DIGEST, "size": 3}


def test_blob_open_from_bytes_and_file(tmp_path: Path) -> None:
    blob = Blob.from_bytes("m", b"hello")
    assert blob.digest == sha256_digest(b"hello")
    assert blob.size == 5
    with blob.open() as handle:
        assert handle.read() == b"hello"
    path = tmp_path / "f"
    path.write_bytes(b"on disk")
    on_disk = Blob.from_file(Descriptor("m", sha256_digest(b"on disk"), 7), path)
    with on_disk.open() as handle:
        assert handle.read() == b"on disk"


def test_file_digest_and_hashing_writer(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("featurepub.oci.digest.CHUNK_SIZE", 3)
    data = b"0123456789" * 7
    path = tmp_path / "f"
    path.write_bytes(data)
    assert file_digest(path) == (sha256_digest(data), 70)
    sink = io.BytesIO()
    writer = HashingWriter(sink)
    for piece in (data[:5], data[5:], b""):
        assert writer.write(piece) == len(piece)
    writer.flush()
    assert (writer.digest, writer.size, sink.getvalue()) == (sha256_digest(data), 70, data)


def test_read_chunks(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("featurepub.oci.digest.CHUNK_SIZE", 4)
    handle = io.BytesIO(b"abcdefghij")
    assert list(read_chunks(handle)) == [b"abcd", b"efgh", b"ij"]
    assert list(read_chunks(handle, 2, 5)) == [b"cdef", b"g"]
    assert list(read_chunks(handle, 8, 100)) == [b"ij"]
    assert list(read_chunks(handle, 3, 0)) == []
