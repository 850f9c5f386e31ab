"""Registry authentication as an httpx.Auth flow: answer 401 challenges with Basic or Bearer.

Credentials go to the registry's own host, and to the token realm a challenge from that host
names (which may be elsewhere: auth.docker.io for Docker Hub), and nowhere else. The client
follows redirects itself, so each hop is a flow of its own: a request to another host is sent
bare and a challenge it gets back is never answered, and a 401 this flow sees is always the
answer of the host its request went to.

Bearer tokens are cached per (realm, service, scope) and reused for later requests to
the same repository, so a streamed upload body is sent with a valid token the first
time: a stream cannot be replayed after a challenge. Requests run side by side, so one
exchange per scope is in flight at a time: a request that needs a token another request is
already fetching waits for it instead of asking again (a round trip saved, and one token
request less against the registry's rate limit).
"""

from __future__ import annotations

import base64
import re
import threading
import time
from collections.abc import Generator
from dataclasses import dataclass

import httpx

from featurepub.credentials.types import Credential
from featurepub.errors import ContentError, RegistryContext, RegistryError
from featurepub.oci.document import load_json
from featurepub.redact import register_secret
from featurepub.registry.bodies import BodyRefused

_QUOTED_PAIR = re.compile(r"\\(.)")
_PARAM = re.compile(r'(\w+)\s*=\s*(?:"((?:[^"\\]|\\.)*)"|([^\s,]+))')
_REPO_PATH = re.compile(r"^/v2/(.+?)/(?:blobs|manifests|tags)/")
# What an Authorization header can carry after "Bearer ": visible ASCII (RFC 9110's token68 and
# more, since registries hand out JWTs and opaque strings alike).
_TOKEN_CHARS = re.compile(r"[\x21-\x7e]+")
# A token lives this long when the server does not say (the distribution token spec's default).
_DEFAULT_TOKEN_SECONDS = 60
# Challenges one request answers. A token shared by requests side by side can run out before a
# request sent with it is answered (GitLab's live 5-15 minutes, and a long publish waits on slots):
# the second answer fetches a fresh one; a third refusal is the registry's verdict.
_ANSWERS = 2
# How long a request waits for a token another request is fetching before it asks for its own.
_SHARED_TOKEN_WAIT = 30.0


# A token is asked for by (realm, service, scope).
_ScopeKey = tuple[str, str, str]


@dataclass(frozen=True)
class Challenge:
    scheme: str
    params: dict[str, str]


def parse_challenge(header: str) -> Challenge | None:
    scheme, _, rest = header.strip().partition(" ")
    if not scheme:
        return None
    params = {
        # A quoted value may hold quoted-pairs (RFC 9110 5.6.4): "\x" stands for x.
        m.group(1).lower(): (_QUOTED_PAIR.sub(r"\1", m.group(2)) if m.group(2) is not None else m.group(3))
        for m in _PARAM.finditer(rest)
    }
    return Challenge(scheme.lower(), params)


def repository_of(url: httpx.URL) -> str | None:
    match = _REPO_PATH.match(url.path)
    return match.group(1) if match else None


def basic_header(credential: Credential) -> str:
    raw = f"{credential.username}:{credential.password}".encode()
    return "Basic " + base64.b64encode(raw).decode("ascii")


@dataclass
class _Token:
    header: str
    expires: float


class TokenRefused(Exception):
    """The token endpoint refused the credentials, or answered 200 without a usable token (`reason`
    says why); carries its status, never the secret."""

    def __init__(self, status: int, realm: str, reason: str = "") -> None:
        super().__init__(f"token endpoint {realm} answered {status}" + (f": {reason}" if reason else ""))
        self.status = status
        self.realm = realm
        self.reason = reason


class RegistryAuth(httpx.Auth):
    """Basic and Bearer challenge handling for one registry host."""

    def __init__(self, credential: Credential | None, *, push: bool = True, host: str | None = None) -> None:
        self.credential = credential
        self.push = push
        # Credentials and tokens go to this host[:port] only (None: any): never to a blob store a
        # redirect or an absolute Location points at.
        self.host = host.lower() if host else None
        # An identity token is an OAuth2 refresh token; the token endpoint may hand back a new one.
        self._refresh = credential.password if credential is not None and credential.identity_token else None
        self.challenged = False  # whether the registry ever asked for credentials
        self._basic = False
        self._tokens: dict[_ScopeKey, _Token] = {}
        self._repo_scope: dict[str, _ScopeKey] = {}
        self._fetching: dict[_ScopeKey, threading.Event] = {}  # set when that exchange has ended
        self._lock = threading.Lock()
        self.token_requests = 0

    def _cached(self, request: httpx.Request) -> str | None:
        if self._basic and self.credential is not None:
            return basic_header(self.credential)
        key = self._repo_scope.get(repository_of(request.url) or "")
        if key is None:
            return None
        fetching = self._fetching.get(key)
        if fetching is not None:
            fetching.wait(_SHARED_TOKEN_WAIT)  # its token is a round trip away: cheaper than a 401
        token = self._tokens.get(key)
        if token is not None and token.expires > time.monotonic():
            return token.header
        return None

    def _ours(self, url: httpx.URL) -> bool:
        return self.host is None or url.netloc.decode("ascii").lower() == self.host

    def auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        if not self._ours(request.url):
            yield request  # another host: it gets no credentials, and its challenges are not answered
            return
        if "Authorization" not in request.headers and (header := self._cached(request)):
            request.headers["Authorization"] = header
        response = yield request
        for _ in range(_ANSWERS):
            header = yield from self._answer(request, response)
            if header is None:
                return
            request.headers["Authorization"] = header
            response = yield request

    def _answer(
        self, request: httpx.Request, response: httpx.Response
    ) -> Generator[httpx.Request, httpx.Response, str | None]:
        """The Authorization header to send `request` again with after `response`; None: do not."""
        # The client follows no redirects inside this flow, so this is the registry's own answer;
        # checked all the same, as the one rule that keeps credentials home.
        if response.status_code != 401 or not self._ours(response.request.url):
            return None
        challenge = parse_challenge(response.headers.get("WWW-Authenticate", ""))
        if challenge is None:
            return None
        self.challenged = True
        if not isinstance(request.stream, httpx.ByteStream):
            # A streamed body is spent, and a flow that sent a token request cannot hand this 401
            # back: drop the stale token so the caller's fresh upload session authenticates anew.
            self._repo_scope.pop(repository_of(request.url) or "", None)
            return None
        if challenge.scheme == "basic":
            if self.credential is None:
                return None  # nothing to offer
            header = basic_header(self.credential)
            # Refused only if this very request carried them: a concurrent request that was sent
            # before another learned Basic is wanted still deserves its retry.
            if request.headers.get("Authorization") == header:
                return None
            self._basic = True
            return header
        if challenge.scheme == "bearer":
            key = self._scope_key(challenge, request)
            return (yield from self._token_for(key, request)).header
        return None

    def _token_for(
        self, key: _ScopeKey, request: httpx.Request
    ) -> Generator[httpx.Request, httpx.Response, _Token]:
        """A token for `key`: one another request fetched while this one was refused, else one
        fetched here (while it is, requests for the same scope wait for it)."""
        refused = request.headers.get("Authorization")
        repo = repository_of(request.url)
        while True:
            with self._lock:
                token = self._tokens.get(key)
                if token is not None and token.header != refused and token.expires > time.monotonic():
                    return token
                other = self._fetching.get(key)
                if other is None:
                    ours = self._fetching[key] = threading.Event()
                    if repo:
                        self._repo_scope[repo] = key
                    break
            if not other.wait(_SHARED_TOKEN_WAIT):
                ours = threading.Event()  # that exchange is stuck: fetch one of our own, unshared
                break
        try:
            token_response = yield self._token_request(key)
            self.token_requests += 1
            token = self._parse_token(token_response, key[0])
            with self._lock:
                self._tokens[key] = token
                if repo:
                    self._repo_scope[repo] = key
            return token
        finally:
            with self._lock:
                if self._fetching.get(key) is ours:
                    del self._fetching[key]
            ours.set()

    def _scope_key(self, challenge: Challenge, request: httpx.Request) -> _ScopeKey:
        realm = _realm_url(challenge.params.get("realm", ""), request.url, self.host)
        service = challenge.params.get("service", "")
        scope = challenge.params.get("scope", "")
        repo = repository_of(request.url)
        if repo and self.push:
            # Ask for push and pull up front: one token serves the whole publish of a repository.
            scope = f"repository:{repo}:pull,push"
        elif repo and not scope:
            scope = f"repository:{repo}:pull"
        source = request.url.params.get("from") if "mount" in request.url.params else None
        if repo and source and source != repo:
            # A cross-repository mount also needs pull on the repository it mounts from.
            scope = f"{scope} repository:{source}:pull"
        return realm, service, scope

    def _token_request(self, key: _ScopeKey) -> httpx.Request:
        realm, service, scope = key
        params = {k: v for k, v in (("service", service), ("scope", scope)) if v}
        if self._refresh is not None:
            # distribution's OAuth2 token spec, as Azure ACR serves it: POST the refresh token
            # (several scopes go space-separated in one field, as OAuth2 has it).
            form = {"grant_type": "refresh_token", "refresh_token": self._refresh, "client_id": "featurepub"}
            return httpx.Request("POST", realm, data={**form, **params})
        headers = {"Authorization": basic_header(self.credential)} if self.credential else {}
        # docker's GET flow: one `scope` parameter per scope.
        query = httpx.QueryParams([("service", service)] if service else [])
        for one in scope.split():
            query = query.add("scope", one)
        return httpx.Request("GET", realm, params=query, headers=headers)

    def _parse_token(self, response: httpx.Response, realm: str) -> _Token:
        try:
            data = response.read()  # at most 64 KiB: the transport bounds every body
        except BodyRefused as exc:
            raise TokenRefused(response.status_code, realm, str(exc)) from None
        if response.status_code != 200:
            raise TokenRefused(response.status_code, realm)
        try:
            body = load_json(data, "the answer")
        except ContentError as exc:
            raise TokenRefused(response.status_code, realm, exc.message) from None
        value = body.get("token") or body.get("access_token") if isinstance(body, dict) else None
        if not isinstance(value, str) or not value:
            raise TokenRefused(response.status_code, realm, "the answer holds no token")
        if not _TOKEN_CHARS.fullmatch(value):
            raise TokenRefused(response.status_code, realm, "the token holds characters a header cannot carry")
        register_secret(value)
        refresh = body.get("refresh_token")
        if self._refresh is not None and isinstance(refresh, str) and refresh:
            register_secret(refresh)
            self._refresh = refresh  # a rotated refresh token replaces the old one
        try:
            lifetime = int(body.get("expires_in") or _DEFAULT_TOKEN_SECONDS)
        except (TypeError, ValueError, OverflowError):  # OverflowError: "expires_in": 1e400
            lifetime = _DEFAULT_TOKEN_SECONDS
        # Refresh a little early so a token does not expire between check and use.
        return _Token(f"Bearer {value}", time.monotonic() + max(lifetime - 10, 5))


def _realm_url(realm: str, challenged: httpx.URL, host: str | None) -> str:
    """The token realm a challenge names, as an absolute http(s) URL (a relative one is taken
    relative to the challenged request, as a browser would); RegistryError when it is none."""
    where = RegistryContext(host or challenged.netloc.decode("ascii", "replace"))
    try:
        url = challenged.join(realm) if realm else None
    except httpx.InvalidURL as exc:
        raise RegistryError(
            f"the registry's challenge names an invalid token realm ({exc})", context=where
        ) from None
    if url is None or url.scheme not in ("http", "https") or not url.host:
        raise RegistryError(
            f"the registry's challenge names no usable token realm ({realm[:80]!r})", context=where
        )
    return str(url)
