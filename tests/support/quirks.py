"""Quirk-emulating proxy modes: AWS ECR, GHCR and Azure ACR in front of the real registry.

Each mode is a list of proxy rules that make the local distribution registry answer the way
that registry does. Only documented or reported behaviour is emulated, and each rule says
where it comes from (most facts are collected in ../shared/reference/registry-behaviour.md,
"Per registry"). Where a source gives the message but not the status or code, the comment
says which part is assumed.
"""

from __future__ import annotations

import base64
import http.client
import json
import re
import secrets
import threading
from dataclasses import dataclass, field
from urllib.parse import parse_qs, urlsplit

from tests.support.proxy import ProxyRequest, ProxyResponse, RegistryProxy, Rule
from tests.support.rules import RelativeLocation

MiB = 1024 * 1024
_REPO = re.compile(r"^/v2/(.+?)/(?:blobs|manifests|tags)/")
_SESSION = re.compile(r"^/v2/(.+?)/blobs/uploads/([^/]+)$")
_WRITES = {"POST", "PUT", "PATCH", "DELETE"}


def error(status: int, code: str, message: str, headers: list[tuple[str, str]] | None = None) -> ProxyResponse:
    body = json.dumps({"errors": [{"code": code, "message": message}]}).encode()
    return ProxyResponse(status, [("Content-Type", "application/json"), *(headers or [])], body)


def repository_of(request: ProxyRequest) -> str | None:
    match = _REPO.match(request.route)
    return match.group(1) if match else None


def _without_auth(request: ProxyRequest) -> None:
    request.headers = {k: v for k, v in request.headers.items() if k.lower() != "authorization"}


# --- tokens -----------------------------------------------------------------------------


class TokenServer(Rule):
    """A registry's own token endpoint (distribution "Token Authentication Specification"):
    a request without a valid token gets 401 with a Bearer challenge; `realm_path` issues a
    token for Basic credentials, in the JSON key `token_key`. Users that may not push get a
    token anyway, and then 403 DENIED without a challenge on writes (GHCR, below).
    """

    def __init__(
        self, *, realm_path: str, token_key: str, service: str, users: dict[str, tuple[str, bool]]
    ) -> None:
        self.realm_path = realm_path
        self.token_key = token_key
        self.service = service
        self.users = users  # name -> (password, may push)
        self.realm = ""  # set by QuirkMode.bind once the proxy's port is known
        self.tokens: dict[str, tuple[str, bool]] = {}  # token -> (scope, may push)
        self.token_requests: list[str] = []
        self._lock = threading.Lock()

    def before(self, request: ProxyRequest) -> ProxyResponse | None:
        if request.route == self.realm_path:
            return self._issue(request)
        scheme, _, token = (request.header("Authorization") or "").partition(" ")
        repo = repository_of(request)
        with self._lock:
            granted = self.tokens.get(token) if scheme.lower() == "bearer" else None
        if granted is not None and (repo is None or granted[0].startswith(f"repository:{repo}:")):
            if request.method in _WRITES and not granted[1]:
                return self.denied(request)
            _without_auth(request)
            return None
        scope = f',scope="repository:{repo}:pull,push"' if repo else ""
        challenge = f'Bearer realm="{self.realm}",service="{self.service}"{scope}'
        return error(401, "UNAUTHORIZED", "authentication required", [("WWW-Authenticate", challenge)])

    def denied(self, request: ProxyRequest) -> ProxyResponse:
        return error(403, "DENIED", "requested access to the resource is denied")

    def _issue(self, request: ProxyRequest) -> ProxyResponse:
        scope = parse_qs(request.query).get("scope", [""])[0]
        with self._lock:
            self.token_requests.append(scope)
        scheme, _, encoded = (request.header("Authorization") or "").partition(" ")
        name, _, password = (
            base64.b64decode(encoded or "").decode().partition(":") if scheme == "Basic" else ("", "", "")
        )
        user = self.users.get(name)
        if user is None or user[0] != password:
            return ProxyResponse(
                401, [("Content-Type", "application/json")], b'{"details":"incorrect credentials"}'
            )
        token = secrets.token_urlsafe(24)
        with self._lock:
            self.tokens[token] = (scope, user[1])
        body = json.dumps({self.token_key: token, "expires_in": 300}).encode()
        return ProxyResponse(200, [("Content-Type", "application/json")], body)


class GhcrTokenServer(TokenServer):
    """ghcr.io: Bearer via https://ghcr.io/token, token in the key `token`
    (registry-behaviour.md, GitHub row). A token without package write access is answered
    403 `denied` with no WWW-Authenticate challenge; the message is the one GitHub Actions
    users report: "denied: permission_denied: write_package" (bachp/git-mirror#516,
    Snowfork/snowbridge#1272, tuna-os/tunaOS#642)."""

    def __init__(self, users: dict[str, tuple[str, bool]]) -> None:
        super().__init__(realm_path="/token", token_key="token", service="ghcr.io", users=users)

    def denied(self, request: ProxyRequest) -> ProxyResponse:
        return error(403, "DENIED", "permission_denied: write_package")


class AcrTokenServer(TokenServer):
    """ACR: Bearer realm `/oauth2/token` and the token in the JSON key `access_token`
    (registry-behaviour.md, Azure row; ACR's token exchange answers {"access_token": ...})."""

    def __init__(self, users: dict[str, tuple[str, bool]], service: str = "featurepub.azurecr.io") -> None:
        super().__init__(realm_path="/oauth2/token", token_key="access_token", service=service, users=users)


# --- AWS ECR ----------------------------------------------------------------------------


class EcrBasicAuth(Rule):
    """ECR answers with a Basic challenge (service `ecr.amazonaws.com`); the user is `AWS` and
    the password the 12-hour token from `aws ecr get-login-password` (registry-behaviour.md,
    ECR row). Checked here and stripped before the request reaches the registry."""

    def __init__(self, password: str, username: str = "AWS") -> None:
        self.expected = "Basic " + base64.b64encode(f"{username}:{password}".encode()).decode()
        self.realm = ""
        self.challenges = 0

    def before(self, request: ProxyRequest) -> ProxyResponse | None:
        if request.header("Authorization") == self.expected:
            _without_auth(request)
            return None
        self.challenges += 1
        challenge = f'Basic realm="{self.realm}",service="ecr.amazonaws.com"'
        return error(401, "DENIED", "Not Authorized", [("WWW-Authenticate", challenge)])


class EcrRepositoriesMustExist(Rule):
    """ECR does not create repositories on push: any call on a repository nobody created is
    404 NAME_UNKNOWN "The repository with name '<name>' does not exist in the registry with
    id '<account>'" (message as reported in plexsystems/sinker#55 and concourse/
    docker-image-resource#197; regclient/regclient#869). `repositories` are the created ones."""

    ACCOUNT = "123456789012"

    def __init__(self, repositories: set[str]) -> None:
        self.repositories = set(repositories)

    def before(self, request: ProxyRequest) -> ProxyResponse | None:
        repo = repository_of(request)
        if repo is None or repo in self.repositories:
            return None
        message = f"The repository with name '{repo}' does not exist in the registry with id '{self.ACCOUNT}'"
        return error(404, "NAME_UNKNOWN", message)


@dataclass
class _Session:
    received: int = 0
    last_patch: int | None = None
    first_range: str | None = None


class EcrUploads(Rule):
    """ECR's upload rules (registry-behaviour.md, ECR row, unless said otherwise):

    - a PATCH answers 201 (not 202), and its `Range` sticks at the first chunk's end: it does not
      advance for later chunks although they are stored (aws/containers-roadmap#2831);
    - every part but the last must be at least 5 MiB: the ECR API's LayerPartTooSmallException,
      "Layer parts must be at least 5 MiB in size" (ECR / botocore API docs). It is noticed when
      another part follows the small one. Status 400 and code BLOB_UPLOAD_INVALID are assumed;
    - a chunk that does not start where the session ends (e.g. restarting at byte 0 in a used
      session) is 416;
    - a zero-byte upload is refused at the completing PUT with 400 BLOB_UPLOAD_INVALID "... cannot
      be completed because it does not have any parts" (devcontainers/cli#814, radius-project/
      radius#7855).
    """

    MIN_PART = 5 * MiB

    def __init__(self) -> None:
        self.sessions: dict[str, _Session] = {}
        self.refused: list[str] = []
        self._lock = threading.Lock()

    def _session(self, request: ProxyRequest) -> tuple[str, _Session] | None:
        match = _SESSION.match(request.route)
        if match is None:
            return None
        with self._lock:
            return match.group(2), self.sessions.setdefault(match.group(2), _Session())

    def _refuse(self, kind: str, response: ProxyResponse) -> ProxyResponse:
        with self._lock:
            self.refused.append(kind)
        return response

    def before(self, request: ProxyRequest) -> ProxyResponse | None:
        found = self._session(request)
        if found is None:
            return None
        upload_id, session = found
        small_part_before = session.last_patch is not None and session.last_patch < self.MIN_PART
        if request.method == "PATCH":
            if small_part_before:
                return self._refuse(
                    "small-part", error(400, "BLOB_UPLOAD_INVALID", "Layer parts must be at least 5 MiB in size")
                )
            start = (request.header("Content-Range") or "").split("-")[0].strip()
            if start != str(session.received):
                return self._refuse("range", error(416, "BLOB_UPLOAD_INVALID", "The upload part is out of order"))
        if request.method == "PUT" and "digest=" in request.query:
            if session.received + len(request.body) == 0:
                repo = request.route[len("/v2/") :].split("/blobs/")[0]
                account = EcrRepositoriesMustExist.ACCOUNT
                message = (
                    f"The upload with id '{upload_id}' in the repository with name '{repo}' in registry with id "
                    f"'{account}' cannot be completed because it does not have any parts"
                )
                return self._refuse("empty", error(400, "BLOB_UPLOAD_INVALID", message))
            if request.body and small_part_before:
                return self._refuse(
                    "small-part", error(400, "BLOB_UPLOAD_INVALID", "Layer parts must be at least 5 MiB in size")
                )
        return None

    def after(self, request: ProxyRequest, response: ProxyResponse) -> ProxyResponse:
        if request.method != "PATCH" or response.status != 202:
            return response
        found = self._session(request)
        if found is None:
            return response
        _, session = found
        with self._lock:
            session.received += len(request.body)
            session.last_patch = len(request.body)
            session.first_range = session.first_range or response.header("Range")
        response.status = 201
        if session.first_range:
            response.set_header("Range", session.first_range)
        return response


class EcrImmutableTags(Rule):
    """A repository with tag immutability refuses to move any tag, even to the same digest:
    400 TAG_INVALID "The image tag '<tag>' already exists in the '<repo>' repository and cannot
    be overwritten because the repository is immutable." (aws/containers-roadmap#862;
    registry-behaviour.md). Tags pushed through this proxy are the ones that exist."""

    def __init__(self) -> None:
        self.pushed: set[tuple[str, str]] = set()

    def _tag(self, request: ProxyRequest) -> tuple[str, str] | None:
        if request.method != "PUT" or "/manifests/" not in request.route:
            return None
        repo, _, reference = request.route[len("/v2/") :].partition("/manifests/")
        return None if reference.startswith("sha256:") else (repo, reference)

    def before(self, request: ProxyRequest) -> ProxyResponse | None:
        tag = self._tag(request)
        if tag is None or tag not in self.pushed:
            return None
        message = (
            f"The image tag '{tag[1]}' already exists in the '{tag[0]}' repository and cannot be overwritten "
            "because the repository is immutable."
        )
        return error(400, "TAG_INVALID", message)

    def after(self, request: ProxyRequest, response: ProxyResponse) -> ProxyResponse:
        tag = self._tag(request)
        if tag is not None and response.status == 201:
            self.pushed.add(tag)
        return response


# --- GHCR -------------------------------------------------------------------------------


class GhcrPatchLimit(Rule):
    """ghcr.io answers a PATCH whose body is over 4 MiB with 416 "the request body is too large
    and exceeds the maximum permissible limit of 4.00MiB" (ocx-sh/ocx#237, oras-project/
    rust-oci-client#37; registry-behaviour.md). Monolithic PUTs are not limited. The error code
    is assumed."""

    LIMIT = 4 * MiB

    def before(self, request: ProxyRequest) -> ProxyResponse | None:
        if request.method == "PATCH" and len(request.body) > self.LIMIT:
            message = "the request body is too large and exceeds the maximum permissible limit of 4.00MiB"
            return error(416, "SIZE_INVALID", message)
        return None


# --- ACR --------------------------------------------------------------------------------


class AcrContentRangeFormat(Rule):
    """ACR refuses a `Content-Range` in the HTTP `bytes start-end/total` form; it wants
    `start-end` (registry-behaviour.md; the .NET SDK team met it as {"Range":"bytes 0-84521/*",
    "Reason":"the Content-Range header format is invalid"}, dotnet/sdk-container-builds#258).
    The status (400) is assumed."""

    def __init__(self) -> None:
        self.refused = 0

    def before(self, request: ProxyRequest) -> ProxyResponse | None:
        value = request.header("Content-Range")
        if request.method == "PATCH" and value is not None and not re.fullmatch(r"\d+-\d+", value.strip()):
            self.refused += 1
            body = json.dumps({"Range": value, "Reason": "the Content-Range header format is invalid"}).encode()
            return ProxyResponse(400, [("Content-Type", "application/json")], body)
        return None


class AcrThrottle(Rule):
    """ACR throttles by SKU with 429 and Retry-After (registry-behaviour.md, Azure row; Azure's
    throttling guidance: wait the Retry-After seconds). The first `count` requests of `method`
    whose path contains `contains` are answered 429 TOOMANYREQUESTS."""

    def __init__(
        self, count: int, *, method: str = "POST", contains: str = "/blobs/uploads/", retry_after: int = 1
    ):
        self.remaining = count
        self.method = method
        self.contains = contains
        self.retry_after = retry_after
        self.sent = 0
        self._lock = threading.Lock()

    def before(self, request: ProxyRequest) -> ProxyResponse | None:
        if request.method != self.method or self.contains not in request.path:
            return None
        with self._lock:
            if self.remaining <= 0:
                return None
            self.remaining -= 1
            self.sent += 1
        return error(429, "TOOMANYREQUESTS", "too many requests", [("Retry-After", str(self.retry_after))])


# --- single-request uploads ---------------------------------------------------------------


class CompleteSingleRequestPost(Rule):
    """Registries with a working single-request upload (Zot, Gitea, ACR; registry-behaviour.md)
    store the body of `POST .../uploads/?digest=` and answer 201. distribution 2.8 answers 202
    and drops the body, so this rule completes the upload upstream itself (POST, then PUT)."""

    def __init__(self, upstream: str) -> None:
        parts = urlsplit(upstream)
        self.host, self.port = parts.hostname or "127.0.0.1", parts.port or 80
        self.completed = 0

    def _call(self, method: str, path: str, body: bytes = b"") -> http.client.HTTPResponse:
        connection = http.client.HTTPConnection(self.host, self.port, timeout=60)
        headers = {"Content-Length": str(len(body)), "Content-Type": "application/octet-stream"}
        connection.request(method, path, body=body, headers=headers)
        response = connection.getresponse()
        response.read()
        connection.close()
        return response

    def before(self, request: ProxyRequest) -> ProxyResponse | None:
        if request.method != "POST" or "digest=" not in request.query or not request.body:
            return None
        digest = parse_qs(request.query)["digest"][0]
        started = self._call("POST", request.route)
        location = urlsplit(started.getheader("Location") or "")
        done = self._call("PUT", f"{location.path}?{location.query}&digest={digest}", request.body)
        self.completed += 1
        blob = request.route.replace("/blobs/uploads/", f"/blobs/{digest}")
        return ProxyResponse(done.status, [("Location", blob), ("Docker-Content-Digest", digest)])


class AnnounceChunkMinimum(Rule):
    """distribution-spec v1.1: the POST that opens a session may carry `OCI-Chunk-Min-Length`,
    the smallest chunk the registry takes (but the last)."""

    def __init__(self, minimum: int) -> None:
        self.minimum = minimum

    def after(self, request: ProxyRequest, response: ProxyResponse) -> ProxyResponse:
        if request.method == "POST" and "/blobs/uploads/" in request.route and response.status == 202:
            response.set_header("OCI-Chunk-Min-Length", str(self.minimum))
        return response


# --- modes ------------------------------------------------------------------------------


@dataclass
class QuirkMode:
    """A registry emulated in front of the real one: its rules and the credentials to use."""

    name: str
    rules: list[Rule]
    username: str
    password: str
    extra: dict[str, Rule] = field(default_factory=dict)  # named rules tests look at

    def bind(self, proxy: RegistryProxy) -> None:
        """Point challenges at the proxy's own address once it is listening."""
        for rule in self.rules:
            if isinstance(rule, TokenServer):
                rule.realm = f"http://{proxy.host}{rule.realm_path}"
            elif isinstance(rule, EcrBasicAuth):
                rule.realm = f"http://{proxy.host}/"

    def env(self, proxy: RegistryProxy) -> dict[str, str]:
        return {"DEVCONTAINERS_OCI_AUTH": f"{proxy.host}|{self.username}|{self.password}"}


def ecr_mode(repositories: set[str], *, immutable_tags: bool = False) -> QuirkMode:
    password = "ecr-" + secrets.token_hex(12)
    uploads = EcrUploads()
    rules: list[Rule] = [EcrBasicAuth(password), EcrRepositoriesMustExist(repositories), uploads]
    extra: dict[str, Rule] = {"uploads": uploads}
    if immutable_tags:
        extra["tags"] = EcrImmutableTags()
        rules.append(extra["tags"])
    return QuirkMode("ecr", rules, "AWS", password, extra)


def ghcr_mode(*, may_push: bool = True) -> QuirkMode:
    password = "ghp_" + secrets.token_hex(16)
    tokens = GhcrTokenServer({"octocat": (password, may_push)})
    return QuirkMode("ghcr", [tokens, GhcrPatchLimit()], "octocat", password, {"tokens": tokens})


def acr_mode(*, throttled: int = 2) -> QuirkMode:
    password = "acr-" + secrets.token_hex(12)
    tokens = AcrTokenServer({"00000000-0000-0000-0000-000000000000": (password, True)})
    ranges = AcrContentRangeFormat()
    throttle = AcrThrottle(throttled)
    rules: list[Rule] = [throttle, tokens, RelativeLocation(), ranges]
    extra: dict[str, Rule] = {"tokens": tokens, "ranges": ranges, "throttle": throttle}
    return QuirkMode("acr", rules, "00000000-0000-0000-0000-000000000000", password, extra)
