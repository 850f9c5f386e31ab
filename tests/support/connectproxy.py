"""A forward proxy for HTTPS_PROXY tests: answers CONNECT by tunnelling to loopback only.

`routes` maps a requested `host:port` (e.g. `ghcr.io:443`) to a loopback address, so a
registry name that is not local can be served by a registry on 127.0.0.1; a CONNECT to
localhost / 127.0.0.1 goes straight through; anything else is refused with 403 and never
leaves the machine. Every CONNECT target is recorded.
"""

from __future__ import annotations

import select
import socket
import socketserver
import threading

_LOOPBACK = {"localhost", "127.0.0.1"}


class ConnectProxy:
    def __init__(self, routes: dict[str, tuple[str, int]] | None = None) -> None:
        self.routes = dict(routes or {})
        self.connects: list[str] = []
        self.refused: list[str] = []
        self._lock = threading.Lock()
        proxy = self

        class Handler(socketserver.BaseRequestHandler):
            def handle(self) -> None:
                proxy._handle(self.request)

        self._server = socketserver.ThreadingTCPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    def start(self) -> ConnectProxy:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    def _target(self, authority: str) -> tuple[str, int] | None:
        if authority in self.routes:
            return self.routes[authority]
        host, _, port = authority.rpartition(":")
        if host in _LOOPBACK and port.isdigit():
            return "127.0.0.1", int(port)
        return None

    def _handle(self, client: socket.socket) -> None:
        head = b""
        while b"\r\n\r\n" not in head and len(head) < 65536:
            chunk = client.recv(4096)
            if not chunk:
                return
            head += chunk
        line = head.split(b"\r\n", 1)[0].decode("latin-1")
        method, _, rest = line.partition(" ")
        authority = rest.split(" ", 1)[0]
        target = self._target(authority) if method == "CONNECT" else None
        with self._lock:
            (self.connects if target else self.refused).append(f"{method} {authority}")
        if target is None:
            client.sendall(b"HTTP/1.1 403 Forbidden\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")
            return
        upstream = socket.create_connection(target, timeout=10)
        client.sendall(b"HTTP/1.1 200 Connection established\r\n\r\n")
        sockets = [client, upstream]
        try:
            while True:
                readable, _, _ = select.select(sockets, [], [], 30)
                if not readable:
                    return
                for sock in readable:
                    data = sock.recv(65536)
                    if not data:
                        return
                    (upstream if sock is client else client).sendall(data)
        finally:
            upstream.close()
