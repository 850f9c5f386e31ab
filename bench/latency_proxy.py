"""A reverse proxy on 127.0.0.1 that puts the registry at a distance: a round trip per request, one
more per new connection. It also counts what passes (requests, connections, bytes) and keeps a
timestamped record of every exchange for bench/trace.py.

What it models. Every exchange over HTTP/1.1 without pipelining costs the client one round trip
(RTT) on top of the server's time: the request travels half of it, the answer the other half.
The proxy waits the whole RTT once the request's head has arrived, before forwarding it: the
client cannot tell where in the exchange the wait happened, since it only sees its answer one
RTT later, and on one connection the next request is only sent after that answer, so waiting
once per request is exactly one RTT per exchange. Waiting before forwarding (rather than before
answering) also keeps upload bodies in the kernel's socket buffers during the wait, never in the
proxy, and answers stream back as they come.

A new connection costs `connect_rtts` more round trips, waited once when it is accepted, before
its first request is read: 1 (the default) is the TCP handshake (SYN, SYN-ACK) before a client may
send; a TLS 1.3 registry adds one more for its handshake (2), TLS 1.2 two more (3). The bench's
registry speaks plain HTTP, so TLS costs are modelled here, not performed.

Each connection is served by its own thread with its own keep-alive connection to the registry,
so waits of concurrent requests overlap instead of queueing. Sockets have TCP_NODELAY: otherwise a
small write that follows another (a body after its headers) waits for the peer's delayed ACK,
about 40 ms on Linux, which would add a second, unintended delay to most answers. Bodies of any
size stream through in pieces of at most 1 MiB (chunked ones are re-chunked on the way), so a
500 MiB upload holds no more than that in the proxy.
"""

from __future__ import annotations

import http.client
import io
import socket
import threading
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

PIECE = 1024 * 1024
# Hop-by-hop headers (RFC 9110 7.6.1) are the proxy's own business on each side; Expect is answered
# by the client side's handler, so the registry must not be asked to answer it as well.
_HOP = {"connection", "keep-alive", "transfer-encoding", "te", "trailer", "upgrade", "proxy-connection", "expect"}


def length_pieces(stream: io.BufferedIOBase, length: int, piece: int = PIECE) -> Iterator[bytes]:
    """`length` bytes of a body as they arrive, at most `piece` at a time."""
    while length > 0:
        data = stream.read(min(piece, length))
        if not data:
            raise ConnectionError("the client closed the connection inside a body")
        length -= len(data)
        yield data


def chunked_pieces(stream: io.BufferedIOBase, piece: int = PIECE) -> Iterator[bytes]:
    """The data of a `Transfer-Encoding: chunked` body as it arrives, at most `piece` bytes at a time."""
    while True:
        line = stream.readline(65537)
        if not line:
            raise ConnectionError("the client closed the connection inside a chunked body")
        size = int(line.split(b";", 1)[0].strip() or b"0", 16)
        if size == 0:
            while stream.readline(65537) not in (b"\r\n", b"\n", b""):
                pass  # trailer fields: dropped (hop-by-hop here)
            return
        yield from length_pieces(stream, size, piece)
        stream.readline()  # the CRLF that ends the chunk


@dataclass(frozen=True)
class Exchange:
    """One request through the proxy. Times are time.monotonic() seconds."""

    connection: int  # the client connection's number, from 1 in order of acceptance
    method: str
    path: str
    status: int  # 0: no answer (the exchange failed)
    body_bytes: int
    arrived: float  # the request's head was read
    forwarded: float  # the round trip was waited; the request goes to the registry
    answered: float  # the answer's last byte was written to the client


@dataclass(frozen=True)
class Opened:
    """One client connection."""

    number: int
    accepted: float


@dataclass
class Traffic:
    """What went through the proxy since the last reset."""

    requests: int = 0
    connections: int = 0
    body_bytes: int = 0
    blob_bytes: int = 0  # request bodies sent to blob upload endpoints
    by_method: Counter[str] = field(default_factory=Counter)
    exchanges: list[Exchange] = field(default_factory=list)
    opened: list[Opened] = field(default_factory=list)


class LatencyProxy:
    """Forwards 127.0.0.1:<port> to the registry on 127.0.0.1:`upstream_port`, `rtt` seconds away."""

    def __init__(self, upstream_port: int, rtt: float = 0.0, connect_rtts: int = 1) -> None:
        self.upstream_port = upstream_port
        self.rtt = rtt  # may be changed between runs
        self.connect_rtts = connect_rtts
        self._traffic = Traffic()
        self._numbers = 0
        self._lock = threading.Lock()
        self._unrecorded = 0  # exchanges begun and not yet recorded
        self._recorded = threading.Condition(self._lock)
        self._server = _Server(("127.0.0.1", 0), _handler(self))
        threading.Thread(target=self._server.serve_forever, name="latency-proxy", daemon=True).start()

    @property
    def host(self) -> str:
        """The address clients use (the reference CLI speaks plain HTTP only to localhost)."""
        return f"localhost:{self._server.server_address[1]}"

    @property
    def port(self) -> int:
        return int(self._server.server_address[1])

    @property
    def connections(self) -> int:
        """Client connections accepted since the last reset."""
        with self._lock:
            return self._traffic.connections

    def reset(self, settle: float = 5.0) -> Traffic:
        """What went through since the last reset; counting starts again from nothing.

        A client can read an answer before the proxy has recorded the exchange that carried it, so
        this first waits (up to `settle` seconds) for every exchange begun to be recorded.
        """
        with self._recorded:
            self._recorded.wait_for(lambda: self._unrecorded == 0, timeout=settle)
            traffic, self._traffic = self._traffic, Traffic()
        return traffic

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    def _opened(self) -> int:
        with self._lock:
            self._numbers += 1
            self._traffic.connections += 1
            self._traffic.opened.append(Opened(self._numbers, time.monotonic()))
            return self._numbers

    def _begun(self) -> None:
        with self._lock:
            self._unrecorded += 1

    def _record(self, exchange: Exchange) -> None:
        with self._recorded:
            self._unrecorded -= 1
            self._recorded.notify_all()
            traffic = self._traffic
            traffic.requests += 1
            traffic.by_method[exchange.method] += 1
            traffic.body_bytes += exchange.body_bytes
            if "/blobs/uploads/" in exchange.path:
                traffic.blob_bytes += exchange.body_bytes
            traffic.exchanges.append(exchange)


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    # The listen backlog: socketserver's default of 5 drops the SYNs of a client opening dozens of
    # connections at once, and each dropped SYN costs a one-second retransmission.
    request_queue_size = socket.SOMAXCONN


def _handler(proxy: LatencyProxy) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        disable_nagle_algorithm = True  # TCP_NODELAY on the client side (http.client sets it upstream)

        number = 0
        upstream: http.client.HTTPConnection | None = None

        def setup(self) -> None:
            super().setup()
            self.number = proxy._opened()
            if proxy.rtt:
                time.sleep(proxy.rtt * proxy.connect_rtts)  # the handshake(s) of a new connection

        def finish(self) -> None:
            if self.upstream is not None:
                self.upstream.close()
            super().finish()

        def log_message(self, format: str, *args: object) -> None:
            return

        def _exchange(self) -> None:
            arrived = time.monotonic()
            proxy._begun()
            if proxy.rtt:
                time.sleep(proxy.rtt)
            forwarded = time.monotonic()
            status, sent = 0, 0
            try:
                status, sent = self._forward()
            finally:
                proxy._record(
                    Exchange(
                        self.number,
                        self.command,
                        self.path,
                        status,
                        sent,
                        arrived,
                        forwarded,
                        time.monotonic(),
                    )
                )

        def _body(self) -> tuple[Iterator[bytes] | None, dict[str, str], bool]:
            """The request body (None when there is none), the framing headers for it, whether chunked."""
            if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
                return chunked_pieces(self.rfile), {"Transfer-Encoding": "chunked"}, True
            length = int(self.headers.get("Content-Length") or 0)
            if length or self.command in ("POST", "PUT", "PATCH"):
                return length_pieces(self.rfile, length), {"Content-Length": str(length)}, False
            return None, {}, False

        def _forward(self) -> tuple[int, int]:
            body, framing, chunked = self._body()
            headers = {
                k: v for k, v in self.headers.items() if k.lower() not in _HOP and k.lower() != "content-length"
            }
            headers.update(framing)
            sent = 0

            def counted(pieces: Iterator[bytes]) -> Iterator[bytes]:
                nonlocal sent
                for piece in pieces:
                    sent += len(piece)
                    yield piece

            if self.upstream is None:
                self.upstream = http.client.HTTPConnection("127.0.0.1", proxy.upstream_port, timeout=600)
            stream = None if body is None else counted(body)
            try:
                self.upstream.request(self.command, self.path, stream, headers, encode_chunked=chunked)
                response = self.upstream.getresponse()
            except (http.client.RemoteDisconnected, BrokenPipeError, ConnectionResetError):
                if body is not None:
                    raise  # a streamed body cannot be sent again
                # The registry closed this idle keep-alive connection: once more on a fresh one.
                self.upstream.close()
                self.upstream.request(self.command, self.path, None, headers)
                response = self.upstream.getresponse()
            self._answer(response)
            if response.will_close:
                self.upstream.close()
            return response.status, sent

        def _answer(self, response: http.client.HTTPResponse) -> None:
            self.send_response_only(response.status, response.reason)
            for key, value in response.getheaders():
                if key.lower() not in _HOP:
                    self.send_header(key, value)
            bodiless = self.command == "HEAD" or response.status in (204, 304)
            if bodiless:
                self.end_headers()
                response.read()
                return
            if response.getheader("Content-Length") is None:  # chunked from the registry: small documents
                data = response.read()
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)
                return
            self.end_headers()
            while piece := response.read(PIECE):
                self.wfile.write(piece)

        do_GET = do_HEAD = do_POST = do_PUT = do_PATCH = do_DELETE = _exchange

    return Handler
