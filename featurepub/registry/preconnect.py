"""Connections opened ahead of the requests that will use them, handed to httpcore's pool.

httpcore connects only when a request needs a connection, so the first wave of a run's requests
would each wait a TCP handshake after the work before it. `WarmConnections` wraps the pool's
network backend (as deadline_sockets.py does: the attribute httpcore names `_network_backend` in
every 1.x release) and gives the pool's connects the sockets sockets_ahead.py opened meanwhile,
as streams that behave like httpcore's own. A TLS handshake still happens on first use (the pool
starts it on the stream it is given).
"""

from __future__ import annotations

import select
import socket
import ssl
import sys
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from typing import Any

import httpcore

from featurepub.registry.sockets_ahead import SocketsAhead, claim_early


@contextmanager
def _mapped(timeout: type[Exception], other: type[Exception]) -> Iterator[None]:
    """socket errors as the httpcore errors httpx knows how to report (httpcore's own mapping)."""
    try:
        yield
    except TimeoutError as exc:  # socket.timeout
        raise timeout(exc) from exc
    except OSError as exc:
        raise other(exc) from exc


def _readable(sock: socket.socket) -> bool:
    """Whether a read would not block: data, or the peer closed it (then the pool drops it)."""
    if sock.fileno() < 0:
        return True
    if sys.platform == "win32" or not hasattr(select, "poll"):
        return bool(select.select([sock], [], [], 0)[0])
    poller = select.poll()
    poller.register(sock, select.POLLIN)
    return bool(poller.poll(0))


class SocketStream(httpcore.NetworkStream):
    """A connected socket as an httpcore stream, as its sync backend makes them."""

    def __init__(self, sock: socket.socket) -> None:
        self._sock = sock

    def read(self, max_bytes: int, timeout: float | None = None) -> bytes:
        with _mapped(httpcore.ReadTimeout, httpcore.ReadError):
            self._sock.settimeout(timeout)
            return self._sock.recv(max_bytes)

    def write(self, buffer: bytes, timeout: float | None = None) -> None:
        with _mapped(httpcore.WriteTimeout, httpcore.WriteError):
            while buffer:
                self._sock.settimeout(timeout)
                buffer = buffer[self._sock.send(buffer) :]

    def close(self) -> None:
        self._sock.close()

    def start_tls(
        self, ssl_context: ssl.SSLContext, server_hostname: str | None = None, timeout: float | None = None
    ) -> httpcore.NetworkStream:
        with _mapped(httpcore.ConnectTimeout, httpcore.ConnectError):
            try:
                self._sock.settimeout(timeout)
                return SocketStream(ssl_context.wrap_socket(self._sock, server_hostname=server_hostname))
            except BaseException:
                self.close()
                raise

    def get_extra_info(self, info: str) -> Any:
        if info == "ssl_object":
            return self._sock if isinstance(self._sock, ssl.SSLSocket) else None
        if info == "client_addr":
            return self._sock.getsockname()
        if info == "server_addr":
            return self._sock.getpeername()
        if info == "socket":
            return self._sock
        if info == "is_readable":
            return _readable(self._sock)
        return None


class WarmConnections(httpcore.NetworkBackend):
    def __init__(self, inner: httpcore.NetworkBackend) -> None:
        self._inner = inner
        # What the command line opened before the pool existed, else a connector of its own.
        self._ahead = claim_early() or SocketsAhead()

    def open_ahead(self, host: str, port: int, count: int, timeout: float | None) -> None:
        """Start opening up to `count` connections to host:port (fewer when some are ready or opening)."""
        self._ahead.open(host, port, count, 15.0 if timeout is None else timeout)

    def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: Iterable[Any] | None = None,
    ) -> httpcore.NetworkStream:
        if local_address is None and not socket_options:
            sock = self._ahead.take(host, port, timeout)
            if sock is not None:
                return SocketStream(sock)
        return self._inner.connect_tcp(host, port, timeout, local_address, socket_options)

    def connect_unix_socket(
        self, path: str, timeout: float | None = None, socket_options: Iterable[Any] | None = None
    ) -> httpcore.NetworkStream:
        return self._inner.connect_unix_socket(path, timeout, socket_options)

    def sleep(self, seconds: float) -> None:
        self._inner.sleep(seconds)

    def close(self) -> None:
        self._ahead.close()


def warm_connections(pool: Any, shared: WarmConnections | None = None) -> WarmConnections | None:
    """Wrap the network backend of an httpcore pool (httpx.HTTPTransport's `_pool`) in `shared`, or in
    a new WarmConnections; None when it has none this module knows how to wrap."""
    backend = getattr(pool, "_network_backend", None)
    if backend is None:
        return None
    if not isinstance(backend, WarmConnections):
        backend = shared or WarmConnections(backend)
        pool._network_backend = backend
    return backend
