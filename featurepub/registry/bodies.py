"""Response bodies read within a size bound, decoded here rather than by httpx.

Whatever a server sends, featurepub holds at most a bounded number of bytes of it: the caller
names the bound for the answers it reads (a manifest: 4 MiB, as distribution allows; a page of
tags; a layer read for its metadata), everything else gets 64 KiB (a token, an upload's answer).
A successful answer over its bound is refused; the body of an error or a redirect is only ever
shown in a message, so it is cut at 64 KiB instead. The bound counts decoded bytes: gzip and
deflate are inflated here a bounded piece at a time (a 10 MiB gzip body can hold 10 GiB), and a
body that does not decode as its Content-Encoding says is refused, never a crash.
"""

from __future__ import annotations

import zlib
from collections.abc import Iterator

import httpx

# Request extension naming a request's bound in bytes (httpx passes extensions through untouched).
LIMIT_EXTENSION = "featurepub.body_limit"
DEFAULT_LIMIT = 64 * 1024
ERROR_LIMIT = 64 * 1024  # error and redirect bodies are cut here, not refused
ACCEPT_ENCODING = "gzip, deflate"
_INFLATE_PIECE = 256 * 1024


class BodyRefused(Exception):
    """A body over its bound, or not in the encoding it claims. Says nothing about where: the
    registry client adds the registry, repository and operation."""


def limit_of(request: httpx.Request) -> int:
    value = request.extensions.get(LIMIT_EXTENSION)
    return value if isinstance(value, int) else DEFAULT_LIMIT


def _size(count: int) -> str:
    if count >= 1024 * 1024:
        return f"{count // (1024 * 1024)} MiB"
    return f"{count // 1024} KiB" if count >= 1024 else f"{count} bytes"


class _Inflater:
    """gzip or zlib-wrapped deflate (told apart by their headers), inflated at most `room` bytes at a time."""

    def __init__(self) -> None:
        self._zlib = zlib.decompressobj(32 + zlib.MAX_WBITS)

    def pieces(self, data: bytes) -> Iterator[bytes]:
        while data:
            yield self._zlib.decompress(data, _INFLATE_PIECE)
            data = self._zlib.unconsumed_tail
            if self._zlib.eof:
                return

    def rest(self) -> bytes:
        return b"" if self._zlib.eof else self._zlib.flush()


class BoundedBody(httpx.SyncByteStream):
    """`inner` decoded per `encoding` and bounded by `limit` decoded bytes; with `cut` the body ends
    quietly at the bound (and at undecodable bytes) instead of raising BodyRefused."""

    def __init__(
        self, inner: httpx.SyncByteStream, *, encoding: str, limit: int, cut: bool, length: int | None
    ) -> None:
        self._inner = inner
        self._encoding = encoding
        self._limit = limit
        self._cut = cut
        self._length = length

    def __iter__(self) -> Iterator[bytes]:
        if self._encoding not in ("", "identity", "gzip", "x-gzip", "deflate"):
            if self._cut:
                return
            raise BodyRefused(
                f"the answer is in Content-Encoding {self._encoding[:40]!r}, which featurepub did not ask for"
            )
        if self._length is not None and self._length > self._limit and not self._cut:
            raise BodyRefused(f"the answer is {_size(self._length)}, over the {_size(self._limit)} allowed for it")
        inflater = _Inflater() if self._encoding not in ("", "identity") else None
        total = 0
        try:
            for raw in self._inner:
                for piece in inflater.pieces(raw) if inflater else (raw,):
                    total += len(piece)
                    if total > self._limit:
                        if self._cut:
                            yield piece[: len(piece) - (total - self._limit)]
                            return
                        raise BodyRefused(f"the answer is over the {_size(self._limit)} allowed for it")
                    yield piece
            if inflater is not None:
                tail = inflater.rest()
                if total + len(tail) > self._limit and not self._cut:
                    raise BodyRefused(f"the answer is over the {_size(self._limit)} allowed for it")
                yield tail[: max(0, self._limit - total)]
        except zlib.error:
            if not self._cut:
                raise BodyRefused(
                    f"the answer says Content-Encoding {self._encoding}, but its body does not decode as such"
                ) from None

    def close(self) -> None:
        self._inner.close()


def bounded(response: httpx.Response, request: httpx.Request) -> httpx.Response:
    """`response` with its body decoded here and bounded (see the module docstring)."""
    encoding = response.headers.get("Content-Encoding", "").strip().lower()
    length_header = response.headers.get("Content-Length", "")
    length = int(length_header) if length_header.isascii() and length_header.isdigit() else None
    cut = response.status_code >= 300
    assert isinstance(response.stream, httpx.SyncByteStream)
    body = BoundedBody(
        response.stream,
        encoding=encoding,
        limit=ERROR_LIMIT if cut else limit_of(request),
        cut=cut,
        length=None if encoding not in ("", "identity") else length,
    )
    # Decoded here: httpx must not decode again (Content-Length, kept for HEAD, no longer counts the body).
    headers = [(k, v) for k, v in response.headers.raw if k.lower() != b"content-encoding"]  # bytes, as sent
    return httpx.Response(
        response.status_code, headers=headers, stream=body, extensions=response.extensions, request=request
    )
