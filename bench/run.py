"""Benchmark featurepub against the reference Dev Containers CLI, side by side, on loopback.

    python bench/run.py                # everything (about two minutes)
    python bench/run.py --quick        # skip the 100-feature and 500 MiB scenarios

Starts a real registry (docker-registry) on 127.0.0.1 behind a counting proxy, generates
collections, and runs each tool as a user would (a fresh process per publish). Prints a
table, the featurepub/reference ratios and each target with whether it is met; writes
bench/results/results.json and bench/results/time-vs-features.png.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import asdict, dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.counting_proxy import CountingProxy  # noqa: E402
from tests.support.registry import RegistryServer  # noqa: E402

RESULTS = ROOT / "bench" / "results"
MiB = 1024 * 1024


@dataclass
class Measure:
    scenario: str
    tool: str
    features: int
    wall: float
    cpu: float
    peak_rss_mib: float
    requests: int
    bytes_sent: int
    blob_bytes: int
    exit_code: int


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


def run(scenario: str, tool: str, src: Path, proxy: CountingProxy, namespace: str, features: int) -> Measure:
    if tool == "featurepub":
        command = [
            sys.executable,
            "-m",
            "featurepub",
            "publish",
            str(src),
            "-r",
            proxy.host,
            "-n",
            namespace,
            "-q",
        ]
    else:
        command = ["devcontainer", "features", "publish", str(src), "-r", proxy.host, "-n", namespace]
    proxy.reset()
    started = time.perf_counter()
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    _, status, usage = os.wait4(process.pid, 0)
    wall = time.perf_counter() - started
    process.returncode = os.waitstatus_to_exitcode(status)
    return Measure(
        scenario,
        tool,
        features,
        wall,
        usage.ru_utime + usage.ru_stime,
        usage.ru_maxrss / 1024,
        proxy.requests,
        proxy.body_bytes,
        proxy.blob_bytes,
        process.returncode,
    )


def scenarios(work: Path, proxy: CountingProxy, quick: bool) -> list[Measure]:
    results: list[Measure] = []
    sizes = [1, 20] if quick else [1, 20, 100]
    for tool in ("reference", "featurepub"):
        for count in sizes:
            src = collection(work / f"{tool}-{count}", count)
            namespace = f"bench/{tool}-{count}"
            results.append(run(f"fresh {count}", tool, src, proxy, namespace, count))
            if count == 20:
                results.append(run("no change 20", tool, src, proxy, namespace, count))
                write_feature(src, 7, version="1.0.1")
                results.append(run("one changed 20", tool, src, proxy, namespace, count))
        if not quick:
            src = collection(work / f"{tool}-big", 1, payload=500 * MiB)
            results.append(run("one 500 MiB", tool, src, proxy, f"bench/{tool}-big", 1))
            shutil.rmtree(work / f"{tool}-big")
    return results


def help_time() -> float:
    best = float("inf")
    for _ in range(5):
        started = time.perf_counter()
        subprocess.run([sys.executable, "-m", "featurepub", "--help"], capture_output=True, check=True)
        best = min(best, time.perf_counter() - started)
    return best


def table(results: list[Measure]) -> str:
    lines = [
        f"{'scenario':<16} {'tool':<11} {'wall s':>7} {'cpu s':>6} {'RSS MiB':>8} {'requests':>8} "
        f"{'req/feat':>8} {'sent MiB':>9} {'exit':>4}"
    ]
    for m in results:
        lines.append(
            f"{m.scenario:<16} {m.tool:<11} {m.wall:7.2f} {m.cpu:6.2f} {m.peak_rss_mib:8.1f} {m.requests:8d} "
            f"{m.requests / m.features:8.1f} {m.bytes_sent / MiB:9.2f} {m.exit_code:4d}"
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


def targets(results: list[Measure], help_seconds: float) -> list[tuple[str, bool, str]]:
    by = {(m.scenario, m.tool): m for m in results}
    checks: list[tuple[str, bool, str]] = []
    ours, theirs = by[("fresh 20", "featurepub")], by[("fresh 20", "reference")]
    checks.append(
        (
            "fresh 20: wall <= 1/3 of reference",
            ours.wall <= theirs.wall / 3,
            f"{ours.wall:.2f}s vs {theirs.wall:.2f}s",
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
    checks.append(("featurepub --help < 0.3 s", help_seconds < 0.3, f"{help_seconds:.3f}s"))
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
    for tool in ("reference", "featurepub"):
        points = sorted((m.features, m.wall) for m in results if m.tool == tool and m.scenario.startswith("fresh"))
        axis.plot([p[0] for p in points], [p[1] for p in points], marker="o", label=tool)
    axis.set_xlabel("features in the collection (fresh publish)")
    axis.set_ylabel("wall time (s)")
    axis.set_title("Publishing to a loopback registry")
    axis.grid(True, alpha=0.3)
    axis.legend()
    figure.tight_layout()
    figure.savefig(out, dpi=120)
    return True


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="skip the 100-feature and 500 MiB scenarios")
    args = parser.parse_args()
    RESULTS.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="featurepub-bench-") as temp:
        work = Path(temp)
        registry = RegistryServer(work / "registry")
        (work / "registry").mkdir()
        registry.start()
        proxy = CountingProxy(registry.port)
        try:
            results = scenarios(work, proxy, args.quick)
        finally:
            proxy.stop()
            registry.stop()
    help_seconds = help_time()
    print(table(results))
    print("\nfeaturepub / reference:")
    print("\n".join(ratios(results)))
    print("\ntargets:")
    checks = targets(results, help_seconds)
    for name, met, detail in checks:
        print(f"  [{'met' if met else 'MISSED'}] {name}: {detail}")
    (RESULTS / "results.json").write_text(
        json.dumps({"results": [asdict(m) for m in results], "help_seconds": help_seconds}, indent=2)
    )
    if plot(results, RESULTS / "time-vs-features.png"):
        print(f"\nplot: {RESULTS / 'time-vs-features.png'}")
    return 0 if all(met for _, met, _ in checks) else 1


if __name__ == "__main__":
    raise SystemExit(main())
