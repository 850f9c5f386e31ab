"""Transport: TLS verified against the system store plus --ca-file, --insecure per host, plain HTTP
only for loopback and named hosts, HTTP/2, the User-Agent, and credentials that never follow a
request to another host."""

from __future__ import annotations

import hashlib
import json
import secrets
import sys
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import httpx
import pytest

from featurepub import __version__, api
from featurepub.errors import RegistryError
from tests.integration.conftest import Accounts, write_feature
from tests.support.proxy import ProxyRequest, ProxyResponse, RegistryProxy, Rule
from tests.support.publishing import featurepub
from tests.support.registry import RegistryServer
from tests.support.rules import BearerTokenServer
from tests.support.secure import Secure, loopback_only, token_digest


def oci_auth(server: RegistryServer | RegistryProxy, accounts: Accounts) -> dict[str, str]:
    return {"DEVCONTAINERS_OCI_AUTH": f"{server.host}|{accounts.user}|{accounts.password}"}


# --- TLS ---------------------------------------------------------------------------------------------


def test_untrusted_certificate_fails_fast_and_says_what_to_do(
    secure: Secure, accounts: Accounts, tmp_path: Path, namespace: str
) -> None:
    started = time.monotonic()
    run = featurepub(
        "publish",
        write_feature(tmp_path),
        "-r",
        secure.basic.host,
        "-n",
        namespace,
        env=oci_auth(secure.basic, accounts),
    )
    assert run.code == 4, run.stderr
    assert f"the TLS certificate of {secure.basic.host} is not trusted" in run.stderr
    assert "--ca-file" in run.stderr
    assert f"--insecure {secure.basic.host}" in run.stderr
    assert time.monotonic() - started < 20  # a certificate problem is not retried with backoff


def test_ca_file_makes_the_certificate_trusted(
    secure: Secure, accounts: Accounts, tmp_path: Path, namespace: str
) -> None:
    args: list[str | Path] = ["-r", secure.basic.host, "-n", namespace, "--ca-file", secure.pki.ca_file, "-v"]
    run = featurepub("publish", write_feature(tmp_path), *args, env=oci_auth(secure.basic, accounts))
    assert run.code == 0, run.stderr
    assert f"{secure.basic.host} speaks TLS" in run.stderr
    assert "certificate verified" in run.stderr
    assert f"PUT https://{secure.basic.host}/v2/{namespace}/tool/manifests/1.0.0 -> 201" in run.stderr


def test_insecure_host_skips_verification_for_that_host_only(
    secure: Secure, accounts: Accounts, tmp_path: Path, namespace: str
) -> None:
    host = secure.basic.host
    run = featurepub(
        "publish",
        write_feature(tmp_path),
        "-r",
        host,
        "-n",
        namespace,
        "--insecure",
        host,
        "-v",
        env=oci_auth(secure.basic, accounts),
    )
    assert run.code == 0, run.stderr
    assert "certificate NOT verified (--insecure)" in run.stderr
    # Another host (the token realm of the token registry) is still verified.
    other = featurepub(
        "publish",
        write_feature(tmp_path / "b"),
        "-r",
        secure.token.host,
        "-n",
        namespace,
        "--insecure",
        secure.token.host,
        env=oci_auth(secure.token, accounts),
    )
    assert other.code == 4
    assert f"the TLS certificate of localhost:{secure.tokens.port} is not trusted" in other.stderr


def test_unreadable_ca_file_is_invalid_input(secure: Secure, tmp_path: Path, namespace: str) -> None:
    bogus = tmp_path / "not-a-ca.pem"
    bogus.write_text("hello\n")
    run = featurepub(
        "publish", write_feature(tmp_path), "-r", secure.basic.host, "-n", namespace, "--ca-file", bogus
    )
    assert run.code == 2
    assert "cannot load CA certificates" in run.stderr


def test_plain_http_to_a_host_that_is_not_named_is_refused(
    make_proxy: Callable[..., RegistryProxy], tmp_path: Path, namespace: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A registry whose token realm is plain HTTP on another host: featurepub would send the password
    # there in clear. Nothing is sent (and in this process nothing but loopback could be reached anyway).
    server = BearerTokenServer("alice", "pw-" + secrets.token_hex(6))
    server.realm = "http://auth.example.invalid/token"
    proxy = make_proxy(server)
    monkeypatch.setenv("DEVCONTAINERS_OCI_AUTH", f"{proxy.host}|alice|{server.password}")
    with loopback_only(monkeypatch):
        try:
            report = api.publish(write_feature(tmp_path), registry=proxy.host, namespace=namespace)
            assert not report.ok
            text = json.dumps(report.summary_json())
        except RegistryError as exc:  # raised or recorded in the report: either way, said clearly
            text = f"{exc} exit {exc.exit_code}"
    assert "refusing plain HTTP to auth.example.invalid" in text
    assert "--insecure auth.example.invalid" in text
    assert server.token_requests == []


def test_http2_when_asked(secure: Secure, accounts: Accounts, tmp_path: Path, namespace: str) -> None:
    lines: list[str] = []
    report = api.publish(
        write_feature(tmp_path),
        registry=secure.basic.host,
        namespace=namespace,
        username=accounts.user,
        password=accounts.password,
        ca_file=secure.pki.ca_file,
        http2=True,
        log=lines.append,
    )
    assert report.ok, report.summary_json()
    tls_lines = [line for line in lines if "https://" in line and " -> " in line]
    assert tls_lines
    assert all("(HTTP/2," in line for line in tls_lines), tls_lines


def test_http2_option_of_the_cli(secure: Secure, accounts: Accounts, tmp_path: Path, namespace: str) -> None:
    host = secure.basic.host
    common = ["-r", host, "-n", namespace, "--ca-file", str(secure.pki.ca_file), "-v"]
    run = featurepub("publish", write_feature(tmp_path), *common, "--http2", env=oci_auth(secure.basic, accounts))
    assert run.code == 0, run.stderr
    answered = [line for line in run.stderr.splitlines() if "https://" in line and " -> " in line]
    assert answered and all("(HTTP/2," in line for line in answered), answered
    again = featurepub("publish", write_feature(tmp_path / "b"), *common, env=oci_auth(secure.basic, accounts))
    assert again.code == 0, again.stderr
    assert "(HTTP/1.1," in again.stderr and "(HTTP/2," not in again.stderr


class StreamsOnTheWire:
    """httpcore's trace of each request (its `trace` extension): the TLS connections opened, and the
    most HTTP/2 streams that had sent their HEADERS and were still waiting for an answer at once."""

    def __init__(self) -> None:
        self.handshakes = 0
        self.peak = 0
        self._stream: dict[int, int] = {}  # per thread: the stream of its request (traced in its thread)
        self._waiting: set[int] = set()
        self._lock = threading.Lock()

    def attach(self, request: httpx.Request) -> None:
        request.extensions["trace"] = self.event

    def event(self, name: str, info: dict[str, Any]) -> None:
        thread = threading.get_ident()
        with self._lock:
            if name == "connection.start_tls.complete":
                self.handshakes += 1
            elif name == "http2.send_request_headers.started":
                self._stream[thread] = info["stream_id"]
            elif name == "http2.send_request_headers.complete":
                self._waiting.add(self._stream[thread])
                self.peak = max(self.peak, len(self._waiting))
            elif name.startswith("http2.receive_response_headers.") and not name.endswith(".started"):
                self._waiting.discard(self._stream[thread])


def test_http2_connection_carries_many_threads_requests_at_once(
    secure: Secure, accounts: Accounts, namespace: str
) -> None:
    # httpcore 1.0.9 lets threads sharing an HTTP/2 connection take the same stream id, or open
    # stream 13 before stream 11 (h2: StreamClosedError, "LocalProtocolError: 11"); h2_threads.py.
    threads, each = 16, 20
    lines: list[str] = []
    target = api.open_registry(
        secure.basic.host,
        username=accounts.user,
        password=accounts.password,
        ca_file=secure.pki.ca_file,
        http2=True,
        log=lines.append,
        requests_in_flight=threads,
        timeout=30,  # a request lost between threads fails the test in 30 s, not 300
    )
    client = target.client
    retries: list[str] = []
    client.on_retry = lambda context, reason, attempt, wait: retries.append(reason)
    wire = StreamsOnTheWire()
    client.http.event_hooks["request"].append(wire.attach)
    repository = f"{namespace}/tool"

    def asks(thread: int) -> list[bool]:
        digests = [f"sha256:{hashlib.sha256(f'{thread}/{n}'.encode()).hexdigest()}" for n in range(each)]
        return [client.blob_exists(repository, digest) for digest in digests]

    # Threads switched 50 times as often as by default: the races show in every run, not in two of three.
    switching = sys.getswitchinterval()
    sys.setswitchinterval(switching / 50)
    try:
        with ThreadPoolExecutor(threads) as pool:
            answers = [found for thread in pool.map(asks, range(threads)) for found in thread]
    finally:
        sys.setswitchinterval(switching)
        target.close()
    assert answers == [False] * threads * each
    assert retries == [] and not [line for line in lines if "failed" in line], lines
    answered = [line for line in lines if "https://" in line and " -> " in line]  # the first few probe http://
    assert len(answered) >= threads * each  # and a 401 for each request sent before the credentials were known
    assert all("(HTTP/2," in line for line in answered), [line for line in answered if "(HTTP/2," not in line]
    assert wire.handshakes == 1
    assert wire.peak > 1, "the requests went out one at a time"
    assert client.in_flight.peak[False] == threads


def test_user_agent_names_featurepub_and_its_version(
    secure: Secure, accounts: Accounts, tmp_path: Path, namespace: str
) -> None:
    before = len(secure.tokens.requests)
    run = featurepub(
        "publish",
        write_feature(tmp_path),
        "-r",
        secure.token.host,
        "-n",
        namespace,
        "--ca-file",
        secure.pki.ca_file,
        env=oci_auth(secure.token, accounts),
    )
    assert run.code == 0, run.stderr
    agents = {r.user_agent for r in secure.tokens.requests[before:]}
    assert agents
    assert all(agent.startswith(f"featurepub/{__version__} ") for agent in agents)
    assert token_digest(secure, f"{namespace}/tool", "1.0.0") == run.json["tool"]["digest"]


# --- credentials never leave the registry's host -------------------------------------------------------


class Capture(Rule):
    """Another host: records the headers it is sent; answers tags/list itself, forwards the rest."""

    def __init__(self) -> None:
        self.seen: list[tuple[str, str, str | None]] = []

    def before(self, request: ProxyRequest) -> ProxyResponse | None:
        self.seen.append((request.method, request.route, request.header("Authorization")))
        if request.route.endswith("/tags/list"):
            return ProxyResponse(200, [("Content-Type", "application/json")], b'{"name": "x", "tags": []}')
        return None


class RedirectAuthenticated(Rule):
    """Redirect an authenticated read to another host, as registries do to blob storage (S3, a CDN)."""

    def __init__(self, method: str, suffix: str) -> None:
        self.method = method
        self.suffix = suffix
        self.target = ""
        self.redirected = 0

    def before(self, request: ProxyRequest) -> ProxyResponse | None:
        if (
            request.method == self.method
            and request.route.endswith(self.suffix)
            and request.header("Authorization")
        ):
            self.redirected += 1
            return ProxyResponse(307, [("Location", f"{self.target}{request.path}")])
        return None


class ForeignUploadLocation(Rule):
    """Answer the upload POST with an absolute Location on another host."""

    def __init__(self) -> None:
        self.target = ""

    def after(self, request: ProxyRequest, response: ProxyResponse) -> ProxyResponse:
        location = response.header("Location")
        if request.method == "POST" and location and response.status == 202:
            path = location.split("://", 1)[-1].partition("/")[2]
            response.set_header("Location", f"{self.target}/{path}")
        return response


@pytest.mark.parametrize("kind", ["basic", "bearer"])
def test_cross_host_redirect_does_not_carry_the_authorization_header(
    kind: str,
    plain_basic: RegistryServer,
    registry: RegistryServer,
    accounts: Accounts,
    tmp_path: Path,
    namespace: str,
) -> None:
    capture = Capture()
    other = RegistryProxy(registry.url, [capture]).start()
    redirect = RedirectAuthenticated("GET", "/manifests/latest")  # the collection, read first
    redirect.target = f"http://127.0.0.1:{other.port}"  # localhost -> 127.0.0.1: another host
    if kind == "basic":
        front = RegistryProxy(plain_basic.url, [redirect]).start()
    else:
        tokens = BearerTokenServer(accounts.user, accounts.password)
        front = RegistryProxy(registry.url, [redirect, tokens]).start()  # the token rule strips the header
        tokens.realm = f"http://{front.host}/token"
    try:
        run = featurepub(
            "publish",
            write_feature(tmp_path),
            "-r",
            front.host,
            "-n",
            namespace,
            "-v",
            env=oci_auth(front, accounts),
        )
    finally:
        front.stop()
        other.stop()
    assert redirect.redirected >= 1
    assert capture.seen, "the redirect was not followed"
    assert all(auth is None for _, _, auth in capture.seen), capture.seen
    assert run.code == 0, run.stderr


def test_upload_location_on_another_host_gets_no_credentials(
    plain_basic: RegistryServer, accounts: Accounts, tmp_path: Path, namespace: str
) -> None:
    capture = Capture()
    other = RegistryProxy(plain_basic.url, [capture]).start()
    foreign = ForeignUploadLocation()
    foreign.target = f"http://127.0.0.1:{other.port}"
    front = RegistryProxy(plain_basic.url, [foreign]).start()
    try:
        run = featurepub(
            "publish", write_feature(tmp_path), "-r", front.host, "-n", namespace, env=oci_auth(front, accounts)
        )
    finally:
        front.stop()
        other.stop()
    puts = [seen for seen in capture.seen if seen[0] == "PUT"]
    assert puts, "the upload never went to the other host"
    assert all(auth is None for _, _, auth in capture.seen)
    assert run.code != 0  # the other host wants credentials featurepub will not give it
