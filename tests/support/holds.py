"""Proxy rules that keep a run's requests waiting, so a test can stop the run while they are in flight.

Neither forwards what it holds: once released, a held request's connection is closed without an
answer, so the registry holds exactly what was forwarded before, and a report can be checked
against it tag by tag. A held request stands for a slow registry or a slow uplink; the client
that is being stopped must not wait for either.
"""

from __future__ import annotations

import threading

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
