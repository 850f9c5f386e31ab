"""The reference CLI's flags that workflows pass: --log-level, the target defaulting to the current folder,
`package -o ./output` and `-f/--force-clean-output-folder`."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import copy_samples
from tests.support.publishing import CliRun
from tests.support.registry import RegistryServer


def run_in(cwd: Path, *args: str | Path) -> CliRun:
    done = subprocess.run(
        [sys.executable, "-m", "featurepub", *map(str, args)],
        cwd=cwd,
        capture_output=True,
        text=True,
        env=os.environ.copy(),
        timeout=300,
        check=False,
    )
    return CliRun(done.returncode, done.stdout, done.stderr)


@pytest.fixture
def samples(tmp_path: Path, registry: RegistryServer, namespace: str) -> Path:
    return copy_samples(tmp_path / "samples", f"{registry.host}/{namespace}")


def test_log_levels(samples: Path, registry: RegistryServer, namespace: str) -> None:
    src = samples / "src"
    info = run_in(src, "publish", "-r", registry.host, "-n", f"{namespace}/a", "--log-level", "info")
    debug = run_in(src, "publish", "-r", registry.host, "-n", f"{namespace}/b", "--log-level", "debug")
    trace = run_in(src, "publish", "-r", registry.host, "-n", f"{namespace}/c", "--log-level", "trace")
    assert info.code == debug.code == trace.code == 0, info.stderr + debug.stderr + trace.stderr
    request = f"PUT http://{registry.host}/v2/"
    assert "uploading sha256:" not in info.stderr and request not in info.stderr
    assert "uploading sha256:" in debug.stderr and request not in debug.stderr
    assert "uploading sha256:" in trace.stderr and request in trace.stderr
    assert f"{registry.host}: no credentials found, anonymous" in trace.stderr
    # stdout is the same at every level: the reference CLI's one line.
    assert {len(r.stdout.splitlines()) for r in (info, debug, trace)} == {1}
    bad = run_in(src, "publish", "-r", registry.host, "-n", namespace, "--log-level", "loud")
    assert bad.code == 2
    assert "loud" in bad.stderr


def test_the_target_is_the_current_folder(samples: Path) -> None:
    for command in ("validate", "docs"):
        done = run_in(samples / "src" / "hello-cli", command, *(["-n", "my/ns"] if command == "docs" else []))
        assert done.code == 0, done.stderr
    package = run_in(samples, "package")
    assert package.code == 0, package.stderr
    assert sorted(p.name for p in (samples / "output").iterdir()) == [
        "devcontainer-collection.json",
        *(f"devcontainer-feature-{i}.tgz" for i in sorted(p.name for p in (samples / "src").iterdir())),
    ]


def test_package_force_clean(samples: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    (out / "stale" / "deep").mkdir(parents=True)
    (out / "old.tgz").write_bytes(b"x")
    kept = run_in(tmp_path, "package", samples, "-o", out)
    assert kept.code == 0, kept.stderr
    assert (out / "old.tgz").exists()  # without -f, other files stay
    cleaned = run_in(tmp_path, "package", samples / "src", "-o", out, "-f")
    assert cleaned.code == 0, cleaned.stderr
    assert not (out / "old.tgz").exists() and not (out / "stale").exists()
    assert (out / "devcontainer-feature-hello-cli.tgz").is_file()
    # Cleaning the source, or a folder that holds it, is refused before anything is deleted.
    for folder in (samples, samples / "src", tmp_path):
        refused = run_in(tmp_path, "package", samples / "src", "-o", folder, "--force-clean-output-folder")
        assert refused.code == 2, refused.stderr
        assert "refusing to clean" in refused.stderr
        assert (samples / "src" / "hello-cli" / "install.sh").is_file()
    inside = run_in(tmp_path, "package", samples / "src", "-o", samples / "src" / "hello-cli" / "output")
    assert inside.code == 2
    assert "inside the feature folder" in inside.stderr
