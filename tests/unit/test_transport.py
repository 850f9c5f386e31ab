"""featurepub.registry.transport and the auth additions: proxies, NO_PROXY, the plain-HTTP policy,
credentials bound to the registry's host, identity tokens, scopes for mounts. No network."""

from __future__ import annotations

import os
from collections.abc import Generator

import httpx
import pytest

from featurepub.credentials.types import Credential
from featurepub.errors import ConfigError, RegistryError
from featurepub.redact import redact
from featurepub.registry.auth import RegistryAuth
from featurepub.registry.transport import (
    USER_AGENT,
    RegistryTransport,
    TransportOptions,
    bypasses_proxy,
    proxies_from_environment,
)

Flow = Generator[httpx.Request, httpx.Response, None]
REALM = "https://auth.example/token"


@pytest.mark.parametrize(
    ("url", "no_proxy", "bypass"),
    [
        ("https://ghcr.io/v2/", "", False),
        ("https://ghcr.io/v2/", "*", True),
        ("https://ghcr.io/v2/", "ghcr.io", True),
        ("https://pkg.ghcr.io/v2/", ".ghcr.io", True),
        ("https://pkg.ghcr.io/v2/", "*.ghcr.io", True),
        ("https://notghcr.io/v2/", "ghcr.io", False),
        ("http://localhost:5000/v2/", "localhost", True),
        ("http://localhost:5000/v2/", "localhost:5001", False),
        ("http://localhost:5000/v2/", "localhost:5000", True),
        ("https://10.1.2.3/v2/", "10.0.0.0/8", True),
        ("https://11.1.2.3/v2/", "10.0.0.0/8", False),
        ("https://ghcr.io/v2/", "example.com, ghcr.io", True),
    ],
)
def test_no_proxy(url: str, no_proxy: str, bypass: bool) -> None:
    assert bypasses_proxy(httpx.URL(url), no_proxy) is bypass


def test_proxy_variables(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HTTPS_PROXY", "proxy.example:3128")
    monkeypatch.setenv("NO_PROXY", "internal.example")
    transport = RegistryTransport(TransportOptions())
    assert transport.proxy_for(httpx.URL("https://ghcr.io/v2/")) == "http://proxy.example:3128"
    assert transport.proxy_for(httpx.URL("https://internal.example/v2/")) is None
    assert transport.proxy_for(httpx.URL("http://ghcr.io/v2/")) is None  # no HTTP_PROXY
    monkeypatch.setenv("ALL_PROXY", "http://all.example:1")
    assert (
        RegistryTransport(TransportOptions()).proxy_for(httpx.URL("http://x.example/")) == "http://all.example:1"
    )


def test_proxy_variables_lower_case_wins_and_cgi_ignores_http_proxy(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in [n for n in os.environ if n.lower().endswith("_proxy")] + ["REQUEST_METHOD"]:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("HTTPS_PROXY", "http://upper.example:1")
    monkeypatch.setenv("https_proxy", "http://lower.example:2")
    monkeypatch.setenv("HTTP_PROXY", "http://upper.example:3")
    monkeypatch.setenv("ALL_PROXY", "http://all.example:4")
    monkeypatch.setenv("all_proxy", "")  # set empty on purpose: no proxy for all
    assert proxies_from_environment() == {"https": "http://lower.example:2", "http": "http://upper.example:3"}
    monkeypatch.setenv("REQUEST_METHOD", "GET")  # inside a CGI request, HTTP_PROXY may come from a client
    assert proxies_from_environment() == {"https": "http://lower.example:2"}


def test_plain_http_policy() -> None:
    transport = RegistryTransport(TransportOptions(insecure_hosts=frozenset({"reg.example:5000", "lab.example"})))
    for host in ("localhost:5000", "127.0.0.1", "[::1]:80", "reg.example:5000", "lab.example:8080"):
        assert transport.plain_allowed(host), host
    for host in ("reg.example:5001", "ghcr.io", "evil-localhost.example"):
        assert not transport.plain_allowed(host), host
    assert transport.verifies("localhost:5000")
    assert not transport.verifies("reg.example:5000")
    lines: list[str] = []
    guarded = RegistryTransport(TransportOptions(log=lines.append))
    with pytest.raises(RegistryError, match=r"refusing plain HTTP to auth\.example"):
        guarded.handle_request(httpx.Request("GET", "http://auth.example/token?access_token=x"))
    assert lines == []  # refused before anything was sent


def test_missing_ca_file() -> None:
    with pytest.raises(ConfigError, match="cannot load CA certificates"):
        RegistryTransport(TransportOptions(ca_file="/nonexistent/ca.pem"))


def test_user_agent_names_featurepub() -> None:
    from featurepub import __version__

    assert USER_AGENT.startswith(f"featurepub/{__version__} ")


# --- RegistryAuth additions ------------------------------------------------------------------------------


def start(auth: RegistryAuth, url: str) -> tuple[Flow, httpx.Request]:
    request = httpx.Request("HEAD", url)
    flow = auth.auth_flow(request)
    return flow, next(flow)


def challenge(request: httpx.Request, scope: str = "") -> httpx.Response:
    header = f'Bearer realm="{REALM}",service="reg"' + (f',scope="{scope}"' if scope else "")
    return httpx.Response(401, headers={"WWW-Authenticate": header}, request=request)


def test_credentials_only_go_to_the_registry_host() -> None:
    auth = RegistryAuth(Credential("u", "host-bound-pw", "t"), host="reg.example")
    flow, sent = start(auth, "https://reg.example/v2/ns/x/blobs/sha256:00")
    token_request = flow.send(challenge(sent))
    flow.send(httpx.Response(200, json={"token": "tk-host-bound"}, request=token_request))
    # Same repository path on another host (a redirect target, an absolute Location): nothing attached,
    # and its challenge is not answered.
    flow, sent = start(auth, "https://blobs.example/v2/ns/x/blobs/sha256:00")
    assert "Authorization" not in sent.headers
    with pytest.raises(StopIteration):
        flow.send(challenge(sent))
    assert auth.token_requests == 1


def test_identity_token_is_posted_as_a_refresh_token_and_rotated() -> None:
    auth = RegistryAuth(Credential("<token>", "refresh-one", "t", identity_token=True))
    flow, sent = start(auth, "https://reg.example/v2/ns/x/manifests/1")
    token_request = flow.send(challenge(sent))
    assert token_request.method == "POST"
    assert token_request.url == httpx.URL(REALM)
    assert "Authorization" not in token_request.headers
    form = dict(httpx.QueryParams(token_request.content.decode()))
    assert form == {
        "grant_type": "refresh_token",
        "refresh_token": "refresh-one",
        "client_id": "featurepub",
        "service": "reg",
        "scope": "repository:ns/x:pull,push",
    }
    retried = flow.send(
        httpx.Response(
            200, json={"access_token": "acc-one-xyz", "refresh_token": "refresh-two"}, request=token_request
        )
    )
    assert retried.headers["Authorization"] == "Bearer acc-one-xyz"
    assert redact("acc-one-xyz and refresh-two") == "*** and ***"  # received tokens are secrets too
    flow, sent = start(auth, "https://reg.example/v2/ns/other/manifests/1")
    token_request = flow.send(challenge(sent))
    assert dict(httpx.QueryParams(token_request.content.decode()))["refresh_token"] == "refresh-two"


def test_mount_asks_pull_on_the_source_repository() -> None:
    auth = RegistryAuth(Credential("u", "mount-pw-1", "t"))
    url = "https://reg.example/v2/ns/blobs/uploads/?mount=sha256:00&from=ns/tool"
    request = httpx.Request("POST", url)
    flow = auth.auth_flow(request)
    next(flow)
    token_request = flow.send(challenge(request, "repository:ns:pull,push repository:ns/tool:pull"))
    assert token_request.url.params.get_list("scope") == ["repository:ns:pull,push", "repository:ns/tool:pull"]
