"""Layer sizes: featurepub's devcontainer-feature-<id>.tgz beside the reference CLI's, for the same folders.

    python bench/layer_sizes.py                # sample-features/ and a generated 60-feature collection
    python bench/layer_sizes.py --features 200 --seed 7

Packages each collection with `devcontainer features package` (the reference CLI from PATH) and with
featurepub (the library in this checkout), then prints every layer's size from both, the totals and two
checks: featurepub's total is no larger, and no layer of featurepub's is more than 512 bytes (one tar
block) larger. Exits 1 when a check fails. tests/interop/test_layers.py runs the same comparison
on sample-features/.

The reference does not honour .featureignore, so for a folder that has one its layer holds more files;
the generated collection has none, so there both tools pack exactly the same files.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from featurepub.api import package  # noqa: E402

SAMPLES = ROOT / "sample-features" / "src"
BLOCK = 512


@dataclass(frozen=True)
class Row:
    feature: str
    reference: int
    featurepub: int

    @property
    def difference(self) -> int:
        return self.featurepub - self.reference


def package_with_reference(src: Path, out: Path) -> dict[str, int]:
    """Layer sizes by feature id, as `devcontainer features package` writes them."""
    done = subprocess.run(
        [
            "devcontainer",
            "features",
            "package",
            str(src),
            "--output-folder",
            str(out),
            "--force-clean-output-folder",
        ],
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    if done.returncode != 0:
        raise RuntimeError(f"devcontainer features package exited {done.returncode}: {done.stderr[-2000:]}")
    return _sizes(out)


def package_with_featurepub(src: Path, out: Path) -> dict[str, int]:
    package(src, out)
    return _sizes(out)


def _sizes(out: Path) -> dict[str, int]:
    prefix, suffix = "devcontainer-feature-", ".tgz"
    return {p.name[len(prefix) : -len(suffix)]: p.stat().st_size for p in out.glob(f"{prefix}*{suffix}")}


def compare(src: Path, work: Path) -> list[Row]:
    """Package `src` (a folder of feature folders) with both tools under `work`; one row per feature."""
    reference = package_with_reference(src, work / "reference")
    ours = package_with_featurepub(src, work / "featurepub")
    if set(reference) != set(ours):
        raise RuntimeError(f"the tools packaged different features: {sorted(set(reference) ^ set(ours))}")
    return [Row(feature, reference[feature], ours[feature]) for feature in sorted(ours)]


def violations(rows: list[Row]) -> list[str]:
    """What breaks the promise: featurepub's total larger, or a layer more than one block larger."""
    found = []
    total_ref, total_ours = sum(r.reference for r in rows), sum(r.featurepub for r in rows)
    if total_ours > total_ref:
        found.append(f"featurepub's layers total {total_ours} bytes, more than the reference's {total_ref}")
    found += [
        f"{r.feature}: featurepub's layer is {r.difference} bytes larger than the reference's"
        for r in rows
        if r.difference > BLOCK
    ]
    return found


def generate(src: Path, count: int, seed: int) -> Path:
    """A collection shaped like real ones: metadata, install.sh, helper scripts in sub-folders, a few
    larger files, long and non-ASCII names (which need pax headers), empty folders and symlinks."""
    rng = random.Random(seed)
    for index in range(count):
        feature_id = f"gen-{index:03d}"
        folder = src / feature_id
        folder.mkdir(parents=True)
        options = {
            f"option{n}": {"type": "string", "default": "x", "proposals": ["x", "y"], "description": "An option."}
            for n in range(rng.randint(0, 6))
        }
        metadata = {"id": feature_id, "version": f"1.{index}.0", "name": f"Generated {index}", "options": options}
        (folder / "devcontainer-feature.json").write_text(json.dumps(metadata, indent=4), encoding="utf-8")
        (folder / "install.sh").write_text("#!/bin/sh\nset -e\n" + "echo step\n" * rng.randint(1, 400))
        (folder / "install.sh").chmod(0o755)
        for n in range(rng.randint(0, 5)):
            sub = folder / rng.choice(["", "scripts", "lib/helpers", "conf"])
            sub.mkdir(parents=True, exist_ok=True)
            (sub / f"file-{n}.sh").write_bytes(
                os.urandom(rng.randint(0, 40_000)) if n == 4 else b"x" * rng.randint(0, 3000)
            )
        if index % 7 == 0:
            (folder / "docs" / ("a-rather-long-folder-name-" * 4)).mkdir(parents=True)
            (folder / "docs" / ("a-rather-long-folder-name-" * 4) / "notes.md").write_text("long path\n")
        if index % 11 == 0:
            (folder / "héllo-✓.txt").write_text("non-ASCII name\n", encoding="utf-8")
        if index % 5 == 0:
            (folder / "empty").mkdir()
            (folder / "run.sh").symlink_to("install.sh")
    return src


def table(title: str, rows: list[Row]) -> str:
    lines = [title, f"{'feature':<24} {'reference':>10} {'featurepub':>11} {'difference':>11}"]
    lines += [f"{r.feature:<24} {r.reference:>10} {r.featurepub:>11} {r.difference:>+11}" for r in rows]
    total_ref, total_ours = sum(r.reference for r in rows), sum(r.featurepub for r in rows)
    lines.append(f"{'total':<24} {total_ref:>10} {total_ours:>11} {total_ours - total_ref:>+11}")
    return "\n".join(lines)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--features", type=int, default=60, help="size of the generated collection")
    parser.add_argument("--seed", type=int, default=12)
    args = parser.parse_args()
    failed = False
    with tempfile.TemporaryDirectory(prefix="layer-sizes-") as tmp:
        work = Path(tmp)
        generated = generate(work / "generated" / "src", args.features, args.seed)
        for title, src, out in (
            ("sample-features/", SAMPLES, work / "samples-out"),
            (f"generated collection ({args.features} features, seed {args.seed})", generated, work / "gen-out"),
        ):
            rows = compare(src, out)
            print(table(title, rows), end="\n\n")
            problems = violations(rows)
            for problem in problems:
                print(f"FAIL: {problem}")
            if not problems:
                print("ok: total no larger than the reference's, no layer more than 512 bytes larger\n")
            failed = failed or bool(problems)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
