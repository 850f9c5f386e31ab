"""The one httpx client a run uses: pooled connections, timeouts, a User-Agent naming us."""

from __future__ import annotations

from dataclasses import dataclass, field

import httpx

from featurepub import __version__

USER_AGENT = f"featurepub/{__version__} (+https://github.com/featurepub/featurepub)"


@dataclass(frozen=True)
class TransportOptions:
    connect_timeout: float = 15.0
    # Generous read/write limits: a large layer PUT can take minutes before the registry answers.
    read_timeout: float = 300.0
    write_timeout: float = 300.0
    insecure_hosts: frozenset[str] = field(default_factory=frozenset)
    max_connections: int = 8


def make_http_client(options: TransportOptions, auth: httpx.Auth | None) -> httpx.Client:
    timeout = httpx.Timeout(
        connect=options.connect_timeout, read=options.read_timeout, write=options.write_timeout, pool=None
    )
    limits = httpx.Limits(
        max_connections=options.max_connections, max_keepalive_connections=options.max_connections
    )
    return httpx.Client(
        auth=auth,
        timeout=timeout,
        limits=limits,
        headers={"User-Agent": USER_AGENT},
        follow_redirects=True,
        trust_env=True,
    )
