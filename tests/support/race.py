"""A proxy rule that shuffles the requests of runs publishing at the same time.

`Jitter` holds each request for a random few milliseconds before it is forwarded, as a network
with varying latency does. It changes no request and no answer: it only changes the order in
which the registry sees the requests of concurrent clients, widening the window in which two runs
interleave their tag pushes.
"""

from __future__ import annotations

import random
import threading
import time

from tests.support.proxy import ProxyRequest, ProxyResponse, Rule


class Jitter(Rule):
    def __init__(self, seed: int, *, most: float = 0.03) -> None:
        self.most = most
        self._rng = random.Random(seed)
        self._lock = threading.Lock()

    def before(self, request: ProxyRequest) -> ProxyResponse | None:
        with self._lock:
            delay = self._rng.uniform(0, self.most)
        time.sleep(delay)
        return None
