"""The bench's pure parts: the floor's round-trip counts, the proxy's body framing, the trace analysis
and the target checks (bench/; the bench itself prints numbers and is never run by the tests)."""

from __future__ import annotations

import io
from collections import Counter

import pytest

from bench.floor import FRESH, NO_CHANGE, ONE_CHANGED, critical_round_trips
from bench.latency_proxy import Exchange, Opened, chunked_pieces, length_pieces
from bench.report import Floor, Measure, Row, per_fresh_feature, rows, targets
from bench.trace import busy_time, longest_chain, most_in_flight, repository_of, short, summarise


@pytest.mark.parametrize(
    ("kind", "features", "in_flight", "expected"),
    [
        # c + read + 4 per feature + collection manifest, when every request of a step fits at once
        (FRESH, 1, 32, 7),
        (FRESH, 20, 1000, 7),
        # 7 x 20 + 3 = 143 requests need 5 waves of 32
        (FRESH, 20, 32, 8),
        (FRESH, 100, 32, 1 + 1 + 22 + 1),
        # c + the collection's manifest, then its layer; the HEADs alongside
        (NO_CHANGE, 20, 32, 3),
        (NO_CHANGE, 100, 32, 1 + 4),
        (ONE_CHANGED, 20, 32, 7),
        (ONE_CHANGED, 100, 32, 1 + 4 + 4 + 1),
        # one request at a time: every request is a round trip of its own
        (NO_CHANGE, 20, 1, 1 + 23),
    ],
)
def test_critical_round_trips(kind: str, features: int, in_flight: int, expected: int) -> None:
    assert critical_round_trips(kind, features, in_flight) == expected


def test_connection_round_trips_are_paid_once() -> None:
    assert critical_round_trips(FRESH, 20, 32, connect_rtts=2) == critical_round_trips(FRESH, 20, 32) + 1
    assert critical_round_trips(NO_CHANGE, 20, 32, connect_rtts=0) == 2


def test_critical_round_trips_refuses_nonsense() -> None:
    with pytest.raises(ValueError, match="unknown"):
        critical_round_trips("sideways", 1, 1)
    with pytest.raises(ValueError, match="at least 1"):
        critical_round_trips(FRESH, 1, 0)


def test_floor_is_start_plus_the_larger_bound() -> None:
    assert Floor(0.2, 7, 0.02, 0.3).seconds == pytest.approx(0.5)  # the registry's time dominates
    assert Floor(0.2, 7, 0.05, 0.3).seconds == pytest.approx(0.55)  # the round trips do
    assert Floor(0.2, 0, 0.0, 0.3).seconds == pytest.approx(0.5)


def test_chunked_pieces_streams_bounded_pieces_and_drops_trailers() -> None:
    body = b"a" * 10 + b"b" * 3
    wire = b"a;name=value\r\n" + body[:10] + b"\r\n3\r\n" + body[10:] + b"\r\n0\r\nTrailer: x\r\n\r\nNEXT"
    stream = io.BytesIO(wire)
    pieces = list(chunked_pieces(stream, piece=4))
    assert b"".join(pieces) == body
    assert max(len(p) for p in pieces) <= 4
    assert stream.read() == b"NEXT"  # the next request on the connection is left alone


def test_chunked_pieces_notices_a_cut_body() -> None:
    with pytest.raises(ConnectionError):
        list(chunked_pieces(io.BytesIO(b"10\r\nshort")))


def test_length_pieces() -> None:
    stream = io.BytesIO(b"x" * 10 + b"NEXT")
    pieces = list(length_pieces(stream, 10, piece=3))
    assert [len(p) for p in pieces] == [3, 3, 3, 1]
    assert stream.read() == b"NEXT"
    with pytest.raises(ConnectionError):
        list(length_pieces(io.BytesIO(b"xy"), 3))


def _exchange(
    arrived: float, answered: float, path: str = "/v2/ns/a/manifests/1", connection: int = 1
) -> Exchange:
    return Exchange(connection, "PUT", path, 201, 0, arrived, arrived, answered)


def test_trace_analysis() -> None:
    exchanges = [
        _exchange(1.0, 2.0),
        _exchange(1.5, 2.5, connection=2),
        _exchange(2.0, 3.0),  # follows the first
        _exchange(3.5, 4.0),  # follows all: a gap of 0.5 s before it
    ]
    assert [e.arrived for e in longest_chain(exchanges)] == [1.0, 2.0, 3.5]
    assert busy_time(exchanges) == pytest.approx(2.5)
    assert most_in_flight(exchanges) == 2
    summary = summarise(exchanges, [Opened(1, 0.9), Opened(2, 1.4)], started=0.0, ended=4.2)
    assert summary.first_connection == pytest.approx(0.9)
    assert summary.first_request == pytest.approx(1.0)
    assert summary.last_answer_to_exit == pytest.approx(0.2)
    assert summary.idle == pytest.approx(0.5)
    assert summary.mean_in_flight == pytest.approx(3.5 / 2.5)
    assert summary.requests_per_connection == Counter({3: 1, 1: 1})


def test_trace_names() -> None:
    digest = "sha256:" + "ab" * 32
    assert repository_of("/v2/ns/feature-001/blobs/uploads/?mount=x") == "ns/feature-001"
    assert repository_of("/v2/ns/manifests/latest") == "ns"
    assert repository_of("/v2/_catalog?n=100") == "_catalog"
    path = f"/v2/ns/a/blobs/uploads/0f3c-77?_state=abc%3D&digest={digest}"
    assert short(path) == "/v2/ns/a/blobs/uploads/<session>?digest=sha256:abababab…"


TITLES = {"fresh1": "fresh 1", "fresh20": "fresh 20", "nochange20": "no change 20"}


def _measure(scenario: str, kind: str, features: int, rtt: float, tool: str, wall: float, **kw: int) -> Measure:
    return Measure(
        scenario, TITLES[scenario], kind, features, rtt, tool, wall, 0.1, 30.0,
        kw.get("requests", 0), 1, 0, kw.get("blob_bytes", 0), kw.get("exit_code", 0), 1, [wall], [0.1],
    )  # fmt: skip


def test_targets_report_each_ratio_floor_and_count() -> None:
    results = [
        _measure("fresh20", FRESH, 20, 20.0, "reference", 15.0),
        _measure("fresh20", FRESH, 20, 20.0, "featurepub", 0.9, requests=150),
        _measure("nochange20", NO_CHANGE, 20, 20.0, "reference", 1.6),
        _measure("nochange20", NO_CHANGE, 20, 20.0, "featurepub", 0.5, requests=23, blob_bytes=1),
        _measure("fresh20", FRESH, 20, 0.0, "reference", 1.6),
        _measure("fresh20", FRESH, 20, 0.0, "featurepub", 0.8, requests=170),
        _measure("fresh20", FRESH, 20, 0.0, "baseline", 0.75),
    ]
    floors = {("fresh20", 20.0): Floor(0.2, 8, 0.02, 0.3), ("nochange20", 20.0): Floor(0.2, 3, 0.02, 0.05)}
    found = {name: (met, detail) for name, met, detail in targets(rows(results, floors))}
    assert found["fresh 20 at 20 ms: <= 1/15 of the reference"][0] is True
    assert found["no change 20 at 20 ms: <= 1/4 of the reference"][0] is False
    assert found["fresh 20 at 20 ms: within 1.5x of its floor"][0] is False  # 0.9 s over a 0.5 s floor
    assert found["fresh 20 at 0 ms: no slower than before (+10% for noise)"] == (
        True,  # 0.8 s after 0.75 s: within the noise
        "best 0.80s vs 0.75s = 1.07x, same run",
    )
    assert found["fresh 20 at 0 ms: <= 0.47x of the reference"][0] is False  # 0.5x
    assert found["fresh 20: <= 8 requests per fresh feature"] == (  # counted at 0 ms
        False,
        "8.50 (170 requests, no fresh 1 to count from)",
    )
    assert found["no change 20: zero blob bytes"][0] is False  # counted at 20 ms, the lowest it ran at
    assert found["every run exited 0"][0] is True


def test_requests_per_fresh_feature_count_what_the_features_beyond_the_first_added() -> None:
    results = [
        _measure("fresh1", FRESH, 1, 0.0, "featurepub", 0.3, requests=15),
        _measure("fresh20", FRESH, 20, 0.0, "featurepub", 0.8, requests=167),
    ]
    found = {name: (met, detail) for name, met, detail in targets(rows(results, {}))}
    assert found["fresh 20: <= 8 requests per fresh feature"] == (True, "8.00 (167 requests, beyond fresh 1's 15)")
    results[1] = _measure("fresh20", FRESH, 20, 0.0, "featurepub", 0.8, requests=168)
    found = {name: (met, detail) for name, met, detail in targets(rows(results, {}))}
    assert found["fresh 20: <= 8 requests per fresh feature"][0] is False
    assert per_fresh_feature(results[1], None) == pytest.approx(8.4)


def test_rows_pair_the_tools_per_scenario_and_round_trip() -> None:
    results = [
        _measure("fresh1", FRESH, 1, 20.0, "featurepub", 0.5),
        _measure("fresh1", FRESH, 1, 0.0, "reference", 0.4),
        _measure("fresh1", FRESH, 1, 0.0, "featurepub", 0.3),
    ]
    paired = rows(results, {})
    assert [(r.any.rtt_ms, r.reference is not None, r.featurepub is not None) for r in paired] == [
        (0.0, True, True),
        (20.0, False, True),
    ]
    assert paired[0].ratio == pytest.approx(0.75)
    assert paired[1].ratio is None
    assert isinstance(paired[0], Row)
