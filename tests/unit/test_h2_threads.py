"""featurepub.registry.h2_threads: which pools are hooked, and what the wrapped h2 state does where
httpcore's threads race. The races themselves, over a real TLS registry: tests/integration/test_tls.py.
No network."""

from __future__ import annotations

import h2.config
import h2.connection
import h2.exceptions
import httpcore
import httpx
import pytest

from featurepub.registry.h2_threads import SerializedH2State, guard_http2
from featurepub.registry.transport import RegistryTransport, TransportOptions

HEADERS = [(":method", "HEAD"), (":authority", "registry.test"), (":scheme", "https"), (":path", "/v2/")]


@pytest.mark.parametrize("http2", [False, True])
def test_only_http2_pools_are_hooked(http2: bool) -> None:
    transport = RegistryTransport(TransportOptions(http2=http2))
    try:
        pool = transport._inner(None, "verified")._pool
        assert getattr(pool.create_connection, "guards_http2", False) is http2
    finally:
        transport.close()


def test_a_hooked_pool_makes_guarded_connections_once() -> None:
    transport = guard_http2(httpx.HTTPTransport(http2=True))
    create = transport._pool.create_connection
    assert guard_http2(transport)._pool.create_connection is create
    connection = create(httpcore.Origin(b"https", b"registry.test", 443))
    assert isinstance(connection, httpcore.HTTPConnection)
    assert type(connection) is not httpcore.HTTPConnection
    transport.close()


def test_without_the_private_parts_nothing_changes() -> None:
    transport = httpx.HTTPTransport(http2=True)
    pool = transport._pool
    transport._pool = None  # type: ignore[assignment]
    assert guard_http2(transport) is transport and transport._pool is None
    transport._pool = pool
    transport.close()


def _answered(client: SerializedH2State) -> None:
    """A server answers stream 1 in full (HEADERS with END_STREAM), read by `client`."""
    server = h2.connection.H2Connection(h2.config.H2Configuration(client_side=False))
    server.initiate_connection()
    server.receive_data(client.data_to_send())
    server.send_headers(1, [(":status", "404")], end_stream=True)
    client.receive_data(server.data_to_send())


def test_window_of_a_stream_already_answered_is_skipped() -> None:
    # httpcore opens a stream's window after its HEADERS; another thread's read may have ended the
    # stream meanwhile. h2 itself refuses that.
    client = SerializedH2State(h2.connection.H2Connection())
    client.initiate_connection()
    assert client.get_next_available_stream_id() == 1
    client.send_headers(1, HEADERS, end_stream=True)
    _answered(client)
    with pytest.raises(h2.exceptions.StreamClosedError):
        client._inner.increment_flow_control_window(2**24, stream_id=1)
    client.increment_flow_control_window(2**24, stream_id=1)  # nothing to open: no error
    client.increment_flow_control_window(2**24)  # the connection's window still opens
    assert client.get_next_available_stream_id() == 3


def test_a_turn_not_followed_by_headers_is_given_back() -> None:
    client = SerializedH2State(h2.connection.H2Connection())
    client.initiate_connection()
    client.get_next_available_stream_id()
    client.give_back_turn()  # what the guarded connection does when its request failed in between
    assert client._turn.acquire(blocking=False)
    client._turn.release()
