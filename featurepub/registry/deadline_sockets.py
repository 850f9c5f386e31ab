"""The socket side of deadline.py: an httpcore network backend whose every connect, read and write
gets at most the time left until the current request's deadline. Imported when the first
connection pool is built (httpcore is a slow import that only talking to a registry needs)."""

from __future__ import annotations

import ssl
from collections.abc import Iterable
from typing import Any

import httpcore

from featurepub.registry.deadline import bounded_timeout, late


class DeadlineStream(httpcore.NetworkStream):
    def __init__(self, inner: httpcore.NetworkStream) -> None:
        self._inner = inner

    def read(self, max_bytes: int, timeout: float | None = None) -> bytes:
        timeout, deadline = bounded_timeout(timeout, httpcore.ReadTimeout)
        try:
            return self._inner.read(max_bytes, timeout)
        except httpcore.ReadTimeout:
            if deadline is None:
                raise
            raise httpcore.ReadTimeout(late(deadline)) from None

    def write(self, buffer: bytes, timeout: float | None = None) -> None:
        timeout, deadline = bounded_timeout(timeout, httpcore.WriteTimeout)
        try:
            self._inner.write(buffer, timeout)
        except httpcore.WriteTimeout:
            if deadline is None:
                raise
            raise httpcore.WriteTimeout(late(deadline)) from None

    def close(self) -> None:
        self._inner.close()

    def start_tls(
        self, ssl_context: ssl.SSLContext, server_hostname: str | None = None, timeout: float | None = None
    ) -> httpcore.NetworkStream:
        timeout, _ = bounded_timeout(timeout, httpcore.ConnectTimeout)
        return DeadlineStream(self._inner.start_tls(ssl_context, server_hostname, timeout))

    def get_extra_info(self, info: str) -> Any:
        return self._inner.get_extra_info(info)


class DeadlineBackend(httpcore.NetworkBackend):
    def __init__(self, inner: httpcore.NetworkBackend) -> None:
        self._inner = inner

    def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: Iterable[Any] | None = None,
    ) -> httpcore.NetworkStream:
        timeout, _ = bounded_timeout(timeout, httpcore.ConnectTimeout)
        return DeadlineStream(self._inner.connect_tcp(host, port, timeout, local_address, socket_options))

    def connect_unix_socket(
        self, path: str, timeout: float | None = None, socket_options: Iterable[Any] | None = None
    ) -> httpcore.NetworkStream:
        timeout, _ = bounded_timeout(timeout, httpcore.ConnectTimeout)
        return DeadlineStream(self._inner.connect_unix_socket(path, timeout, socket_options))

    def sleep(self, seconds: float) -> None:
        self._inner.sleep(seconds)
