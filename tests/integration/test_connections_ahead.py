"""Connections opened ahead of the requests that use them (registry/sockets_ahead.py, preconnect.py).

Counted at a proxy that numbers the connections it accepts: a request that found no connection
opened ahead would open one more, so "used what was opened" is an exact count, not a timing.
"""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from bench.latency_proxy import LatencyProxy
from featurepub.api import open_registry
from featurepub.registry import sockets_ahead
from featurepub.registry.early_connect import connect_early
from featurepub.registry.sockets_ahead import SocketsAhead, claim_early
from tests.support.registry import RegistryServer


@pytest.fixture
def proxy(registry: RegistryServer) -> Iterator[LatencyProxy]:
    started = LatencyProxy(registry.port)
    yield started
    started.stop()


@pytest.fixture
def listener() -> Iterator[socket.socket]:
    server = socket.create_server(("127.0.0.1", 0))
    yield server
    server.close()


def _wait_for(check: Callable[[], bool], within: float = 10.0) -> None:
    give_up = time.monotonic() + within
    while not check():
        assert time.monotonic() < give_up, "not reached in time"
        time.sleep(0.01)


def test_requests_at_once_use_the_connections_opened_ahead(proxy: LatencyProxy, namespace: str) -> None:
    target = open_registry(proxy.host)
    try:
        target.open_ahead(4)
        _wait_for(lambda: proxy.connections == 4)
        start = threading.Barrier(4)

        def ask(index: int) -> None:
            start.wait()
            assert target.tag_digest(f"{namespace}/r{index}", "1.0.0") is None

        threads = [threading.Thread(target=ask, args=(i,)) for i in range(4)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    finally:
        target.close()
    traffic = proxy.reset()
    assert traffic.requests == 4
    assert traffic.connections == 4  # a request that had found none ready would have opened a fifth
    first_request = min(e.arrived for e in traffic.exchanges)
    assert all(opened.accepted < first_request for opened in traffic.opened)


def test_opening_ahead_sends_nothing_and_hands_each_socket_out_once(listener: socket.socket) -> None:
    port = listener.getsockname()[1]
    ahead = SocketsAhead()
    ahead.open("127.0.0.1", port, 3)
    accepted = [listener.accept()[0] for _ in range(3)]
    taken = [ahead.take("127.0.0.1", port, timeout=5) for _ in range(3)]
    assert all(sock is not None for sock in taken)
    assert ahead.take("127.0.0.1", port, timeout=5) is None  # none left, none being opened: no wait
    assert taken[0] is not None and taken[0].getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY)
    for sock in taken:
        assert sock is not None
        sock.close()
    for server_side in accepted:
        assert server_side.recv(1) == b""  # closed without a byte sent
        server_side.close()
    ahead.close()


def test_a_socket_left_too_long_is_closed_not_handed_out(
    listener: socket.socket, monkeypatch: pytest.MonkeyPatch
) -> None:
    port = listener.getsockname()[1]
    ahead = SocketsAhead()
    ahead.open("127.0.0.1", port, 1)
    server_side, _ = listener.accept()
    monkeypatch.setattr(sockets_ahead, "FRESH_FOR", 0.0)
    _wait_for(lambda: ahead._opening.get(("127.0.0.1", port)) == 0)
    assert ahead.take("127.0.0.1", port, timeout=5) is None
    assert server_side.recv(1) == b""  # the stale socket was closed
    server_side.close()
    ahead.close()


def test_a_host_that_refuses_leaves_nothing_to_wait_for(listener: socket.socket) -> None:
    port = listener.getsockname()[1]
    listener.close()  # nothing listens there now
    ahead = SocketsAhead()
    ahead.open("127.0.0.1", port, 2)
    _wait_for(lambda: ahead._opening.get(("127.0.0.1", port)) == 0)
    assert ahead.take("127.0.0.1", port, timeout=5) is None
    ahead.close()


def test_a_publish_connects_for_its_first_wave_before_loading_anything(
    listener: socket.socket, tmp_path: Path
) -> None:
    port = listener.getsockname()[1]
    for index in range(5):
        (tmp_path / "src" / f"f{index}").mkdir(parents=True)
    connect_early(f"127.0.0.1:{port}", (), tmp_path / "src")  # the src folder, as the reference CLI takes it
    accepted = [listener.accept()[0] for _ in range(8)]  # a feature each, and the collection's reads
    connector = claim_early()
    assert connector is not None and claim_early() is None  # handed to the first pool only
    taken = [connector.take("127.0.0.1", port, timeout=5) for _ in range(9)]
    assert sum(sock is not None for sock in taken) == 8
    for sock in [*taken, *accepted]:
        if sock is not None:
            sock.close()
    connector.close()


def test_no_early_connection_when_a_proxy_is_set(
    listener: socket.socket, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HTTPS_PROXY", "http://127.0.0.1:9")
    connect_early(f"127.0.0.1:{listener.getsockname()[1]}", (), tmp_path)
    assert claim_early() is None
