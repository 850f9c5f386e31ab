"""Never half-published: faults injected between featurepub and a real registry."""

from __future__ import annotations

import random
from collections.abc import Callable
from pathlib import Path

import httpx
import pytest

import featurepub
from featurepub.features.collection import load_collection
from featurepub.oci import mediatypes
from featurepub.publishing.plan import make_plan
from featurepub.publishing.report import Status
from featurepub.registry.retry import RetryPolicy
from tests.conftest import copy_samples
from tests.support import consumers
from tests.support.faults import ExpiringTokens, FaultInjector, RefuseAfter
from tests.support.proxy import RegistryProxy
from tests.support.publishing import registry_tags, tag_digest
from tests.support.registry import RegistryServer

USER, PASSWORD = "ci", "fault-test-password"
FLOATING = {"latest"}


def fast_retries(seed: int) -> RetryPolicy:
    # Real backoff shape with short waits; Retry-After from the registry is still honoured.
    return RetryPolicy(max_attempts=8, base_delay=0.01, max_delay=2.0, rng=random.Random(seed))


def assert_consistent(registry: RegistryServer, repository: str) -> dict[str, str]:
    """Every tag points to a manifest whose blobs exist; floating tags point at an exact version's content."""
    digests = {}
    for tag in registry_tags(registry.url, repository):
        response = httpx.get(
            f"{registry.url}/v2/{repository}/manifests/{tag}", headers={"Accept": mediatypes.MANIFEST_ACCEPT}
        )
        assert response.status_code == 200, (repository, tag)
        manifest = response.json()
        for descriptor in [manifest["config"], *manifest["layers"]]:
            blob = httpx.head(f"{registry.url}/v2/{repository}/blobs/{descriptor['digest']}")
            assert blob.status_code == 200, (repository, tag, descriptor["digest"])
            assert int(blob.headers["Content-Length"]) == descriptor["size"]
        digests[tag] = response.headers["Docker-Content-Digest"]
    exact = {digest for tag, digest in digests.items() if tag.count(".") == 2}
    for tag, digest in digests.items():
        if tag.count(".") < 2:
            assert digest in exact, f"{repository}:{tag} points at content no exact version has"
    return digests


def faulty_proxy(
    seed: int, make_proxy: Callable[..., RegistryProxy], monkeypatch: pytest.MonkeyPatch
) -> tuple[RegistryProxy, FaultInjector]:
    """A proxy injecting `seed`'s faults, whose bearer tokens expire every 15 uses; the credentials
    are given where the reference CLI (and so featurepub) reads them."""
    tokens = ExpiringTokens(USER, PASSWORD, max_uses=15)
    faults = FaultInjector(seed)
    proxy = make_proxy(tokens, faults)
    tokens.realm = f"http://{proxy.host}/token"
    monkeypatch.setenv("DEVCONTAINERS_OCI_AUTH", f"{proxy.host}|{USER}|{PASSWORD}")
    return proxy, faults


@pytest.mark.parametrize("seed", range(20))
def test_publish_through_faults_completes(
    seed: int,
    tmp_path: Path,
    registry: RegistryServer,
    make_proxy: Callable[..., RegistryProxy],
    namespace: str,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    proxy, faults = faulty_proxy(seed, make_proxy, monkeypatch)
    samples = copy_samples(tmp_path / "samples", f"{registry.host}/{namespace}")

    report = featurepub.publish(samples, registry=proxy.host, namespace=namespace, retry=fast_retries(seed))

    assert report.ok, report.summary_json()
    assert faults.injected["blob-upload-unknown"] > 0
    assert sum(faults.injected.values()) >= 10, faults.injected
    for feature in report.features:
        for repo in feature.repositories:
            digests = assert_consistent(registry, repo.repository)
            assert digests[feature.version] == feature.digest
        ref = f"{registry.host}/{feature.primary.repository}:{feature.version}"
        assert consumers.info_manifest(ref)["canonicalId"].endswith(feature.digest)
    assert tag_digest(registry.url, namespace, "latest") is not None


def test_faults_are_varied_across_seeds() -> None:
    from tests.support.proxy import ProxyRequest

    kinds: set[str] = set()
    for seed in range(20):
        injector = FaultInjector(seed)
        for i in range(200):
            request = ProxyRequest("GET", f"/v2/ns/x/manifests/{i}", {}, b"")
            injector.before(request)
        kinds |= set(injector.injected)
    assert {"429", "500-before", "502-before", "503-before", "504-before"} <= kinds


def test_killed_midway_reports_truthfully_and_a_rerun_finishes(
    tmp_path: Path,
    registry: RegistryServer,
    make_proxy: Callable[..., RegistryProxy],
    namespace: str,
) -> None:
    samples = copy_samples(tmp_path / "samples", f"{registry.host}/{namespace}")
    # One request at a time, so that dying after 40 of the samples' requests leaves some features
    # complete and some blobs not uploaded, which the assertions below rely on (with every feature
    # under way at once, all of them may be cut short).
    dying = make_proxy(RefuseAfter(healthy=40))
    retry = RetryPolicy(max_attempts=2, base_delay=0.01)
    report = featurepub.publish(
        samples, registry=dying.host, namespace=namespace, retry=retry, keep_going=True, requests_in_flight=1
    )

    assert not report.ok
    assert report.exit_code == 4
    statuses = [f.status for f in report.features]
    assert Status.PUBLISHED in statuses and Status.FAILED in statuses, statuses
    assert report.collection is not None and report.collection.status is Status.NOT_ATTEMPTED
    assert tag_digest(registry.url, namespace, "latest") is None  # no collection without every feature
    for feature in report.features:
        for repo in feature.repositories:
            present = assert_consistent(registry, repo.repository)
            for tag in repo.tags:
                # The report is exact: what it says was published is there, nothing else is.
                if tag.status is Status.PUBLISHED:
                    assert present.get(tag.tag) == feature.digest, (repo.repository, tag.tag)
                else:
                    assert tag.tag not in present, (repo.repository, tag.tag, tag.status)

    # Which blobs landed before the re-run, read from the registry itself.
    plan = make_plan(load_collection(samples), namespace, tmp_path / "work", registry=registry.host)
    wanted = [
        (repository, blob) for fp in plan.features for repository in fp.repositories for blob in fp.artifact.blobs
    ]
    wanted += [(namespace, blob) for blob in plan.collection.blobs]
    landed = {
        (repository, blob.digest)
        for repository, blob in wanted
        if httpx.head(f"{registry.url}/v2/{repository}/blobs/{blob.digest}").status_code == 200
    }
    missing_bytes = sum(blob.size for repository, blob in wanted if (repository, blob.digest) not in landed)
    assert landed and missing_bytes > 0

    healthy = make_proxy()
    rerun = featurepub.publish(samples, registry=healthy.host, namespace=namespace)
    assert rerun.ok, rerun.summary_json()
    # Nothing that had landed is sent again (blobs that had not may be mounted instead of uploaded).
    assert healthy.blob_bytes_uploaded <= missing_bytes
    for request in healthy.requests("PUT", "/blobs/uploads/"):
        repository = request.path[len("/v2/") :].split("/blobs/")[0]
        assert (repository, request.path.split("digest=")[1].split("&")[0]) not in landed
    for feature in rerun.features:
        for repo in feature.repositories:
            assert assert_consistent(registry, repo.repository)[feature.version] == feature.digest


def test_rerun_completes_floating_tags_an_interrupted_run_left_out(
    tmp_path: Path,
    registry: RegistryServer,
    make_proxy: Callable[..., RegistryProxy],
    namespace: str,
) -> None:
    from tests.support.proxy import ProxyRequest, ProxyResponse, Rule

    class RefuseFloatingTags(Rule):
        def before(self, request: ProxyRequest) -> ProxyResponse | None:
            if request.method == "PUT" and request.route.endswith(("/manifests/1", "/manifests/latest")):
                return ProxyResponse(503, [], b"")
            return None

    samples = copy_samples(tmp_path / "samples", f"{registry.host}/{namespace}")
    broken = make_proxy(RefuseFloatingTags())
    first = featurepub.publish(
        samples, registry=broken.host, namespace=namespace, retry=RetryPolicy(max_attempts=1)
    )
    assert not first.ok
    common = f"{namespace}/common-utils"
    assert set(registry_tags(registry.url, common)) == {"1.2.0", "1.2"}

    healthy = make_proxy()
    rerun = featurepub.publish(samples, registry=healthy.host, namespace=namespace)
    assert rerun.ok, rerun.summary_json()
    result = rerun.features[0].primary
    assert {t.tag: t.status for t in result.tags} == {
        "1.2.0": Status.UNCHANGED,
        "1.2": Status.UNCHANGED,
        "1": Status.PUBLISHED,
        "latest": Status.PUBLISHED,
    }
    assert set(registry_tags(registry.url, common)) == {"1.2.0", "1.2", "1", "latest"}
    assert not healthy.requests("PUT", f"/v2/{common}/blobs/uploads/")  # its blobs had landed
    # Now complete: a third run is the one-request-per-repository fast path.
    healthy.reset()
    third = featurepub.publish(samples, registry=healthy.host, namespace=namespace)
    assert {f.status for f in third.features} == {Status.UNCHANGED}
    assert len(healthy.requests()) == 9
