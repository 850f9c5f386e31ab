"""What the bench publishes and how: generated collections, the scenarios made of them, the two tools'
command lines, and the featurepub under test (a normal install of this checkout in bench/.venv)."""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from bench.floor import FRESH, NO_CHANGE, ONE_CHANGED

ROOT = Path(__file__).resolve().parent.parent
VENV = ROOT / "bench" / ".venv"
STAMP = VENV / "featurepub-bench.json"
TOOLS = ("reference", "featurepub")
BASELINE = "baseline"  # featurepub as of an earlier commit, run alongside at 0 ms
BASELINE_REF = "bce6372"  # main before issue 13's pipelining: what "no slower than today" compares with
MiB = 1024 * 1024


@dataclass(frozen=True)
class Scenario:
    """One publish the bench times: the `step`-th publish of a plan's state sequence."""

    key: str  # as --scenarios names it
    title: str  # as the table shows it
    kind: str  # floor.FRESH, NO_CHANGE or ONE_CHANGED
    change: Callable[[Path], None] | None = None  # applied to the source tree before this publish


@dataclass(frozen=True)
class Plan:
    """A state sequence: a generated collection and the publishes made of it, in order."""

    key: str
    features: int
    steps: tuple[Scenario, ...]
    payload: int = 0  # bytes of random data in each feature
    repeats: int | None = None  # None: --repeats


def write_feature(src: Path, index: int, version: str = "1.0.0", payload: int = 0) -> None:
    feature_id = f"feature-{index:03d}"
    folder = src / feature_id
    folder.mkdir(parents=True, exist_ok=True)
    metadata = {
        "id": feature_id,
        "version": version,
        "name": f"Feature {index}",
        "description": "Generated for the benchmark.",
        "options": {
            "enabled": {"type": "boolean", "default": True, "description": "Turn it on."},
            "flavour": {"type": "string", "enum": ["a", "b"], "default": "a", "description": "Pick one."},
        },
    }
    (folder / "devcontainer-feature.json").write_text(json.dumps(metadata, indent=4))
    install = folder / "install.sh"
    install.write_text(f"#!/usr/bin/env bash\nset -e\necho 'installing {feature_id} {version}'\n" * 20)
    install.chmod(0o755)
    if payload:
        write_payload(folder / "payload.bin", payload)


def write_payload(path: Path, size: int) -> None:
    with path.open("wb") as handle:
        for _ in range(size // MiB):
            handle.write(os.urandom(MiB))


def collection(root: Path, count: int, payload: int = 0) -> Path:
    src = root / "src"
    for index in range(count):
        write_feature(src, index, payload=payload)
    return src


def bump_feature_7(src: Path) -> None:
    write_feature(src, 7, version="1.0.1")


PLANS = (
    Plan("1", 1, (Scenario("fresh1", "fresh 1", FRESH),)),
    Plan(
        "20",
        20,
        (
            Scenario("fresh20", "fresh 20", FRESH),
            Scenario("nochange20", "no change 20", NO_CHANGE),
            Scenario("onechanged20", "one changed 20", ONE_CHANGED, bump_feature_7),
        ),
    ),
    Plan(
        "100",
        100,
        (Scenario("fresh100", "fresh 100", FRESH), Scenario("nochange100", "no change 100", NO_CHANGE)),
    ),
    Plan("big", 1, (Scenario("big500", "one 500 MiB", FRESH),), payload=500 * MiB, repeats=1),
)
SCENARIOS = {scenario.key: scenario for plan in PLANS for scenario in plan.steps}
QUICK_SKIPS = ("fresh100", "nochange100", "big500")


def plan_of(key: str) -> Plan:
    return next(plan for plan in PLANS if any(step.key == key for step in plan.steps))


# --- the featurepub under test --------------------------------------------------------------------


def source_digest() -> dict[str, str]:
    """What the bench venv was installed from: the package's files, the project file, the interpreter."""
    package = hashlib.sha256()
    for path in sorted((ROOT / "featurepub").rglob("*")):
        if path.is_file() and "__pycache__" not in path.parts and path.suffix != ".pyc":
            package.update(path.relative_to(ROOT).as_posix().encode() + b"\0" + path.read_bytes() + b"\0")
    return {
        "package": package.hexdigest(),
        "pyproject": hashlib.sha256((ROOT / "pyproject.toml").read_bytes()).hexdigest(),
        "python": f"{sys.version} {sys.base_prefix}",
    }


def _pip(*args: str) -> None:
    command = [str(VENV / "bin" / "python"), "-m", "pip", "install", "-q", *args, str(ROOT)]
    done = subprocess.run(command, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        sys.stderr.write(done.stdout + done.stderr)
        raise SystemExit(f"bench: {' '.join(command)} failed ({done.returncode})")


def installed_featurepub() -> Path:
    """bench/.venv/bin/featurepub, (re)installed from this checkout when it is missing or out of date."""
    exe = VENV / "bin" / "featurepub"
    wanted = source_digest()
    try:
        have = json.loads(STAMP.read_text())
    except (OSError, ValueError):
        have = {}
    if have == wanted and exe.exists():
        return exe
    started = time.perf_counter()
    if have.get("python") != wanted["python"] or not (VENV / "bin" / "python").exists():
        shutil.rmtree(VENV, ignore_errors=True)
        subprocess.run([sys.executable, "-m", "venv", str(VENV)], check=True)
        _pip()  # featurepub and its dependencies; pip compiles the bytecode at install time
    else:
        STAMP.unlink(missing_ok=True)
        if have.get("pyproject") != wanted["pyproject"]:
            _pip()  # new or changed dependencies
        _pip("--force-reinstall", "--no-deps")  # the package itself, whatever its version says
    compiled = list(VENV.glob("lib/python*/site-packages/featurepub/__pycache__/*.pyc"))
    if not exe.exists() or not compiled:
        raise SystemExit(f"bench: {VENV} has no featurepub executable or no compiled bytecode")
    STAMP.write_text(json.dumps(wanted, indent=2))
    print(f"bench: installed featurepub into {VENV} ({time.perf_counter() - started:.1f}s)", file=sys.stderr)
    return exe


def baseline_featurepub(ref: str) -> Path:
    """featurepub as of commit `ref`, installed (once per commit) like the one under test, in
    bench/.venv/baseline-<commit>."""
    done = subprocess.run(
        ["git", "-C", str(ROOT), "rev-parse", "--short", f"{ref}^{{commit}}"],
        capture_output=True,
        text=True,
        check=False,
    )
    if done.returncode != 0:
        raise SystemExit(f"bench: --baseline {ref}: not a commit of this repository")
    venv = VENV / f"baseline-{done.stdout.strip()}"
    exe = venv / "bin" / "featurepub"
    if exe.exists():
        return exe
    started = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="featurepub-baseline-") as temp:
        archive = subprocess.run(
            ["git", "-C", str(ROOT), "archive", "--format=tar", ref, "featurepub", "pyproject.toml", "README.md"],
            capture_output=True,
            check=True,
        )
        subprocess.run(["tar", "-x", "-C", temp], input=archive.stdout, check=True)
        shutil.rmtree(venv, ignore_errors=True)
        subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
        command = [str(venv / "bin" / "python"), "-m", "pip", "install", "-q", temp]
        installed = subprocess.run(command, capture_output=True, text=True, check=False)
        if installed.returncode != 0:
            shutil.rmtree(venv, ignore_errors=True)
            sys.stderr.write(installed.stdout + installed.stderr)
            raise SystemExit(f"bench: installing featurepub {ref} failed ({installed.returncode})")
    print(f"bench: installed featurepub {ref} into {venv} ({time.perf_counter() - started:.1f}s)", file=sys.stderr)
    return exe


def featurepub_under_test(exe: str | None) -> Path:
    """`exe` from PATH when given, else the bench venv's install of this checkout."""
    if exe is None:
        return installed_featurepub()
    found = shutil.which(exe)
    if found is None:
        raise SystemExit(f"bench: --featurepub-exe {exe}: not an executable file")
    return Path(found).absolute()


# --- running -------------------------------------------------------------------------------------------


def command(tool: str, featurepub: Path, src: Path, host: str, namespace: str, verbose: bool = False) -> list[str]:
    """The publish command line of `tool`; `featurepub` is the executable of featurepub (or of the baseline)."""
    if tool in ("featurepub", BASELINE):
        return [str(featurepub), "publish", str(src), "-r", host, "-n", namespace, "-v" if verbose else "-q"]
    return ["devcontainer", "features", "publish", str(src), "-r", host, "-n", namespace]


@dataclass(frozen=True)
class Sample:
    """One publish: wall and CPU seconds (user + system), peak RSS of the tool's process."""

    wall: float
    cpu: float
    peak_rss_mib: float
    exit_code: int
    started: float  # time.monotonic() when it was launched
    ended: float


def launch(argv: list[str], log: Path | None = None) -> Sample:
    """Runs `argv` to the end; its output goes to `log` (appended) or nowhere."""
    sink = log.open("ab") if log is not None else None
    try:
        started = time.monotonic()
        out = sink if sink is not None else subprocess.DEVNULL
        process = subprocess.Popen(argv, stdout=out, stderr=out)
        _, status, usage = os.wait4(process.pid, 0)
        ended = time.monotonic()
    finally:
        if sink is not None:
            sink.close()
    process.returncode = os.waitstatus_to_exitcode(status)
    return Sample(
        ended - started,
        usage.ru_utime + usage.ru_stime,
        usage.ru_maxrss / 1024,
        process.returncode,
        started,
        ended,
    )
