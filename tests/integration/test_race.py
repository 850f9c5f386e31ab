"""Two versions of one feature published at the same moment: floating tags end on the highest."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import featurepub
from featurepub.publishing.execute import SETTLE_PASSES
from featurepub.publishing.report import Status
from tests.support.proxy import ProxyRequest, ProxyResponse, RegistryProxy, Rule
from tests.support.publishing import featurepub as cli
from tests.support.publishing import tag_digest
from tests.support.race import Jitter
from tests.support.registry import RegistryServer
from tests.unit.featuretree import minimal_metadata, write_feature

TRIALS = 20
TAGS = ("1.1.0", "1.2.0", "1.1", "1.2", "1", "latest")


def write_version(root: Path, version: str) -> Path:
    """A one-feature collection; two versions differ only in their version."""
    write_feature(root / "src", "tool", minimal_metadata("tool", version=version))
    return root


def _start(tree: Path, host: str, namespace: str, report: Path) -> subprocess.Popen[str]:
    command = [sys.executable, "-m", "featurepub", "publish", str(tree), "-r", host, "-n", namespace]
    return subprocess.Popen(
        [*command, "--report", str(report)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=os.environ.copy(),
    )


def _digests(registry: RegistryServer, repository: str) -> dict[str, str | None]:
    return {tag: tag_digest(registry.url, repository, tag) for tag in TAGS}


def test_two_versions_at_once_leave_every_floating_tag_on_the_highest(
    tmp_path: Path,
    registry: RegistryServer,
    make_proxy: Callable[..., RegistryProxy],
    namespace: str,
) -> None:
    # Without the check after the floating tags, 6-8 of 20 trials left `1` and `latest` on 1.1.0.
    proxy = make_proxy(Jitter(seed=11))
    wrong = []
    overlapped = 0
    for trial in range(TRIALS):
        trial_namespace = f"{namespace}-{trial}"
        low = write_version(tmp_path / f"{trial}-low", "1.1.0")
        high = write_version(tmp_path / f"{trial}-high", "1.2.0")
        reports = {tree.name: tmp_path / f"{tree.name}.json" for tree in (low, high)}
        runs = [_start(tree, proxy.host, trial_namespace, reports[tree.name]) for tree in (low, high)]
        for run in runs:
            _, stderr = run.communicate(timeout=120)
            assert run.returncode == 0, stderr
            assert "Traceback" not in stderr
        digests = _digests(registry, f"{trial_namespace}/tool")
        assert digests["1.1"] == digests["1.1.0"] is not None
        if not digests["1.2"] == digests["1"] == digests["latest"] == digests["1.2.0"]:
            wrong.append((trial, {tag: digest == digests["1.2.0"] for tag, digest in digests.items()}))
        # Both runs pushed `1`: the lower one then found it belongs to the higher version.
        low_report = json.loads(reports[low.name].read_text(encoding="utf-8"))
        overlapped += low_report["features"]["tool"]["repositories"][0]["tags"].get("1") == "skipped"
    assert not wrong, f"{len(wrong)} of {TRIALS} trials left a floating tag off 1.2.0: {wrong}"
    assert overlapped > 0, "the two runs never raced: the test proves nothing"


class ListBefore(Rule):
    """The first tag list of `repository` leaves out `hidden`: as if this run read it just before
    another run pushed that version (the interleaving the race test finds by chance)."""

    def __init__(self, repository: str, hidden: str) -> None:
        self.route = f"/v2/{repository}/tags/list"
        self.hidden = hidden
        self.listed = 0

    def after(self, request: ProxyRequest, response: ProxyResponse) -> ProxyResponse:
        if request.route == self.route and response.status == 200:
            self.listed += 1
            if self.listed == 1:
                body = json.loads(response.body)
                body["tags"] = [t for t in body["tags"] if t != self.hidden]
                response.body = json.dumps(body).encode()
        return response


def test_a_lower_version_that_pushed_floating_tags_last_moves_them_to_the_highest(
    tmp_path: Path, registry: RegistryServer, make_proxy: Callable[..., RegistryProxy], namespace: str
) -> None:
    high = featurepub.publish(
        write_version(tmp_path / "high", "1.2.0"), registry=registry.host, namespace=namespace
    )
    assert high.ok
    repository = f"{namespace}/tool"
    # The 1.1.0 run lists the tags before 1.2.0 is there, so it pushes 1.1, 1 and latest.
    proxy = make_proxy(ListBefore(repository, "1.2.0"))
    events: list[str] = []
    low = featurepub.publish(
        write_version(tmp_path / "low", "1.1.0"),
        registry=proxy.host,
        namespace=namespace,
        listener=lambda e: events.append(f"{e.kind.value} {e.detail}"),
    )
    assert low.ok, low.summary_json()
    digests = _digests(registry, repository)
    assert digests["1"] == digests["latest"] == digests["1.2.0"] == high.features[0].digest
    assert digests["1.1"] == digests["1.1.0"] == low.features[0].digest
    result = low.features[0].primary
    assert {t.tag: t.status for t in result.tags} == {
        "1.1.0": Status.PUBLISHED,
        "1.1": Status.PUBLISHED,
        "1": Status.SKIPPED,
        "latest": Status.SKIPPED,
    }
    assert low.to_json()["tool"]["publishedTags"] == ["1.1.0", "1.1"]
    assert result.note is not None and "1 -> 1.2.0" in result.note and "latest -> 1.2.0" in result.note
    assert [e for e in events if e.startswith("tag-repaired")] == [
        "tag-repaired 1 -> 1.2.0",
        "tag-repaired latest -> 1.2.0",
    ]
    # The repair reads 1.2.0's manifest and puts it under the floating tags: nothing else is written.
    assert {r.path.rsplit("/", 1)[-1] for r in proxy.requests("PUT", "/manifests/")} == {
        "1.1.0",
        "1.1",
        "1",
        "latest",
    }


class WrongFloatingDigest(Rule):
    """Every HEAD of the floating tag `1` answers another digest: as if another run kept moving it."""

    def after(self, request: ProxyRequest, response: ProxyResponse) -> ProxyResponse:
        if request.method == "HEAD" and request.route.endswith("/manifests/1"):
            response.set_header("Docker-Content-Digest", "sha256:" + "0" * 64)
        return response


def test_floating_tags_that_keep_moving_are_reported_and_a_rerun_repairs_them(
    tmp_path: Path, registry: RegistryServer, make_proxy: Callable[..., RegistryProxy], namespace: str
) -> None:
    assert featurepub.publish(
        write_version(tmp_path / "old", "1.0.0"), registry=registry.host, namespace=namespace
    ).ok
    tree = write_version(tmp_path / "new", "1.1.0")
    moving = make_proxy(WrongFloatingDigest())
    run = cli("publish", tree, "-r", moving.host, "-n", namespace, "--report", tmp_path / "report.json")
    assert run.code == 1, run.stderr
    assert "keeps moving them" in run.stderr and "Traceback" not in run.stderr
    report = json.loads((tmp_path / "report.json").read_text(encoding="utf-8"))
    assert report["features"]["tool"]["status"] == "failed"
    assert report["collection"]["status"] == "not-attempted"  # not the record of a complete run
    pushes = [r for r in moving.requests("PUT", "/manifests/") if r.path.endswith("/manifests/1")]
    assert len(pushes) == 1 + SETTLE_PASSES  # pushed, then one repair per pass: bounded

    rerun = cli("publish", tree, "-r", registry.host, "-n", namespace)
    assert rerun.code == 0, rerun.stderr
    digests = _digests(registry, f"{namespace}/tool")
    assert digests["1.1"] == digests["1"] == digests["latest"] == digests["1.1.0"]
