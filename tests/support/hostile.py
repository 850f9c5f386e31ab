"""A registry that misbehaves on purpose: the server side of tests/integration/test_hostile*.py.

It forwards every request to an upstream (the real `registry` fixture) except those a behaviour
is installed for, and answers those itself, byte by byte if need be: a redirect to another server,
a redirect loop, a body that claims gzip, JSON nested 100,000 deep, a manifest that breaks the
schema, a body of hundreds of MiB, one byte every few seconds. With `basic=(user, password)` it
also demands Basic credentials first, so a behaviour applies only to requests that carried them,
and it records every request and every Authorization header it sees.

None of this is a registry quirk to emulate: it is what an attacker, a broken proxy or a
misconfigured storage redirect can send (issue 11), and featurepub must survive all of it.
"""

from __future__ import annotations

import base64
import http.client
import socket
import threading
import time
import zlib
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler
from urllib.parse import urlsplit

from tests.support.proxy import ListeningServer, read_chunked

_HOP_BY_HOP = {"connection", "keep-alive", "transfer-encoding", "te", "trailer", "upgrade", "authorization"}
MiB = 1024 * 1024


@dataclass
class Seen:
    """One request as the server received it."""

    method: str
    path: str
    headers: dict[str, str]

    @property
    def authorization(self) -> str:
        return next((v for k, v in self.headers.items() if k.lower() == "authorization"), "")


@dataclass
class Exchange:
    """The request being answered, and the raw connection to answer it on."""

    method: str
    path: str
    headers: dict[str, str]
    handler: BaseHTTPRequestHandler
    server: HostileServer
    body: bytes = b""
    _read: bool = False

    @property
    def route(self) -> str:
        return urlsplit(self.path).path

    def read_body(self, bytes_per_second: float | None = None) -> bytes:
        """The request body (read once), at `bytes_per_second` if given: a slow link."""
        if self._read:
            return self.body
        self._read = True
        if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
            self.body = read_chunked(self.handler.rfile)
            return self.body
        left = int(self.headers.get("Content-Length") or 0)
        pieces = []
        while left > 0:
            piece = self.handler.rfile.read(min(left, 64 * 1024))
            if not piece:
                break
            pieces.append(piece)
            left -= len(piece)
            if bytes_per_second:
                time.sleep(len(piece) / bytes_per_second)
        self.body = b"".join(pieces)
        return self.body

    def head(self, status: int, headers: Iterable[tuple[str, str]]) -> None:
        self.handler.send_response(status)
        for name, value in headers:
            self.handler.send_header(name, value)
        self.handler.end_headers()

    def answer(self, status: int, headers: Iterable[tuple[str, str]] = (), body: bytes = b"") -> None:
        listed = list(headers)
        if not any(k.lower() == "content-length" for k, _ in listed):
            listed.append(("Content-Length", str(len(body))))
        self.head(status, listed)
        if self.method != "HEAD":
            self.handler.wfile.write(body)

    def write(self, data: bytes) -> None:
        self.handler.wfile.write(data)
        self.handler.wfile.flush()


Behaviour = Callable[[Exchange], None]


@dataclass(frozen=True)
class BodyReader:
    """A behaviour that takes the request body itself: the server does not read it first."""

    run: Behaviour

    def __call__(self, exchange: Exchange) -> None:
        self.run(exchange)


@dataclass
class _Route:
    method: str | None
    fragment: str
    behaviour: Behaviour
    times: int | None  # None: every time
    used: int = 0


class HostileServer:
    def __init__(self, upstream: str | None = None, *, basic: tuple[str, str] | None = None) -> None:
        self.upstream = urlsplit(upstream) if upstream else None
        self.basic = basic
        self.seen: list[Seen] = []
        self._routes: list[_Route] = []
        self._lock = threading.Lock()
        self._server = ListeningServer(("127.0.0.1", 0), self._handler())
        self._server.daemon_threads = True
        self._server.block_on_close = False
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    # --- set-up --------------------------------------------------------------------------
    @property
    def port(self) -> int:
        return int(self._server.server_address[1])

    @property
    def host(self) -> str:
        return f"localhost:{self.port}"

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> HostileServer:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    def on(self, method: str | None, fragment: str, behaviour: Behaviour, *, times: int | None = None) -> None:
        """Answer requests whose path contains `fragment` (and whose method is `method`, unless None)
        with `behaviour`: the first `times` of them, or all."""
        with self._lock:
            self._routes.append(_Route(method, fragment, behaviour, times))

    # --- what tests assert on -------------------------------------------------------------
    def authorizations(self) -> list[str]:
        with self._lock:
            return [s.authorization for s in self.seen if s.authorization]

    def requests(self, contains: str = "") -> list[Seen]:
        with self._lock:
            return [s for s in self.seen if contains in s.path]

    # --- serving ------------------------------------------------------------------------------
    def _route_for(self, method: str, path: str) -> Behaviour | None:
        with self._lock:
            for route in self._routes:
                if (route.method in (None, method)) and route.fragment in path:
                    if route.times is not None and route.used >= route.times:
                        continue
                    route.used += 1
                    return route.behaviour
        return None

    def _authorised(self, exchange: Exchange) -> bool:
        if self.basic is None:
            return True
        expected = "Basic " + base64.b64encode(f"{self.basic[0]}:{self.basic[1]}".encode()).decode()
        given = next((v for k, v in exchange.headers.items() if k.lower() == "authorization"), "")
        return given == expected

    def _serve(self, exchange: Exchange) -> None:
        if not self._authorised(exchange):
            exchange.read_body()
            exchange.answer(401, [("WWW-Authenticate", 'Basic realm="hostile"')], b'{"errors":[]}')
            return
        behaviour = self._route_for(exchange.method, exchange.path)
        if not isinstance(behaviour, BodyReader):
            exchange.read_body()
        if behaviour is not None:
            behaviour(exchange)
        elif self.upstream is not None:
            self._forward(exchange)
        else:
            exchange.answer(404, [("Content-Type", "application/json")], b'{"errors":[]}')

    def _forward(self, exchange: Exchange) -> None:
        assert self.upstream is not None
        connection = http.client.HTTPConnection(self.upstream.hostname or "", self.upstream.port, timeout=60)
        try:
            headers = {k: v for k, v in exchange.headers.items() if k.lower() not in _HOP_BY_HOP}
            headers["Content-Length"] = str(len(exchange.body))
            connection.request(exchange.method, exchange.path, body=exchange.body, headers=headers)
            upstream = connection.getresponse()
            body = upstream.read()
            kept = [(k, v) for k, v in upstream.getheaders() if k.lower() not in _HOP_BY_HOP]
            kept = [(k, v) for k, v in kept if k.lower() != "content-length"]
            length = upstream.getheader("Content-Length") if exchange.method == "HEAD" else None
            exchange.answer(upstream.status, [*kept, ("Content-Length", length or str(len(body)))], body)
        finally:
            connection.close()

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            # TCP_NODELAY: a body written after its headers would otherwise wait ~40 ms for the
            # client's delayed ACK (Nagle), on every proxied answer.
            disable_nagle_algorithm = True

            def log_message(self, format: str, *args: object) -> None:  # quiet test output
                return

            def handle(self) -> None:
                try:
                    super().handle()
                except (BrokenPipeError, ConnectionResetError, TimeoutError):
                    self.close_connection = True  # the client hung up between requests: fine

            def _any(self) -> None:
                headers = dict(self.headers.items())
                with server._lock:
                    server.seen.append(Seen(self.command, self.path, headers))
                exchange = Exchange(self.command, self.path, headers, self, server)
                try:
                    server._serve(exchange)
                except (TimeoutError, BrokenPipeError, ConnectionResetError):
                    self.close_connection = True  # the client gave up, as it should

            do_GET = do_HEAD = do_POST = do_PUT = do_PATCH = do_DELETE = _any

        return Handler

    def __enter__(self) -> HostileServer:
        return self.start()

    def __exit__(self, *_: object) -> None:
        self.stop()


# --- behaviours ---------------------------------------------------------------------------------


def answer(status: int, body: bytes = b"", headers: Iterable[tuple[str, str]] = ()) -> Behaviour:
    listed = list(headers)
    if not any(k.lower() == "content-type" for k, _ in listed):
        listed.append(("Content-Type", "application/json"))

    def run(exchange: Exchange) -> None:
        exchange.answer(status, listed, body)

    return run


def redirect(target: str | Callable[[Exchange], str], status: int = 307) -> Behaviour:
    """Redirect to `target`: a URL, or a function of the request (e.g. the same path on another server)."""

    def run(exchange: Exchange) -> None:
        location = target(exchange) if callable(target) else target
        exchange.answer(status, [("Location", location)])

    return run


def same_path_on(other: HostileServer) -> Callable[[Exchange], str]:
    return lambda exchange: other.url + exchange.path


def challenge(header: str, body: bytes = b'{"errors":[{"code":"UNAUTHORIZED"}]}') -> Behaviour:
    return answer(401, body, [("WWW-Authenticate", header)])


def claims_gzip(body: bytes, status: int = 200, content_type: str = "application/json") -> Behaviour:
    """A plain body labelled `Content-Encoding: gzip` (a proxy that mislabels what it passes on)."""

    def run(exchange: Exchange) -> None:
        exchange.answer(status, [("Content-Type", content_type), ("Content-Encoding", "gzip")], body)

    return run


def gzip_bomb(size: int, status: int = 200) -> Behaviour:
    """A small gzip body (about size / 200) that inflates to `size` bytes of zeros; built when first
    served, not when a test module is collected."""
    packed: list[bytes] = []

    def run(exchange: Exchange) -> None:
        if not packed:
            packer = zlib.compressobj(1, zlib.DEFLATED, 16 + zlib.MAX_WBITS)
            zeros = bytes(MiB)
            packed.append(b"".join(packer.compress(zeros) for _ in range(size // MiB)) + packer.flush())
        exchange.answer(status, [("Content-Type", "application/json"), ("Content-Encoding", "gzip")], packed[0])

    return run


def deep_json(depth: int = 100_000, *, key: str | None = None) -> bytes:
    """`[[[...]]]` nested `depth` deep, or `{"key": [[[...]]]}`: valid JSON no recursive parser survives."""
    nested = b"[" * depth + b"]" * depth
    return b'{"' + key.encode() + b'":' + nested + b"}" if key else nested


def stream(
    size: int, status: int = 200, *, length: bool = True, headers: Iterable[tuple[str, str]] = ()
) -> Behaviour:
    """`size` bytes of a JSON-looking body, written in 1 MiB pieces (never held in memory at once);
    with `length` False the body is delimited by closing the connection."""
    piece = b"a" * MiB

    def body() -> Iterator[bytes]:
        yield b'{"tags":["'
        left = size - 12
        while left > 0:
            yield piece[: min(left, MiB)]
            left -= MiB
        yield b'"]}'

    def run(exchange: Exchange) -> None:
        listed = [("Content-Type", "application/json"), *headers]
        if length:
            listed.append(("Content-Length", str(size + 1)))
        else:
            listed.append(("Connection", "close"))
            exchange.handler.close_connection = True
        exchange.head(status, listed)
        if exchange.method == "HEAD":
            return
        for part in body():
            exchange.write(part)

    return run


def drip(interval: float, *, in_headers: bool = False, total: int = 10_000) -> Behaviour:
    """One byte every `interval` seconds: of the body (after complete headers), or of the headers
    themselves. A request taking `total * interval` seconds in all, each read well within a timeout."""

    def run(exchange: Exchange) -> None:
        if in_headers:
            exchange.write(b"HTTP/1.1 200 OK\r\n")
            for _ in range(total):
                time.sleep(interval)
                exchange.write(b"X")  # a header line that never ends
            return
        exchange.head(200, [("Content-Type", "application/json"), ("Content-Length", str(total))])
        for _ in range(total):
            time.sleep(interval)
            exchange.write(b" ")

    return run


def read_slowly(bytes_per_second: float) -> Behaviour:
    """Take the request body at `bytes_per_second` (a slow link, with a small receive buffer so the
    kernel does not absorb it), then pass the request on to the upstream registry."""

    def run(exchange: Exchange) -> None:
        exchange.handler.connection.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 128 * 1024)
        exchange.read_body(bytes_per_second)
        exchange.server._forward(exchange)

    return BodyReader(run)


@dataclass
class TokenRealm:
    """A token endpoint that records what it is sent and hands out a token."""

    seen: list[dict[str, str]] = field(default_factory=list)

    def behaviour(self) -> Behaviour:
        def run(exchange: Exchange) -> None:
            self.seen.append(dict(exchange.headers))
            exchange.answer(200, [("Content-Type", "application/json")], b'{"token":"evil-token-123"}')

        return run
