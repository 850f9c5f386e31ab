"""A TLS stream one thread may read while another writes: an HTTP/2 connection's, shared by threads.

httpcore's HTTP/2 connection reads from its socket in one thread while another writes to it. OpenSSL
does not allow two calls on one TLS connection at once (SSL_get_error reads state the other call
changes: CPython's ssl then reports a spurious EOF, seen as "Server disconnected", and the server a
reset; see openssl/openssl#20622, miguelgrinberg/python-engineio#461). So the socket is switched to
non-blocking and each TLS call takes a lock, which it never holds while waiting: it waits for the
socket to be ready outside the lock, then tries again.
"""

from __future__ import annotations

import functools
import select
import ssl
import threading
import time
from collections.abc import Callable
from typing import Any, TypeVar

import httpcore

T = TypeVar("T")


def _wait(sock: ssl.SSLSocket, writing: bool, timeout: float | None) -> bool:
    """Whether `sock` became readable (or writable) within `timeout`; a closed socket counts as ready
    (the next call on it then fails)."""
    if sock.fileno() < 0:
        return True
    if hasattr(select, "poll"):
        poller = select.poll()
        poller.register(sock, select.POLLOUT if writing else select.POLLIN)
        return bool(poller.poll(None if timeout is None else max(0, int(timeout * 1000) + 1)))
    ready = select.select([], [sock], [sock], timeout) if writing else select.select([sock], [], [sock], timeout)
    return any(ready)


class TLSTakingTurns(httpcore.NetworkStream):
    """`inner`, whose TLS socket is `sock`, read and written here: one TLS call at a time."""

    def __init__(self, inner: httpcore.NetworkStream, sock: ssl.SSLSocket) -> None:
        self._inner = inner
        self._sock = sock
        self._turn = threading.Lock()
        sock.setblocking(False)

    def _call(
        self, operation: Callable[[], T], timeout: float | None, late: type[Exception], failed: type[Exception]
    ) -> T:
        until = None if timeout is None else time.monotonic() + timeout
        while True:
            with self._turn:
                try:
                    return operation()
                except ssl.SSLWantReadError:
                    writing = False
                except ssl.SSLWantWriteError:
                    writing = True
                except OSError as exc:  # as httpcore's own streams report it
                    raise failed(exc) from exc
            left = None if until is None else until - time.monotonic()
            if (left is not None and left <= 0) or not _wait(self._sock, writing, left):
                raise late("timed out")

    def read(self, max_bytes: int, timeout: float | None = None) -> bytes:
        return self._call(lambda: self._sock.recv(max_bytes), timeout, httpcore.ReadTimeout, httpcore.ReadError)

    def write(self, buffer: bytes, timeout: float | None = None) -> None:
        until = None if timeout is None else time.monotonic() + timeout
        left = memoryview(buffer)
        while left:
            remaining = None if until is None else max(0.0, until - time.monotonic())
            send = functools.partial(self._sock.send, left)
            sent = self._call(send, remaining, httpcore.WriteTimeout, httpcore.WriteError)
            left = left[sent:]

    def close(self) -> None:
        with self._turn:
            self._inner.close()

    def start_tls(
        self, ssl_context: ssl.SSLContext, server_hostname: str | None = None, timeout: float | None = None
    ) -> httpcore.NetworkStream:
        return self._inner.start_tls(ssl_context, server_hostname, timeout)

    def get_extra_info(self, info: str) -> Any:
        return self._inner.get_extra_info(info)


def taking_turns(stream: httpcore.NetworkStream) -> httpcore.NetworkStream:
    """`stream` made safe to read and write from two threads at once, when it is TLS over a socket."""
    sock = stream.get_extra_info("socket")
    if isinstance(stream, TLSTakingTurns) or not isinstance(sock, ssl.SSLSocket):
        return stream  # a plain socket's reads and writes are already independent
    return TLSTakingTurns(stream, sock)
