"""The bench's latency proxy in front of the real registry: it keeps connections alive, streams bodies
of both framings intact, waits a round trip per request and more per new connection, and waits for
concurrent requests side by side. Its own timestamps are checked, never a wall-clock speed."""

from __future__ import annotations

import hashlib
import http.client
import os
import threading
from collections.abc import Iterator

import pytest

from bench.latency_proxy import LatencyProxy
from tests.support.registry import RegistryServer

MiB = 1024 * 1024


@pytest.fixture
def proxy(registry: RegistryServer) -> Iterator[LatencyProxy]:
    started = LatencyProxy(registry.port)
    yield started
    started.stop()


def _upload(connection: http.client.HTTPConnection, repository: str, data: bytes, *, chunked: bool) -> int:
    connection.request("POST", f"/v2/{repository}/blobs/uploads/")
    answer = connection.getresponse()
    answer.read()
    assert answer.status == 202
    location = answer.getheader("Location") or ""
    assert location.startswith(f"http://127.0.0.1:{connection.port}/")  # the registry saw the client's Host
    path = location.split("/", 3)[3]
    digest = "sha256:" + hashlib.sha256(data).hexdigest()
    if chunked:
        pieces = (data[i : i + MiB] for i in range(0, len(data), MiB))
        connection.request("PUT", f"/{path}&digest={digest}", body=pieces, encode_chunked=True)
    else:
        connection.request("PUT", f"/{path}&digest={digest}", body=data)
    answer = connection.getresponse()
    answer.read()
    return answer.status


def test_keeps_the_connection_and_streams_both_framings(proxy: LatencyProxy, namespace: str) -> None:
    data = os.urandom(3 * MiB + 5)
    connection = http.client.HTTPConnection("127.0.0.1", proxy.port)
    assert _upload(connection, f"{namespace}/a", data, chunked=False) == 201
    assert _upload(connection, f"{namespace}/b", data, chunked=True) == 201
    digest = "sha256:" + hashlib.sha256(data).hexdigest()
    connection.request("GET", f"/v2/{namespace}/b/blobs/{digest}")
    answer = connection.getresponse()
    assert answer.status == 200
    assert answer.read() == data
    connection.close()
    traffic = proxy.reset()
    assert (traffic.connections, traffic.requests) == (1, 5)
    assert traffic.blob_bytes == 2 * len(data)
    assert traffic.by_method == {"POST": 2, "PUT": 2, "GET": 1}


def test_waits_per_request_and_per_connection_side_by_side(proxy: LatencyProxy) -> None:
    proxy.rtt, proxy.connect_rtts = 0.3, 2
    barrier = threading.Barrier(2)
    statuses: list[int] = []

    def ask() -> None:
        connection = http.client.HTTPConnection("127.0.0.1", proxy.port)
        barrier.wait()
        connection.request("GET", "/v2/")
        answer = connection.getresponse()
        answer.read()
        statuses.append(answer.status)
        connection.close()

    threads = [threading.Thread(target=ask) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    traffic = proxy.reset()
    assert statuses == [200, 200]
    first, second = traffic.exchanges
    for exchange in traffic.exchanges:
        assert exchange.forwarded - exchange.arrived >= 0.3  # the round trip
        opened = next(o for o in traffic.opened if o.number == exchange.connection)
        assert exchange.arrived - opened.accepted >= 0.6  # two more for the new connection
    # Neither waited for the other: both waits were under way at once.
    assert max(first.arrived, second.arrived) < min(first.forwarded, second.forwarded)
