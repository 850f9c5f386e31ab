"""Seeded, deterministic faults for the proxy: the ways real registries fail mid-publish.

Each decision comes from a hash of (seed, request kind, how many times that kind was seen),
so a seed replays the same faults whatever the timing. Faults are injected either before
the request reaches the registry (nothing happened) or after (it happened, but the answer
was lost) — clients must cope with both.
"""

from __future__ import annotations

import hashlib
import json
import re
import threading
import time
from collections import Counter
from email.utils import formatdate

from tests.support.proxy import ProxyRequest, ProxyResponse, Rule
from tests.support.rules import BearerTokenServer

_SESSION = re.compile(r"/blobs/uploads/[^/?]+")


def _error(status: int, code: str, message: str, headers: list[tuple[str, str]] | None = None) -> ProxyResponse:
    body = json.dumps({"errors": [{"code": code, "message": message}]}).encode()
    return ProxyResponse(status, [("Content-Type", "application/json"), *(headers or [])], body)


def _is_completing_put(request: ProxyRequest) -> bool:
    return request.method == "PUT" and "/blobs/uploads/" in request.route and "digest=" in request.query


def _digest_of(request: ProxyRequest) -> str:
    match = re.search(r"digest=([^&]+)", request.query)
    return match.group(1) if match else ""


class FaultInjector(Rule):
    """~15% 5xx, some 429 (Retry-After in seconds and as an HTTP date), the first completing
    PUT of each blob answered BLOB_UPLOAD_UNKNOWN, and a few completing PUTs cut mid-body.

    BLOB_UPLOAD_UNKNOWN is what distribution answers when a session is gone (expired, or
    served by a replica without the shared secret); registry-behaviour.md lists the causes.
    It is injected once per blob: a client that never reuses a session sees a new session
    id on every attempt, so "first PUT of each session" would fail every attempt forever.
    """

    def __init__(
        self, seed: int, *, error_rate: float = 0.15, throttle_rate: float = 0.015, cut_rate: float = 0.15
    ) -> None:
        self.seed = seed
        self.error_rate = error_rate
        self.throttle_rate = throttle_rate
        self.cut_rate = cut_rate
        self._seen: Counter[str] = Counter()
        self._lost_once: set[str] = set()
        self._lock = threading.Lock()
        self.injected: Counter[str] = Counter()

    def _roll(self, request: ProxyRequest, salt: str) -> float:
        kind = f"{request.method} {_SESSION.sub('/blobs/uploads/<session>', request.route)} {salt}"
        with self._lock:
            self._seen[kind] += 1
            nth = self._seen[kind]
        digest = hashlib.sha256(f"{self.seed}|{kind}|{nth}".encode()).digest()
        return int.from_bytes(digest[:8], "big") / 2**64

    def _count(self, name: str) -> None:
        with self._lock:
            self.injected[name] += 1

    def cut_body(self, head: ProxyRequest) -> bool:
        has_body = _is_completing_put(head) and int(head.header("Content-Length") or 0) > 0
        if has_body and self._roll(head, "cut") < self.cut_rate:
            self._count("cut-mid-body")
            return True
        return False

    def before(self, request: ProxyRequest) -> ProxyResponse | None:
        if _is_completing_put(request):
            key = f"{request.route.split('/blobs/')[0]}@{_digest_of(request)}"
            with self._lock:
                first = key not in self._lost_once
                self._lost_once.add(key)
            if first:
                self._count("blob-upload-unknown")
                return _error(404, "BLOB_UPLOAD_UNKNOWN", "blob upload unknown to registry")
        roll = self._roll(request, "before")
        if roll < self.throttle_rate:
            self._count("429")
            # Alternate the two Retry-After forms RFC 9110 allows.
            retry_after = "1" if int(roll * 1e6) % 2 else formatdate(time.time() + 1, usegmt=True)
            return _error(429, "TOOMANYREQUESTS", "rate limited", [("Retry-After", retry_after)])
        if roll < self.throttle_rate + self.error_rate / 2:
            status = (500, 502, 503, 504)[int(roll * 1e6) % 4]
            self._count(f"{status}-before")
            return _error(status, "UNAVAILABLE", "injected failure")
        return None

    def after(self, request: ProxyRequest, response: ProxyResponse) -> ProxyResponse:
        if self._roll(request, "after") < self.error_rate / 2:
            self._count("503-after")
            # The registry did the work; the client only loses the answer.
            return _error(503, "UNAVAILABLE", "injected failure after the registry answered")
        return response


class ExpiringTokens(BearerTokenServer):
    """Tokens that stop working after `max_uses` requests, as short-lived registry tokens do
    (GitLab's JWTs live 5-15 minutes; registry-behaviour.md): the client must fetch a new one."""

    def __init__(self, username: str, password: str, *, max_uses: int) -> None:
        super().__init__(username, password)
        self.max_uses = max_uses
        self._uses: Counter[str] = Counter()

    def before(self, request: ProxyRequest) -> ProxyResponse | None:
        scheme, _, token = (request.header("Authorization") or "").partition(" ")
        if scheme.lower() == "bearer" and token in self.tokens:
            with self._lock:
                self._uses[token] += 1
                if self._uses[token] > self.max_uses:
                    del self.tokens[token]
        return super().before(request)


class RefuseAfter(Rule):
    """A registry that starts refusing everything after `healthy` requests (a deploy gone wrong)."""

    def __init__(self, healthy: int) -> None:
        self.healthy = healthy
        self.count = 0
        self._lock = threading.Lock()

    def before(self, request: ProxyRequest) -> ProxyResponse | None:
        with self._lock:
            self.count += 1
            broken = self.count > self.healthy
        return _error(503, "UNAVAILABLE", "registry is down") if broken else None
