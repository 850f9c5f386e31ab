"""Stopping a publish: seconds from SIGINT or SIGTERM to exit with a large upload in flight.

    python bench/interrupt.py                   # this checkout
    python bench/interrupt.py --src /work/main  # another checkout's featurepub, for a before/after
    python bench/interrupt.py --repeats 5       # more runs per signal (default 3)

A collection of 20 features, the first with a 256 MiB layer, is published by a fresh
`python -m featurepub publish` process through a proxy that forwards upload bodies at 32 MiB/s
(a slow uplink, so the large upload is still under way), to a real registry on 127.0.0.1. The
signal goes out when the third tag is pushed, the moment issue 11 describes. Per run it prints the
seconds from the signal to the exit, the exit code, whether --report was written and what it says,
the requests the registry answered after the signal, then the re-run (no throttle): its exit code,
seconds and upload bytes. Medians at the end.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import TypedDict

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.counting_proxy import CountingProxy  # noqa: E402
from bench.scenarios import write_feature  # noqa: E402
from tests.support.registry import RegistryServer  # noqa: E402

MiB = 1024 * 1024
THROTTLE = 32 * MiB
TAGS_BEFORE_SIGNAL = 3


def publish(src: Path | None, tree: Path, host: str, namespace: str, report: Path) -> subprocess.Popen[str]:
    env = dict(os.environ, NO_COLOR="1")
    if src is not None:
        env["PYTHONPATH"] = str(src)
    argv = [sys.executable, "-m", "featurepub", "publish", str(tree), "-r", host, "-n", namespace]
    return subprocess.Popen(
        [*argv, "--report", str(report)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
        cwd=src or ROOT,  # `-m` puts the working folder first on sys.path
    )


def wait_for_tags(process: subprocess.Popen[str], count: int, lines: list[str]) -> None:
    """Read stderr (in the background, to the end) until `count` tags were pushed."""
    reached = threading.Event()

    def read() -> None:
        assert process.stderr is not None
        for line in process.stderr:
            lines.append(line)
            if sum("pushed tag" in seen for seen in lines) >= count:
                reached.set()
        reached.set()

    threading.Thread(target=read, daemon=True).start()
    reached.wait()


class RunResult(TypedDict):
    """One interrupted publish and its re-run, as printed (one JSON line per run)."""

    signal: str
    seconds_to_exit: float
    exit_code: int
    report_written: bool
    statuses: dict[str, int]  # features per status in the --report
    answered_after_signal: int
    traceback: bool
    rerun_exit_code: int
    rerun_seconds: float
    rerun_upload_mib: float


def one_run(src: Path | None, tree: Path, proxy: CountingProxy, namespace: str, work: Path, sig: int) -> RunResult:
    report = work / f"{namespace.replace('/', '-')}.json"
    proxy.bytes_per_second = THROTTLE
    process = publish(src, tree, proxy.host, namespace, report)
    lines: list[str] = []
    wait_for_tags(process, TAGS_BEFORE_SIGNAL, lines)
    answered_before = proxy.requests
    sent = time.monotonic()
    process.send_signal(sig)
    code = process.wait(timeout=600)
    stopped = time.monotonic() - sent
    after = proxy.requests - answered_before
    summary = json.loads(report.read_text()) if report.is_file() else None
    statuses: dict[str, int] = {}
    for entry in (summary or {}).get("features", {}).values():
        statuses[entry["status"]] = statuses.get(entry["status"], 0) + 1
    proxy.bytes_per_second = None
    proxy.reset()
    started = time.monotonic()
    rerun = publish(None, tree, proxy.host, namespace, work / "rerun.json")
    assert rerun.stderr is not None
    rerun.stderr.read()
    rerun_code = rerun.wait(timeout=600)
    return {
        "signal": signal.Signals(sig).name,
        "seconds_to_exit": round(stopped, 3),
        "exit_code": code,
        "report_written": summary is not None,
        "statuses": statuses,
        "answered_after_signal": after,
        "traceback": any("Traceback" in line for line in lines),
        "rerun_exit_code": rerun_code,
        "rerun_seconds": round(time.monotonic() - started, 2),
        "rerun_upload_mib": round(proxy.blob_bytes / MiB, 1),
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--src", type=Path, help="a featurepub checkout to run instead of this one")
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="featurepub-bench-interrupt-") as temp:
        work = Path(temp)
        tree = work / "collection" / "src"
        for index in range(20):
            write_feature(tree, index, payload=256 * MiB if index == 0 else 0)
        (work / "registry").mkdir()
        registry = RegistryServer(work / "registry").start()
        proxy = CountingProxy(registry.port)
        results: list[RunResult] = []
        try:
            for sig in (signal.SIGINT, signal.SIGTERM):
                for repeat in range(args.repeats):
                    namespace = f"bench-{signal.Signals(sig).name.lower()}-{repeat}/features"
                    result = one_run(args.src, tree.parent, proxy, namespace, work, sig)
                    print(json.dumps(result), flush=True)
                    results.append(result)
        finally:
            proxy.stop()
            registry.stop()
    for name in ("SIGINT", "SIGTERM"):
        times = [r["seconds_to_exit"] for r in results if r["signal"] == name]
        answered = [r["answered_after_signal"] for r in results if r["signal"] == name]
        print(
            f"{name}: signal to exit median {statistics.median(times):.3f} s (max {max(times):.3f} s); "
            f"requests answered after the signal median {statistics.median(answered)}"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
