"""TCP connections opened before the requests that will use them, all from one background thread.

A publish knows its registry from the command line, long before it has loaded its modules, read and
packed the features, and can send a first request; and it knows how many requests it will soon have
out at once. Connecting meanwhile takes the connection's round trip off the critical path.
Sockets are opened non-blocking and waited for together, so many connections cost one thread and
one round trip. Opening a connection asks the registry nothing. Standard library only: the command
line starts this before it imports the HTTP stack.

A socket not taken within `FRESH_FOR` seconds is closed (a server may drop an idle connection).
"""

from __future__ import annotations

import contextlib
import errno
import selectors
import socket
import threading
import time
from collections import deque

FRESH_FOR = 5.0  # httpx's own keep-alive expiry
_Key = tuple[str, int]


class SocketsAhead:
    def __init__(self) -> None:
        self._ready: dict[_Key, deque[tuple[socket.socket, float]]] = {}
        self._opening: dict[_Key, int] = {}
        self._jobs: deque[tuple[_Key, int, float]] = deque()
        self._changed = threading.Condition()
        self._worker: threading.Thread | None = None
        self._wake: socket.socket | None = None  # written to when a job is added while the thread waits
        self._closed = False

    def open(self, host: str, port: int, count: int, timeout: float = 15.0) -> None:
        """Start opening connections to host:port until `count` are ready or being opened."""
        key = (host, port)
        with self._changed:
            if self._closed:
                return
            self._prune(key)
            count -= len(self._ready.get(key, ())) + self._opening.get(key, 0)
            if count <= 0:
                return
            self._opening[key] = self._opening.get(key, 0) + count
            self._jobs.append((key, count, timeout))
            if self._worker is None:
                self._worker = threading.Thread(target=self._work, name="sockets-ahead", daemon=True)
                self._worker.start()
            elif self._wake is not None:
                self._wake.send(b"\0")

    def take(self, host: str, port: int, timeout: float | None) -> socket.socket | None:
        """A connected socket to host:port (blocking, TCP_NODELAY), waiting for one being opened; None
        when there is none to wait for."""
        key = (host, port)
        give_up = None if timeout is None else time.monotonic() + timeout
        with self._changed:
            while True:
                self._prune(key)
                ready = self._ready.get(key)
                if ready:
                    return ready.popleft()[0]
                left = None if give_up is None else give_up - time.monotonic()
                if self._opening.get(key, 0) <= 0 or (left is not None and left <= 0):
                    return None
                self._changed.wait(left)

    def close(self) -> None:
        with self._changed:
            self._closed = True
            stale = [sock for ready in self._ready.values() for sock, _ in ready]
            self._ready.clear()
            self._changed.notify_all()
        for sock in stale:
            sock.close()

    def _prune(self, key: _Key) -> None:
        """Close what waited too long (the lock is held)."""
        ready = self._ready.get(key)
        while ready and time.monotonic() - ready[0][1] >= FRESH_FOR:
            ready.popleft()[0].close()

    # --- the connecting thread -------------------------------------------------------------------
    def _work(self) -> None:
        woken, wake = socket.socketpair()
        woken.setblocking(False)
        with selectors.DefaultSelector() as selector, woken, wake:
            selector.register(woken, selectors.EVENT_READ)
            pending: dict[socket.socket, tuple[_Key, list[tuple[int, tuple[object, ...]]], float]] = {}
            while True:
                with self._changed:
                    jobs = list(self._jobs)
                    self._jobs.clear()
                    if not jobs and not pending:
                        self._worker = self._wake = None
                        return
                    self._wake = wake
                for key, count, timeout in jobs:
                    addresses = _addresses(key)
                    for _ in range(count):
                        self._start(selector, pending, key, addresses, time.monotonic() + timeout)
                for selected, _ in selector.select(timeout=1.0):
                    sock = selected.fileobj
                    assert isinstance(sock, socket.socket)
                    if sock is woken:
                        with contextlib.suppress(BlockingIOError):
                            while woken.recv(64):
                                pass
                        continue
                    selector.unregister(sock)
                    key, rest, deadline = pending.pop(sock)
                    if sock.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR) == 0:
                        self._done(key, sock)
                    else:
                        sock.close()
                        self._start(selector, pending, key, rest, deadline)
                for sock, (key, _, deadline) in list(pending.items()):
                    if time.monotonic() > deadline:
                        selector.unregister(sock)
                        del pending[sock]
                        sock.close()
                        self._done(key, None)

    def _start(
        self,
        selector: selectors.BaseSelector,
        pending: dict[socket.socket, tuple[_Key, list[tuple[int, tuple[object, ...]]], float]],
        key: _Key,
        addresses: list[tuple[int, tuple[object, ...]]],
        deadline: float,
    ) -> None:
        """Connect to the first of `addresses` that takes a connect (the next ones when it fails)."""
        for index, (family, address) in enumerate(addresses):
            sock = socket.socket(family, socket.SOCK_STREAM)
            sock.setblocking(False)
            if sock.connect_ex(address) in (0, *_IN_PROGRESS):
                selector.register(sock, selectors.EVENT_WRITE)
                pending[sock] = (key, addresses[index + 1 :], deadline)
                return
            sock.close()
        self._done(key, None)

    def _done(self, key: _Key, sock: socket.socket | None) -> None:
        if sock is not None:
            sock.setblocking(True)
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        with self._changed:
            self._opening[key] -= 1
            if sock is not None and not self._closed:
                self._ready.setdefault(key, deque()).append((sock, time.monotonic()))
                sock = None
            self._changed.notify_all()
        if sock is not None:
            sock.close()


_IN_PROGRESS = (errno.EINPROGRESS, errno.EWOULDBLOCK, errno.EAGAIN)


def _addresses(key: _Key) -> list[tuple[int, tuple[object, ...]]]:
    """Where host:port is, in the order `socket.create_connection` tries (none when it does not resolve)."""
    try:
        found = socket.getaddrinfo(key[0], key[1], type=socket.SOCK_STREAM)
    except OSError:
        return []
    return [(family, address) for family, _, _, _, address in found]


class _Early:
    """What the command line opened before the HTTP stack was loaded; the first pool that wants it
    takes it."""

    lock = threading.Lock()
    connector: SocketsAhead | None = None


def open_early(host: str, port: int, count: int) -> None:
    """Start connecting to host:port now, for whichever registry target of this process comes first."""
    with _Early.lock:
        if _Early.connector is None:
            _Early.connector = SocketsAhead()
        connector = _Early.connector
    connector.open(host, port, count)


def claim_early() -> SocketsAhead | None:
    """What `open_early` opened (once: later callers get None)."""
    with _Early.lock:
        connector, _Early.connector = _Early.connector, None
    return connector
