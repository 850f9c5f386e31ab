"""One deadline per request: `--timeout` bounds a request as a whole, not each read.

httpx's timeouts apply to each socket operation, so a server that sends one byte every few
seconds (of the headers or of the body) keeps a request alive forever. Here every socket
operation of a request is given at most the time left until the request's deadline, and none
starts once it has passed: the request ends with a timeout within `timeout` seconds, however
the server doles out its bytes.

The deadline of the request being worked on is kept per thread: a synchronous request is sent,
and its answer read, on the thread that asked for it. Uploads re-arm their deadline each time a
piece of the body is handed to the socket, so a large blob is bounded per piece (1 MiB, see
oci/digest.py) and then its answer by `timeout` after the last byte, not by one total that
would have to guess the link's speed. With HTTP/2 one thread may read frames for others, under
its own deadline; a late one then fails the shared connection, and the others are retried.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterable, Iterator
from contextlib import contextmanager

import httpx

_current = threading.local()


class Deadline:
    def __init__(self, seconds: float) -> None:
        self.seconds = seconds
        self.expires = time.monotonic() + seconds

    def rearm(self) -> None:
        """Start the clock again: a piece of an upload's body went out."""
        self.expires = time.monotonic() + self.seconds

    def left(self) -> float:
        return self.expires - time.monotonic()


@contextmanager
def applying(deadline: Deadline) -> Iterator[None]:
    """Socket operations on this thread are bounded by `deadline` inside the block."""
    previous = getattr(_current, "deadline", None)
    _current.deadline = deadline
    try:
        yield
    finally:
        _current.deadline = previous


def late(deadline: Deadline) -> str:
    return f"the request took longer than {deadline.seconds:g} s in all"


def bounded_timeout(timeout: float | None, error: type[Exception]) -> tuple[float | None, Deadline | None]:
    """`timeout`, cut to what is left of the current request's deadline (returned too when it is the
    tighter bound); `error` once nothing is left."""
    deadline: Deadline | None = getattr(_current, "deadline", None)
    if deadline is None:
        return timeout, None
    left = deadline.left()
    if left <= 0:
        raise error(late(deadline))
    if timeout is not None and timeout <= left:
        return timeout, None
    return left, deadline


def bound_by_deadlines(transport: httpx.HTTPTransport) -> httpx.HTTPTransport:
    """Make every socket operation of `transport` respect the current thread's deadline.

    httpx builds its httpcore pool without a way to pass a network backend, so the pool's backend
    is wrapped in place (httpcore names it `_network_backend` in every 1.x release). Should that
    ever change, bodies are still bounded (see `DeadlineBody`), only headers are not."""
    from featurepub.registry.deadline_sockets import DeadlineBackend  # httpcore: only once a pool is built

    pool = getattr(transport, "_pool", None)
    backend = getattr(pool, "_network_backend", None)
    if backend is not None and not isinstance(backend, DeadlineBackend):
        pool._network_backend = DeadlineBackend(backend)  # type: ignore[union-attr]
    return transport


class DeadlineBody(httpx.SyncByteStream):
    """A response body read under its request's deadline, checked between pieces as well."""

    def __init__(self, inner: httpx.SyncByteStream, deadline: Deadline) -> None:
        self._inner = inner
        self._deadline = deadline

    def __iter__(self) -> Iterator[bytes]:
        pieces = iter(self._inner)
        while True:
            with applying(self._deadline):  # only while reading: the caller's code runs between pieces
                piece = next(pieces, None)
            if piece is None:
                return
            if self._deadline.left() <= 0:
                raise httpx.ReadTimeout(late(self._deadline))
            yield piece

    def close(self) -> None:
        self._inner.close()


class RearmingBody(httpx.SyncByteStream):
    """An upload body that re-arms its request's deadline as each piece goes out."""

    def __init__(self, inner: Iterable[bytes], deadline: Deadline) -> None:
        self._inner = inner
        self._deadline = deadline

    def __iter__(self) -> Iterator[bytes]:
        for piece in self._inner:
            self._deadline.rearm()
            yield piece

    def close(self) -> None:
        close = getattr(self._inner, "close", None)
        if close is not None:
            close()
