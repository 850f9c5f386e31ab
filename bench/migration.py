"""Re-publishing onto a registry the reference CLI filled: what it costs, and the content comparison alone.

    python bench/migration.py                 # samples, a generated 20-feature collection, a 60 MiB layer
    python bench/migration.py --big-mib 200   # the large layer at another size

Starts a real registry (docker-registry) on 127.0.0.1. For each collection the reference CLI
(`devcontainer` from PATH) publishes it, then featurepub (this checkout, a fresh process) publishes the
same folders through a logging proxy: the table gives featurepub's requests by method, the bytes it
uploaded, the bytes of the layers it downloaded to compare, its wall time and peak RSS, and the
statuses it reported. A last row changes one install.sh without a version bump (one feature skipped).

Then the comparison alone, in this process: one feature whose layer is a large random file, published
by the reference; `compare_version` against featurepub's packing of the same folder, timed, with the
peak RSS of this process before and after (the layer is streamed, never held).
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import httpx  # noqa: E402

from bench.layer_sizes import generate  # noqa: E402
from tests.conftest import SAMPLES  # noqa: E402
from tests.support.proxy import RegistryProxy  # noqa: E402
from tests.support.registry import RegistryServer  # noqa: E402

MiB = 1024 * 1024


def reference_publish(src: Path, host: str, namespace: str) -> None:
    done = subprocess.run(
        ["devcontainer", "features", "publish", "-r", host, "-n", namespace, str(src)],
        capture_output=True,
        text=True,
        timeout=1200,
        check=False,
    )
    if done.returncode != 0:
        raise RuntimeError(f"devcontainer features publish exited {done.returncode}: {done.stderr[-2000:]}")


def featurepub_publish(src: Path, host: str, namespace: str, report: Path) -> tuple[float, int, int]:
    """(wall seconds, peak RSS in KiB, exit code) of one `featurepub publish` process."""
    started = time.perf_counter()
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "featurepub",
            "publish",
            str(src),
            "-r",
            host,
            "-n",
            namespace,
            "--report",
            str(report),
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    _, status, usage = os.wait4(process.pid, 0)
    return time.perf_counter() - started, usage.ru_maxrss, os.waitstatus_to_exitcode(status)


def downloaded(registry: RegistryServer, proxy: RegistryProxy) -> int:
    """Bytes of the blobs featurepub GET through the proxy (their sizes, read from the registry)."""
    total = 0
    for request in proxy.requests("GET", "/blobs/"):
        response = httpx.head(f"{registry.url}{request.path}")
        total += int(response.headers.get("Content-Length", 0))
    return total


def row(name: str, src: Path, registry: RegistryServer, namespace: str, work: Path) -> str:
    proxy = RegistryProxy(registry.url).start()
    try:
        report_file = work / f"{namespace.replace('/', '-')}-{len(proxy.log)}.json"
        wall, rss, code = featurepub_publish(src, proxy.host, namespace, report_file)
        methods = Counter(r.method for r in proxy.requests())
        report = json.loads(report_file.read_text())
        statuses = Counter(e["status"] for e in report["features"].values())
        shown = ", ".join(f"{m} {n}" for m, n in sorted(methods.items()))
        return (
            f"{name:<34} {sum(methods.values()):>5} ({shown:<24}) {proxy.blob_bytes_uploaded:>9} "
            f"{downloaded(registry, proxy):>11} {wall:>6.2f} s {rss // 1024:>4} MiB  exit {code}  "
            f"{dict(statuses)}"
        )
    finally:
        proxy.stop()


def without_featureignore(src: Path) -> Path:
    """The samples as a reference user has them (.featureignore is featurepub's own)."""
    subprocess.run(["cp", "-r", str(SAMPLES / "src"), str(src)], check=True)
    node = src / "node-tool"
    (node / ".featureignore").unlink()
    subprocess.run(["rm", "-r", str(node / "scratch")], check=True)
    return src


def compare_alone(registry: RegistryServer, work: Path, size: int) -> str:
    from featurepub.api import open_registry
    from featurepub.features.archive import package_feature
    from featurepub.features.collection import load_collection
    from featurepub.publishing.content_equality import compare_version
    from featurepub.publishing.plan import feature_artifact

    folder = work / "big" / "src" / "big"
    folder.mkdir(parents=True)
    (folder / "devcontainer-feature.json").write_text('{"id": "big", "version": "1.0.0", "name": "Big"}')
    (folder / "install.sh").write_text("#!/bin/sh\n")
    with (folder / "payload.bin").open("wb") as handle:
        for _ in range(size // MiB):
            handle.write(os.urandom(MiB))
    reference_publish(folder.parent, registry.host, "bench/big")
    (feature,) = load_collection(folder.parent).features
    layer = package_feature(feature, work / "packed")
    artifact = feature_artifact(feature, layer, registry.host)
    target = open_registry(registry.host)
    try:
        existing = target.tag_digest("bench/big/big", "1.0.0")
        assert existing is not None
        before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        started = time.perf_counter()
        comparison = compare_version(
            target, "bench/big/big", existing, artifact.manifest, layer, limit=2 * size + MiB
        )
        seconds = time.perf_counter() - started
        after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    finally:
        target.close()
    verdict = "same" if comparison.same else f"different: {comparison.difference}"
    return (
        f"comparing a {layer.size / MiB:.1f} MiB layer: {seconds:.2f} s ({layer.size / MiB / seconds:.0f} MiB/s), "
        f"{verdict}; peak RSS of this process {before // 1024} MiB before, {after // 1024} MiB after"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--big-mib", type=int, default=60, help="size of the large layer's random file")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="featurepub-migration-") as temp:
        work = Path(temp)
        (work / "registry").mkdir()
        registry = RegistryServer(work / "registry").start()
        try:
            samples = without_featureignore(work / "samples")
            generated = generate(work / "generated" / "src", 20, seed=11)
            print(
                f"{'featurepub after the reference':<34} {'requests':>32} {'uploaded':>9} {'downloaded':>11} "
                f"{'wall':>8} {'peak RSS':>8}"
            )
            for name, src, namespace in (
                ("sample-features (5, 1 legacy id)", samples, "bench/samples"),
                ("generated (20)", generated, "bench/generated"),
            ):
                reference_publish(src, registry.host, namespace)
                print(row(name, src, registry, namespace, work))
            script = samples / "hello-cli" / "install.sh"
            script.write_text(script.read_text() + "echo changed\n")
            print(row("sample-features, one install.sh changed", samples, registry, "bench/samples", work))
            print(compare_alone(registry, work, args.big_mib * MiB))
        finally:
            registry.stop()


if __name__ == "__main__":
    main()
