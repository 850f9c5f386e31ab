"""The one httpx client a run uses: TLS, proxies, plain-HTTP policy, a request log, a User-Agent.

- TLS is verified with the operating system's trust store (truststore), plus the CA
  certificates of `ca_file` when given.
- Plain HTTP and unverified TLS are for loopback hosts and for hosts named in
  `insecure_hosts` only. Those are first spoken to in plain HTTP (as the reference CLI
  does for localhost); one that turns out to speak TLS is switched to HTTPS for the rest
  of the run — verified, unless it was named insecure. A request to any other host over
  plain HTTP (a token realm or a redirect pointing there) is refused, never sent.
- HTTP_PROXY / HTTPS_PROXY / ALL_PROXY and NO_PROXY are honoured (lower or upper case), as the
  standard library reads them, plus CIDR ranges in NO_PROXY.
- `timeout` bounds each request as a whole (deadline.py), and every body is decoded and
  bounded in size here (bodies.py), whatever the server sends.
- HTTP/2 is used when asked for and the `h2` package is installed (`featurepub[http2]`); its one
  connection carries every thread's requests at once, made safe for that in h2_threads.py.
- `open_ahead` opens connections before the requests that will use them (preconnect.py).
- Connections are kept in several pools of about `POOL_SHARD` each, requests spread over them in
  turn: httpcore's pool walks every connection it holds for each other connection, twice per
  request, under one lock, which at 32 connections cost more CPU than the requests themselves
  (a 100-feature publish: 2.1 s of CPU at 32 requests in flight, 4.9 s at 64).
- Every request is reported to an optional `log` hook as one line (method, URL, status),
  passed through the redactor first: the library itself never prints.
"""

from __future__ import annotations

import ipaddress
import itertools
import ssl
import threading
import time
import urllib.request  # httpx imports it too: no cost at start-up (python -X importtime)
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

import httpx

from featurepub import __version__
from featurepub.errors import ConfigError, RegistryContext, RegistryError
from featurepub.redact import redact
from featurepub.reference import is_loopback
from featurepub.registry.bodies import ACCEPT_ENCODING, bounded
from featurepub.registry.deadline import Deadline, DeadlineBody, RearmingBody, applying, bound_by_deadlines

if TYPE_CHECKING:
    from featurepub.registry.preconnect import WarmConnections

USER_AGENT = f"featurepub/{__version__} (+https://github.com/featurepub/featurepub)"
POOL_SHARD = 8  # connections per pool (HTTP/1.1); HTTP/2 carries every request on one connection

# What TLS servers answer to a plain HTTP request (Go's net/http, nginx).
_TLS_PORT_ANSWERS = (b"http request to an https server", b"plain http request was sent to https port")

Log = Callable[[str], None]


@dataclass(frozen=True)
class TransportOptions:
    connect_timeout: float = 15.0
    # Generous limits: a large layer PUT can take minutes before the registry answers.
    read_timeout: float = 300.0
    write_timeout: float = 300.0
    # Each request as a whole; an upload per piece of its body, then its answer (deadline.py).
    request_timeout: float = 300.0
    insecure_hosts: frozenset[str] = field(default_factory=frozenset)
    max_connections: int = 8
    ca_file: str | Path | None = None
    http2: bool = False
    # Called with one redacted line per request (and per scheme switch); None: no request log.
    log: Log | None = field(default=None, compare=False, repr=False)


def host_of(url: httpx.URL) -> str:
    """`host[:port]` of a URL as featurepub names registries (IPv6 in brackets, lowercase)."""
    return url.netloc.decode("ascii").lower()


def _named(host: str, names: frozenset[str]) -> bool:
    """Whether `host` (host[:port]) is named: exactly, or by its host part without a port."""
    if host in names:
        return True
    bare = host.rsplit(":", 1)[0] if not host.endswith("]") else host
    return bare in names


def safe_url(url: httpx.URL | str) -> str:
    """A URL fit for a log line: no user-info password, no token-like query values."""
    return redact(str(url))


def make_ssl_context(ca_file: str | Path | None = None) -> ssl.SSLContext:
    """The system trust store (truststore), plus the CA certificates in `ca_file`."""
    import truststore

    context = truststore.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    if ca_file is not None:
        try:
            context.load_verify_locations(cafile=str(ca_file))
        except (OSError, ssl.SSLError) as exc:
            raise ConfigError(
                f"--ca-file {ca_file}: cannot load CA certificates ({getattr(exc, 'strerror', None) or exc})",
                hint="give a PEM file holding one or more CA certificates",
            ) from None
    return context


def proxies_from_environment() -> dict[str, str]:
    """Proxy URLs by scheme (`http`, `https`, `all`, and `no` for NO_PROXY) from the `<scheme>_proxy`
    variables, read by the standard library (lower case wins; HTTP_PROXY is ignored inside a CGI
    request, where a client may have set it)."""
    return urllib.request.getproxies_environment()


def bypasses_proxy(url: httpx.URL, no_proxy: str) -> bool:
    """NO_PROXY: `*`, host names (a leading `.` or `*.` optional, matching sub-domains too),
    `host:port`, comma or space separated, as the standard library matches them; and IP addresses
    and CIDR ranges, which it does not know (curl and Go do)."""
    host = url.host.lower()
    port = url.port or (443 if url.scheme == "https" else 80)
    entries = no_proxy.replace(" ", ",").split(",")
    if "*" in entries:
        return True
    try:
        address: ipaddress.IPv4Address | ipaddress.IPv6Address | None = ipaddress.ip_address(host)
    except ValueError:
        address = None
    names = []
    for entry in entries:
        if address is not None:
            try:
                if address in ipaddress.ip_network(entry.strip().strip("[]"), strict=False):
                    return True
                continue
            except ValueError:
                pass
        names.append(entry.strip().removeprefix("*."))
    shown = f"[{host}]" if ":" in host else host
    # Undocumented (typeshed omits it), but in urllib.request on every platform since Python 3.0;
    # unlike proxy_bypass it never consults the operating system's settings.
    bypass = urllib.request.proxy_bypass_environment  # type: ignore[attr-defined]
    return bool(bypass(f"{shown}:{port}", {"no": ",".join(names)}))


def _cert_problem(exc: BaseException) -> str | None:
    """The reason when `exc` (or what caused it) is a certificate verification failure."""
    seen: BaseException | None = exc
    for _ in range(8):
        if seen is None:
            break
        if isinstance(seen, ssl.SSLCertVerificationError):
            return str(seen.verify_message or seen.reason or "certificate verify failed")
        text = str(seen)
        if "CERTIFICATE_VERIFY_FAILED" in text:
            reason = text.split("certificate verify failed:", 1)[-1]
            return reason.split("(_ssl.c", 1)[0].strip(" :") or "certificate verify failed"
        seen = seen.__cause__ or seen.__context__
    return None


class RegistryTransport(httpx.BaseTransport):
    """Chooses the connection (proxy, TLS verification) per request and enforces the plain-HTTP policy."""

    def __init__(self, options: TransportOptions) -> None:
        self.options = options
        self._insecure = frozenset(h.lower() for h in options.insecure_hosts)
        # Built on first TLS use (loading the trust store costs tens of milliseconds), except that a
        # bad --ca-file fails now, clearly.
        self._verified_context = make_ssl_context(options.ca_file) if options.ca_file is not None else None
        self._proxies = proxies_from_environment()
        self._pool: dict[tuple[str | None, str], _Pools] = {}
        self._warm: dict[tuple[str | None, str], WarmConnections] = {}
        self._tls_hosts: set[str] = set()  # allowed plain HTTP, but found speaking TLS
        self._plain_hosts: set[str] = set()  # allowed plain HTTP, and answering in it
        self._lock = threading.Lock()
        if options.http2:
            self._inner(None, "verified")  # fail now, clearly, when h2 is missing

    # --- policy -------------------------------------------------------------------------------
    def plain_allowed(self, host: str) -> bool:
        return is_loopback(host) or _named(host, self._insecure)

    def verifies(self, host: str) -> bool:
        return not _named(host, self._insecure)

    def proxy_for(self, url: httpx.URL) -> str | None:
        proxy = self._proxies.get(url.scheme) or self._proxies.get("all")
        if not proxy or bypasses_proxy(url, self._proxies.get("no", "")):
            return None
        return proxy if "://" in proxy else f"http://{proxy}"

    def _inner(self, proxy: str | None, tls: str) -> httpx.HTTPTransport:
        """A pool for `proxy` and `tls`: "verified", "unverified", or "none" (plain HTTP straight to
        the host, which needs no TLS context at all); each call the next of its shards."""
        key = (proxy, tls)
        with self._lock:
            pools = self._pool.get(key)
            if pools is None:
                pools = self._pool[key] = self._new_pools(key)
        return pools.next()

    def _new_pools(self, key: tuple[str | None, str]) -> _Pools:
        proxy, tls = key
        shards = 1 if self.options.http2 else -(-self.options.max_connections // POOL_SHARD)
        return _Pools([self._new_pool(proxy, tls) for _ in range(shards)])

    def _new_pool(self, proxy: str | None, tls: str) -> httpx.HTTPTransport:
        """One httpx transport (an httpcore pool); called with the lock held."""
        key = (proxy, tls)
        verify: ssl.SSLContext | bool = False
        if tls == "verified":
            if self._verified_context is None:
                self._verified_context = make_ssl_context()
            verify = self._verified_context
        limits = httpx.Limits(
            max_connections=self.options.max_connections,
            max_keepalive_connections=self.options.max_connections,
        )
        try:
            transport = httpx.HTTPTransport(
                verify=verify, http2=self.options.http2, limits=limits, proxy=proxy, trust_env=False
            )
        except ImportError:
            raise ConfigError(
                "HTTP/2 needs the h2 package", hint="pip install 'featurepub[http2]', or leave HTTP/2 off"
            ) from None
        if proxy is None:
            from featurepub.registry.preconnect import warm_connections

            warm = warm_connections(getattr(transport, "_pool", None), self._warm.get(key))
            if warm is not None:
                self._warm[key] = warm
        if self.options.http2:
            from featurepub.registry.h2_threads import guard_http2

            guard_http2(transport)
        return bound_by_deadlines(transport)

    def open_ahead(self, url: str, count: int) -> None:
        """Start opening `count` connections for requests to `url` (none through a proxy; one when HTTP/2
        may carry them all)."""
        target = httpx.URL(url)
        host = host_of(target)
        if self.proxy_for(target) is not None or count < 1:
            return
        if target.scheme == "http" and host in self._tls_hosts:
            target = target.copy_with(scheme="https")
        if target.scheme == "https":
            tls = "verified" if self.verifies(host) else "unverified"
            count = 1 if self.options.http2 else count
        else:
            tls = "none"
        self._inner(None, tls)
        warm = self._warm.get((None, tls))
        if warm is not None:
            port = target.port or (443 if target.scheme == "https" else 80)
            warm.open_ahead(target.host, port, count, self.options.connect_timeout)

    def _log(self, line: str) -> None:
        if self.options.log is not None:
            self.options.log(redact(line))

    # --- sending ------------------------------------------------------------------------------
    def handle_request(self, request: httpx.Request) -> httpx.Response:
        host = host_of(request.url)
        # Token requests are built by the auth flow, not the client: they get the User-Agent here.
        request.headers.setdefault("User-Agent", USER_AGENT)
        # Bodies are decoded in bodies.py, which knows these two; not whatever httpx could decode.
        request.headers["Accept-Encoding"] = ACCEPT_ENCODING
        if request.url.scheme == "http":
            if host in self._tls_hosts:
                request.url = request.url.copy_with(scheme="https")
            elif not self.plain_allowed(host):
                raise RegistryError(
                    f"refusing plain HTTP to {host} ({request.method} {safe_url(request.url)})",
                    context=RegistryContext(host),
                    hint=f"plain HTTP is only used for localhost and hosts named with --insecure {host}",
                )
        deadline = Deadline(self.options.request_timeout)
        if not isinstance(request.stream, httpx.ByteStream) and isinstance(request.stream, httpx.SyncByteStream):
            request.stream = RearmingBody(request.stream, deadline)
        with applying(deadline):
            return self._handle(request, host, deadline)

    def _handle(self, request: httpx.Request, host: str, deadline: Deadline) -> httpx.Response:
        undecided = request.url.scheme == "http" and host not in self._plain_hosts
        try:
            response = self._send(request, host, deadline)
        except (httpx.RemoteProtocolError, httpx.ReadError, httpx.ConnectError) as exc:
            # A TLS server may drop a plain request without an answer.
            if not (undecided and isinstance(exc, httpx.RemoteProtocolError | httpx.ReadError)):
                raise
            return self._switch_to_tls(request, host, deadline, f"it closed the connection ({type(exc).__name__})")
        if undecided:
            if response.status_code == 400 and self._looks_like_tls_port(request, response, host, deadline):
                response.close()
                return self._switch_to_tls(request, host, deadline, "it answered that it speaks HTTPS")
            with self._lock:
                self._plain_hosts.add(host)
        return response

    def _looks_like_tls_port(
        self, request: httpx.Request, response: httpx.Response, host: str, deadline: Deadline
    ) -> bool:
        """Whether a 400 to a plain request says "this port speaks TLS". An answer to HEAD has no body
        to tell, so then a plain GET /v2/ (no credentials) asks the same question."""
        if request.method == "HEAD":
            probe = httpx.Request(
                "GET", request.url.copy_with(path="/v2/", query=None), extensions=request.extensions
            )
            answer = self._send(probe, host, deadline)
            try:
                if answer.status_code != 400:
                    return False
                body = answer.read().lower()
            finally:
                answer.close()
        else:
            body = response.read().lower()
        return any(marker in body for marker in _TLS_PORT_ANSWERS)

    def _switch_to_tls(self, request: httpx.Request, host: str, deadline: Deadline, why: str) -> httpx.Response:
        with self._lock:
            self._tls_hosts.add(host)
        check = "verified" if self.verifies(host) else "NOT verified (--insecure)"
        self._log(f"{host} speaks TLS ({why}): using https, certificate {check}")
        if not isinstance(request.stream, httpx.ByteStream):
            raise RegistryError(
                f"{host} speaks HTTPS; the streamed request has to be sent again",
                context=RegistryContext(host),
                retryable=True,
            )
        request.url = request.url.copy_with(scheme="https")
        return self._send(request, host, deadline)

    def _send(self, request: httpx.Request, host: str, deadline: Deadline) -> httpx.Response:
        proxy = self.proxy_for(request.url)
        if request.url.scheme == "https":
            tls = "verified" if self.verifies(host) else "unverified"
        else:
            tls = "none" if proxy is None else "verified"  # an https:// proxy is verified
        transport = self._inner(proxy, tls)
        started = time.monotonic()
        try:
            response = transport.handle_request(request)
        except UnicodeError:
            # Raised while encoding the host name for DNS (IDNA): a label over 63 characters, say.
            raise RegistryError(
                f"{request.url.host[:80]!r} is not a valid host name", context=RegistryContext(host[:80])
            ) from None
        except httpx.TransportError as exc:
            self._log(f"{request.method} {safe_url(request.url)} -> failed: {type(exc).__name__}")
            problem = _cert_problem(exc) if request.url.scheme == "https" else None
            if problem is not None:
                raise RegistryError(
                    f"the TLS certificate of {host} is not trusted: {problem}",
                    context=RegistryContext(host),
                    hint=f"give its CA certificate with --ca-file FILE, or use --insecure {host} "
                    "to skip verification for this host only",
                ) from None
            raise
        assert isinstance(response.stream, httpx.SyncByteStream)
        response.stream = DeadlineBody(response.stream, deadline)
        response = bounded(response, request)
        if response.has_redirect_location:
            _check_location(request, response, host)
        if self.options.log is None:
            return response
        elapsed = (time.monotonic() - started) * 1000
        version = response.extensions.get("http_version", b"HTTP/1.1")
        shown = version.decode("ascii", "replace") if isinstance(version, bytes) else str(version)
        self._log(
            f"{request.method} {safe_url(request.url)} -> {response.status_code} ({shown}, {elapsed:.0f} ms)"
        )
        return response

    def close(self) -> None:
        with self._lock:
            transports = [transport for pools in self._pool.values() for transport in pools.shards]
            warm = list(self._warm.values())
            self._pool.clear()
            self._warm.clear()
        for backend in warm:
            backend.close()
        for transport in transports:
            transport.close()


class _Pools:
    """The shards of one kind of pool, handed out in turn."""

    def __init__(self, shards: list[httpx.HTTPTransport]) -> None:
        self.shards = shards
        self._turn = itertools.count()

    def next(self) -> httpx.HTTPTransport:
        return self.shards[next(self._turn) % len(self.shards)]


def _check_location(request: httpx.Request, response: httpx.Response, host: str) -> None:
    """A redirect must name a URL: said here, where the registry is known, rather than left to
    httpx, which would call an unparsable Location a protocol error (and so worth retrying)."""
    try:
        request.url.join(response.headers["Location"])
    except httpx.InvalidURL as exc:
        response.close()
        raise RegistryError(
            f"HTTP {response.status_code} redirects to an invalid URL ({exc})", context=RegistryContext(host)
        ) from None


def make_http_client(
    options: TransportOptions, auth: httpx.Auth | None, transport: RegistryTransport | None = None
) -> httpx.Client:
    timeout = httpx.Timeout(
        connect=options.connect_timeout, read=options.read_timeout, write=options.write_timeout, pool=None
    )
    return httpx.Client(
        auth=auth,
        timeout=timeout,
        headers={"User-Agent": USER_AGENT},
        # RegistryClient follows redirects itself, one request at a time, so that the auth flow
        # only ever answers a challenge from the host it sent the request to.
        follow_redirects=False,
        # Proxies and TLS come from RegistryTransport, which reads the proxy variables itself.
        trust_env=False,
        transport=transport or RegistryTransport(options),
    )
