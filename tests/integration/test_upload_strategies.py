"""Each upload strategy against the real registry: what it sends, what lands, and its memory.

Memory is measured in-process with tracemalloc while a 64 MiB blob goes up through the
library API (the registry is a separate process, so only featurepub's allocations count):
a body that is never held whole keeps the peak far below the blob's size.
"""

from __future__ import annotations

import dataclasses
import gc
import hashlib
import os
import tracemalloc
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import pytest

from featurepub.errors import RegistryError
from featurepub.oci.descriptor import Blob, Descriptor
from featurepub.oci.digest import file_digest
from featurepub.registry.client import RegistryClient
from featurepub.registry.profiles import CHUNKED, GENERIC, MONOLITHIC, SINGLE, ZOT, MiB, Profile
from featurepub.registry.upload import BlobChanged, EmptyBlobRefused, upload_blob
from tests.support.proxy import RegistryProxy
from tests.support.quirks import AnnounceChunkMinimum, CompleteSingleRequestPost
from tests.support.registry import RegistryServer
from tests.support.rules import RelativeLocation

BIG = 64 * MiB
PEAK_LIMIT = 16 * MiB  # generous: the body streams in 1 MiB reads


def random_file(path: Path, size: int) -> Blob:
    with path.open("wb") as handle:
        left = size
        while left:
            piece = min(left, MiB)
            handle.write(os.urandom(piece))
            left -= piece
    digest, length = file_digest(path)
    return Blob.from_file(Descriptor("application/octet-stream", digest, length), path)


@pytest.fixture(scope="module")
def big_blob(tmp_path_factory: pytest.TempPathFactory) -> Blob:
    return random_file(tmp_path_factory.mktemp("blobs") / "big.bin", BIG)


@pytest.fixture
def connect() -> Iterator[Callable[[str], RegistryClient]]:
    opened: list[httpx.Client] = []

    def make(host: str) -> RegistryClient:
        http = httpx.Client(timeout=httpx.Timeout(60.0))
        opened.append(http)
        return RegistryClient(host, http, plain_http=True)

    yield make
    for http in opened:
        http.close()


def stored_digest(registry: RegistryServer, repository: str, digest: str) -> str:
    """What the registry serves for `digest`, hashed as it streams (no featurepub code involved)."""
    hasher = hashlib.sha256()
    with httpx.stream("GET", f"{registry.url}/v2/{repository}/blobs/{digest}", timeout=60) as response:
        assert response.status_code == 200, response.status_code
        for chunk in response.iter_bytes():
            hasher.update(chunk)
    return "sha256:" + hasher.hexdigest()


def peak_while(action: Callable[[], int]) -> tuple[int, int]:
    """(what `action` returned, the peak of memory traced while it ran)."""
    gc.collect()
    tracemalloc.start()
    try:
        result = action()
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    return result, peak


def profile(
    upload: str, *, chunk_size: int = GENERIC.chunk_size, chunk_max: int | None = GENERIC.chunk_max
) -> Profile:
    return dataclasses.replace(GENERIC, upload=upload, chunk_size=chunk_size, chunk_max=chunk_max)


# --- memory: one test per strategy ------------------------------------------------------


def test_monolithic_streams_a_large_blob(
    big_blob: Blob, registry: RegistryServer, connect: Callable[[str], RegistryClient], namespace: str
) -> None:
    client = connect(registry.host)
    repository = f"{namespace}/mono"
    sent, peak = peak_while(lambda: upload_blob(client, repository, big_blob, profile(MONOLITHIC)))
    assert sent == BIG
    assert peak < PEAK_LIMIT, f"peak {peak / MiB:.1f} MiB"
    assert client.request_count == 2  # POST, PUT
    assert stored_digest(registry, repository, big_blob.digest) == big_blob.digest


def test_single_request_falls_back_to_put_and_streams_twice(
    big_blob: Blob, registry: RegistryServer, connect: Callable[[str], RegistryClient], namespace: str
) -> None:
    # distribution 2.8 answers the single-request POST with 202 and drops its body: the whole
    # body must go again with PUT, or the registry would hold nothing (or an empty blob).
    client = connect(registry.host)
    repository = f"{namespace}/single"
    sent, peak = peak_while(lambda: upload_blob(client, repository, big_blob, profile(SINGLE)))
    assert sent == 2 * BIG
    assert peak < PEAK_LIMIT, f"peak {peak / MiB:.1f} MiB"
    assert client.request_count == 2  # POST with the body (202), PUT with the body (201)
    assert stored_digest(registry, repository, big_blob.digest) == big_blob.digest


def test_chunked_streams_each_chunk_from_disk(
    big_blob: Blob, registry: RegistryServer, connect: Callable[[str], RegistryClient], namespace: str
) -> None:
    client = connect(registry.host)
    repository = f"{namespace}/chunked"
    chunked = profile(CHUNKED, chunk_size=8 * MiB)
    sent, peak = peak_while(lambda: upload_blob(client, repository, big_blob, chunked))
    assert sent == BIG
    assert peak < PEAK_LIMIT, f"peak {peak / MiB:.1f} MiB"
    assert client.request_count == 1 + 7 + 1  # POST, 7 PATCHes, PUT with the last 8 MiB
    assert stored_digest(registry, repository, big_blob.digest) == big_blob.digest


def test_mount_moves_no_bytes_and_a_refused_mount_streams_the_upload(
    big_blob: Blob, registry: RegistryServer, connect: Callable[[str], RegistryClient], namespace: str
) -> None:
    client = connect(registry.host)
    source, target, elsewhere = f"{namespace}/source", f"{namespace}/target", f"{namespace}/elsewhere"
    assert upload_blob(client, source, big_blob) == BIG
    client.request_count = 0

    sent, peak = peak_while(lambda: upload_blob(client, target, big_blob, GENERIC, mount_from=(source,)))
    assert sent == 0
    assert client.request_count == 1  # one POST ?mount=&from=, answered 201
    assert stored_digest(registry, target, big_blob.digest) == big_blob.digest

    # A source without the blob: the registry opens an ordinary session (202), used for the upload.
    client.request_count = 0
    missing = f"{namespace}/never-pushed"
    sent, peak = peak_while(lambda: upload_blob(client, elsewhere, big_blob, GENERIC, mount_from=(missing,)))
    assert sent == BIG
    assert peak < PEAK_LIMIT, f"peak {peak / MiB:.1f} MiB"
    assert client.request_count == 2  # POST ?mount= (202), PUT into that session
    assert stored_digest(registry, elsewhere, big_blob.digest) == big_blob.digest


# --- protocol details -------------------------------------------------------------------


@pytest.fixture
def small_blob(tmp_path: Path) -> Blob:
    return random_file(tmp_path / "small.bin", 7 * MiB + 123)


def test_single_request_completes_in_one_request_where_supported(
    small_blob: Blob,
    registry: RegistryServer,
    make_proxy: Callable[..., RegistryProxy],
    connect: Callable[[str], RegistryClient],
    namespace: str,
) -> None:
    rule = CompleteSingleRequestPost(registry.url)
    proxy = make_proxy(rule)
    client = connect(proxy.host)
    assert upload_blob(client, f"{namespace}/zot", small_blob, ZOT) == small_blob.size
    assert rule.completed == 1
    assert [r.method for r in proxy.requests()] == ["POST"]
    assert stored_digest(registry, f"{namespace}/zot", small_blob.digest) == small_blob.digest


def test_chunked_honours_the_announced_chunk_minimum_and_relative_locations(
    small_blob: Blob,
    registry: RegistryServer,
    make_proxy: Callable[..., RegistryProxy],
    connect: Callable[[str], RegistryClient],
    namespace: str,
) -> None:
    proxy = make_proxy(AnnounceChunkMinimum(3 * MiB), RelativeLocation())
    client = connect(proxy.host)
    repository = f"{namespace}/minimum"
    assert upload_blob(client, repository, small_blob, profile(CHUNKED, chunk_size=1 * MiB)) == small_blob.size
    # 1 MiB chunks were asked for; the registry's 3 MiB minimum wins, the rest goes with the PUT.
    assert [r.body_bytes for r in proxy.requests("PATCH")] == [3 * MiB, 3 * MiB]
    assert [r.body_bytes for r in proxy.requests("PUT")] == [small_blob.size - 6 * MiB]
    assert stored_digest(registry, repository, small_blob.digest) == small_blob.digest


def test_a_chunk_minimum_above_the_profile_maximum_is_a_clear_error(
    small_blob: Blob,
    make_proxy: Callable[..., RegistryProxy],
    connect: Callable[[str], RegistryClient],
    namespace: str,
) -> None:
    proxy = make_proxy(AnnounceChunkMinimum(6 * MiB))
    client = connect(proxy.host)
    capped = profile(CHUNKED, chunk_size=4 * MiB, chunk_max=4 * MiB)
    with pytest.raises(RegistryError) as caught:
        upload_blob(client, f"{namespace}/capped", small_blob, capped)
    assert "OCI-Chunk-Min-Length" in caught.value.message
    assert "at most 4 MiB" in caught.value.message
    assert proxy.requests("PATCH") == []


@pytest.mark.parametrize("strategy", [MONOLITHIC, SINGLE, CHUNKED])
def test_zero_byte_blobs_are_never_sent(
    strategy: str, registry: RegistryServer, connect: Callable[[str], RegistryClient], namespace: str
) -> None:
    client = connect(registry.host)
    with pytest.raises(EmptyBlobRefused):
        upload_blob(
            client, f"{namespace}/empty", Blob.from_bytes("application/octet-stream", b""), profile(strategy)
        )
    assert client.request_count == 0


@pytest.mark.parametrize("strategy", [MONOLITHIC, SINGLE, CHUNKED])
def test_content_that_changed_since_packaging_is_never_committed(
    strategy: str,
    small_blob: Blob,
    registry: RegistryServer,
    connect: Callable[[str], RegistryClient],
    namespace: str,
) -> None:
    assert small_blob.path is not None
    with small_blob.path.open("r+b") as handle:  # same size, one byte different
        handle.seek(small_blob.size - 1)
        last = handle.read(1)
        handle.seek(small_blob.size - 1)
        handle.write(bytes([last[0] ^ 0xFF]))
    client = connect(registry.host)
    repository = f"{namespace}/changed"
    with pytest.raises(BlobChanged, match="changed since it was packaged"):
        upload_blob(client, repository, small_blob, profile(strategy, chunk_size=2 * MiB))
    assert httpx.head(f"{registry.url}/v2/{repository}/blobs/{small_blob.digest}").status_code == 404
