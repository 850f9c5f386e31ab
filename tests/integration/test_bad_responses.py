"""Registries and proxies answer nonsense; featurepub turns all of it into a clear error or report."""

from __future__ import annotations

import random
from collections.abc import Callable
from pathlib import Path

import pytest

import featurepub
from featurepub.errors import FeaturepubError
from featurepub.registry.retry import RetryPolicy
from tests.integration.conftest import write_feature
from tests.support.proxy import ProxyRequest, ProxyResponse, RegistryProxy, Rule
from tests.support.publishing import featurepub as run_cli

BODIES: list[bytes] = [
    b"",
    b"<html><body><h1>502 Bad Gateway</h1></body></html>",
    b'{"errors": "not a list"}',
    b'{"errors": [{"code": 12, "message": null, "detail": {"deep": [1, 2]}}]}',
    b'{"errors": [',
    b"\xff\xfe\x00garbage",
    b"null",
    b"[]",
    b'{"tags": 5}',
    b'{"tags": [1, null, "x"]}',
    b"x" * 100_000,
]
STATUSES = [200, 201, 202, 204, 301, 400, 403, 404, 405, 409, 418, 500, 503]
STEPS = [
    ("HEAD", "/manifests/"),
    ("GET", "/tags/list"),
    ("HEAD", "/blobs/sha256:"),
    ("POST", "/blobs/uploads/"),
    ("PUT", "/blobs/uploads/"),
    ("PUT", "/manifests/"),
]


class Garbage(Rule):
    """Answer one protocol step with an arbitrary status and body (no registry does all of this;
    broken proxies and load balancers in front of registries do some of it)."""

    def __init__(self, method: str, fragment: str, status: int, body: bytes, location: bool) -> None:
        self.method, self.fragment, self.status, self.body, self.location = (
            method,
            fragment,
            status,
            body,
            location,
        )

    def before(self, request: ProxyRequest) -> ProxyResponse | None:
        if request.method == self.method and self.fragment in request.route:
            headers = [("Content-Type", "text/html")]
            if self.location:
                headers.append(("Location", "::not a url::"))
            return ProxyResponse(self.status, headers, self.body)
        return None


@pytest.mark.parametrize("case", range(30))
def test_nonsense_never_escapes_as_a_crash(
    case: int, tmp_path: Path, make_proxy: Callable[..., RegistryProxy], namespace: str
) -> None:
    rng = random.Random(case)
    method, fragment = STEPS[case % len(STEPS)]
    rule = Garbage(method, fragment, rng.choice(STATUSES), rng.choice(BODIES), rng.random() < 0.5)
    proxy = make_proxy(rule)
    try:
        report = featurepub.publish(
            write_feature(tmp_path),
            registry=proxy.host,
            namespace=namespace,
            retry=RetryPolicy(max_attempts=2, base_delay=0.01),
        )
    except FeaturepubError as exc:
        message = str(exc)
        assert message
        return
    # Some nonsense is harmless (a 200 to a HEAD that then reads as present); anything else is a
    # failure the report names, never a crash.
    for feature in report.features:
        for repo in feature.repositories:
            if not feature.ok:
                assert repo.error or repo.status.value == "not-attempted"


@pytest.mark.parametrize(("method", "fragment"), [("POST", "/blobs/uploads/"), ("PUT", "/manifests/")])
def test_html_error_page_gives_one_clear_line(
    method: str, fragment: str, tmp_path: Path, make_proxy: Callable[..., RegistryProxy], namespace: str
) -> None:
    proxy = make_proxy(Garbage(method, fragment, 400, BODIES[1], location=False))
    run = run_cli("publish", write_feature(tmp_path), "-r", proxy.host, "-n", namespace)
    assert run.code == 4
    assert "Traceback" not in run.stderr
    assert "<html>" not in run.stderr
    assert f"tool [{namespace}/tool]: FAILED" in run.stderr.splitlines()
    failure = next(line for line in run.stderr.splitlines() if line.startswith("error: "))  # the cause, once
    assert "HTTP 400" in failure and proxy.host in failure and f"{namespace}/tool" in failure


def test_missing_location_is_named(
    tmp_path: Path, make_proxy: Callable[..., RegistryProxy], namespace: str
) -> None:
    class NoLocation(Rule):
        def after(self, request: ProxyRequest, response: ProxyResponse) -> ProxyResponse:
            if request.method == "POST":
                response.headers = [(k, v) for k, v in response.headers if k.lower() != "location"]
            return response

    proxy = make_proxy(NoLocation())
    run = run_cli("publish", write_feature(tmp_path), "-r", proxy.host, "-n", namespace)
    assert run.code == 4
    assert "without a Location header" in run.stderr
    assert "Traceback" not in run.stderr
