"""A streaming reverse proxy on 127.0.0.1 that counts requests and request-body bytes.

Bodies are forwarded in 1 MiB pieces, so a 500 MiB upload does not inflate the bench's
own memory; only chunked bodies (the reference CLI sends manifests that way) are buffered.
With `bytes_per_second`, each upload body is forwarded no faster than that (a slow uplink).
"""

from __future__ import annotations

import http.client
import socket
import sys
import threading
import time
from collections import Counter
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from tests.support.proxy import read_chunked

_HOP = {"connection", "keep-alive", "transfer-encoding", "te", "trailer", "upgrade"}
PIECE = 1024 * 1024


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = socket.SOMAXCONN  # the default of 5 drops SYNs of many connections opened at once

    def handle_error(self, request: socket.socket | tuple[bytes, socket.socket], client_address: object) -> None:
        if isinstance(sys.exc_info()[1], BrokenPipeError | ConnectionResetError):
            return  # a client that went away before its answer (an interrupted publish)
        super().handle_error(request, client_address)


class CountingProxy:
    def __init__(self, upstream_port: int, bytes_per_second: float | None = None) -> None:
        self.upstream_port = upstream_port
        self.bytes_per_second = bytes_per_second
        self.requests = 0
        self.body_bytes = 0
        self.blob_bytes = 0
        self.by_method: Counter[str] = Counter()
        self._lock = threading.Lock()
        self._server = _Server(("127.0.0.1", 0), self._handler())
        self._server.daemon_threads = True
        threading.Thread(target=self._server.serve_forever, daemon=True).start()

    @property
    def host(self) -> str:
        return f"localhost:{self._server.server_address[1]}"

    def reset(self) -> None:
        with self._lock:
            self.requests = self.body_bytes = self.blob_bytes = 0
            self.by_method.clear()

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    def _count(self, method: str, path: str, size: int) -> None:
        with self._lock:
            self.requests += 1
            self.by_method[method] += 1
            self.body_bytes += size
            if "/blobs/uploads/" in path:
                self.blob_bytes += size

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        proxy = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            # TCP_NODELAY: the body follows the headers in a second write, which Nagle's algorithm would
            # hold until the client's delayed ACK (about 40 ms on Linux).
            disable_nagle_algorithm = True

            def log_message(self, format: str, *args: object) -> None:
                return

            def _body(self) -> tuple[bytes | None, int]:
                if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
                    data = read_chunked(self.rfile)
                    return data, len(data)
                return None, int(self.headers.get("Content-Length") or 0)

            def _serve(self) -> None:
                buffered, length = self._body()
                upstream = http.client.HTTPConnection("127.0.0.1", proxy.upstream_port, timeout=600)
                headers = {k: v for k, v in self.headers.items() if k.lower() not in _HOP}
                headers["Content-Length"] = str(length)
                upstream.putrequest(self.command, self.path, skip_host=True, skip_accept_encoding=True)
                for key, value in headers.items():
                    upstream.putheader(key, value)
                upstream.endheaders()
                if buffered is not None:
                    upstream.send(buffered)
                else:
                    remaining = length
                    while remaining > 0:
                        try:
                            piece = self.rfile.read(min(PIECE, remaining))
                        except OSError:  # reset by the client
                            piece = b""
                        if not piece:
                            break
                        upstream.send(piece)
                        remaining -= len(piece)
                        if proxy.bytes_per_second:
                            time.sleep(len(piece) / proxy.bytes_per_second)
                    if remaining > 0:  # the client went away mid-body: so does the request
                        upstream.close()
                        self.close_connection = True
                        return
                proxy._count(self.command, self.path, length)
                response = upstream.getresponse()
                body = response.read()
                self.send_response(response.status)
                for key, value in response.getheaders():
                    if key.lower() not in _HOP and key.lower() != "content-length":
                        self.send_header(key, value)
                self.send_header("Content-Length", response.getheader("Content-Length") or str(len(body)))
                self.end_headers()
                if self.command != "HEAD":
                    self.wfile.write(body)
                upstream.close()

            do_GET = do_HEAD = do_POST = do_PUT = do_PATCH = do_DELETE = _serve

        return Handler
