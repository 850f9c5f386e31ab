"""Stopping a run from outside: a flag each step checks, and callbacks that break off work in flight.

A `Cancellation` is handed to `publish` or `push_layout`. Once cancelled, nothing new starts (each
step checks it first and raises Interrupted), waits between retries end at once, and the callbacks
the run registered (the registry target breaking its connections) make requests in flight fail
within milliseconds instead of waiting for a timeout. The run then returns its report, with the
repositories it cut short marked interrupted.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager

from featurepub.errors import Interrupted


class Cancellation:
    """Thread-safe. `cancel` may be called from any thread, but not from inside a signal handler:
    it runs the callbacks, which take locks (the CLI's handler only wakes the main thread)."""

    def __init__(self) -> None:
        self._event = threading.Event()
        self._lock = threading.Lock()
        self._callbacks: list[Callable[[], None]] = []
        self.reason = ""

    def cancel(self, reason: str = "interrupted") -> None:
        """Ask the run to stop; the first call wins, later ones do nothing."""
        with self._lock:
            if self._event.is_set():
                return
            self.reason = reason
            self._event.set()
            callbacks = list(self._callbacks)
        for callback in callbacks:
            callback()

    @property
    def cancelled(self) -> bool:
        return self._event.is_set()

    def check(self) -> None:
        """Raise Interrupted when the run was cancelled: called before each step."""
        if self._event.is_set():
            raise Interrupted(f"{self.reason}: stopped before finishing")

    def sleep(self, seconds: float) -> None:
        """`time.sleep` that ends at once, raising Interrupted, when the run is cancelled."""
        if self._event.wait(max(seconds, 0.0)):
            self.check()

    @contextmanager
    def on_cancel(self, callback: Callable[[], None]) -> Iterator[None]:
        """Run `callback` if the run is cancelled while inside this block (at once if it already was)."""
        with self._lock:
            already = self._event.is_set()
            if not already:
                self._callbacks.append(callback)
        if already:
            callback()
        try:
            yield
        finally:
            with self._lock:
                if callback in self._callbacks:
                    self._callbacks.remove(callback)
