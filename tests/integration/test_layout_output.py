"""`publish --layout`: the same input gives a byte-identical layout, and --dry-run writes nothing."""

from __future__ import annotations

from pathlib import Path

from tests.conftest import ROOT
from tests.support.publishing import featurepub


def tree(root: Path) -> dict[str, bytes]:
    return {str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


def test_a_layout_written_twice_from_the_same_input_is_byte_identical(tmp_path: Path) -> None:
    written = []
    for name in ("one", "two"):
        run = featurepub(
            "publish", ROOT / "sample-features", "-n", "featurepub/samples", "--layout", tmp_path / name
        )
        assert run.code == 0, run.stderr
        written.append(tree(tmp_path / name))
    assert written[0] == written[1]
    assert len(written[0]) > 10  # index.json, oci-layout and the blobs


def test_dry_run_creates_no_layout_folder(tmp_path: Path) -> None:
    out = tmp_path / "out" / "x"
    run = featurepub("publish", ROOT / "sample-features", "-n", "featurepub/samples", "--layout", out, "--dry-run")
    assert run.code == 0, run.stderr
    assert "would push tags" in run.stderr
    assert not (tmp_path / "out").exists()
