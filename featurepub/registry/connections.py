"""Break off every request of an httpx client at once, from another thread.

Closing an httpx client (or its connection pools) does not wake a thread blocked reading or
writing one of its sockets: httpcore only closes the socket, and on Linux that leaves the blocked
poll() waiting until the read or write timeout (measured: a GET to a silent server ends after the
whole 30 s timeout, with EBADF). Shutting the socket down (`shutdown(SHUT_RDWR)`) wakes it at once,
and the request fails as a lost connection. httpcore's `trace` request extension (a documented
extension) reports each socket as it connects; they are kept here, weakly, for that.
"""

from __future__ import annotations

import contextlib
import socket
import threading
import weakref
from typing import Any

import httpx

_CONNECTED = (".connect_tcp.complete", ".start_tls.complete")


def _shut_down(sock: socket.socket) -> None:
    # Not SSLSocket.shutdown, which also drops its TLS state under a thread that may be using it.
    with contextlib.suppress(OSError):  # already closed, or detached when TLS wrapped it
        socket.socket.shutdown(sock, socket.SHUT_RDWR)


class OpenSockets:
    """The sockets one client has connected; `watch` is its request event hook."""

    def __init__(self) -> None:
        self._sockets: weakref.WeakSet[socket.socket] = weakref.WeakSet()
        self._lock = threading.Lock()
        self._broken = False

    def watch(self, request: httpx.Request) -> None:
        request.extensions["trace"] = self._trace

    def _trace(self, event: str, info: dict[str, Any]) -> None:
        if not event.endswith(_CONNECTED):
            return
        stream = info.get("return_value")
        sock = stream.get_extra_info("socket") if stream is not None else None
        if not isinstance(sock, socket.socket):
            return
        with self._lock:
            broken = self._broken
            if not broken:
                self._sockets.add(sock)
        if broken:  # connected after break_all: no request may start any more
            _shut_down(sock)

    def break_all(self) -> None:
        """Fail every request in flight now, and every later one as soon as it connects."""
        with self._lock:
            self._broken = True
            sockets = list(self._sockets)
            self._sockets.clear()
        for sock in sockets:
            _shut_down(sock)
