"""How many requests a run has out at once: two limits per registry, from its profile.

Small requests (HEAD, GET, manifest PUT, starting an upload, a mount) share one limit; requests
that carry a blob's bytes (at least `LARGE_BODY`) share another, so a few large uploads never hold
up the many small requests a collection is published with, and a registry is never sent more large
bodies at once than it takes. A request holds its slot from before it is sent until its answer has
been read (a streamed answer: until it is closed), redirects included; waits between retries hold
none. `abort` makes every request waiting for a slot, and every later one, fail at once.
"""

from __future__ import annotations

import threading
from collections.abc import Callable

from featurepub.errors import Interrupted

LARGE_BODY = 1024 * 1024  # a request body at least this long is an upload


class InFlight:
    """Thread-safe counters of requests out, one limit per lane; `peak` records the most at once."""

    def __init__(self, requests: int, uploads: int) -> None:
        if requests < 1 or uploads < 1:
            raise ValueError("each limit must be at least 1")
        self.limits = {False: requests, True: uploads}
        self._out = {False: 0, True: 0}
        self.peak = {False: 0, True: 0}
        self._changed = threading.Condition()
        self._aborted = False

    @property
    def requests(self) -> int:
        return self.limits[False]

    @property
    def uploads(self) -> int:
        return self.limits[True]

    def take(self, upload: bool = False) -> Callable[[], None]:
        """Wait for a slot in the lane; returns what gives it back (calling it twice gives it back once)."""
        with self._changed:
            while not self._aborted and self._out[upload] >= self.limits[upload]:
                self._changed.wait()
            if self._aborted:
                raise Interrupted("stopped before this request was sent")
            self._out[upload] += 1
            self.peak[upload] = max(self.peak[upload], self._out[upload])
        given_back = False

        def give_back() -> None:
            nonlocal given_back
            with self._changed:
                if given_back:
                    return
                given_back = True
                self._out[upload] -= 1
                self._changed.notify()

        return give_back

    def abort(self) -> None:
        with self._changed:
            self._aborted = True
            self._changed.notify_all()
