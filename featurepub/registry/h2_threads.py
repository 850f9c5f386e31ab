"""featurepub's HTTP/2 connections, safe to share between threads, still multiplexed.

With HTTP/2 every thread's requests go over one connection, and httpcore's sync HTTP2Connection
(written against httpcore 1.0.9, the latest release; the same code since 1.0.0) calls its h2 state
machine from those threads with no lock: two requests may take the same stream id, or a request
sends the HEADERS of stream 13 before another's of stream 11, which h2 refuses (StreamClosedError,
seen as "LocalProtocolError: 11") and a server would take for a protocol error; HPACK encoding,
flow-control windows and the incoming-frame parser are shared the same way. A stream may also be
answered in full, by another thread's read, before httpcore opens its flow-control window, which
h2 refuses too (StreamClosedError, or a KeyError once h2 has forgotten the stream).

So each HTTP/2 connection of featurepub's pools gets its h2 state wrapped: every call into it runs
under one lock of that connection, and taking the next stream id holds the connection's "turn" until
that thread has sent the stream's HEADERS, so that new streams open in id order; a window opened for
a stream that has ended is skipped. Both are held only inside h2 calls (pure computation) and the few
lines between those two, never around network I/O or httpcore's own locks, so requests still go out
side by side. The TLS socket under the connection, read by one thread while another writes, takes
turns too (tls_turns.py). Only the pools `guard_http2` is given change: httpcore's classes, and any
other httpx client in the process, are left alone.

The hook reaches private parts of httpcore 1.x (the pool's `create_connection`, a connection's
`_connection` and an HTTP2Connection's `_h2_state`); when one is missing it does nothing.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

import httpcore
import httpx

from featurepub.registry.deadline_sockets import DeadlineStream
from featurepub.registry.tls_turns import taking_turns


class SerializedH2State:
    """An h2 H2Connection whose every use goes through one lock; `get_next_available_stream_id`
    also takes the turn to open a stream, which the same thread's `send_headers` gives back."""

    def __init__(self, inner: Any) -> None:
        # Set in __dict__: this class's __setattr__ forwards to the wrapped state.
        self.__dict__.update(_inner=inner, _calls=threading.Lock(), _turn=threading.Lock(), _holder=None)

    def get_next_available_stream_id(self) -> int:
        me = threading.get_ident()
        if self._holder != me:
            self._turn.acquire()
            self.__dict__["_holder"] = me
        try:
            with self._calls:
                return int(self._inner.get_next_available_stream_id())
        except BaseException:
            self.give_back_turn()
            raise

    def send_headers(self, *args: Any, **kwargs: Any) -> None:
        try:
            with self._calls:
                self._inner.send_headers(*args, **kwargs)
        finally:
            self.give_back_turn()

    def increment_flow_control_window(self, increment: int, stream_id: int | None = None) -> None:
        with self._calls:
            if stream_id is not None:
                # httpcore opens a stream's window right after its HEADERS; another thread may have
                # read the whole answer meanwhile, and h2 refuses a closed (or forgotten) stream.
                stream = self._inner.streams.get(stream_id)
                if stream is None or stream.closed:
                    return
            self._inner.increment_flow_control_window(increment, stream_id=stream_id)

    def give_back_turn(self) -> None:
        """Give back the turn if this thread holds it (after its HEADERS, or when it failed before)."""
        if self._holder == threading.get_ident():
            self.__dict__["_holder"] = None
            self._turn.release()

    def __getattr__(self, name: str) -> Any:
        with self._calls:
            value = getattr(self._inner, name)
        if not callable(value) or getattr(value, "__self__", None) is not self._inner:
            return value  # data (local_settings, state_machine, a frame size) as it is

        def locked(*args: Any, **kwargs: Any) -> Any:
            with self._calls:
                return value(*args, **kwargs)

        return locked

    def __setattr__(self, name: str, value: Any) -> None:
        with self._calls:
            setattr(self._inner, name, value)


def _guard(connection: object) -> None:
    """Make `connection`, when it is an HTTP/2 connection, safe for threads before any request uses it:
    its h2 state serialized, and its TLS socket read and written in turns (tls_turns.py)."""
    if not isinstance(connection, httpcore.HTTP2Connection):
        return
    import h2.connection  # installed: httpcore made an HTTP/2 connection

    state = getattr(connection, "_h2_state", None)
    if isinstance(state, h2.connection.H2Connection):
        connection._h2_state = SerializedH2State(state)  # type: ignore[assignment]
    # Innermost, under deadline_sockets.py's stream, which bounds each read and write by the deadline.
    outer = getattr(connection, "_network_stream", None)
    holder: object = outer if isinstance(outer, DeadlineStream) else connection
    name = "_inner" if holder is outer else "_network_stream"
    stream = getattr(holder, name, None)
    if isinstance(stream, httpcore.NetworkStream):
        setattr(holder, name, taking_turns(stream))


class _GuardsHTTP2(httpcore.ConnectionInterface):
    """Mixed into httpcore's connection classes: the HTTP/2 connection such a connection makes once
    connected (assigned to its `_connection`) is guarded before any request uses it."""

    @property
    def _connection(self) -> Any:
        return self.__dict__.get("_connection")

    @_connection.setter
    def _connection(self, value: Any) -> None:
        _guard(value)
        self.__dict__["_connection"] = value

    def handle_request(self, request: httpcore.Request) -> httpcore.Response:
        try:
            return super().handle_request(request)
        finally:
            # Should httpcore fail between taking a stream id and sending its HEADERS, the turn
            # would stay taken and the connection's next request wait forever.
            state = getattr(self.__dict__.get("_connection"), "_h2_state", None)
            if isinstance(state, SerializedH2State):
                state.give_back_turn()


class _HTTPConnection(_GuardsHTTP2, httpcore.HTTPConnection):
    pass


def _guarded_classes() -> dict[type, type]:
    """httpcore's connection classes that make HTTP/2 connections, each with its guarded subclass."""
    classes: dict[type, type] = {httpcore.HTTPConnection: _HTTPConnection}
    try:
        from httpcore._sync.http_proxy import TunnelHTTPConnection
    except ImportError:  # pragma: no cover - moved in some later httpcore
        return classes

    class _TunnelHTTPConnection(_GuardsHTTP2, TunnelHTTPConnection):
        pass

    classes[TunnelHTTPConnection] = _TunnelHTTPConnection
    return classes


def guard_http2(transport: httpx.HTTPTransport) -> httpx.HTTPTransport:
    """Make the HTTP/2 connections `transport`'s pool will open safe to use from many threads at once
    (nothing changes for HTTP/1.1 connections, nor when httpcore lacks what this relies on)."""
    pool = getattr(transport, "_pool", None)
    create: Callable[[httpcore.Origin], Any] | None = getattr(pool, "create_connection", None)
    if pool is None or not callable(create) or getattr(create, "guards_http2", False):
        return transport
    classes = _guarded_classes()

    def create_connection(origin: httpcore.Origin) -> Any:
        connection = create(origin)
        guarded = classes.get(type(connection))
        if guarded is not None:
            # The same object as one of its subclasses: no state copied, the pool's arguments kept.
            connection.__class__ = guarded
        return connection

    create_connection.guards_http2 = True  # type: ignore[attr-defined]
    pool.create_connection = create_connection
    return transport
