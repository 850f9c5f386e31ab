"""Floors: the least time any publisher could take for a scenario here, at a given round-trip time.

    floor = start + max(round trips on the critical path x RTT, registry time)

- start: the interpreter importing typer, httpx and httpcore and doing nothing else (`start_floor`).
- round trips (`critical_round_trips`): the dependency chain of requests a scenario needs at the
  least, derived below, when no more than `in_flight` requests are out at once.
- registry time (`registry_times`): the scenario's requests replayed with the standard library's
  http.client over keep-alive connections, with no round trip added and no other work, at the best
  of a few concurrencies: what the registry (and, for proxied rows, the proxy) needs to answer them
  on this machine, however well they overlap with the waiting.

Either term alone is a lower bound, so their larger one is; the floor assumes they overlap fully.

Round trips. c = round trips to open a connection (LatencyProxy's connect_rtts, 1: TCP), N =
features, L = requests in flight (HTTP/1.1: connections, all opened at once, so c is paid once).
Assumptions: the tool writes nothing before it has read the namespace (a run with nothing to do
writes nothing); each feature's manifest config is one blob shared by all features; a tag is
pushed only after what it points at (blobs before the exact tag, the exact tag before the
floating ones, every feature before the collection's manifest); floating tags are X.Y, X and latest.

- fresh N (a new namespace): c + 1 + max(4, ceil((7N + 3) / L)) + 1
    1  read the namespace: the collection's manifest (404: no collection, so no blob to read) and
       the repository catalog, at once;
    4  per feature: POST the layer's upload (the config is mounted alongside: POST ?mount=), PUT the
       layer, PUT the exact tag, PUT the three floating tags at once; features all at once: 7N
       requests, plus 3 for the collection's blobs (config mount, layer POST and PUT) alongside.
       Each request holds one of L slots for a round trip at least, hence the ceil term;
    1  PUT the collection's manifest, last.
- no change N (every feature already there, the collection lists them): c + max(2, ceil((N + 3) / L))
    2  GET the collection's manifest, then its layer (the blob's digest is in the manifest); the
       catalog and one HEAD of each feature's exact tag go alongside: a HEAD does not depend on the
       collection, which only says whether floating tags need a check too. Nothing is written.
       (Sending the HEADs only after the collection, as the issue words it, adds one.)
- one changed, N features of which one has a new version: c + max(1, ceil((N + 4) / L)) + 4 + 1
    1  the reads of no change (the collection's layer arrives during the next step) and the tag
       list of the changed feature's repository, all at once;
    4  the changed feature as a fresh one (its config is already in its repository), the
       collection's new layer alongside;
    1  the collection's manifest.
- the 500 MiB feature: fresh 1; the upload itself is in the registry time.

With c = 1 and L = 32: fresh 1 takes 7 round trips, fresh 20 8 (its 143 requests need 5 waves), fresh
100 25, no change 20 3, no change 100 5, one changed 20 7. L = 32 is the requests-in-flight limit of
the profile the bench's loopback registry gets (`generic`, like `distribution`); run the bench with
--in-flight set to another profile's limit to see its floors. The registry here answers some 400 to
500 requests a second on 2 cores (fresh 20's
requests take it about 0.3 s, fresh 100's about 1.8 s on a quiet machine), so at 20 ms the registry
time is the larger term of the fresh floors and the round trips that of the others.
"""

from __future__ import annotations

import hashlib
import http.client
import json
import math
import os
import statistics
import subprocess
import threading
import time
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import BinaryIO
from urllib.parse import urlsplit

FRESH, NO_CHANGE, ONE_CHANGED = "fresh", "no change", "one changed"
FLOATING = 3  # X.Y, X, latest
PER_FRESH_FEATURE = 4 + FLOATING  # layer POST + PUT, config mount, exact tag, floating tags
COLLECTION_BLOBS = 3  # config mount, layer POST + PUT
MiB = 1024 * 1024


def critical_round_trips(kind: str, features: int, in_flight: int, connect_rtts: int = 1) -> int:
    """Round trips on the critical path of a scenario (see the module docstring for the derivation)."""
    if in_flight < 1 or features < 1:
        raise ValueError("in_flight and features must be at least 1")

    def waves(requests: int) -> int:
        return math.ceil(requests / in_flight)

    if kind == FRESH:
        return connect_rtts + 1 + max(4, waves(PER_FRESH_FEATURE * features + COLLECTION_BLOBS)) + 1
    if kind == NO_CHANGE:
        return connect_rtts + max(2, waves(features + 3))
    if kind == ONE_CHANGED:
        return connect_rtts + max(1, waves(features + 4)) + 4 + 1
    raise ValueError(f"unknown scenario kind {kind!r}")


def start_floor(python: Path, tries: int = 5) -> float:
    """Best wall time of `python -c "import typer, httpx, httpcore"`."""
    best = float("inf")
    for _ in range(tries):
        started = time.perf_counter()
        subprocess.run([str(python), "-c", "import typer, httpx, httpcore"], check=True)
        best = min(best, time.perf_counter() - started)
    return best


# --- replays -------------------------------------------------------------------------------------------

CONFIG = b"{}"
CONFIG_DIGEST = "sha256:" + hashlib.sha256(CONFIG).hexdigest()
MANIFEST_TYPE = "application/vnd.oci.image.manifest.v1+json"
LAYER_SIZE = 10240  # about the size of a generated feature's layer
COLLECTION = "latest"


def _manifest(layer_digest: str, layer_size: int) -> bytes:
    return json.dumps(
        {
            "schemaVersion": 2,
            "mediaType": MANIFEST_TYPE,
            "artifactType": "application/vnd.devcontainers",
            "config": {"mediaType": "application/vnd.devcontainers", "digest": CONFIG_DIGEST, "size": len(CONFIG)},
            "layers": [
                {
                    "mediaType": "application/vnd.devcontainers.layer.v1+tar",
                    "digest": layer_digest,
                    "size": layer_size,
                }
            ],
        }
    ).encode()


@dataclass(frozen=True)
class Layer:
    digest: str
    size: int
    data: bytes | None = None  # or read from `path`
    path: Path | None = None

    @staticmethod
    def random(size: int = LAYER_SIZE) -> Layer:
        data = os.urandom(size)
        return Layer("sha256:" + hashlib.sha256(data).hexdigest(), size, data)

    @staticmethod
    def of_file(path: Path) -> Layer:
        digest = hashlib.sha256()
        with path.open("rb") as handle:
            while piece := handle.read(MiB):
                digest.update(piece)
        return Layer("sha256:" + digest.hexdigest(), path.stat().st_size, path=path)


class Replay:
    """The requests of a publish, sent with http.client over one keep-alive connection per thread."""

    def __init__(self, port: int, namespace: str) -> None:
        self.port = port
        self.namespace = namespace
        self.requests = 0
        self._local = threading.local()
        self._lock = threading.Lock()

    def repository(self, index: int) -> str:
        return f"{self.namespace}/feature-{index:03d}"

    def send(
        self,
        method: str,
        path: str,
        expect: Iterable[int],
        body: bytes | BinaryIO = b"",
        headers: dict[str, str] | None = None,
    ) -> tuple[int, str, bytes]:
        """(status, Location, body) of one request; RuntimeError when the status is not expected."""
        connection = getattr(self._local, "connection", None)
        if connection is None:
            connection = self._local.connection = http.client.HTTPConnection("127.0.0.1", self.port, blocksize=MiB)
        connection.request(method, path, body=body, headers=headers or {})
        response = connection.getresponse()
        data = response.read()
        with self._lock:
            self.requests += 1
        if response.status not in expect:
            raise RuntimeError(f"replay: {method} {path}: HTTP {response.status}, expected {sorted(expect)}")
        return response.status, response.getheader("Location") or "", data

    def upload(self, repository: str, layer: Layer) -> None:
        location = self.send("POST", f"/v2/{repository}/blobs/uploads/", (202,))[1]
        parts = urlsplit(location)
        query = f"{parts.query}&" if parts.query else ""
        put = f"{parts.path}?{query}digest={layer.digest}"
        headers = {"Content-Type": "application/octet-stream", "Content-Length": str(layer.size)}
        if layer.path is not None:
            with layer.path.open("rb") as handle:
                self.send("PUT", put, (201,), handle, headers)
        else:
            self.send("PUT", put, (201,), layer.data or b"", headers)

    def config(self, repository: str, source: str | None) -> None:
        """The shared config blob: uploaded when there is no `source`, found when `source` is this
        repository, else mounted from `source`."""
        if source is None:
            self.upload(repository, Layer(CONFIG_DIGEST, len(CONFIG), CONFIG))
        elif source == repository:
            self.send("HEAD", f"/v2/{repository}/blobs/{CONFIG_DIGEST}", (200,))
        else:
            self.send("POST", f"/v2/{repository}/blobs/uploads/?mount={CONFIG_DIGEST}&from={source}", (201,))

    def tag(self, repository: str, tag: str, manifest: bytes) -> None:
        self.send("PUT", f"/v2/{repository}/manifests/{tag}", (201,), manifest, {"Content-Type": MANIFEST_TYPE})

    def push(self, repository: str, layer: Layer, tags: Iterable[str], config_from: str | None) -> None:
        self.config(repository, config_from)
        self.upload(repository, layer)
        manifest = _manifest(layer.digest, layer.size)
        for tag in tags:
            self.tag(repository, tag, manifest)

    def push_collection(self, features: dict[str, str]) -> None:
        document = json.dumps({"features": [{"id": k, "version": v} for k, v in features.items()]}).encode()
        layer = Layer("sha256:" + hashlib.sha256(document).hexdigest(), len(document), document)
        self.push(self.namespace, layer, (COLLECTION,), self.repository(0))

    def read_namespace(self, features: int) -> list[Callable[[], object]]:
        """The reads a publish starts with: the collection (manifest, then layer), the catalog, a HEAD
        of each feature's exact tag."""

        def collection() -> None:
            accept = {"Accept": MANIFEST_TYPE}
            status, _, body = self.send(
                "GET", f"/v2/{self.namespace}/manifests/{COLLECTION}", (200, 404), headers=accept
            )
            if status == 200:
                digest = json.loads(body)["layers"][0]["digest"]
                self.send("GET", f"/v2/{self.namespace}/blobs/{digest}", (200,))

        reads: list[Callable[[], object]] = [collection, lambda: self.send("GET", "/v2/_catalog?n=1000", (200,))]
        for index in range(features):
            path = f"/v2/{self.repository(index)}/manifests/1.0.0"
            reads.append(partial(self.send, "HEAD", path, (200, 404), headers={"Accept": MANIFEST_TYPE}))
        return reads


def _timed(action: Callable[[], None]) -> float:
    started = time.perf_counter()
    action()
    return time.perf_counter() - started


def _all(pool: ThreadPoolExecutor, actions: Iterable[Callable[[], object]]) -> None:
    for future in [pool.submit(action) for action in actions]:
        future.result()


def replay_sequence(
    port: int, namespace: str, features: int, concurrency: int, layer: Layer | None = None
) -> dict[str, float]:
    """Seconds of the fresh, no change and one changed replays of `features` features, in that order,
    in one new namespace (with `layer`: only the fresh one, of one feature with that layer)."""
    replay = Replay(port, namespace)
    versions = {f"feature-{i:03d}": "1.0.0" for i in range(features)}
    with ThreadPoolExecutor(max_workers=concurrency) as pool:

        def fresh() -> None:
            _all(pool, replay.read_namespace(0))
            replay.push(replay.repository(0), layer or Layer.random(), ("1.0.0", "1.0", "1", "latest"), None)
            source = replay.repository(0)

            def push(index: int) -> None:  # the layer is made in the pool's thread, as part of the push
                replay.push(replay.repository(index), Layer.random(), ("1.0.0", "1.0", "1", "latest"), source)

            _all(pool, [partial(push, i) for i in range(1, features)])
            replay.push_collection(versions)

        def no_change() -> None:
            _all(pool, replay.read_namespace(features))

        def one_changed() -> None:
            changed = replay.repository(7 % features)
            reads = [
                *replay.read_namespace(features),
                lambda: replay.send("GET", f"/v2/{changed}/tags/list", (200,)),
            ]
            _all(pool, reads)
            replay.push(changed, Layer.random(), ("1.0.1", "1.0", "1", "latest"), changed)
            versions[f"feature-{7 % features:03d}"] = "1.0.1"
            replay.push_collection(versions)

        times = {FRESH: _timed(fresh)}
        if layer is None:
            times[NO_CHANGE] = _timed(no_change)
            times[ONE_CHANGED] = _timed(one_changed)
        return times


def registry_times(
    port: Callable[[], int],
    prefix: str,
    features: int,
    repeats: int,
    layer: Layer | None = None,
    concurrencies: Iterable[int] = (8, 16, 32),
) -> dict[str, float]:
    """Per scenario kind, the lowest median replay time over a few concurrencies. `port()` gives the
    port for each replay sequence (the caller may start an empty registry for each)."""
    best: dict[str, float] = {}
    for concurrency in concurrencies:
        runs = [
            replay_sequence(port(), f"{prefix}-c{concurrency}-{n}", features, concurrency, layer)
            for n in range(repeats)
        ]
        for kind in runs[0]:
            median = statistics.median(run[kind] for run in runs)
            best[kind] = min(best.get(kind, median), median)
    return best
