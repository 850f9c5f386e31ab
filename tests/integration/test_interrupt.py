"""Ctrl-C (SIGINT) and SIGTERM during a real publish: stop at once, report truthfully, re-run finishes.

The proxy holds requests so that the signal always finds work in flight: a large upload whose
body the registry side stopped reading (a blocked write), or tag pushes and probes waiting for
an answer (blocked reads). Held requests are never forwarded, so the registry holds exactly what
the report may call published. Waiting for the process has a generous timeout only as a guard:
a client that waited for its requests would hang until the hold is released, after the test.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

import featurepub
from featurepub.publishing.report import Status
from featurepub.registry.profiles import GENERIC
from tests.integration.test_faults import assert_consistent
from tests.support.holds import HoldAfterTags, StallUpload
from tests.support.proxy import RegistryProxy
from tests.support.publishing import featurepub as cli
from tests.support.publishing import registry_tags
from tests.support.registry import RegistryServer
from tests.unit.featuretree import minimal_metadata, write_feature

MiB = 1024 * 1024
GUARD = 60.0  # seconds; see the module docstring
FLOATING = ["1.0.0", "1.0", "1", "latest"]


def collection(root: Path, count: int, big: int = 0) -> Path:
    """`count` small features `f-00`..., and first (by id) a feature `big` with a `big`-byte layer."""
    src = root / "src"
    if big:
        write_feature(src, "big", minimal_metadata("big"), files={"payload.bin": os.urandom(big)})
    for index in range(count):
        write_feature(src, f"f-{index:02d}", minimal_metadata(f"f-{index:02d}"))
    return root


def run_and_stop(hold: HoldAfterTags | StallUpload, signum: int, *args: str | Path) -> tuple[int, str]:
    """Run featurepub with `args`, send `signum` once `hold` holds a request; exit code and stderr."""
    process = subprocess.Popen(
        [sys.executable, "-m", "featurepub", *map(str, args)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=os.environ.copy(),
    )
    try:
        assert hold.holding.wait(GUARD)
        process.send_signal(signum)
        _, stderr = process.communicate(timeout=GUARD)
        return process.returncode, stderr
    finally:
        hold.release()
        if process.poll() is None:
            process.kill()
            process.communicate()


def check_report_against_registry(registry: RegistryServer, report: dict[str, Any]) -> None:
    """Each tag the report calls published is there with the feature's digest; a tag never begun is not."""
    for entry in report["features"].values():
        for repo in entry["repositories"]:
            present = assert_consistent(registry, repo["repository"])
            for tag, status in repo["tags"].items():
                if status == "published":
                    assert present.get(tag) == entry["digest"], (repo["repository"], tag)
                elif status == "not-attempted":
                    assert tag not in present, (repo["repository"], tag)


def assert_rerun_finishes(registry: RegistryServer, root: Path, namespace: str, features: list[str]) -> None:
    # A feature whose tags were all pushed (its floating tags go at once) is unchanged in the re-run.
    complete = {f for f in features if registry_tags(registry.url, f"{namespace}/{f}") == sorted(FLOATING)}
    rerun = cli("publish", root, "-r", registry.host, "-n", namespace)
    assert rerun.code == 0, rerun.stderr
    for feature_id in features:
        assert registry_tags(registry.url, f"{namespace}/{feature_id}") == sorted(FLOATING)
        assert (rerun.json[feature_id] == {}) if feature_id in complete else rerun.json[feature_id]["digest"]
    assert registry_tags(registry.url, namespace) == ["latest"]


@pytest.mark.parametrize(("signum", "code"), [(signal.SIGINT, 130), (signal.SIGTERM, 143)])
def test_a_signal_mid_upload_breaks_it_off_reports_and_a_rerun_finishes(
    signum: int,
    code: int,
    tmp_path: Path,
    registry: RegistryServer,
    make_proxy: Callable[..., RegistryProxy],
    namespace: str,
) -> None:
    root = collection(tmp_path / "collection", 4, big=32 * MiB)
    stall = StallUpload(larger_than=16 * MiB)
    proxy = make_proxy(stall)
    # One feature at a time: `big` goes first and the others wait, so none of them may begin.
    config = tmp_path / "featurepub.toml"
    config.write_text(f'[registries."{proxy.host}"]\nconcurrency = 1\n', encoding="utf-8")
    report_file = tmp_path / "report.json"
    args = ("publish", root, "-r", proxy.host, "-n", namespace, "--config", config, "--report", report_file)
    returncode, stderr = run_and_stop(stall, signum, *args)

    name = signal.Signals(signum).name
    assert returncode == code, stderr
    assert "Traceback" not in stderr
    assert f"{name} received" in stderr
    assert f"INTERRUPTED ({name}): 5 features" in stderr  # the account
    report = json.loads(report_file.read_text(encoding="utf-8"))
    assert report["interrupted"] == name and report["ok"] is False
    statuses = {feature_id: entry["status"] for feature_id, entry in report["features"].items()}
    assert statuses == {"big": "interrupted", **{f"f-{i:02d}": "not-attempted" for i in range(4)}}
    assert report["collection"]["status"] == "not-attempted"
    assert not proxy.requests(contains="/f-0")  # nothing new started
    assert registry_tags(registry.url, f"{namespace}/big") == []
    assert_rerun_finishes(registry, root, namespace, ["big", *(f"f-{i:02d}" for i in range(4))])


@pytest.mark.parametrize("in_flight", [4, None])
def test_sigint_after_the_third_tag_starts_nothing_new_and_a_rerun_finishes(
    in_flight: int | None,
    tmp_path: Path,
    registry: RegistryServer,
    make_proxy: Callable[..., RegistryProxy],
    namespace: str,
) -> None:
    """The issue's case: SIGINT after the 3rd tag of 20 features used to let 16 more through. A run
    keeps as many features under way as it may have requests out (4 here, or the profile's)."""
    root = collection(tmp_path / "collection", 20)
    hold = HoldAfterTags(3)
    proxy = make_proxy(hold)
    report_file = tmp_path / "report.json"
    limit = in_flight or GENERIC.requests_in_flight
    given = ("--requests-in-flight", str(in_flight)) if in_flight else ()
    args = ("publish", root, "-r", proxy.host, "-n", namespace, "--report", report_file, *given)
    returncode, stderr = run_and_stop(hold, signal.SIGINT, *args)

    assert returncode == 130, stderr
    assert "Traceback" not in stderr
    report = json.loads(report_file.read_text(encoding="utf-8"))
    assert report["interrupted"] == "SIGINT"
    statuses = [entry["status"] for entry in report["features"].values()]
    # No feature had all four tags when the hold began, so none ended and no other began.
    assert statuses.count("not-attempted") >= 20 - limit, statuses
    assert len(hold.held) <= limit, hold.held  # the requests out when the hold began, and no other came
    for feature_id, entry in report["features"].items():
        if entry["status"] == "not-attempted":
            assert not proxy.requests(contains=f"/{feature_id}/"), feature_id
    check_report_against_registry(registry, report)
    assert registry_tags(registry.url, namespace) == []  # no collection
    assert_rerun_finishes(registry, root, namespace, [f"f-{i:02d}" for i in range(20)])


def test_push_layout_stops_on_sigint_with_its_report_and_a_rerun_finishes(
    tmp_path: Path, registry: RegistryServer, make_proxy: Callable[..., RegistryProxy], namespace: str
) -> None:
    root = collection(tmp_path / "collection", 3)
    layout = tmp_path / "layout"
    assert cli("publish", root, "--layout", layout, "-n", namespace).code == 0
    hold = HoldAfterTags(2)
    proxy = make_proxy(hold)
    report_file = tmp_path / "report.json"
    args = ("push-layout", layout, "-r", proxy.host, "-n", namespace, "--report", report_file)
    returncode, stderr = run_and_stop(hold, signal.SIGINT, *args)

    assert returncode == 130, stderr
    assert "Traceback" not in stderr and "INTERRUPTED (SIGINT)" in stderr
    report = json.loads(report_file.read_text(encoding="utf-8"))
    assert report["interrupted"] == "SIGINT"
    statuses = [r["status"] for r in report["refs"]]
    assert statuses[:2] == ["published", "published"]
    assert statuses[2] == "interrupted" and set(statuses[3:]) == {"not-attempted"}
    assert len(hold.held) == 1
    rerun = cli("push-layout", layout, "-r", registry.host, "-n", namespace)
    assert rerun.code == 0, rerun.stderr
    for index in range(3):
        assert registry_tags(registry.url, f"{namespace}/f-{index:02d}") == sorted(FLOATING)


def test_a_second_signal_exits_at_once_without_a_report() -> None:
    # A run that does not stop when asked (none of featurepub's does): the second Ctrl-C ends it.
    script = (
        "import time\n"
        "from featurepub.cli.interrupt import Interruptible\n"
        "from featurepub.cli.output import Console\n"
        "Interruptible(Console()).run(lambda: (print('running', flush=True), time.sleep(600)))\n"
    )
    with subprocess.Popen(
        [sys.executable, "-c", script], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    ) as process:
        assert process.stdout is not None and process.stderr is not None
        assert process.stdout.readline() == "running\n"
        process.send_signal(signal.SIGINT)
        assert "SIGINT received" in process.stderr.readline()
        assert process.poll() is None  # the first signal asks; the run goes on
        process.send_signal(signal.SIGINT)
        assert process.wait(timeout=GUARD) == 130
        assert "exiting now, without a report" in process.stderr.read()


def test_the_library_stops_when_its_cancellation_is_cancelled(
    tmp_path: Path, registry: RegistryServer, make_proxy: Callable[..., RegistryProxy], namespace: str
) -> None:
    root = collection(tmp_path / "collection", 8)
    hold = HoldAfterTags(3)
    proxy = make_proxy(hold)
    cancel = featurepub.Cancellation()

    def stop_when_held() -> None:
        if hold.holding.wait(GUARD):
            cancel.cancel("release script stopped")

    stopper = threading.Thread(target=stop_when_held)
    stopper.start()
    try:
        report = featurepub.publish(
            root, registry=proxy.host, namespace=namespace, cancel=cancel, requests_in_flight=4
        )
    finally:
        hold.release()
        stopper.join()
    assert report.interrupted == "release script stopped"
    assert report.exit_code == 130 and not report.ok
    assert Status.NOT_ATTEMPTED in {f.status for f in report.features}
    assert report.collection is not None and report.collection.status is Status.NOT_ATTEMPTED
    check_report_against_registry(registry, report.summary_json())


def test_an_already_cancelled_run_pushes_nothing(
    tmp_path: Path, make_proxy: Callable[..., RegistryProxy], namespace: str
) -> None:
    proxy = make_proxy()
    cancel = featurepub.Cancellation()
    cancel.cancel()
    report = featurepub.publish(
        collection(tmp_path / "c", 3), registry=proxy.host, namespace=namespace, cancel=cancel
    )
    assert {f.status for f in report.features} == {Status.NOT_ATTEMPTED}
    assert report.exit_code == 130
    assert not [r for r in proxy.requests() if r.method in ("POST", "PUT", "PATCH")]
