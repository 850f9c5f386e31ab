"""featurepub.registry.auth: challenge parsing and the httpx.Auth flow, driven by hand (no network)."""

from __future__ import annotations

import base64
import threading
from collections.abc import Callable, Generator, Iterator
from typing import Any

import httpx
import pytest

from featurepub.credentials.types import Credential
from featurepub.errors import RegistryError
from featurepub.registry.auth import (
    Challenge,
    RegistryAuth,
    TokenRefused,
    basic_header,
    parse_challenge,
    repository_of,
)

REGISTRY = "https://registry.example"
REALM = "https://auth.example/token"
BEARER = f'Bearer realm="{REALM}",service="registry.example",scope="repository:ns/feat:pull"'
CREDENTIAL = Credential("user", "s3cret|pw", "test")
Flow = Generator[httpx.Request, httpx.Response, None]


def basic(username: str, password: str) -> str:
    return "Basic " + base64.b64encode(f"{username}:{password}".encode()).decode()


def challenge(request: httpx.Request, header: str = BEARER) -> httpx.Response:
    return httpx.Response(401, headers={"WWW-Authenticate": header}, request=request)


def ok(request: httpx.Request, status: int = 200, **kwargs: Any) -> httpx.Response:
    return httpx.Response(status, request=request, **kwargs)


def finish(flow: Flow, response: httpx.Response) -> None:
    with pytest.raises(StopIteration):
        flow.send(response)


def blob_request(repo: str = "ns/feat", method: str = "HEAD") -> httpx.Request:
    return httpx.Request(method, f"{REGISTRY}/v2/{repo}/blobs/sha256:{'0' * 64}")


def token_asked(auth: RegistryAuth, request: httpx.Request) -> tuple[Flow, httpx.Request]:
    """`auth`'s flow for `request`, sent bare and answered with a Bearer challenge: the flow, and the
    token request it sends next."""
    flow = auth.auth_flow(request)
    next(flow)
    return flow, flow.send(challenge(request))


# --- parse_challenge / repository_of ---------------------------------------------------------------------


def test_parse_bearer_challenge_with_commas_inside_quotes() -> None:
    parsed = parse_challenge(
        'Bearer realm="https://auth.example/token",service="registry.example",scope="repository:ns/feat:pull,push"'
    )
    assert parsed == Challenge(
        "bearer",
        {
            "realm": "https://auth.example/token",
            "service": "registry.example",
            "scope": "repository:ns/feat:pull,push",
        },
    )


def test_parse_challenge_with_spaces_unquoted_values_and_case() -> None:
    parsed = parse_challenge('  BEARER Realm = "https://a/t" , Service=reg.example,error="insufficient_scope"')
    assert parsed is not None
    assert parsed.scheme == "bearer"
    assert parsed.params == {"realm": "https://a/t", "service": "reg.example", "error": "insufficient_scope"}


def test_parse_basic_challenge() -> None:
    assert parse_challenge('Basic realm="Registry Realm"') == Challenge("basic", {"realm": "Registry Realm"})
    assert parse_challenge("BASIC") == Challenge("basic", {})


def test_parse_empty_challenge() -> None:
    assert parse_challenge("") is None
    assert parse_challenge("   ") is None


def test_parse_challenge_unescapes_quoted_pairs() -> None:
    parsed = parse_challenge(r'Bearer realm="https://a/t",error_description="say \"hi\""')
    assert parsed is not None
    assert parsed.params["error_description"] == 'say "hi"'


@pytest.mark.parametrize(
    ("path", "repo"),
    [
        ("/v2/a/b/c/blobs/uploads/", "a/b/c"),
        ("/v2/a/b/c/blobs/uploads/some-uuid", "a/b/c"),
        ("/v2/ns/feat/blobs/sha256:abc", "ns/feat"),
        ("/v2/ns/feat/manifests/1.0.0", "ns/feat"),
        ("/v2/ns/feat/tags/list", "ns/feat"),
        ("/v2/library/ubuntu/manifests/latest", "library/ubuntu"),
        ("/v2/", None),
        ("/v2/_catalog", None),
        ("/token", None),
        ("/v1/a/blobs/x", None),
    ],
)
def test_repository_of(path: str, repo: str | None) -> None:
    assert repository_of(httpx.URL(f"{REGISTRY}{path}")) == repo


def test_basic_header() -> None:
    assert basic_header(CREDENTIAL) == basic("user", "s3cret|pw")


# --- Bearer ----------------------------------------------------------------------------------------------


def test_bearer_challenge_token_request_retry_and_cache() -> None:
    auth = RegistryAuth(CREDENTIAL)
    request = blob_request()
    flow = auth.auth_flow(request)
    first = next(flow)
    assert first is request
    assert "Authorization" not in first.headers

    token_request = flow.send(challenge(request))
    assert token_request.method == "GET"
    assert token_request.url.copy_with(query=None) == httpx.URL(REALM)
    assert token_request.url.params["service"] == "registry.example"
    # featurepub asks for push and pull up front, whatever scope the challenge named
    assert token_request.url.params["scope"] == "repository:ns/feat:pull,push"
    assert token_request.headers["Authorization"] == basic("user", "s3cret|pw")

    retried = flow.send(ok(token_request, json={"token": "tok-1", "expires_in": 300}))
    assert retried.headers["Authorization"] == "Bearer tok-1"
    assert retried.url == request.url
    finish(flow, ok(retried))
    assert auth.token_requests == 1

    # a later request to the same repository carries the cached token, no challenge needed
    later = httpx.Request("PUT", f"{REGISTRY}/v2/ns/feat/manifests/1.0.0", content=b"{}")
    flow = auth.auth_flow(later)
    sent = next(flow)
    assert sent.headers["Authorization"] == "Bearer tok-1"
    finish(flow, ok(sent, 201))
    assert auth.token_requests == 1


def test_another_repository_needs_its_own_token() -> None:
    auth = RegistryAuth(CREDENTIAL)
    request = blob_request("ns/feat")
    flow, token_request = token_asked(auth, request)
    finish(flow, ok(flow.send(ok(token_request, json={"token": "one"}))))

    other = blob_request("ns/other")
    flow = auth.auth_flow(other)
    assert "Authorization" not in next(flow).headers
    token_request = flow.send(challenge(other, f'Bearer realm="{REALM}",service="registry.example"'))
    assert token_request.url.params["scope"] == "repository:ns/other:pull,push"
    retried = flow.send(ok(token_request, json={"token": "two"}))
    assert retried.headers["Authorization"] == "Bearer two"
    assert auth.token_requests == 2


def _in_thread(step: Callable[[], httpx.Request]) -> tuple[threading.Thread, list[httpx.Request]]:
    """Run one step of a flow in a thread of its own (it blocks while another flow fetches a token)."""
    out: list[httpx.Request] = []
    thread = threading.Thread(target=lambda: out.append(step()), daemon=True)
    thread.start()
    return thread, out


def test_requests_for_a_scope_being_fetched_wait_for_that_token() -> None:
    auth = RegistryAuth(CREDENTIAL)
    first = blob_request()
    fetching = auth.auth_flow(first)
    next(fetching)
    refused_meanwhile = blob_request(method="GET")  # sent bare before the token exchange began
    refused_flow = auth.auth_flow(refused_meanwhile)
    next(refused_flow)
    token_request = fetching.send(challenge(first))  # the exchange is out now

    later_flow = auth.auth_flow(blob_request())  # a request started while the token is on its way
    later, later_sent = _in_thread(lambda: next(later_flow))
    refused, refused_sent = _in_thread(lambda: refused_flow.send(challenge(refused_meanwhile)))
    later.join(0.2)
    refused.join(0.2)
    assert later.is_alive() and refused.is_alive()  # both wait rather than ask again

    retried = fetching.send(ok(token_request, json={"token": "tok-1", "expires_in": 300}))
    later.join(5)
    refused.join(5)
    assert [r.headers["Authorization"] for r in (retried, *later_sent, *refused_sent)] == ["Bearer tok-1"] * 3
    assert refused_sent[0].url == refused_meanwhile.url  # the refused request again, not a token request
    assert auth.token_requests == 1


def test_a_failed_exchange_lets_the_waiting_request_ask_for_its_own() -> None:
    auth = RegistryAuth(CREDENTIAL)
    first, second = blob_request(), blob_request(method="GET")
    fetching, waiting = auth.auth_flow(first), auth.auth_flow(second)
    next(fetching)
    next(waiting)
    token_request = fetching.send(challenge(first))
    waiter, asked = _in_thread(lambda: waiting.send(challenge(second)))
    with pytest.raises(TokenRefused):
        fetching.send(ok(token_request, 503))
    waiter.join(5)
    assert asked[0].url.copy_with(query=None) == httpx.URL(REALM)  # its own token request
    retried = waiting.send(ok(asked[0], json={"token": "tok-2"}))
    assert retried.headers["Authorization"] == "Bearer tok-2"


def test_a_token_refused_on_the_retry_is_replaced_once_then_the_refusal_stands() -> None:
    auth = RegistryAuth(CREDENTIAL)
    request = blob_request()
    flow, token_request = token_asked(auth, request)
    retried = flow.send(ok(token_request, json={"token": "used-up"}))
    token_request = flow.send(challenge(retried))  # expired before it was answered: a fresh one
    retried = flow.send(ok(token_request, json={"token": "fresh"}))
    assert retried.headers["Authorization"] == "Bearer fresh"
    finish(flow, challenge(retried))  # refused again: the registry means it
    assert auth.token_requests == 2


def test_access_token_key_is_accepted() -> None:
    auth = RegistryAuth(CREDENTIAL)
    request = blob_request()
    flow, token_request = token_asked(auth, request)
    retried = flow.send(ok(token_request, json={"access_token": "azure-token", "refresh_token": "r"}))
    assert retried.headers["Authorization"] == "Bearer azure-token"


def test_token_wins_over_access_token() -> None:
    auth = RegistryAuth(None)
    request = blob_request()
    flow, token_request = token_asked(auth, request)
    assert "Authorization" not in token_request.headers  # anonymous token
    retried = flow.send(ok(token_request, json={"token": "a", "access_token": "b"}))
    assert retried.headers["Authorization"] == "Bearer a"


@pytest.mark.parametrize("status", [401, 403, 500])
def test_non_200_token_response_raises_token_refused(status: int) -> None:
    auth = RegistryAuth(CREDENTIAL)
    request = blob_request()
    flow, token_request = token_asked(auth, request)
    with pytest.raises(TokenRefused) as info:
        flow.send(ok(token_request, status, json={"details": "incorrect username or password"}))
    assert info.value.status == status
    assert info.value.realm == REALM
    assert "s3cret" not in str(info.value)
    assert REALM in str(info.value)


@pytest.mark.parametrize(
    "body",
    [b"not json", b"[]", b"{}", b'{"token": ""}', b'{"token": 5}', b'{"access_token": null}'],
)
def test_unusable_token_body_raises_token_refused(body: bytes) -> None:
    auth = RegistryAuth(CREDENTIAL)
    request = blob_request()
    flow, token_request = token_asked(auth, request)
    with pytest.raises(TokenRefused):
        flow.send(ok(token_request, content=body))


@pytest.mark.parametrize("expires_in", ["soon", None, [], -100, 0, 1.5])
def test_odd_expires_in_still_gives_a_token(expires_in: object) -> None:
    auth = RegistryAuth(CREDENTIAL)
    request = blob_request()
    flow, token_request = token_asked(auth, request)
    retried = flow.send(ok(token_request, json={"token": "t", "expires_in": expires_in}))
    assert retried.headers["Authorization"] == "Bearer t"


def test_infinite_expires_in_does_not_crash() -> None:
    auth = RegistryAuth(CREDENTIAL)
    request = blob_request()
    flow, token_request = token_asked(auth, request)
    retried = flow.send(ok(token_request, content=b'{"token": "t", "expires_in": 1e400}'))
    assert retried.headers["Authorization"] == "Bearer t"


def test_expired_token_is_not_reused(monkeypatch: pytest.MonkeyPatch) -> None:
    now = [1000.0]
    monkeypatch.setattr("featurepub.registry.auth.time.monotonic", lambda: now[0])
    auth = RegistryAuth(CREDENTIAL)
    request = blob_request()
    flow, token_request = token_asked(auth, request)
    flow.send(ok(token_request, json={"token": "t", "expires_in": 60}))  # refreshed early: valid until 1050
    now[0] = 1049.0
    assert next(auth.auth_flow(blob_request())).headers["Authorization"] == "Bearer t"
    now[0] = 1050.0
    assert "Authorization" not in next(auth.auth_flow(blob_request())).headers


def test_pull_only_auth_keeps_pull_scope() -> None:
    auth = RegistryAuth(CREDENTIAL, push=False)
    request = blob_request()
    flow = auth.auth_flow(request)
    next(flow)
    token_request = flow.send(challenge(request, f'Bearer realm="{REALM}",service="s"'))
    assert token_request.url.params["scope"] == "repository:ns/feat:pull"


def test_challenge_outside_a_repository_keeps_its_scope() -> None:
    auth = RegistryAuth(CREDENTIAL)
    request = httpx.Request("GET", f"{REGISTRY}/v2/")
    flow = auth.auth_flow(request)
    next(flow)
    token_request = flow.send(challenge(request, f'Bearer realm="{REALM}",service="s",scope="registry:catalog:*"'))
    assert token_request.url.params["scope"] == "registry:catalog:*"
    token_request = auth._token_request((REALM, "", ""))
    assert "scope" not in token_request.url.params
    assert "service" not in token_request.url.params


def _stream() -> Iterator[bytes]:
    yield b"chunk"


def test_streamed_body_rejected_is_not_replayed_and_drops_the_stale_token() -> None:
    auth = RegistryAuth(CREDENTIAL)
    request = blob_request()
    flow, token_request = token_asked(auth, request)
    finish(flow, ok(flow.send(ok(token_request, json={"token": "t"}))))

    upload = httpx.Request("PUT", f"{REGISTRY}/v2/ns/feat/blobs/uploads/abc", content=_stream())
    flow = auth.auth_flow(upload)
    assert next(flow).headers["Authorization"] == "Bearer t"  # authenticated up front: nothing to replay
    finish(flow, challenge(upload))  # the token went stale: no token request, no retry with a spent stream
    assert auth.token_requests == 1
    # the caller's fresh session starts unauthenticated, so its challenge fetches a new token
    assert "Authorization" not in next(auth.auth_flow(blob_request())).headers


def test_explicit_authorization_header_is_kept() -> None:
    auth = RegistryAuth(CREDENTIAL)
    request = blob_request()
    flow, token_request = token_asked(auth, request)
    flow.send(ok(token_request, json={"token": "t"}))
    mine = httpx.Request("GET", f"{REGISTRY}/v2/ns/feat/tags/list", headers={"Authorization": "Bearer mine"})
    assert next(auth.auth_flow(mine)).headers["Authorization"] == "Bearer mine"


@pytest.mark.parametrize("status", [200, 404, 403])
def test_non_401_responses_end_the_flow(status: int) -> None:
    auth = RegistryAuth(CREDENTIAL)
    request = blob_request()
    flow = auth.auth_flow(request)
    next(flow)
    finish(flow, ok(request, status))


def test_401_without_or_with_unknown_challenge_gives_up() -> None:
    auth = RegistryAuth(CREDENTIAL)
    for header in (None, "Negotiate abc"):
        request = blob_request()
        flow = auth.auth_flow(request)
        next(flow)
        headers = {"WWW-Authenticate": header} if header else {}
        finish(flow, httpx.Response(401, headers=headers, request=request))
    assert auth.token_requests == 0


# --- Basic -----------------------------------------------------------------------------------------------


def test_basic_challenge_with_credentials_retries_with_basic() -> None:
    auth = RegistryAuth(CREDENTIAL)
    request = blob_request()
    flow = auth.auth_flow(request)
    next(flow)
    retried = flow.send(challenge(request, 'Basic realm="ECR"'))
    assert retried.headers["Authorization"] == basic("user", "s3cret|pw")
    finish(flow, ok(retried))
    # from then on every request carries Basic up front, any repository
    assert next(auth.auth_flow(blob_request("other/repo"))).headers["Authorization"] == basic("user", "s3cret|pw")
    assert auth.token_requests == 0


def test_basic_credentials_refused_are_not_retried_again() -> None:
    auth = RegistryAuth(CREDENTIAL)
    request = blob_request()
    flow = auth.auth_flow(request)
    next(flow)
    retried = flow.send(challenge(request, "BASIC realm=x"))
    finish(flow, challenge(retried, "Basic realm=x"))  # the retried request was refused: that is the end
    again = blob_request()
    flow = auth.auth_flow(again)
    assert next(flow).headers["Authorization"].startswith("Basic ")
    finish(flow, challenge(again, "Basic realm=x"))  # refused again: give up, no loop


def test_concurrent_first_requests_both_retry_with_basic() -> None:
    # Two requests go out before any challenge is answered; the first 401 teaches the flow that
    # Basic is wanted, and the second 401, to a request sent without it, is still answered.
    auth = RegistryAuth(CREDENTIAL)
    first, second = blob_request(), blob_request("other/repo")
    first_flow, second_flow = auth.auth_flow(first), auth.auth_flow(second)
    next(first_flow), next(second_flow)
    assert "Authorization" not in second.headers
    first_retry = first_flow.send(challenge(first, 'Basic realm="r"'))
    second_retry = second_flow.send(challenge(second, 'Basic realm="r"'))
    expected = basic("user", "s3cret|pw")
    assert first_retry.headers["Authorization"] == second_retry.headers["Authorization"] == expected
    finish(first_flow, ok(first_retry))
    finish(second_flow, ok(second_retry))


def test_basic_challenge_without_credentials_gives_up() -> None:
    auth = RegistryAuth(None)
    request = blob_request()
    flow = auth.auth_flow(request)
    next(flow)
    finish(flow, challenge(request, 'Basic realm="Registry"'))
    assert "Authorization" not in request.headers


# --- credentials stay home (issue 11) ----------------------------------------------------------------


def host_bound() -> RegistryAuth:
    return RegistryAuth(CREDENTIAL, host="registry.example")


def test_a_challenge_that_came_from_another_host_is_not_answered() -> None:
    auth = host_bound()
    request = blob_request()
    flow = auth.auth_flow(request)
    next(flow)
    # As httpx would hand it over had it followed a redirect: the 401 is the storage host's.
    elsewhere = httpx.Request("GET", "https://storage.example/blob")
    finish(flow, httpx.Response(401, headers={"WWW-Authenticate": BEARER}, request=elsewhere))
    assert auth.token_requests == 0


def test_the_registry_challenge_may_name_a_realm_on_another_host() -> None:
    # Docker Hub: registry-1.docker.io names auth.docker.io; GHCR names ghcr.io/token.
    auth = host_bound()
    request = blob_request()
    _, token_request = token_asked(auth, request)
    assert token_request.url.host == "auth.example"
    assert token_request.headers["Authorization"] == basic("user", "s3cret|pw")


def test_a_relative_realm_is_taken_relative_to_the_registry() -> None:
    auth = host_bound()
    request = blob_request()
    flow = auth.auth_flow(request)
    next(flow)
    token_request = flow.send(challenge(request, 'Bearer realm="/token",service="s"'))
    assert str(token_request.url).startswith("https://registry.example/token?")


@pytest.mark.parametrize("realm", ["http://[::1", "", "ftp://x/t", "mailto:x"])
def test_an_unusable_realm_is_a_registry_error(realm: str) -> None:
    auth = host_bound()
    request = blob_request()
    flow = auth.auth_flow(request)
    next(flow)
    with pytest.raises(RegistryError, match="token realm"):
        flow.send(challenge(request, f'Bearer realm="{realm}",service="s"'))


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        (b"[" * 30_000 + b"]" * 30_000, "nested too deeply"),
        (b'{"token": 5}', "holds no token"),
        (b"<html>", "not JSON"),
    ],
)
def test_a_token_body_without_a_token_says_why(body: bytes, reason: str) -> None:
    auth = host_bound()
    request = blob_request()
    flow, token_request = token_asked(auth, request)
    with pytest.raises(TokenRefused) as caught:
        flow.send(ok(token_request, content=body))
    assert reason in caught.value.reason
