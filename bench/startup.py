"""How long `featurepub publish` spends importing: stderr piped (CI logs), on a pseudo-terminal, and on
a pseudo-terminal with a layer large enough for a progress bar (the only case that imports rich).

Runs `featurepub publish PATH --layout DIR` with `python -X importtime`, sums the cumulative time of
the top-level imports, and prints the best of N runs for each case and whether rich was imported.
Run it from another folder with PYTHONPATH=<a checkout> to measure that checkout instead.

    python bench/startup.py [--runs 7]
"""

from __future__ import annotations

import argparse
import os
import pty
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def import_micros(stderr: str) -> tuple[int, bool]:
    """The summed cumulative microseconds of the top-level imports, and whether rich was imported."""
    total = 0
    rich = False
    for line in stderr.splitlines():
        if not line.startswith("import time:") or "cumulative" in line:
            continue
        _, cumulative, name = line[len("import time:") :].split("|")
        rich = rich or name.strip().split(".")[0] == "rich"
        if not name.startswith("  "):  # one space: imported from the top, not by another module
            total += int(cumulative)
    return total, rich


def large_feature(root: Path) -> Path:
    folder = root / "src" / "large"
    folder.mkdir(parents=True)
    (folder / "devcontainer-feature.json").write_text('{"id": "large", "version": "1.0.0", "name": "Large"}')
    (folder / "install.sh").write_text("#!/bin/sh\n")
    (folder / "payload.bin").write_bytes(os.urandom(8 * 1024 * 1024))  # a bar for its upload
    return root


def run(collection: Path, layout: Path, tty: bool) -> str:
    command = [
        sys.executable,
        "-X",
        "importtime",
        "-m",
        "featurepub",
        "publish",
        str(collection),
        "--namespace",
        "bench/startup",
        "--layout",
        str(layout),
    ]
    env = {**os.environ, "COLUMNS": "100", "TERM": "xterm-256color"}
    if not tty:
        done = subprocess.run(command, capture_output=True, text=True, env=env, check=True)
        return done.stderr
    master, slave = pty.openpty()
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=slave, env=env)
    os.close(slave)
    chunks = []
    while True:
        try:
            chunk = os.read(master, 65536)
        except OSError:
            break
        if not chunk:
            break
        chunks.append(chunk)
    os.close(master)
    process.wait()
    return b"".join(chunks).decode("utf-8", "replace").replace("\r\n", "\n")


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__.split("\n\n")[0], formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--runs", type=int, default=7)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as scratch:
        large = large_feature(Path(scratch) / "large")
        cases = [
            ("sample-features, stderr piped", ROOT / "sample-features", False),
            ("sample-features, stderr on a terminal", ROOT / "sample-features", True),
            ("an 8 MiB feature, stderr on a terminal (a bar)", large, True),
        ]
        for label, collection, tty in cases:
            results = []
            for _ in range(args.runs):
                with tempfile.TemporaryDirectory() as folder:
                    results.append(import_micros(run(collection, Path(folder) / "layout", tty)))
            best = min(micros for micros, _ in results)
            rich = any(imported for _, imported in results)
            print(f"publish {label}: imports {best / 1000:.0f} ms (best of {args.runs}); rich imported: {rich}")


if __name__ == "__main__":
    main()
