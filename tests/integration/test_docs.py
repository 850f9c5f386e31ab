"""`featurepub docs`: README.md per feature from its metadata, keeping the hand-written NOTES.md."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from tests.conftest import SAMPLES
from tests.support.publishing import featurepub


@pytest.fixture
def collection(tmp_path: Path) -> Path:
    root = tmp_path / "features"
    shutil.copytree(SAMPLES, root)
    return root


def test_docs_write_a_readme_per_feature(collection: Path) -> None:
    notes = "## Supported systems\n\nDebian, Ubuntu and Alpine | tested weekly.\n"
    (collection / "src" / "common-utils" / "NOTES.md").write_text(notes)
    run = featurepub("docs", collection, "--registry", "ghcr.io", "--namespace", "my-org/features")
    assert run.code == 0, run.stderr
    assert run.stderr.count("wrote: ") == 5
    readme = (collection / "src" / "common-utils" / "README.md").read_text()
    assert readme.startswith("# Common Utilities (common-utils)\n")
    assert '"ghcr.io/my-org/features/common-utils:1": {}' in readme
    assert "| Options Id | Description | Type | Default Value |" in readme
    assert "| installZsh | Install Zsh and make it available as a login shell. | boolean | true |" in readme
    assert "(one of `auto`, `apt`, `apk`) | string | auto |" in readme
    assert "| extraPackages | Space-separated list of additional packages to install. | string | - |" in readme
    # NOTES.md is kept verbatim, after the generated part and before the footer.
    assert notes in readme
    assert readme.index("## Options") < readme.index(notes) < readme.index("auto-generated")
    hello = (collection / "src" / "hello-cli" / "README.md").read_text()
    assert "Ids used to publish this Feature in the past - 'hello'" in hello
    assert "## Dependencies" in hello
    assert '- `ghcr.io/featurepub/samples/common-utils:1` with `{"installZsh": false}`' in hello
    node = (collection / "src" / "node-tool" / "README.md").read_text()
    assert '"ghcr.io/my-org/features/node-tool:0": {}' in node
    assert "- `dbaeumer.vscode-eslint`" in node
    assert "## Installs after" in node
    deprecated = (collection / "src" / "deprecated-tool" / "README.md").read_text()
    assert "This Feature is deprecated" in deprecated
    assert "## Options" not in deprecated


def test_docs_are_stable_and_check_reports_drift(collection: Path) -> None:
    args = ["docs", str(collection), "-n", "my-org/features"]
    assert featurepub(*args).code == 0
    readme = collection / "src" / "shell-prompt" / "README.md"
    stamp = readme.stat().st_mtime_ns
    again = featurepub(*args)
    assert again.code == 0
    assert "wrote" not in again.stderr
    assert readme.stat().st_mtime_ns == stamp  # unchanged content is not rewritten
    assert featurepub(*args, "--check").code == 0
    metadata = collection / "src" / "shell-prompt" / "devcontainer-feature.json"
    metadata.write_text(metadata.read_text().replace("Prompt theme to apply.", "The theme."))
    check = featurepub(*args, "--check")
    assert check.code == 1
    assert f"out of date: {readme}" in check.stderr
    assert "Prompt theme to apply." in readme.read_text()  # --check writes nothing


def test_docs_refuse_invalid_features(collection: Path) -> None:
    (collection / "src" / "hello-cli" / "install.sh").unlink()
    run = featurepub("docs", collection, "-n", "my-org/features")
    assert run.code == 2
    assert "install.sh" in run.stderr
    assert not (collection / "src" / "common-utils" / "README.md").exists()
    # The count line says what docs did not do (publish's says "nothing was published").
    assert run.stderr.splitlines()[-1] == "error: 1 problem found in the features; no README.md was written"
    check = featurepub("docs", collection, "-n", "my-org/features", "--check")
    assert check.code == 2
    assert check.stderr.splitlines()[-1] == "error: 1 problem found in the features; no README.md was checked"


def test_docs_list_a_dependency_given_as_a_version_string(collection: Path) -> None:
    metadata = collection / "src" / "hello-cli" / "devcontainer-feature.json"
    text = metadata.read_text().replace(
        '"ghcr.io/featurepub/samples/common-utils:1": {', '"ghcr.io/x/y/z": "2.1", "a/b/c:1": {'
    )
    metadata.write_text(text)
    run = featurepub("docs", collection, "-n", "my-org/features")
    assert run.code == 0, run.stderr
    readme = (collection / "src" / "hello-cli" / "README.md").read_text()
    assert "- `ghcr.io/x/y/z` (version `2.1`)" in readme


def test_docs_refuse_a_notes_file_that_is_no_regular_file(collection: Path) -> None:
    import os

    folder = collection / "src" / "node-tool"
    with (folder / ".featureignore").open("a") as ignore:
        ignore.write("NOTES.md\n")  # not packed, so only the docs read it
    os.mkfifo(folder / "NOTES.md")  # reading it would wait for a writer forever
    run = featurepub("docs", collection, "-n", "my-org/features")
    assert run.code == 2
    assert "node-tool/NOTES.md: is a named pipe (FIFO), not a regular file" in run.stderr
