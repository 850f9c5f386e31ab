"""A small reverse proxy in front of the real registry: counts traffic and can change behaviour.

Rules see each request before it is forwarded (and may answer it themselves) and each
response after (and may rewrite it). Rules that emulate a registry quirk cite where the
behaviour is documented or reported; the proxy itself only forwards and counts.
"""

from __future__ import annotations

import http.client
import io
import socket
import threading
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import urlsplit

_HOP_BY_HOP = {"connection", "keep-alive", "transfer-encoding", "te", "trailer", "upgrade", "proxy-authorization"}


@dataclass
class ProxyRequest:
    method: str
    path: str  # path and query, as sent
    headers: dict[str, str]
    body: bytes

    @property
    def route(self) -> str:
        return urlsplit(self.path).path

    @property
    def query(self) -> str:
        return urlsplit(self.path).query

    def header(self, name: str) -> str | None:
        lowered = name.lower()
        return next((v for k, v in self.headers.items() if k.lower() == lowered), None)


@dataclass
class ProxyResponse:
    status: int
    headers: list[tuple[str, str]] = field(default_factory=list)
    body: bytes = b""

    def header(self, name: str) -> str | None:
        lowered = name.lower()
        return next((v for k, v in self.headers if k.lower() == lowered), None)

    def set_header(self, name: str, value: str) -> None:
        self.headers = [(k, v) for k, v in self.headers if k.lower() != name.lower()] + [(name, value)]


def read_chunked(stream: io.BufferedIOBase) -> bytes:
    """A `Transfer-Encoding: chunked` request body (the reference CLI sends manifests that way)."""
    chunks: list[bytes] = []
    while True:
        size = int(stream.readline().split(b";")[0].strip(), 16)
        if size == 0:
            stream.readline()  # the empty line after the last chunk (no trailers are sent)
            return b"".join(chunks)
        chunks.append(stream.read(size))
        stream.readline()


class DropConnection(Exception):
    """Raised by a rule to close the client's connection without an answer."""


class Rule:
    """Override either hook; the defaults forward unchanged."""

    def before(self, request: ProxyRequest) -> ProxyResponse | None:
        return None

    def after(self, request: ProxyRequest, response: ProxyResponse) -> ProxyResponse:
        return response

    def cut_body(self, head: ProxyRequest) -> bool:
        """True to read only half of this request's body and then close the connection."""
        return False


@dataclass
class LoggedRequest:
    method: str
    path: str
    status: int
    body_bytes: int
    # time.monotonic() when the request's head was read, and just before its answer was written (or
    # the connection dropped): while a request is between the two, the client has it in flight.
    arrived: float = 0.0
    answered: float = 0.0

    def overlaps(self, other: LoggedRequest) -> bool:
        """Whether both were in flight at the same moment."""
        return self.arrived < other.answered and other.arrived < self.answered


class ListeningServer(ThreadingHTTPServer):
    """A threaded server whose accept queue takes many connections opened at once (the default
    backlog of 5 drops SYNs, which the client then resends a second later)."""

    daemon_threads = True
    request_queue_size = socket.SOMAXCONN


class RegistryProxy:
    """`upload_rate` (bytes per second) reads each upload's body no faster than that, as a slow
    uplink sends it: the client's uploads stay in flight long enough to overlap."""

    def __init__(self, upstream: str, rules: Iterable[Rule] = (), *, upload_rate: float | None = None) -> None:
        parts = urlsplit(upstream)
        self.upstream_host = parts.hostname or "127.0.0.1"
        self.upstream_port = parts.port or 80
        self.rules = list(rules)
        self.upload_rate = upload_rate
        self.log: list[LoggedRequest] = []
        self._lock = threading.Lock()
        self._server = ListeningServer(("127.0.0.1", 0), self._handler())
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def port(self) -> int:
        return int(self._server.server_address[1])

    @property
    def host(self) -> str:
        return f"localhost:{self.port}"

    def start(self) -> RegistryProxy:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    def reset(self) -> None:
        with self._lock:
            self.log.clear()

    # --- what tests assert on ---------------------------------------------------------
    def requests(self, method: str | None = None, contains: str = "") -> list[LoggedRequest]:
        with self._lock:
            return [r for r in self.log if (method is None or r.method == method) and contains in r.path]

    @property
    def blob_bytes_uploaded(self) -> int:
        """Body bytes sent to upload endpoints (POST/PATCH/PUT under /blobs/uploads/)."""
        return sum(r.body_bytes for r in self.requests(contains="/blobs/uploads/"))

    # --- forwarding -------------------------------------------------------------------
    def forward(self, request: ProxyRequest) -> ProxyResponse:
        connection = http.client.HTTPConnection(self.upstream_host, self.upstream_port, timeout=60)
        try:
            headers = {k: v for k, v in request.headers.items() if k.lower() not in _HOP_BY_HOP}
            headers["Content-Length"] = str(len(request.body))
            connection.request(request.method, request.path, body=request.body, headers=headers)
            upstream = connection.getresponse()
            body = upstream.read()
            kept = [(k, v) for k, v in upstream.getheaders() if k.lower() not in _HOP_BY_HOP]
            return ProxyResponse(upstream.status, kept, body)
        finally:
            connection.close()

    def _handle(self, request: ProxyRequest) -> ProxyResponse:
        for rule in self.rules:
            answer = rule.before(request)
            if answer is not None:
                return answer
        response = self.forward(request)
        for rule in reversed(self.rules):
            response = rule.after(request, response)
        return response

    def _record(self, request: ProxyRequest, status: int, arrived: float) -> None:
        logged = LoggedRequest(request.method, request.path, status, len(request.body), arrived, time.monotonic())
        with self._lock:
            self.log.append(logged)

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        proxy = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            # TCP_NODELAY: a body written after its headers would otherwise wait ~40 ms for the
            # client's delayed ACK (Nagle), on every proxied answer.
            disable_nagle_algorithm = True

            def log_message(self, format: str, *args: object) -> None:  # quiet test output
                return

            def _read_body(self) -> bytes:
                if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
                    return read_chunked(self.rfile)
                length = int(self.headers.get("Content-Length") or 0)
                if proxy.upload_rate is None or "/blobs/uploads/" not in self.path:
                    return self.rfile.read(length)
                return self._read_paced(length, proxy.upload_rate)

            def _read_paced(self, length: int, rate: float) -> bytes:
                pieces, read, started = [], 0, time.monotonic()
                while read < length:
                    piece = self.rfile.read(min(length - read, 64 * 1024))
                    if not piece:
                        break
                    pieces.append(piece)
                    read += len(piece)
                    ahead = read / rate - (time.monotonic() - started)
                    if ahead > 0:
                        time.sleep(ahead)
                return b"".join(pieces)

            def _serve(self) -> None:
                arrived = time.monotonic()
                head = ProxyRequest(self.command, self.path, dict(self.headers.items()), b"")
                if any(rule.cut_body(head) for rule in proxy.rules):
                    length = int(self.headers.get("Content-Length") or 0)
                    self.rfile.read(length // 2)
                    proxy._record(head, 0, arrived)
                    self.close_connection = True
                    self.connection.shutdown(2)
                    return
                request = ProxyRequest(self.command, self.path, dict(self.headers.items()), self._read_body())
                try:
                    response = proxy._handle(request)
                except DropConnection:
                    proxy._record(request, 0, arrived)
                    self.close_connection = True
                    self.connection.shutdown(2)
                    return
                # Recorded just before the answer goes out, so that once the client has it, so has the log.
                proxy._record(request, response.status, arrived)
                self._answer(response)

            def _answer(self, response: ProxyResponse) -> None:
                self.send_response(response.status)
                for key, value in response.headers:
                    if key.lower() != "content-length":
                        self.send_header(key, value)
                body = b"" if self.command == "HEAD" else response.body
                length = response.header("Content-Length") if self.command == "HEAD" else None
                self.send_header("Content-Length", length or str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            do_GET = do_HEAD = do_POST = do_PUT = do_PATCH = do_DELETE = _serve

        return Handler
