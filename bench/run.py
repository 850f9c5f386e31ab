"""Benchmark featurepub against the reference Dev Containers CLI, side by side, on loopback.

    python bench/run.py                # everything (a few minutes)
    python bench/run.py --quick        # skip the 100-feature and 500 MiB scenarios
    python bench/run.py --repeats 5    # more timed repeats per scenario (default 3)

Starts a real registry (docker-registry) on 127.0.0.1, generates collections, and runs each
tool as a user would: a fresh process per publish. featurepub is measured as users install it:
a dedicated venv, bench/.venv, holds a normal (non-editable) `pip install` of this checkout, with
bytecode compiled at install time and without the dev venv's test extras; it is reinstalled
whenever featurepub/ or pyproject.toml changes. `--featurepub-exe PATH` measures another
executable instead. The reference CLI is `devcontainer` from PATH.

Methodology. Each scenario group is a state sequence on a fresh source tree and a fresh
namespace: a collection of N features published once (fresh N); for 20 features, then published
again unchanged (no change 20) and again after one feature's version is bumped (one changed 20).

  * Timing: wall time, CPU time (user + system of the publishing process and its children) and
    peak RSS come from runs that talk directly to the registry. Each sequence is run --repeats
    times, every repeat on its own source tree and namespace, alternating which tool goes first;
    the table reports the median wall, the median CPU and the largest peak RSS. The 500 MiB
    scenario is timed once (it is slow); the table's `runs` column says how many samples a row has.
  * Counting: requests, request-body bytes and blob-upload bytes come from one more, otherwise
    identical run of each sequence through a counting proxy (bench/counting_proxy.py), on its own
    source tree and namespace. The proxy is a threaded Python process on the same machine and
    would distort the timings, so it is never in the path of a timed run.

  * Floors (bench/floor.py): the interpreter importing featurepub's dependencies, and a bare
    http.client replay of the requests a fresh 20 needs at the least; no publisher written in
    Python with these dependencies can beat their sum here.

Prints a table, the featurepub/reference ratios, the floors and each target with whether it is met;
writes bench/results/results.json and bench/results/time-vs-features.png.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.counting_proxy import CountingProxy  # noqa: E402
from bench.floor import best_registry_floor, start_floor  # noqa: E402
from tests.support.registry import RegistryServer  # noqa: E402

RESULTS = ROOT / "bench" / "results"
VENV = ROOT / "bench" / ".venv"
STAMP = VENV / "featurepub-bench.json"
TOOLS = ("reference", "featurepub")
MiB = 1024 * 1024


@dataclass
class Sample:
    """One timed publish, straight to the registry."""

    wall: float
    cpu: float
    peak_rss_mib: float
    exit_code: int


@dataclass
class Counts:
    """One counted publish, through the counting proxy."""

    requests: int
    bytes_sent: int
    blob_bytes: int
    exit_code: int


@dataclass
class Measure:
    scenario: str
    tool: str
    features: int
    wall: float  # median of the timed runs
    cpu: float  # median of the timed runs
    peak_rss_mib: float  # largest of the timed runs
    requests: int  # from the counted run
    bytes_sent: int
    blob_bytes: int
    exit_code: int  # the first non-zero exit code of any run (timed or counted), else 0
    runs: int = 0  # timed samples
    wall_samples: list[float] = field(default_factory=list)
    cpu_samples: list[float] = field(default_factory=list)


@dataclass(frozen=True)
class Step:
    scenario: str
    change: Callable[[Path], None] | None = None  # applied to the source tree before this publish


@dataclass(frozen=True)
class Plan:
    """A state sequence: a generated collection and the publishes made of it, in order."""

    key: str
    features: int
    steps: tuple[Step, ...]
    payload: int = 0
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
        with (folder / "payload.bin").open("wb") as handle:
            for _ in range(payload // MiB):
                handle.write(os.urandom(MiB))


def collection(root: Path, count: int, payload: int = 0) -> Path:
    src = root / "src"
    for index in range(count):
        write_feature(src, index, payload=payload)
    return src


def bump_feature_7(src: Path) -> None:
    write_feature(src, 7, version="1.0.1")


def plans(quick: bool) -> list[Plan]:
    result = [
        Plan("1", 1, (Step("fresh 1"),)),
        Plan("20", 20, (Step("fresh 20"), Step("no change 20"), Step("one changed 20", bump_feature_7))),
    ]
    if not quick:
        result.append(Plan("100", 100, (Step("fresh 100"),)))
        result.append(Plan("big", 1, (Step("one 500 MiB"),), payload=500 * MiB, repeats=1))
    return result


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


def pip(*args: str) -> None:
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
        pip()  # featurepub and its dependencies; pip compiles the bytecode at install time
    else:
        STAMP.unlink(missing_ok=True)
        if have.get("pyproject") != wanted["pyproject"]:
            pip()  # new or changed dependencies
        pip("--force-reinstall", "--no-deps")  # the package itself, whatever its version says
    compiled = list(VENV.glob("lib/python*/site-packages/featurepub/__pycache__/*.pyc"))
    if not exe.exists() or not compiled:
        raise SystemExit(f"bench: {VENV} has no featurepub executable or no compiled bytecode")
    STAMP.write_text(json.dumps(wanted, indent=2))
    print(f"bench: installed featurepub into {VENV} ({time.perf_counter() - started:.1f}s)", file=sys.stderr)
    return exe


# --- running -------------------------------------------------------------------------------------------


def command(tool: str, featurepub: Path, src: Path, host: str, namespace: str) -> list[str]:
    if tool == "featurepub":
        return [str(featurepub), "publish", str(src), "-r", host, "-n", namespace, "-q"]
    return ["devcontainer", "features", "publish", str(src), "-r", host, "-n", namespace]


def launch(argv: list[str]) -> Sample:
    started = time.perf_counter()
    process = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    _, status, usage = os.wait4(process.pid, 0)
    wall = time.perf_counter() - started
    process.returncode = os.waitstatus_to_exitcode(status)
    return Sample(wall, usage.ru_utime + usage.ru_stime, usage.ru_maxrss / 1024, process.returncode)


def run_plan(
    plan: Plan, tool: str, featurepub: Path, root: Path, host: str, namespace: str, proxy: CountingProxy | None
) -> list[tuple[str, Sample, Counts | None]]:
    """Runs the plan's state sequence on a freshly generated source tree; with `proxy`, counts each publish."""
    src = collection(root, plan.features, plan.payload)
    out: list[tuple[str, Sample, Counts | None]] = []
    try:
        for step in plan.steps:
            if step.change is not None:
                step.change(src)
            if proxy is not None:
                proxy.reset()
            sample = launch(command(tool, featurepub, src, host, namespace))
            counts = None
            if proxy is not None:
                counts = Counts(proxy.requests, proxy.body_bytes, proxy.blob_bytes, sample.exit_code)
            out.append((step.scenario, sample, counts))
    finally:
        shutil.rmtree(root, ignore_errors=True)
    return out


def scenarios(
    work: Path, registry: RegistryServer, proxy: CountingProxy, featurepub: Path, quick: bool, repeats: int
) -> list[Measure]:
    timed: dict[tuple[str, str], list[Sample]] = {}
    counted: dict[tuple[str, str], Counts] = {}
    features: dict[str, int] = {}
    for plan in plans(quick):
        runs = plan.repeats or repeats
        for repeat in range(runs):
            print(f"bench: {plan.key} feature(s), timed run {repeat + 1}/{runs}", file=sys.stderr)
            for tool in TOOLS if repeat % 2 == 0 else TOOLS[::-1]:
                name = f"{tool}-{plan.key}-t{repeat}"
                for scenario, sample, _ in run_plan(
                    plan, tool, featurepub, work / name, registry.host, f"bench/{name}", None
                ):
                    timed.setdefault((scenario, tool), []).append(sample)
                    features[scenario] = plan.features
        print(f"bench: {plan.key} feature(s), counted run", file=sys.stderr)
        for tool in TOOLS:
            name = f"{tool}-{plan.key}-counted"
            for scenario, _, counts in run_plan(
                plan, tool, featurepub, work / name, proxy.host, f"bench/{name}", proxy
            ):
                assert counts is not None
                counted[(scenario, tool)] = counts
    results: list[Measure] = []
    for tool in TOOLS:
        for scenario, count in features.items():
            samples, counts = timed[(scenario, tool)], counted[(scenario, tool)]
            codes = [s.exit_code for s in samples] + [counts.exit_code]
            results.append(
                Measure(
                    scenario,
                    tool,
                    count,
                    statistics.median(s.wall for s in samples),
                    statistics.median(s.cpu for s in samples),
                    max(s.peak_rss_mib for s in samples),
                    counts.requests,
                    counts.bytes_sent,
                    counts.blob_bytes,
                    next((code for code in codes if code != 0), 0),
                    len(samples),
                    [s.wall for s in samples],
                    [s.cpu for s in samples],
                )
            )
    return results


def help_time(featurepub: Path) -> float:
    best = float("inf")
    for _ in range(5):
        started = time.perf_counter()
        subprocess.run([str(featurepub), "--help"], capture_output=True, check=True)
        best = min(best, time.perf_counter() - started)
    return best


# --- reporting -----------------------------------------------------------------------------------------


def table(results: list[Measure]) -> str:
    lines = [
        f"{'scenario':<16} {'tool':<11} {'runs':>4} {'wall s':>7} {'wall range':>11} {'cpu s':>6} "
        f"{'RSS MiB':>8} {'requests':>8} {'req/feat':>8} {'sent MiB':>9} {'exit':>4}"
    ]
    for m in results:
        spread = f"{min(m.wall_samples):.2f}-{max(m.wall_samples):.2f}"
        lines.append(
            f"{m.scenario:<16} {m.tool:<11} {m.runs:4d} {m.wall:7.2f} {spread:>11} {m.cpu:6.2f} "
            f"{m.peak_rss_mib:8.1f} {m.requests:8d} {m.requests / m.features:8.1f} {m.bytes_sent / MiB:9.2f} "
            f"{m.exit_code:4d}"
        )
    return "\n".join(lines)


def ratios(results: list[Measure]) -> list[str]:
    by = {(m.scenario, m.tool): m for m in results}
    lines = []
    for scenario in dict.fromkeys(m.scenario for m in results):
        ours, theirs = by.get((scenario, "featurepub")), by.get((scenario, "reference"))
        if ours and theirs:
            cpu = ours.cpu / max(theirs.cpu, 1e-9)
            lines.append(
                f"{scenario:<16} wall {ours.wall / theirs.wall:5.2f}x  cpu {cpu:5.2f}x  "
                f"rss {ours.peak_rss_mib / theirs.peak_rss_mib:5.2f}x  requests {ours.requests}/{theirs.requests}"
            )
    return lines


@dataclass
class Floors:
    """What no Python client with featurepub's dependencies can beat here (see bench/floor.py)."""

    start: float
    registry: float
    registry_requests: int
    registry_concurrency: int

    @property
    def total(self) -> float:
        return self.start + self.registry


def floor_lines(floors: Floors, results: list[Measure]) -> list[str]:
    by = {(m.scenario, m.tool): m for m in results}
    ours, theirs = by[("fresh 20", "featurepub")], by[("fresh 20", "reference")]
    return [
        f"  start: the interpreter importing typer, httpx and httpcore: {floors.start:.2f}s (best of 5)",
        f"  registry: the {floors.registry_requests} requests a fresh 20 needs, replayed with http.client "
        f"{floors.registry_concurrency} at a time: {floors.registry:.2f}s (median)",
        f"  fresh 20 cannot take less than {floors.total:.2f}s = {floors.total / theirs.wall:.2f}x the "
        f"reference's {theirs.wall:.2f}s; featurepub takes {ours.wall:.2f}s, "
        f"{ours.wall - floors.total:+.2f}s over the floor",
    ]


def targets(results: list[Measure], help_seconds: float, floors: Floors) -> list[tuple[str, bool, str]]:
    by = {(m.scenario, m.tool): m for m in results}
    checks: list[tuple[str, bool, str]] = []
    ours, theirs = by[("fresh 20", "featurepub")], by[("fresh 20", "reference")]
    checks.append(
        (
            "fresh 20: wall <= 1/3 of reference",
            ours.wall <= theirs.wall / 3,
            f"{ours.wall:.2f}s vs {theirs.wall:.2f}s (medians; the floor is {floors.total:.2f}s)",
        )
    )
    checks.append(("fresh 20: <= 8 requests per feature", ours.requests <= 8 * 20, f"{ours.requests / 20:.2f}"))
    same = by[("no change 20", "featurepub")]
    checks.append(("no change 20: zero blob bytes", same.blob_bytes == 0, f"{same.blob_bytes} B"))
    checks.append(
        ("no change 20: <= 1 request per feature + 5", same.requests <= 20 + 5, f"{same.requests} requests")
    )
    if ("one 500 MiB", "featurepub") in by:
        big = by[("one 500 MiB", "featurepub")]
        checks.append(("500 MiB: peak RSS < 100 MiB", big.peak_rss_mib < 100, f"{big.peak_rss_mib:.1f} MiB"))
    checks.append(("featurepub --help < 0.3 s", help_seconds < 0.3, f"{help_seconds:.3f}s (best of 5)"))
    checks.append(("every run exited 0", all(m.exit_code == 0 for m in results), ""))
    return checks


def plot(results: list[Measure], out: Path) -> bool:
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        return False
    figure, axis = plt.subplots(figsize=(6, 4))
    for tool in TOOLS:
        points = sorted(
            (m.features, m.wall, min(m.wall_samples), max(m.wall_samples))
            for m in results
            if m.tool == tool and m.scenario.startswith("fresh")
        )
        xs, ys = [p[0] for p in points], [p[1] for p in points]
        below, above = [p[1] - p[2] for p in points], [p[3] - p[1] for p in points]
        axis.errorbar(xs, ys, yerr=[below, above], marker="o", capsize=3, label=tool)
    axis.set_xlabel("features in the collection (fresh publish)")
    axis.set_ylabel("wall time (s): median, min-max")
    axis.set_title("Publishing to a loopback registry")
    axis.grid(True, alpha=0.3)
    axis.legend()
    figure.tight_layout()
    figure.savefig(out, dpi=120)
    return True


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="skip the 100-feature and 500 MiB scenarios")
    parser.add_argument(
        "--repeats", type=int, default=3, help="timed runs per scenario (default 3; the 500 MiB one: 1)"
    )
    parser.add_argument(
        "--featurepub-exe",
        metavar="PATH",
        help="measure this featurepub executable instead of installing the checkout into bench/.venv",
    )
    args = parser.parse_args()
    if args.repeats < 1:
        parser.error("--repeats must be at least 1")
    if args.featurepub_exe is not None:
        found = shutil.which(args.featurepub_exe)
        if found is None:
            parser.error(f"--featurepub-exe {args.featurepub_exe}: not an executable file")
        featurepub = Path(found).absolute()
    else:
        featurepub = installed_featurepub()
    RESULTS.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="featurepub-bench-") as temp:
        work = Path(temp)
        registry = RegistryServer(work / "registry")
        (work / "registry").mkdir()
        registry.start()
        proxy = CountingProxy(registry.port)
        try:
            results = scenarios(work, registry, proxy, featurepub, args.quick, args.repeats)
            print("bench: floors", file=sys.stderr)
            seconds, requests, concurrency = best_registry_floor(registry.port, "bench/floor", 20, args.repeats)
            python = featurepub.parent / "python"
            start = start_floor(python if python.exists() else Path(sys.executable))
            floors = Floors(start, seconds, requests, concurrency)
        finally:
            proxy.stop()
            registry.stop()
    help_seconds = help_time(featurepub)
    print(f"featurepub: {featurepub}")
    print(
        f"timing: direct to the registry, median wall and cpu of {args.repeats} run(s) per scenario"
        f"{' (one 500 MiB: 1 run)' if not args.quick else ''}, largest peak RSS; "
        "requests and bytes: one separate run through the counting proxy"
    )
    print(table(results))
    print("\nfeaturepub / reference:")
    print("\n".join(ratios(results)))
    print("\nfloors (bench/floor.py):")
    print("\n".join(floor_lines(floors, results)))
    print("\ntargets:")
    checks = targets(results, help_seconds, floors)
    for name, met, detail in checks:
        print(f"  [{'met' if met else 'MISSED'}] {name}: {detail}")
    (RESULTS / "results.json").write_text(
        json.dumps(
            {
                "featurepub": str(featurepub),
                "repeats": args.repeats,
                "results": [asdict(m) for m in results],
                "help_seconds": help_seconds,
                "floors": asdict(floors),
            },
            indent=2,
        )
    )
    if plot(results, RESULTS / "time-vs-features.png"):
        print(f"\nplot: {RESULTS / 'time-vs-features.png'}")
    return 0 if all(met for _, met, _ in checks) else 1


if __name__ == "__main__":
    raise SystemExit(main())
