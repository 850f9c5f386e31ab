"""Floors: how fast any Python client with featurepub's dependencies could publish here.

- start: the interpreter importing typer, httpx and httpcore and doing nothing else;
- registry: the requests a fresh publish needs at the least, per feature the config blob
  (uploaded to the first repository, mounted into the others), the layer (POST, then PUT with
  the body: distribution takes no single-POST upload) and four tags, replayed with the standard
  library's http.client over keep-alive connections and with no other work. What remains is the
  time the registry takes to answer them.

A publisher's wall time cannot be below start + registry, whatever it does in between.
"""

from __future__ import annotations

import hashlib
import http.client
import json
import os
import statistics
import subprocess
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from urllib.parse import urlsplit

CONFIG = b"{}"
CONFIG_DIGEST = "sha256:" + hashlib.sha256(CONFIG).hexdigest()
TAGS = ("1.0.0", "1.0", "1", "latest")


def start_floor(python: Path, tries: int = 5) -> float:
    """Best wall time of `python -c "import typer, httpx, httpcore"`."""
    best = float("inf")
    for _ in range(tries):
        started = time.perf_counter()
        subprocess.run([str(python), "-c", "import typer, httpx, httpcore"], check=True)
        best = min(best, time.perf_counter() - started)
    return best


class _Replay:
    def __init__(self, port: int, namespace: str) -> None:
        self.port = port
        self.namespace = namespace
        self.requests = 0
        self._local = threading.local()
        self._lock = threading.Lock()

    def _send(self, method: str, path: str, body: bytes, headers: dict[str, str], expect: int) -> str:
        connection = getattr(self._local, "connection", None)
        if connection is None:
            connection = self._local.connection = http.client.HTTPConnection("127.0.0.1", self.port)
        connection.request(method, path, body=body, headers=headers)
        response = connection.getresponse()
        response.read()
        with self._lock:
            self.requests += 1
        if response.status != expect:
            raise RuntimeError(f"{method} {path}: HTTP {response.status}, expected {expect}")
        return response.getheader("Location") or ""

    def _upload(self, repository: str, data: bytes, digest: str) -> None:
        location = self._send("POST", f"/v2/{repository}/blobs/uploads/", b"", {}, 202)
        parts = urlsplit(location)
        put = f"{parts.path}?{parts.query}&digest={digest}" if parts.query else f"{parts.path}?digest={digest}"
        self._send("PUT", put, data, {"Content-Type": "application/octet-stream"}, 201)

    def feature(self, index: int) -> None:
        repository = f"{self.namespace}/feature-{index:03d}"
        if index == 0:
            self._upload(repository, CONFIG, CONFIG_DIGEST)
        else:
            source = f"{self.namespace}/feature-000"
            self._send(
                "POST", f"/v2/{repository}/blobs/uploads/?mount={CONFIG_DIGEST}&from={source}", b"", {}, 201
            )
        layer = os.urandom(10240)
        digest = "sha256:" + hashlib.sha256(layer).hexdigest()
        self._upload(repository, layer, digest)
        manifest = {
            "schemaVersion": 2,
            "mediaType": "application/vnd.oci.image.manifest.v1+json",
            "artifactType": "application/vnd.devcontainers",
            "config": {"mediaType": "application/vnd.devcontainers", "digest": CONFIG_DIGEST, "size": len(CONFIG)},
            "layers": [
                {"mediaType": "application/vnd.devcontainers.layer.v1+tar", "digest": digest, "size": 10240}
            ],
        }
        body = json.dumps(manifest).encode()
        for tag in TAGS:
            headers = {"Content-Type": "application/vnd.oci.image.manifest.v1+json"}
            self._send("PUT", f"/v2/{repository}/manifests/{tag}", body, headers, 201)


def registry_floor(port: int, namespace: str, features: int, concurrency: int) -> tuple[float, int]:
    """Wall time and request count of one replay of a fresh publish of `features` features."""
    replay = _Replay(port, namespace)
    started = time.perf_counter()
    replay.feature(0)  # the config blob's first home, which the others mount from
    with ThreadPoolExecutor(max_workers=concurrency) as pool:
        list(pool.map(replay.feature, range(1, features)))
    return time.perf_counter() - started, replay.requests


def best_registry_floor(port: int, prefix: str, features: int, repeats: int) -> tuple[float, int, int]:
    """The lowest median replay time over a few concurrencies: (seconds, requests, concurrency)."""
    best: tuple[float, int, int] | None = None
    for concurrency in (4, 8, 16):
        runs = [
            registry_floor(port, f"{prefix}-c{concurrency}-{n}", features, concurrency) for n in range(repeats)
        ]
        median = statistics.median(seconds for seconds, _ in runs)
        if best is None or median < best[0]:
            best = (median, runs[0][1], concurrency)
    assert best is not None
    return best
