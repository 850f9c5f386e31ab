"""featurepub.registry.connections: breaking off requests blocked on a server that never answers.

Closing an httpx client leaves such a request blocked until its timeout; these are the cases
OpenSockets exists for. The server is a plain socket on 127.0.0.1 that accepts and never reads
nor answers.
"""

from __future__ import annotations

import socket
import threading
from collections.abc import Callable, Iterator

import httpx
import pytest

from featurepub.registry.connections import OpenSockets

TIMEOUT = 60.0  # what a blocked request would otherwise wait; the test ends long before


@pytest.fixture
def silent_server() -> Iterator[str]:
    server = socket.create_server(("127.0.0.1", 0))
    accepted: list[socket.socket] = []

    def accept() -> None:
        while True:
            try:
                connection, _ = server.accept()
            except OSError:
                return
            accepted.append(connection)

    threading.Thread(target=accept, daemon=True).start()
    yield f"http://127.0.0.1:{server.getsockname()[1]}/"
    server.close()
    for connection in accepted:
        connection.close()


def endless() -> Iterator[bytes]:
    while True:
        yield b"x" * 65536


def blocked(client: httpx.Client, url: str, send: Callable[[httpx.Client, str], object]) -> threading.Thread:
    errors: list[BaseException] = []

    def run() -> None:
        try:
            send(client, url)
        except httpx.TransportError as exc:
            errors.append(exc)

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    thread.join(0.3)
    assert thread.is_alive(), "the request should be waiting on the silent server"
    return thread


@pytest.mark.parametrize(
    "send",
    [
        pytest.param(lambda c, u: c.get(u), id="blocked read"),
        pytest.param(lambda c, u: c.put(u, content=endless()), id="blocked write"),
    ],
)
def test_break_all_ends_a_blocked_request_at_once(
    silent_server: str, send: Callable[[httpx.Client, str], object]
) -> None:
    sockets = OpenSockets()
    with httpx.Client(timeout=TIMEOUT, event_hooks={"request": [sockets.watch]}) as client:
        thread = blocked(client, silent_server, send)
        sockets.break_all()
        thread.join(TIMEOUT / 2)
        assert not thread.is_alive()


def test_after_break_all_a_new_request_fails_as_soon_as_it_connects(silent_server: str) -> None:
    sockets = OpenSockets()
    sockets.break_all()
    client = httpx.Client(timeout=TIMEOUT, event_hooks={"request": [sockets.watch]})
    with client, pytest.raises(httpx.TransportError):
        client.get(silent_server)


def test_closing_the_client_alone_leaves_the_request_blocked(silent_server: str) -> None:
    """Why OpenSockets exists: httpx/httpcore's close does not wake the blocked thread."""
    client = httpx.Client(timeout=TIMEOUT)
    thread = blocked(client, silent_server, lambda c, u: c.get(u))
    client.close()
    thread.join(1.0)
    assert thread.is_alive()
