"""featurepub's layers end after their end-of-archive blocks: GNU tar, Python's tarfile and the reference CLI
(which extracts layers before every build) read them, and none is bigger than the reference's own."""

from __future__ import annotations

import subprocess
import tarfile
from pathlib import Path

import pytest

from bench.layer_sizes import compare, generate, violations
from tests.conftest import SAMPLES
from tests.support.publishing import featurepub
from tests.support.reference_extract import extract_features
from tests.support.registry import RegistryServer
from tests.support.trees import tree

pytestmark = pytest.mark.interop


@pytest.fixture
def awkward(tmp_path: Path) -> Path:
    """Features whose layers need more than plain headers: a path over 100 characters (ustar prefix),
    a non-ASCII name (pax header), symlinks, an empty folder, a large random file, empty files."""
    return generate(tmp_path / "awkward" / "src", 12, seed=3)


def test_gnu_tar_and_tarfile_extract_every_layer_as_its_folder(tmp_path: Path, awkward: Path) -> None:
    out = tmp_path / "out"
    assert featurepub("package", awkward, "-o", out).code == 0
    for folder in sorted(awkward.iterdir()):
        layer = out / f"devcontainer-feature-{folder.name}.tgz"
        assert layer.read_bytes().endswith(b"\0" * 1024)
        gnu = tmp_path / "gnu" / folder.name
        gnu.mkdir(parents=True)
        done = subprocess.run(
            ["tar", "-xf", str(layer), "-C", str(gnu)], capture_output=True, text=True, check=False
        )
        assert done.returncode == 0 and done.stderr == "", done.stderr  # no "lone zero block" or other warning
        assert tree(gnu) == tree(folder)
        python = tmp_path / "python" / folder.name
        with tarfile.open(layer) as archive:
            archive.extractall(python)
        assert tree(python) == tree(folder)
    # The layers are not padded to tarfile's 10 KiB records: most are not a multiple of it.
    sizes = [p.stat().st_size for p in out.glob("*.tgz")]
    assert sum(1 for size in sizes if size % 10240) > len(sizes) // 2


def test_the_reference_cli_extracts_published_layers(
    tmp_path: Path, awkward: Path, registry: RegistryServer, namespace: str
) -> None:
    run = featurepub("publish", awkward.parent, "--registry", registry.host, "--namespace", namespace)
    assert run.code == 0, run.stderr
    wanted: dict[str, dict[str, object]] = {
        f"{registry.host}/{namespace}/{folder.name}:1": {} for folder in sorted(awkward.iterdir())
    }
    extracted = extract_features(tmp_path / "workspace", wanted)
    assert sorted(extracted) == sorted(folder.name for folder in awkward.iterdir())
    for feature_id, folder in extracted.items():
        assert tree(folder) == tree(awkward / feature_id)


def test_no_layer_is_bigger_than_the_reference_clis(tmp_path: Path, awkward: Path) -> None:
    for src in (SAMPLES / "src", awkward):
        rows = compare(src, tmp_path / src.parent.name)
        assert len(rows) == len([p for p in src.iterdir() if p.is_dir()])
        assert violations(rows) == [], rows
