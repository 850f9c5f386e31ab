"""Hypothesis over what a hostile registry can answer in JSON (tests/support/hostile_shapes.py):
manifests and indexes, tag lists, catalogs, token bodies and error bodies, served over HTTP by the
hostile server to the library (`inspect`, `list_tags`, the catalog read of `publish`). Whatever the
shape, the only exceptions are featurepub's own (FeaturepubError subclasses)."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import featurepub
from featurepub.api import open_registry
from featurepub.errors import FeaturepubError
from featurepub.registry.retry import RetryPolicy
from tests.support import hostile as h
from tests.support import hostile_shapes as shapes
from tests.support.hostile import Exchange, HostileServer
from tests.support.registry import RegistryServer

SETTINGS = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
ONCE = RetryPolicy(max_attempts=1)


class Served:
    """The body (and status) the hostile server answers with right now."""

    def __init__(self) -> None:
        self.status = 200
        self.body = b"{}"

    def behaviour(self) -> h.Behaviour:
        def run(exchange: Exchange) -> None:
            exchange.answer(self.status, [("Content-Type", "application/json")], self.body)

        return run

    def serve(self, value: Any, status: int = 200) -> None:
        self.status, self.body = status, shapes.encoded(value)


@pytest.fixture(scope="module")
def served() -> Served:
    return Served()


@pytest.fixture(scope="module")
def server(registry: RegistryServer, served: Served) -> Iterator[HostileServer]:
    with HostileServer(registry.url) as hostile:
        hostile.on("GET", "/manifests/", served.behaviour())
        hostile.on("GET", "/tags/list", served.behaviour())
        hostile.on("GET", "/_catalog", served.behaviour())
        hostile.on("GET", "/token", served.behaviour())
        hostile.on("HEAD", "/manifests/", h.answer(404))
        yield hostile


def only_our_errors(call: Any) -> None:
    with contextlib.suppress(FeaturepubError):
        call()


@SETTINGS
@given(value=shapes.manifests)
def test_manifest_and_index_shapes(value: Any, server: HostileServer, served: Served) -> None:
    served.serve(value)
    only_our_errors(lambda: featurepub.inspect(f"{server.host}/ns/tool:1", retry=ONCE))


@SETTINGS
@given(value=shapes.tag_lists)
def test_tag_list_shapes(value: Any, server: HostileServer, served: Served) -> None:
    served.serve(value)
    only_our_errors(lambda: featurepub.list_tags(f"{server.host}/ns/tool", retry=ONCE))


@SETTINGS
@given(value=shapes.error_bodies, status=st.sampled_from([400, 401, 403, 404, 405, 429, 500, 503]))
def test_error_body_shapes(value: Any, status: int, server: HostileServer, served: Served) -> None:
    served.serve(value, status)
    only_our_errors(lambda: featurepub.list_tags(f"{server.host}/ns/tool", retry=ONCE))


@SETTINGS
@given(value=shapes.catalogs)
def test_catalog_shapes(value: Any, server: HostileServer, served: Served) -> None:
    served.serve(value)
    target = open_registry(server.host, retry=ONCE)
    try:
        found = target.client.repositories_under("ns")  # never raises: None means "unknown"
    finally:
        target.close()
    assert found is None or all(isinstance(name, str) for name in found)


@pytest.fixture(scope="module")
def challenging(registry: RegistryServer, served: Served) -> Iterator[HostileServer]:
    """Asks for a Bearer token for every manifest, from a realm that answers what is served."""
    with HostileServer(registry.url) as hostile:
        hostile.on("GET", "/manifests/", h.challenge('Bearer realm="/token",service="s"'))
        hostile.on("GET", "/token", served.behaviour())
        yield hostile


@SETTINGS
@given(value=shapes.tokens)
def test_token_body_shapes(value: Any, challenging: HostileServer, served: Served) -> None:
    served.serve(value)
    reference = f"{challenging.host}/ns/tool:1"
    only_our_errors(lambda: featurepub.inspect(reference, retry=ONCE, username="u", password="p"))
