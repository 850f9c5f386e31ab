"""The library API release scripts use: typed results, no printing, the CLI's behaviour underneath."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest

import featurepub
from featurepub.publishing.events import Event, EventKind
from tests.conftest import copy_samples
from tests.support.publishing import tag_digest
from tests.support.registry import RegistryServer


@pytest.fixture
def src(tmp_path: Path, registry: RegistryServer, namespace: str) -> Path:
    return copy_samples(tmp_path / "samples", f"{registry.host}/{namespace}") / "src"


def test_validate_returns_problems_instead_of_raising(src: Path, capsys: pytest.CaptureFixture[str]) -> None:
    good = featurepub.validate(src)
    assert good.ok
    assert [f.id for f in good.features] == [
        "common-utils",
        "deprecated-tool",
        "hello-cli",
        "node-tool",
        "shell-prompt",
    ]
    (src / "node-tool" / "install.sh").unlink()
    bad = featurepub.validate(src)
    assert not bad.ok
    assert bad.features == ()
    assert [p.path for p in bad.problems] == [src / "node-tool" / "install.sh"]
    assert bad.to_json()["problems"][0]["file"] == str(src / "node-tool" / "install.sh")
    assert bad.to_json()["problems"][0]["tier"] == "error"
    with pytest.raises(featurepub.FeatureError):
        featurepub.load(src)
    assert capsys.readouterr() == ("", "")


def test_package_plan_publish_inspect_tags(
    src: Path, tmp_path: Path, registry: RegistryServer, namespace: str, capsys: pytest.CaptureFixture[str]
) -> None:
    packaged = featurepub.package(src, tmp_path / "out")
    hello = next(f for f in packaged.features if f.id == "hello-cli")
    assert hello.path == tmp_path / "out" / "devcontainer-feature-hello-cli.tgz"
    assert "sha256:" + hashlib.sha256(hello.path.read_bytes()).hexdigest() == hello.digest
    assert packaged.collection_file.is_file()

    plan = featurepub.plan(src, registry=registry.host, namespace=namespace)
    assert plan.dry_run
    assert {f.status for f in plan.features} == {featurepub.Status.PLANNED}
    assert tag_digest(registry.url, f"{namespace}/hello-cli", "2.0.1") is None

    events: list[Event] = []
    report = featurepub.publish(src, registry=registry.host, namespace=namespace, listener=events.append)
    assert report.ok
    assert any(e.kind is EventKind.TAG_PUSHED for e in events)
    published = {f.id: f for f in report.features}
    # The layer published is the one `package` wrote: reproducible.
    info = featurepub.inspect(f"{registry.host}/{namespace}/hello-cli:2.0.1")
    assert isinstance(info, featurepub.InspectResult)
    assert info.digest == published["hello-cli"].digest
    assert info.layers[0].digest == hello.digest
    assert info.consumable
    assert info.metadata is not None
    assert info.metadata["currentId"] == "hello-cli"
    tags = featurepub.list_tags(f"{registry.host}/{namespace}/hello-cli", digests=True)
    assert isinstance(tags, featurepub.TagsResult)
    assert sorted(tags.tags) == ["2", "2.0", "2.0.1", "latest"]
    assert set((tags.digests or {}).values()) == {info.digest}
    assert capsys.readouterr() == ("", "")


def test_push_layout_and_docs(
    src: Path, tmp_path: Path, registry: RegistryServer, namespace: str, capsys: pytest.CaptureFixture[str]
) -> None:
    docs = featurepub.generate_docs(src, registry=registry.host, namespace=namespace)
    assert isinstance(docs, featurepub.DocsResult)
    assert len(docs.changed) == 5
    assert featurepub.generate_docs(src, registry=registry.host, namespace=namespace, check=True).changed == []
    layout = tmp_path / "layout"
    featurepub.publish(src, namespace=namespace, layout=layout)
    events: list[Event] = []
    pushed = featurepub.push_layout(
        layout,
        registry=registry.host,
        namespace=namespace,
        refs=[f"{namespace}/node-tool:0.3.0"],
        listener=events.append,
    )
    assert isinstance(pushed, featurepub.LayoutPushReport)
    assert pushed.ok
    assert [(r.tag, r.status) for r in pushed.results] == [("0.3.0", featurepub.Status.PUBLISHED)]
    assert [e.kind for e in events if e.kind is EventKind.BLOB_UPLOAD]
    assert pushed.bytes_uploaded > 0
    assert tag_digest(registry.url, f"{namespace}/node-tool", "0.3.0") == pushed.results[0].digest
    with pytest.raises(featurepub.InputError):
        featurepub.push_layout(layout, registry=registry.host, namespace="elsewhere")
    assert capsys.readouterr() == ("", "")


def test_release_api_names_resolve_to_the_real_objects() -> None:
    import importlib

    # Load every module first, as real use does: no submodule may shadow an exported name
    # (`featurepub.inspect` must stay the function even after featurepub.readback is imported).
    for module in ("featurepub.api", "featurepub.readback", "featurepub.features.docs", "featurepub.cli.app"):
        importlib.import_module(module)
    api = importlib.import_module("featurepub.api")
    for name in (n for n in featurepub.__all__ if n != "__version__"):
        value = getattr(featurepub, name)
        assert getattr(value, "__name__", None) == name
        assert not isinstance(value, type(featurepub))
        if name[0].islower():
            assert value is getattr(api, name)
