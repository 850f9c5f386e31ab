"""Requests at once, orderings kept: what a publish sends together, and what it never sends early.

Each test reads the proxy's log (every request with when it arrived and when it was answered) or
holds requests at the proxy until several have arrived (`Gather`): requests a client sends one after
another never meet there, so "at once" is asserted without any timing threshold.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

import featurepub
from featurepub.oci.manifest import EMPTY_CONFIG
from tests.support.holds import Delay, Gather
from tests.support.proxy import LoggedRequest, ProxyRequest, RegistryProxy
from tests.support.race import Jitter
from tests.unit.featuretree import minimal_metadata, write_feature

MiB = 1024 * 1024
FLOATING = ("1.0", "1", "latest")


def collection(root: Path, count: int, *, big: int = 0, version: str = "1.0.0") -> Path:
    """`count` small features f-00..., and `big` more (b-0...) holding 2 MiB each."""
    src = root / "src"
    for index in range(count):
        write_feature(src, f"f-{index:02d}", minimal_metadata(f"f-{index:02d}", version=version))
    for index in range(big):
        write_feature(
            src, f"b-{index}", minimal_metadata(f"b-{index}"), files={"payload.bin": os.urandom(2 * MiB)}
        )
    return root


def tag_push(proxy: RegistryProxy, repository: str, tag: str) -> LoggedRequest:
    route = f"/v2/{repository}/manifests/{tag}"
    (found,) = [r for r in proxy.requests("PUT", route) if r.path == route and r.status == 201]
    return found


def most_at_once(requests: list[LoggedRequest]) -> int:
    """The most of `requests` the proxy had in at the same moment."""
    return max((sum(1 for r in requests if r.arrived <= s.arrived < r.answered) for s in requests), default=0)


def test_floating_tags_follow_their_exact_tag_and_the_collection_follows_every_feature(
    tmp_path: Path, make_proxy: Callable[..., RegistryProxy], namespace: str
) -> None:
    root = collection(tmp_path / "c", 8)
    # The three floating tags of f-03 are held until all three are at the proxy: sent together.
    routes = {f"/v2/{namespace}/f-03/manifests/{tag}" for tag in FLOATING}
    floats = Gather(lambda r: r.method == "PUT" and r.route in routes, 3)
    proxy = make_proxy(floats, Jitter(seed=5))
    report = featurepub.publish(root, registry=proxy.host, namespace=namespace)

    assert report.ok, report.summary_json()
    assert floats.most == 3
    last_of_features = 0.0
    for index in range(8):
        repository = f"{namespace}/f-{index:02d}"
        exact = tag_push(proxy, repository, "1.0.0")
        for tag in FLOATING:
            assert tag_push(proxy, repository, tag).arrived >= exact.answered, (repository, tag)
        last_of_features = max(last_of_features, *(r.answered for r in proxy.requests(contains=f"/{repository}/")))
    collection_put = tag_push(proxy, namespace, "latest")
    # After every feature's last request, the tag list that settles its floating tags included.
    assert collection_put.arrived >= last_of_features


def test_a_republish_with_nothing_to_do_asks_every_exact_tag_at_once(
    tmp_path: Path, make_proxy: Callable[..., RegistryProxy], namespace: str
) -> None:
    root = collection(tmp_path / "c", 6)
    assert featurepub.publish(root, registry=make_proxy().host, namespace=namespace).ok
    heads = Gather(lambda r: r.method == "HEAD" and "/manifests/1.0.0" in r.route, 6)
    proxy = make_proxy(heads)
    report = featurepub.publish(root, registry=proxy.host, namespace=namespace)

    assert {f.status.value for f in report.features} == {"unchanged"}
    assert heads.most == 6
    # The collection (manifest, layer), the catalog and one HEAD per feature: nothing else, no write.
    assert sorted(r.method for r in proxy.requests()) == ["GET"] * 3 + ["HEAD"] * 6


def test_the_configured_limits_bound_the_requests_out_at_once(
    tmp_path: Path, make_proxy: Callable[..., RegistryProxy], namespace: str
) -> None:
    root = collection(tmp_path / "c", 12, big=3)
    proxy = make_proxy(Delay(0.02))
    report = featurepub.publish(
        root, registry=proxy.host, namespace=namespace, requests_in_flight=3, uploads_in_flight=1
    )

    assert report.ok, report.summary_json()
    uploads = [r for r in proxy.requests() if r.body_bytes >= MiB]
    small = [r for r in proxy.requests() if r.body_bytes < MiB]
    assert len(uploads) == 3  # each big layer, once
    assert most_at_once(uploads) == 1
    assert most_at_once(small) == 3  # reached, never passed
    assert most_at_once(proxy.requests()) <= 4


def test_a_new_namespace_uploads_the_shared_config_blob_once(
    tmp_path: Path, make_proxy: Callable[..., RegistryProxy], namespace: str
) -> None:
    root = collection(tmp_path / "c", 10)
    proxy = make_proxy()
    assert featurepub.publish(root, registry=proxy.host, namespace=namespace).ok

    config = EMPTY_CONFIG.digest
    uploads = [r for r in proxy.requests("PUT", "/blobs/uploads/") if f"digest={config}" in r.path]
    mounts = [r for r in proxy.requests("POST", f"?mount={config}") if r.status == 201]
    assert len(uploads) == 1
    assert len(mounts) == 10  # the other feature repositories and the collection's, from the first


def test_a_new_version_lists_the_tags_and_probes_its_blobs_at_once(
    tmp_path: Path, make_proxy: Callable[..., RegistryProxy], namespace: str
) -> None:
    root = collection(tmp_path / "c", 3)
    assert featurepub.publish(root, registry=make_proxy().host, namespace=namespace).ok
    write_feature(root / "src", "f-01", minimal_metadata("f-01", version="1.0.1"))
    repository = f"{namespace}/f-01"

    def reads_of_f01(request: ProxyRequest) -> bool:
        listing = request.method == "GET" and request.route == f"/v2/{repository}/tags/list"
        return listing or (request.method == "HEAD" and request.route.startswith(f"/v2/{repository}/blobs/"))

    together = Gather(reads_of_f01, 3)
    proxy = make_proxy(together)
    report = featurepub.publish(root, registry=proxy.host, namespace=namespace)

    assert report.ok, report.summary_json()
    assert together.most == 3  # the tag list and both blob HEADs
    exact = tag_push(proxy, repository, "1.0.1")
    for tag in FLOATING:
        assert tag_push(proxy, repository, tag).arrived >= exact.answered
