"""featurepub.registry.bodies and deadline: bodies decoded and bounded whatever the server sends, and
the per-request deadline. Bodies are fed as httpx streams; the real sockets are in test_hostile.py."""

from __future__ import annotations

import gzip
import time
import tracemalloc
import zlib
from collections.abc import Iterator

import httpcore
import httpx
import pytest

from featurepub.registry.bodies import LIMIT_EXTENSION, BodyRefused, BoundedBody, bounded
from featurepub.registry.deadline import Deadline, RearmingBody, applying, bounded_timeout
from featurepub.registry.retry import parse_retry_after

MiB = 1024 * 1024


class Pieces(httpx.SyncByteStream):
    def __init__(self, *pieces: bytes) -> None:
        self.pieces = pieces

    def __iter__(self) -> Iterator[bytes]:
        yield from self.pieces


def read(body: BoundedBody) -> bytes:
    return b"".join(body)


def body(
    *pieces: bytes, encoding: str = "", limit: int = 100, cut: bool = False, length: int | None = None
) -> bytes:
    return read(BoundedBody(Pieces(*pieces), encoding=encoding, limit=limit, cut=cut, length=length))


def test_within_the_bound_the_body_passes() -> None:
    assert body(b"abc", b"def") == b"abcdef"
    assert body(gzip.compress(b"hello" * 10), encoding="gzip") == b"hello" * 10
    assert body(zlib.compress(b"deflated"), encoding="deflate") == b"deflated"


def test_over_the_bound_is_refused_or_cut() -> None:
    with pytest.raises(BodyRefused, match="over the 100 bytes allowed"):
        body(b"x" * 60, b"x" * 60)
    assert body(b"x" * 60, b"y" * 60, cut=True) == b"x" * 60 + b"y" * 40


def test_a_declared_length_over_the_bound_is_refused_before_reading() -> None:
    class Never(httpx.SyncByteStream):
        def __iter__(self) -> Iterator[bytes]:
            raise AssertionError("read")

    with pytest.raises(BodyRefused, match="the answer is 600 MiB, over the 4 MiB"):
        read(BoundedBody(Never(), encoding="", limit=4 * MiB, cut=False, length=600 * MiB))


def test_a_gzip_bomb_is_inflated_a_bounded_piece_at_a_time() -> None:
    packer = zlib.compressobj(1, zlib.DEFLATED, 16 + zlib.MAX_WBITS)
    bomb = b"".join(packer.compress(bytes(MiB)) for _ in range(64)) + packer.flush()  # 64 MiB inflated
    assert len(bomb) < MiB
    tracemalloc.start()
    try:
        with pytest.raises(BodyRefused, match="over the 1 MiB"):
            body(bomb, encoding="gzip", limit=MiB)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 8 * MiB


def test_a_body_that_is_not_what_its_encoding_says() -> None:
    with pytest.raises(BodyRefused, match="does not decode"):
        body(b'{"tags": []}', encoding="gzip")
    assert body(b'{"tags": []}', encoding="gzip", cut=True) == b""  # an error's body: nothing to show
    with pytest.raises(BodyRefused, match="did not ask for"):
        body(b"x", encoding="br")


def test_bounded_response_keeps_raw_headers_and_drops_the_encoding() -> None:
    request = httpx.Request("GET", "http://r.example/", extensions={LIMIT_EXTENSION: 50})
    raw = httpx.Response(
        200,
        headers=[(b"Content-Encoding", b"gzip"), (b"Retry-After", b"\xc2\xb2")],
        stream=Pieces(gzip.compress(b"ok")),
    )
    response = bounded(raw, request)
    assert "Content-Encoding" not in response.headers
    assert response.headers.raw[-1] == (b"Retry-After", b"\xc2\xb2")
    assert response.read() == b"ok"


@pytest.mark.parametrize(
    ("value", "seconds"),
    [("12", 12.0), ("²", None), ("١٢", None), ("-3", None), ("Mon, 01 Jan 99999 00:00:00 GMT", None), ("", None)],
)
def test_retry_after(value: str, seconds: float | None) -> None:
    assert parse_retry_after(value) == seconds


# --- the deadline ------------------------------------------------------------------------------------


def test_operations_get_what_is_left_of_the_deadline() -> None:
    assert bounded_timeout(5.0, httpcore.ReadTimeout) == (5.0, None)  # no request deadline on this thread
    deadline = Deadline(2.0)
    with applying(deadline):
        timeout, applied = bounded_timeout(10.0, httpcore.ReadTimeout)
        assert timeout is not None and timeout <= 2.0
        assert applied is deadline
        assert bounded_timeout(1.0, httpcore.ReadTimeout) == (1.0, None)
        deadline.expires = time.monotonic() - 1
        with pytest.raises(httpcore.ReadTimeout, match="longer than 2 s in all"):
            bounded_timeout(10.0, httpcore.ReadTimeout)
    assert bounded_timeout(5.0, httpcore.ReadTimeout) == (5.0, None)


def test_an_upload_rearms_its_deadline_per_piece() -> None:
    deadline = Deadline(10.0)
    deadline.expires = time.monotonic() - 1
    pieces = iter(RearmingBody(Pieces(b"a", b"b"), deadline))
    assert next(pieces) == b"a"
    assert deadline.left() > 9
