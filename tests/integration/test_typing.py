"""A user's type checker sees featurepub's types: `mypy --strict` against the installed wheel (not this
source tree) passes on examples/release.py and reports a script that calls the API wrongly.

The wheel is built with hatchling (the project's build backend) and installed without its
dependencies into a fresh virtual environment; a .pth line lends it this environment's packages
(httpx, typer, ...) for mypy to read. mypy runs from a folder holding only the scripts, with no
MYPYPATH and no config, and `--python-executable` naming the fresh environment, so the only
featurepub it can find is the installed one, which it reads only because of its py.typed.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import sysconfig
import venv
import zipfile
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.conftest import ROOT

# Each line is a mistake mypy must report, with the error code it reports it under.
MISUSE = """\
import featurepub

featurepub.publish(42, namespace="my-org/features")  # arg-type
featurepub.publish("./src")  # call-arg
featurepub.validate("./src").okay  # attr-defined
featurepub.publsh("./src", namespace="my-org/features")  # attr-defined


def code(error: featurepub.FeaturepubError) -> str:
    return error.exit_code  # return-value


def first_tag(report: featurepub.PublishReport) -> int:
    return report.features[0].primary.tags_with(featurepub.Status.PUBLISHED)  # return-value
"""


@dataclass(frozen=True)
class Installed:
    python: Path  # of a fresh virtual environment holding featurepub installed from its wheel
    package: Path  # the installed featurepub folder


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory) -> Installed:
    root = tmp_path_factory.mktemp("typing")
    build = f"from hatchling.build import build_wheel; print(build_wheel({str(root / 'dist')!r}))"
    wheel = root / "dist" / run([sys.executable, "-c", build], cwd=ROOT).strip().splitlines()[-1]
    assert "featurepub/py.typed" in zipfile.ZipFile(wheel).namelist()
    venv.create(root / "venv", with_pip=False)
    python = root / "venv" / "bin" / "python"
    pip = [sys.executable, "-m", "pip", "--python", str(python)]
    run([*pip, "install", "--quiet", "--no-deps", "--no-index", str(wheel)])
    site = Path(run([str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"]).strip())
    (site / "test-dependencies.pth").write_text(sysconfig.get_paths()["purelib"] + "\n", encoding="utf-8")
    where = run([str(python), "-c", "import featurepub; print(featurepub.__file__)"], cwd=root).strip()
    assert Path(where) == site / "featurepub" / "__init__.py"  # the wheel's copy, not the source tree
    return Installed(python, site / "featurepub")


def run(command: list[str], cwd: Path | None = None) -> str:
    done = subprocess.run(command, capture_output=True, text=True, cwd=cwd, env=clean_env(), check=False)
    assert done.returncode == 0, done.stdout + done.stderr
    return done.stdout


def clean_env() -> dict[str, str]:
    return {k: v for k, v in os.environ.items() if k not in ("MYPYPATH", "PYTHONPATH", "PYTHONHOME")}


def mypy(python: Path, folder: Path, *files: str) -> tuple[int, list[str]]:
    """`mypy --strict` on `files` in `folder`, against `python`'s packages; its exit code and lines."""
    config = folder / "mypy.ini"
    config.write_text("[mypy]\n", encoding="utf-8")  # no project config reaches this run
    command = [sys.executable, "-m", "mypy", "--strict", "--config-file", str(config)]
    command += ["--cache-dir", str(folder.parent / "mypy-cache"), "--python-executable", str(python), *files]
    done = subprocess.run(command, capture_output=True, text=True, cwd=folder, env=clean_env(), check=False)
    return done.returncode, done.stdout.splitlines()


def test_strict_mypy_accepts_the_example_and_reports_misuse(installed: Installed, tmp_path: Path) -> None:
    folder = tmp_path / "scripts"
    folder.mkdir()
    shutil.copy(ROOT / "examples" / "release.py", folder / "release.py")
    (folder / "misuse.py").write_text(MISUSE, encoding="utf-8")
    code, lines = mypy(installed.python, folder, "release.py", "misuse.py")
    errors = [line for line in lines if ": error: " in line]
    assert not [line for line in errors if line.startswith("release.py")], lines
    expected = [
        (number, text.rsplit("# ", 1)[1])
        for number, text in enumerate(MISUSE.splitlines(), start=1)
        if "  # " in text
    ]
    mine = [line for line in errors if line.startswith("misuse.py")]
    reported = sorted((int(line.split(":")[1]), line.rsplit("[", 1)[1].rstrip("]")) for line in mine)
    assert reported == expected, lines
    assert code == 1


def test_without_py_typed_mypy_would_not_read_the_package(installed: Installed, tmp_path: Path) -> None:
    # The control: the run above checked the installed copy, and only because it ships py.typed.
    marker = installed.package / "py.typed"
    folder = tmp_path / "scripts"
    folder.mkdir()
    shutil.copy(ROOT / "examples" / "release.py", folder / "release.py")
    marker.unlink()
    try:
        code, lines = mypy(installed.python, folder, "release.py")
    finally:
        marker.touch()
    assert code == 1
    assert any("missing library stubs or py.typed marker" in line for line in lines), lines
