"""Proxy rules for protocol behaviour the local registry does not have.

Each rule names the registry behaviour it emulates and where it is documented.
"""

from __future__ import annotations

import base64
import json
import re
import secrets
import threading
from urllib.parse import parse_qs, urlencode, urlsplit

from tests.support.proxy import ProxyRequest, ProxyResponse, Rule

_REPO = re.compile(r"^/v2/(.+?)/(?:blobs|manifests|tags)/")


class PaginateTags(Rule):
    """Serve tags/list in pages of `page_size` with a `Link: <...>; rel="next"` header.

    distribution-spec "Listing Tags": registries may paginate and announce the next page in a
    Link header; Quay pages at 50. distribution 2.8 ignores `n`, so the pages are cut here.
    """

    def __init__(self, page_size: int) -> None:
        self.page_size = page_size

    def after(self, request: ProxyRequest, response: ProxyResponse) -> ProxyResponse:
        if not request.route.endswith("/tags/list") or response.status != 200:
            return response
        body = json.loads(response.body)
        tags = sorted(body.get("tags") or [])
        last = parse_qs(request.query).get("last", [""])[0]
        remaining = [t for t in tags if t > last] if last else tags
        page = remaining[: self.page_size]
        body["tags"] = page
        response.body = json.dumps(body).encode()
        response.headers = [(k, v) for k, v in response.headers if k.lower() != "link"]
        if len(remaining) > self.page_size:
            query = urlencode({"n": self.page_size, "last": page[-1]})
            response.set_header("Link", f'<{request.route}?{query}>; rel="next"')
        return response


class NullTagsForNewRepository(Rule):
    """GitLab answers tags/list for a repository without tags with 200 and `"tags": null`
    (reported against the reference CLI, which then crashes; registry-behaviour.md)."""

    def after(self, request: ProxyRequest, response: ProxyResponse) -> ProxyResponse:
        if request.route.endswith("/tags/list") and response.status == 404:
            name = request.route[len("/v2/") : -len("/tags/list")]
            return ProxyResponse(
                200, [("Content-Type", "application/json")], json.dumps({"name": name, "tags": None}).encode()
            )
        return response


class RelativeLocation(Rule):
    """Answer upload sessions with a relative Location, as Azure ACR and Zot do (registry-behaviour.md);
    distribution-spec allows either form and clients must resolve it against the request URL."""

    def after(self, request: ProxyRequest, response: ProxyResponse) -> ProxyResponse:
        location = response.header("Location")
        if location and "://" in location:
            parts = urlsplit(location)
            response.set_header("Location", parts.path + (f"?{parts.query}" if parts.query else ""))
        return response


class WrongManifestDigest(Rule):
    """A broken proxy that reports another digest for a stored manifest (defensive check, no registry quirk)."""

    def after(self, request: ProxyRequest, response: ProxyResponse) -> ProxyResponse:
        if request.method == "PUT" and "/manifests/" in request.route and response.status == 201:
            response.set_header("Docker-Content-Digest", "sha256:" + "0" * 64)
        return response


class BearerTokenServer(Rule):
    """The distribution token flow (distribution docs, "Token Authentication Specification"):
    a request without a valid token gets 401 with a Bearer challenge naming realm, service and
    scope; the realm issues a token for Basic credentials; the token is then sent as Bearer.
    The token is checked here and stripped before the request reaches the real registry.
    """

    def __init__(
        self, username: str, password: str, *, token_key: str = "token", service: str = "featurepub-test"
    ):
        self.username = username
        self.password = password
        self.token_key = token_key
        self.service = service
        self.tokens: dict[str, str] = {}  # token -> scope
        self.token_requests: list[str] = []
        self._lock = threading.Lock()
        self.realm = ""

    def before(self, request: ProxyRequest) -> ProxyResponse | None:
        if request.route == "/token":
            return self._issue(request)
        header = request.header("Authorization") or ""
        scheme, _, token = header.partition(" ")
        repo = _REPO.match(request.route)
        with self._lock:
            scope = self.tokens.get(token) if scheme.lower() == "bearer" else None
        if scope is not None and (repo is None or scope.startswith(f"repository:{repo.group(1)}:")):
            request.headers = {k: v for k, v in request.headers.items() if k.lower() != "authorization"}
            return None
        wanted = f"repository:{repo.group(1)}:pull,push" if repo else ""
        challenge = f'Bearer realm="{self.realm}",service="{self.service}"' + (
            f',scope="{wanted}"' if wanted else ""
        )
        body = json.dumps({"errors": [{"code": "UNAUTHORIZED", "message": "authentication required"}]}).encode()
        return ProxyResponse(401, [("WWW-Authenticate", challenge), ("Content-Type", "application/json")], body)

    def _issue(self, request: ProxyRequest) -> ProxyResponse:
        params = parse_qs(request.query)
        scope = params.get("scope", [""])[0]
        with self._lock:
            self.token_requests.append(scope)
        header = request.header("Authorization") or ""
        expected = base64.b64encode(f"{self.username}:{self.password}".encode()).decode()
        if header != f"Basic {expected}":
            return ProxyResponse(
                401, [("Content-Type", "application/json")], b'{"details":"incorrect username or password"}'
            )
        token = secrets.token_urlsafe(24)
        with self._lock:
            self.tokens[token] = scope
        body = json.dumps({self.token_key: token, "expires_in": 300}).encode()
        return ProxyResponse(200, [("Content-Type", "application/json")], body)
