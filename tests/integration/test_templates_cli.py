"""Templates through every command and the library: validate, package, publish (registry and layout),
push-layout, inspect, tags, docs; the output names templates as templates."""

from __future__ import annotations

import hashlib
import json
import tarfile
from collections.abc import Callable
from pathlib import Path

import pytest

import featurepub as library
from tests.integration.test_faults import assert_consistent, fast_retries, faulty_proxy
from tests.support import templates
from tests.support.consumers import skopeo_copy
from tests.support.proxy import RegistryProxy
from tests.support.publishing import featurepub, registry_tags
from tests.support.registry import RegistryServer
from tests.unit.featuretree import write_feature
from tests.unit.templatetree import write_template

IDS = list(templates.SAMPLE_TEMPLATE_IDS)


@pytest.fixture
def sample(tmp_path: Path) -> Path:
    return templates.copy_sample_templates(tmp_path / "sample-templates")


def test_validate_lists_the_templates(sample: Path) -> None:
    run = featurepub("validate", sample)
    assert run.code == 0, run.stderr
    assert [line.split()[1] for line in run.stderr.splitlines()] == IDS
    report = json.loads(featurepub("validate", sample, "--json").stdout)
    assert (report["ok"], report["kind"], sorted(report["templates"])) == (True, "template", IDS)


def test_validate_refuses_a_folder_mixing_features_and_templates(tmp_path: Path) -> None:
    write_feature(tmp_path / "src", "feat")
    write_template(tmp_path / "src", "tmpl")
    run = featurepub("validate", tmp_path)
    assert run.code == 2
    lines = run.stderr.splitlines()
    assert len(lines) == 2, run.stderr
    assert "holds both features (feat) and templates (tmpl)" in lines[0]
    assert lines[1] == "error: 1 problem found in the features and templates"  # validate publishes nothing anyway
    published = featurepub("publish", tmp_path, "-n", "x/y", "--layout", tmp_path / "layout")
    assert published.code == 2 and not (tmp_path / "layout").exists()


def test_validate_names_template_problems(tmp_path: Path) -> None:
    write_template(tmp_path / "src", "t", config="")
    run = featurepub("validate", tmp_path)
    assert run.code == 2
    assert "every template needs a .devcontainer/devcontainer.json" in run.stderr
    assert "1 problem found in the templates" in run.stderr


def test_package_writes_template_layers_and_a_templates_collection(sample: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    run = featurepub("package", sample, "-o", out)
    assert run.code == 0, run.stderr
    assert sorted(p.name for p in out.iterdir()) == sorted(
        ["devcontainer-collection.json", *(f"devcontainer-template-{i}.tgz" for i in IDS)]
    )
    document = json.loads((out / "devcontainer-collection.json").read_text(encoding="utf-8"))
    assert [t["id"] for t in document["templates"]] == IDS
    with tarfile.open(out / "devcontainer-template-static-site.tgz") as layer:
        names = layer.getnames()
        serve = layer.getmember("./.devcontainer/serve.sh")
    assert "./site/assets/img/logo.svg" in names and serve.mode == 0o755
    again = tmp_path / "again"
    assert featurepub("package", sample, "-o", again).code == 0
    for layer_path in out.glob("*.tgz"):  # reproducible
        assert (again / layer_path.name).read_bytes() == layer_path.read_bytes()


def test_library_api_takes_templates(sample: Path, tmp_path: Path) -> None:
    check = library.validate(sample)
    assert check.ok and check.kind.name == "template"
    collection = library.load(sample / "src" / "python-app")
    assert collection.single and collection.features[0].published_metadata["type"] == "dockerfile"
    packaged = library.package(sample, tmp_path / "out")
    assert packaged.to_json()["kind"] == "template" and len(packaged.features) == 4
    report = library.publish(sample, namespace="o/templates", layout=tmp_path / "layout")
    assert report.ok and report.kind.name == "template"
    assert sorted(report.summary_json()["templates"]) == IDS
    docs = library.generate_docs(sample)
    assert len(docs.files) == 4 and all(f.changed for f in docs.files)


def test_publish_to_a_layout_then_push_layout_then_apply(
    sample: Path, tmp_path: Path, registry: RegistryServer, namespace: str
) -> None:
    layout = tmp_path / "layout"
    run = featurepub(
        "publish", sample / "src", "-n", namespace, "--layout", layout, "--report", tmp_path / "r.json"
    )
    assert run.code == 0, run.stderr
    assert "done: 4 templates to" in run.stderr
    report = json.loads((tmp_path / "r.json").read_text(encoding="utf-8"))
    assert report["kind"] == "template" and "features" not in report
    assert report["collection"]["status"] == "published"
    pushed = featurepub("push-layout", layout, "-r", registry.host, "-n", namespace)
    assert pushed.code == 0, pushed.stderr
    assert registry_tags(registry.url, f"{namespace}/python-app") == ["2", "2.0", "2.0.1", "latest"]
    files = templates.apply(
        f"{registry.host}/{namespace}/python-app:2", tmp_path / "project", {"pythonVersion": "3.11"}
    )
    assert "./.devcontainer/Dockerfile" in files
    config = (tmp_path / "project" / ".devcontainer" / "devcontainer.json").read_text(encoding="utf-8")
    assert '"PYTHON_VERSION": "3.11"' in config
    assert '"INSTALL_DEV_TOOLS": "false"' in config  # the default, a string as apply needs it
    assert not (tmp_path / "project" / "devcontainer-template.json").exists()


def test_dry_run_and_inspect_and_tags_name_templates(
    sample: Path, registry: RegistryServer, namespace: str
) -> None:
    dry = featurepub("publish", sample, "-r", registry.host, "-n", namespace, "--dry-run", "--json")
    assert dry.code == 0, dry.stderr
    assert {e["status"] for e in dry.json["templates"].values()} == {"planned"}
    assert "4 templates to" in dry.stderr and "features" not in dry.stderr
    assert featurepub("publish", sample, "-r", registry.host, "-n", namespace).code == 0
    shown = featurepub("inspect", f"{registry.host}/{namespace}/node-postgres:0.4")
    assert shown.code == 0, shown.stderr
    assert "template node-postgres 0.4.0 (Node.js and PostgreSQL)" in shown.stdout
    assert "dockerCompose" in shown.stdout and "db/seed.sql" in shown.stdout
    info = json.loads(featurepub("inspect", f"{registry.host}/{namespace}/node-postgres:0", "--json").stdout)
    assert (info["kind"], info["metadata"]["type"], info["referenceCli"]["consumable"]) == (
        "template",
        "dockerCompose",
        True,
    )
    collection = featurepub("inspect", f"{registry.host}/{namespace}:latest")
    assert "collection of 4 templates" in collection.stdout, collection.stdout
    tags = featurepub("tags", f"{registry.host}/{namespace}/static-site", "--json")
    assert sorted(json.loads(tags.stdout)["publishedTags"]) == ["1", "1.0", "1.0.0", "latest"]


def test_inspect_tells_a_template_without_annotation_from_its_layer(
    tmp_path: Path, registry: RegistryServer, namespace: str
) -> None:
    # An artifact without the metadata annotation (published before the reference CLI added it):
    # inspect reads devcontainer-template.json from the layer.
    folder = write_template(tmp_path / "src", "t")
    layout = tmp_path / "layout"
    assert featurepub("publish", folder.parent, "-n", namespace, "--layout", layout).code == 0
    blobs = layout / "blobs" / "sha256"
    index = json.loads((layout / "index.json").read_text(encoding="utf-8"))
    (entry,) = [
        m for m in index["manifests"] if m["annotations"]["org.opencontainers.image.ref.name"].endswith("/t:1.0.0")
    ]
    manifest = json.loads((blobs / entry["digest"].split(":")[1]).read_text(encoding="utf-8"))
    del manifest["annotations"]["dev.containers.metadata"]
    body = json.dumps(manifest).encode("utf-8")
    digest = hashlib.sha256(body).hexdigest()
    (blobs / digest).write_bytes(body)
    entry.update(digest=f"sha256:{digest}", size=len(body))
    entry["annotations"]["org.opencontainers.image.ref.name"] = f"{namespace}/t:0.9.0"
    (layout / "index.json").write_text(json.dumps(index), encoding="utf-8")
    skopeo_copy(f"oci:{layout}:{namespace}/t:0.9.0", f"docker://{registry.host}/{namespace}/t:0.9.0")
    info = json.loads(featurepub("inspect", f"{registry.host}/{namespace}/t:0.9.0", "--json").stdout)
    assert (info["kind"], info["metadataSource"], info["metadata"]["type"]) == ("template", "layer", "image")
    assert "templates metadata` finds nothing" in info["referenceCli"]["reason"]


def test_docs_write_a_template_readme_without_a_namespace(sample: Path) -> None:
    run = featurepub("docs", sample)
    assert run.code == 0, run.stderr
    assert run.stderr.count("wrote: ") == 4
    readme = (sample / "src" / "python-app" / "README.md").read_text(encoding="utf-8")
    notes = (sample / "src" / "python-app" / "NOTES.md").read_text(encoding="utf-8")
    assert readme == (
        "# Python application (python-app)\n\n"
        "A Python package built from a Dockerfile, with an optional test suite to start from.\n\n"
        "## Options\n\n"
        "| Options Id | Description | Type | Default Value |\n"
        "|-----|-----|-----|-----|\n"
        "| pythonVersion | Python version: (one of `3.13`, `3.12`, `3.11`) | string | 3.12 |\n"
        "| installDevTools | Install ruff and pytest in the image? | boolean | false |\n\n"
        f"{notes}\n"
        "---\n\n"
        "_Note: This file was auto-generated from the [devcontainer-template.json](devcontainer-template.json).  "
        "Add additional notes to a `NOTES.md`._\n"
    )
    assert featurepub("docs", sample, "--check").code == 0
    (sample / "src" / "python-app" / "NOTES.md").write_text("Changed.\n", encoding="utf-8")
    stale = featurepub("docs", sample, "--check")
    assert stale.code == 1 and "python-app/README.md" in stale.stderr


def test_docs_for_features_still_need_a_namespace(tmp_path: Path) -> None:
    write_feature(tmp_path / "src", "feat")
    run = featurepub("docs", tmp_path)
    assert run.code == 2
    assert "a namespace is required" in run.stderr and "--namespace" in run.stderr


@pytest.mark.parametrize("seed", range(3))
def test_templates_publish_through_faults_completes(
    seed: int,
    sample: Path,
    tmp_path: Path,
    registry: RegistryServer,
    make_proxy: Callable[..., RegistryProxy],
    namespace: str,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # The features' fault suite (tests/integration/test_faults.py), on templates: same retries, same order.
    proxy, faults = faulty_proxy(seed, make_proxy, monkeypatch)
    report = library.publish(sample, registry=proxy.host, namespace=namespace, retry=fast_retries(seed))
    assert report.ok, report.summary_json()
    assert sum(faults.injected.values()) >= 5, faults.injected
    for template in report.features:
        digests = assert_consistent(registry, template.primary.repository)
        assert digests[template.version] == template.digest
    files = templates.apply(f"{registry.host}/{namespace}/static-site:1", tmp_path / "project")
    assert "./site/index.html" in files
