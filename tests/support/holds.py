"""Proxy rules that keep a run's requests waiting: so a test can stop the run while they are in
flight, or see which of them a client has out at once.

HoldAfterTags and StallUpload never forward what they hold: once released, a held request's
connection is closed without an answer, so the registry holds exactly what was forwarded before,
and a report can be checked against it tag by tag. A held request stands for a slow registry or a
slow uplink; the client that is being stopped must not wait for either. Gather and Delay forward
everything, later.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

from tests.support.proxy import DropConnection, ProxyRequest, ProxyResponse, Rule

_WAIT = 300.0  # never reached in a passing test: the test releases the hold as it ends


def _is_tag_push(request: ProxyRequest) -> bool:
    return request.method == "PUT" and "/manifests/" in request.route


class HoldAfterTags(Rule):
    """Once `tags` manifest PUTs were answered, every later request is held (blocked reads)."""

    def __init__(self, tags: int) -> None:
        self.tags = tags
        self.pushed = 0
        self.held: list[str] = []  # "METHOD path" of each held request
        self.holding = threading.Event()
        self._release = threading.Event()
        self._lock = threading.Lock()

    def before(self, request: ProxyRequest) -> ProxyResponse | None:
        with self._lock:
            hold = self.pushed >= self.tags
            if hold:
                self.held.append(f"{request.method} {request.route}")
        if not hold:
            return None
        self.holding.set()
        self._release.wait(_WAIT)
        raise DropConnection()

    def after(self, request: ProxyRequest, response: ProxyResponse) -> ProxyResponse:
        if _is_tag_push(request) and response.status == 201:
            with self._lock:
                self.pushed += 1
        return response

    def release(self) -> None:
        self._release.set()


class StallUpload(Rule):
    """The first blob upload with a body over `larger_than` bytes is never read (a blocked write):
    the client's send buffer fills and its write waits, as on an uplink that stopped moving."""

    def __init__(self, larger_than: int) -> None:
        self.larger_than = larger_than
        self.holding = threading.Event()
        self._release = threading.Event()
        self._lock = threading.Lock()

    def cut_body(self, head: ProxyRequest) -> bool:
        size = int(head.header("Content-Length") or 0)
        if "/blobs/uploads/" not in head.route or size <= self.larger_than:
            return False
        with self._lock:
            if self.holding.is_set():
                return False
            self.holding.set()
        self._release.wait(_WAIT)
        return True  # then read half of the body and close: nothing is committed

    def release(self) -> None:
        self._release.set()


class Gather(Rule):
    """Holds each request `matches` picks until `count` of them are held at once (then lets them all
    go), or until `timeout` passes: requests sent one after another never meet, and `most` (the most
    held at once) says so. It changes no request and no answer, only when they are forwarded."""

    def __init__(self, matches: Callable[[ProxyRequest], bool], count: int, timeout: float = 10.0) -> None:
        self.matches = matches
        self.count = count
        self.timeout = timeout
        self.most = 0
        self._waiting = 0
        self._met = threading.Event()
        self._lock = threading.Lock()

    def before(self, request: ProxyRequest) -> ProxyResponse | None:
        if not self.matches(request) or self._met.is_set():
            return None
        with self._lock:
            self._waiting += 1
            self.most = max(self.most, self._waiting)
            if self._waiting >= self.count:
                self._met.set()
        self._met.wait(self.timeout)
        with self._lock:
            self._waiting -= 1
        return None


class Delay(Rule):
    """Every request waits `seconds` before it is forwarded, as over a longer round trip: requests a
    client has out at once then overlap at the proxy long enough to be counted."""

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds

    def before(self, request: ProxyRequest) -> ProxyResponse | None:
        time.sleep(self.seconds)
        return None
