"""Connecting to the registry the moment a publish is asked for, before the HTTP stack is loaded.

The command line knows the registry long before the library has loaded, read and packed the
features, and can send a first request. Connections opened meanwhile (sockets_ahead.py) take their
round trip off the critical path; opening one asks the registry nothing. Not through a proxy: the
proxy variables (and NO_PROXY) are read later, by the transport.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from pathlib import Path

from featurepub.errors import FeaturepubError
from featurepub.reference import DOCKER_HUB, DOCKER_HUB_API, is_loopback, parse_registry, parse_registry_location
from featurepub.registry.sockets_ahead import open_early

# At most this many before the run knows its registry's limits: the most any profile keeps in flight.
# Those a registry with lower limits does not use are closed unused a few seconds later.
EARLY_LIMIT = 32
_PROXY_VARIABLES = ("https_proxy", "http_proxy", "all_proxy")


def connect_early(registry: str, insecure: Iterable[str], source: Path) -> None:
    """Start connecting to `registry` for the publish of `source`: a connection for each request the
    run's first wave will have out (a HEAD or a blob per feature, and the collection's reads)."""
    if any(os.environ.get(name) or os.environ.get(name.upper()) for name in _PROXY_VARIABLES):
        return
    try:
        host, _ = parse_registry_location(registry)
        named = {parse_registry(h) for h in insecure}
    except FeaturepubError:
        return  # the command says what is wrong with it
    api_host = DOCKER_HUB_API if host == DOCKER_HUB else host
    name, colon, port = api_host.rpartition(":")
    if not colon or not port.isdecimal() or name.endswith(":"):  # no port (an IPv6 address has colons)
        name, port = api_host, "80" if is_loopback(host) or host in named else "443"
    open_early(name.strip("[]"), int(port), min(_features_in(source) + 3, EARLY_LIMIT))


def _features_in(source: Path) -> int:
    """About how many features (or templates) `source` holds: the folders of its `src/`, or its own
    folders when it is that `src/` folder itself (as the reference CLI is given it); 1 for a single
    feature's folder, or what cannot be read."""
    if any((source / name).exists() for name in ("devcontainer-feature.json", "devcontainer-template.json")):
        return 1
    for folder in (source / "src", source):
        try:
            with os.scandir(folder) as entries:
                return max(1, sum(1 for entry in entries if entry.is_dir() and not entry.name.startswith(".")))
        except OSError:
            continue
    return 1
