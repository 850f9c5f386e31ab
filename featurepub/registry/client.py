"""Endpoint calls of the OCI distribution API for one registry host.

Each method is one protocol step with the statuses it accepts. This is the boundary: whatever
the registry answers (a transport failure, a refused token, a redirect loop, a body over its
bound or in a bogus encoding, JSON nested too deep, a tag no registry may hold), it leaves here
as a RegistryError / AuthError carrying the registry, repository and operation, so callers never
see an httpx exception or a crash.

Redirects are followed here, one request at a time, rather than inside httpx: each hop is a
request of its own to the auth flow, which attaches credentials only to the registry's host and
answers only challenges that host sent (auth.py). A redirect target that asks for credentials
gets none, and the run says so.
"""

from __future__ import annotations

import hashlib
import re
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, BinaryIO
from urllib.parse import quote

import httpx

from featurepub.errors import AuthError, ContentError, RegistryContext, RegistryError
from featurepub.oci import mediatypes
from featurepub.oci.document import MAX_MANIFEST_BYTES, load_json
from featurepub.oci.manifest import Manifest
from featurepub.reference import is_valid_digest, is_valid_tag
from featurepub.registry.auth import RegistryAuth, TokenRefused
from featurepub.registry.bodies import DEFAULT_LIMIT, LIMIT_EXTENSION, BodyRefused
from featurepub.registry.limits import LARGE_BODY, InFlight
from featurepub.registry.retry import NO_RETRIES, RETRYABLE_STATUS, RetryPolicy, parse_retry_after
from featurepub.registry.transport import host_of, safe_url
from featurepub.registry.wire import error_from_response, expect

_LINK_NEXT = re.compile(r'<([^>]+)>\s*;\s*rel="?next"?')
_MAX_TAG_PAGES = 1000
_CATALOG_PAGE = 100
_MAX_REDIRECTS = 10
# Bounds on what is read of each answer (bodies.py); anything else gets bodies.DEFAULT_LIMIT.
PAGE_LIMIT = 4 * 1024 * 1024  # one page of tags or of the catalog
MAX_TAGS = 100_000  # in all pages together: a feature has tens, the largest images thousands
SMALL_BLOB_LIMIT = 4 * 1024 * 1024  # a blob read into memory (a collection's JSON)


@dataclass(frozen=True)
class ManifestInfo:
    digest: str
    media_type: str
    size: int


@dataclass(frozen=True)
class UploadSession:
    location: str  # absolute, with its query kept as given (distribution's `_state`)
    chunk_min: int = 0  # OCI-Chunk-Min-Length, when the registry announces one


def _check_digest(response: httpx.Response, digest: str, context: RegistryContext) -> None:
    returned = response.headers.get("Docker-Content-Digest")
    if returned and returned != digest:
        raise RegistryError(f"stored the blob as {returned}, expected {digest}", context=context)


def with_digest(location: str, digest: str) -> str:
    """Add `digest=` to an upload URL, keeping its existing query (distribution's `_state`)."""
    return f"{location}{'&' if '?' in location else '?'}digest={quote(digest, safe=':')}"


class RegistryClient:
    def __init__(
        self,
        registry: str,
        http: httpx.Client,
        *,
        api_host: str | None = None,
        plain_http: bool = False,
        retry: RetryPolicy | None = None,
        in_flight: InFlight | None = None,
    ):
        self.registry = registry
        self.http = http
        self.api_host = (api_host or registry).lower()
        self.base = f"{'http' if plain_http else 'https'}://{self.api_host}"
        self.request_count = 0
        self.retry = retry or RetryPolicy()
        self.in_flight = in_flight or InFlight(requests=8, uploads=4)
        # Called before each wait: (where, why, the attempt that failed, seconds to wait).
        self.on_retry: Callable[[RegistryContext, str, int, float], None] | None = None

    @property
    def auth(self) -> RegistryAuth | None:
        auth = self.http.auth if hasattr(self.http, "auth") else None
        return auth if isinstance(auth, RegistryAuth) else None

    def context(self, repository: str, operation: str) -> RegistryContext:
        return RegistryContext(self.registry, repository, operation)

    @contextmanager
    def _translated(self, context: RegistryContext) -> Iterator[None]:
        """Whatever goes wrong on the wire leaves as a RegistryError (or AuthError) naming `context`."""
        try:
            yield
        except RegistryError as exc:
            if exc.context.operation:
                raise
            # Raised below the client (the transport's plain-HTTP and host-name checks): add where.
            raise type(exc)(
                exc.reason,
                context=context,
                status=exc.status,
                diagnostics=exc.diagnostics,
                hint=exc.hint,
                retryable=exc.retryable,
                retry_after=exc.retry_after,
            ) from None
        except BodyRefused as exc:
            raise RegistryError(str(exc), context=context) from None
        except ContentError as exc:
            raise RegistryError(exc.message, context=context) from None
        except TokenRefused as exc:
            if exc.status in RETRYABLE_STATUS:
                raise RegistryError(
                    f"the token endpoint failed (HTTP {exc.status})", context=context, retryable=True
                ) from None
            if exc.status < 400:  # not a refusal: an answer without a token, or a redirect
                raise RegistryError(
                    f"the token endpoint {safe_url(exc.realm)[:200]} gave no token "
                    f"({exc.reason or f'HTTP {exc.status}'})",
                    context=context,
                ) from None
            raise AuthError(
                f"the token endpoint refused the credentials (HTTP {exc.status})",
                context=context,
                status=exc.status,
                hint=self._auth_hint(),
            ) from None
        except httpx.TimeoutException as exc:
            detail = str(exc) if str(exc) not in ("", "timed out") else type(exc).__name__
            raise RegistryError(f"timed out ({detail})", context=context, retryable=True) from None
        except httpx.TransportError as exc:
            raise RegistryError(
                f"connection failed: {exc}",
                context=context,
                retryable=True,
                hint="check that the registry is up and reachable from here (host, port, proxy settings)",
            ) from None
        except httpx.InvalidURL as exc:
            raise RegistryError(f"the registry named an invalid URL ({exc})", context=context) from None
        except httpx.StreamError as exc:  # a body that cannot be sent twice: should not happen, never a crash
            raise RegistryError(
                f"the request could not be completed ({type(exc).__name__})", context=context
            ) from None

    def send(
        self,
        method: str,
        url: str,
        context: RegistryContext,
        *,
        headers: dict[str, str] | None = None,
        content: bytes | Iterator[bytes] | None = None,
        stream: bool = False,
        limit: int = DEFAULT_LIMIT,
        length: int = 0,
    ) -> httpx.Response:
        """Send one request, following redirects. One whose body can be sent again (none, or bytes) is
        retried per the retry policy; a streamed body is sent once, and its failure raised for the
        caller to recover. The answer's body is read (unless `stream`) and may hold at most `limit`
        bytes; an error's body is cut at 64 KiB. A body of `length` LARGE_BODY or more waits for an
        upload slot, anything else for a request slot (limits.py)."""
        target = url if "://" in url else self.base + url
        upload = max(length, len(content) if isinstance(content, bytes) else 0) >= LARGE_BODY
        replayable = content is None or isinstance(content, bytes)
        policy = self.retry if replayable else NO_RETRIES
        started = time.monotonic()
        attempt = 1
        while True:
            try:
                response = self._send_once(method, target, context, headers, content, stream, limit, upload)
            except RegistryError as exc:
                wait = policy.delay(attempt)
                if not (exc.retryable and policy.allows(attempt, started, wait)):
                    raise
                reason = exc.reason  # `context` says where; exc.message would say it twice
            else:
                if response.status_code not in RETRYABLE_STATUS:
                    break
                retry_after = parse_retry_after(response.headers.get("Retry-After"))
                wait = policy.delay(attempt, retry_after)
                if not policy.allows(attempt, started, wait):
                    break
                response.close()
                reason = f"HTTP {response.status_code}"
                if retry_after is not None:
                    reason += f" (Retry-After {retry_after:g} s)"
            if self.on_retry is not None:
                self.on_retry(context, reason, attempt, wait)
            policy.sleep(wait)
            attempt += 1
        if response.status_code == 401:
            raise error_from_response(response, context, hint=self._auth_hint())
        return response

    def _send_once(
        self,
        method: str,
        target: str,
        context: RegistryContext,
        headers: dict[str, str] | None,
        content: bytes | Iterator[bytes] | None,
        stream: bool,
        limit: int,
        upload: bool,
    ) -> httpx.Response:
        give_back = self.in_flight.take(upload)
        try:
            with self._translated(context):
                request = self.http.build_request(
                    method, target, headers=headers, content=content, extensions={LIMIT_EXTENSION: limit}
                )
                response = self._follow(request, context)
                try:
                    self._check_answered_here(response, context)
                    if not stream:
                        response.read()
                except BaseException:
                    response.close()
                    raise
        except BaseException:
            give_back()
            raise
        if stream:  # the slot is held until the caller closes the answer
            response.stream = _GivingBack(response.stream, give_back)
        else:
            give_back()
        return response

    def _follow(self, request: httpx.Request, context: RegistryContext) -> httpx.Response:
        """Send `request` and follow its redirects, each hop through the auth flow on its own."""
        for _ in range(_MAX_REDIRECTS + 1):
            self.request_count += 1
            response = self.http.send(request, stream=True)
            following = response.next_request  # httpx builds it: method, body and headers per RFC 9110
            if following is None:
                return response
            response.close()
            if following.method not in ("GET", "HEAD") and not isinstance(request.stream, httpx.ByteStream):
                raise RegistryError(
                    f"the registry redirected the upload to {safe_url(following.url)}; "
                    "a streamed body cannot be sent twice",
                    context=context,
                )
            request = following
        raise RegistryError(
            f"more than {_MAX_REDIRECTS} redirects (last to {safe_url(request.url)}): a redirect loop",
            context=context,
            hint="the registry, or a proxy in front of it, is misconfigured",
        )

    def _check_answered_here(self, response: httpx.Response, context: RegistryContext) -> None:
        """A challenge from a host a redirect led to is never answered (auth.py): say so clearly."""
        where = host_of(response.request.url)
        if response.status_code == 401 and where != self.api_host:
            raise RegistryError(
                f"{where}, where the registry sent this request, asks for credentials (HTTP 401)",
                context=context,
                hint=f"featurepub sends the credentials for {self.registry} to {self.api_host} only, never "
                "to a host a redirect leads to; the registry or a proxy in front of it is misconfigured",
            )

    def _auth_hint(self) -> str:
        auth = self.auth
        if auth is not None and auth.credential is not None:
            hint = f"the registry refused the credentials from {auth.credential.source}"
            if ".dkr.ecr." in self.registry and self.registry.endswith(".amazonaws.com"):
                hint += (
                    "; ECR passwords last 12 hours and the user must be AWS: aws ecr get-login-password | "
                    f"featurepub login --username AWS --password-stdin {self.registry}"
                )
            return hint
        return (
            f"no credentials found: run featurepub login {self.registry}, set DEVCONTAINERS_OCI_AUTH, "
            "or docker login (featurepub auth status shows where it looked)"
        )

    def resolve(self, response: httpx.Response, location: str | None, context: RegistryContext) -> str:
        if not location:
            raise RegistryError(
                f"HTTP {response.status_code} without a Location header",
                context=context,
                hint="the registry or a proxy in front of it broke the upload protocol",
            )
        try:
            return str(response.request.url.join(location))
        except httpx.InvalidURL as exc:
            raise RegistryError(
                f"HTTP {response.status_code} with an invalid Location header ({exc})",
                context=context,
                hint="the registry or a proxy in front of it broke the upload protocol",
            ) from None

    # --- blobs -----------------------------------------------------------------------
    def blob_exists(self, repository: str, digest: str) -> bool:
        context = self.context(repository, f"HEAD blob {digest[:19]}")
        response = self.send("HEAD", f"/v2/{repository}/blobs/{digest}", context)
        return expect(response, context, 200, 404).status_code == 200

    def start_upload(self, repository: str, *, query: str = "") -> tuple[int, str]:
        """POST a new upload session; returns (status, absolute Location)."""
        context = self.context(repository, "start blob upload")
        response = self.send(
            "POST", f"/v2/{repository}/blobs/uploads/{query}", context, headers={"Content-Length": "0"}
        )
        expect(response, context, 201, 202)
        return response.status_code, self.resolve(response, response.headers.get("Location"), context)

    def finish_upload(
        self, repository: str, location: str, digest: str, body: Iterator[bytes] | bytes, length: int
    ) -> None:
        """PUT the whole body (or the rest of it) and close the session with its digest."""
        context = self.context(repository, f"upload blob {digest[:19]}")
        headers = {"Content-Type": "application/octet-stream", "Content-Length": str(length)}
        response = self.send(
            "PUT", with_digest(location, digest), context, headers=headers, content=body, length=length
        )
        expect(response, context, 201, 204)
        returned = response.headers.get("Docker-Content-Digest")
        if returned and returned != digest:
            raise RegistryError(f"stored the blob as {returned}, expected {digest}", context=context)

    def _session(self, response: httpx.Response, context: RegistryContext) -> UploadSession:
        location = self.resolve(response, response.headers.get("Location"), context)
        minimum = response.headers.get("OCI-Chunk-Min-Length", "").strip()
        return UploadSession(location, int(minimum) if minimum.isdecimal() else 0)

    def open_upload(self, repository: str) -> UploadSession:
        """POST a new upload session; its Location and the chunk minimum it announces, if any."""
        context = self.context(repository, "start blob upload")
        response = self.send("POST", f"/v2/{repository}/blobs/uploads/", context, headers={"Content-Length": "0"})
        return self._session(expect(response, context, 202), context)

    def mount_blob(self, repository: str, digest: str, source: str) -> UploadSession | None:
        """Mount `digest` from `source` (same registry): None when mounted (201), else the
        ordinary upload session the registry opened instead (202)."""
        context = self.context(repository, f"mount blob {digest[:19]} from {source}")
        query = f"?mount={quote(digest, safe=':')}&from={quote(source, safe='/')}"
        response = self.send(
            "POST", f"/v2/{repository}/blobs/uploads/{query}", context, headers={"Content-Length": "0"}
        )
        if expect(response, context, 201, 202).status_code == 202:
            return self._session(response, context)
        _check_digest(response, digest, context)
        return None

    def upload_single(
        self, repository: str, digest: str, body: Iterator[bytes] | bytes, length: int
    ) -> UploadSession | None:
        """POST the whole body with `?digest=`: None when stored (201), else the session the
        registry opened instead (202; distribution drops the body, so it must be PUT again)."""
        context = self.context(repository, f"upload blob {digest[:19]} in one request")
        headers = {"Content-Type": "application/octet-stream", "Content-Length": str(length)}
        url = f"/v2/{repository}/blobs/uploads/?digest={quote(digest, safe=':')}"
        response = self.send("POST", url, context, headers=headers, content=body, length=length)
        if expect(response, context, 201, 202).status_code == 202:
            return self._session(response, context)
        _check_digest(response, digest, context)
        return None

    def patch_chunk(
        self, repository: str, location: str, digest: str, body: Iterator[bytes] | bytes, start: int, length: int
    ) -> str:
        """PATCH `length` bytes at offset `start` (`Content-Range: start-end`, inclusive, no `bytes `
        prefix). Returns the newest Location: the one the registry answered, else `location`."""
        end = start + length - 1
        context = self.context(repository, f"upload chunk {start}-{end} of blob {digest[:19]}")
        headers = {
            "Content-Type": "application/octet-stream",
            "Content-Length": str(length),
            "Content-Range": f"{start}-{end}",
        }
        response = self.send("PATCH", location, context, headers=headers, content=body, length=length)
        # 202 per the spec; AWS ECR answers 201. Its Range header is not trusted: ECR's stops advancing.
        expect(response, context, 201, 202, 204)
        given = response.headers.get("Location")
        return self.resolve(response, given, context) if given else location

    # --- manifests -------------------------------------------------------------------
    def _read_manifest(self, method: str, repository: str, reference: str) -> httpx.Response | None:
        """GET or HEAD a manifest with the full Accept list; None when it does not exist."""
        context = self.context(repository, f"{method} manifest {reference}")
        response = self.send(
            method,
            f"/v2/{repository}/manifests/{reference}",
            context,
            headers={"Accept": mediatypes.MANIFEST_ACCEPT},
            limit=MAX_MANIFEST_BYTES,
        )
        return None if expect(response, context, 200, 404).status_code == 404 else response

    def manifest_info(self, repository: str, reference: str) -> ManifestInfo | None:
        response = self._read_manifest("HEAD", repository, reference)
        if response is None:
            return None
        digest = response.headers.get("Docker-Content-Digest", "")
        if not is_valid_digest(digest):
            # The header is optional in the spec: hash the manifest itself instead of trusting nothing.
            manifest = self.get_manifest(repository, reference)
            if manifest is None:
                return None
            return ManifestInfo(manifest.digest, manifest.media_type, manifest.size)
        return ManifestInfo(
            digest=digest,
            media_type=response.headers.get("Content-Type", "").split(";")[0].strip(),
            size=_content_length(response),
        )

    def get_manifest(self, repository: str, reference: str) -> Manifest | None:
        response = self._read_manifest("GET", repository, reference)
        if response is None:
            return None
        media_type = response.headers.get("Content-Type", "").split(";")[0].strip()
        return Manifest(response.content, media_type or mediatypes.OCI_MANIFEST)

    def put_manifest(self, repository: str, reference: str, manifest: Manifest) -> str:
        context = self.context(repository, f"PUT manifest {reference}")
        response = self.send(
            "PUT",
            f"/v2/{repository}/manifests/{reference}",
            context,
            headers={"Content-Type": manifest.media_type},
            content=manifest.data,
        )
        expect(response, context, 201, 200)
        returned = response.headers.get("Docker-Content-Digest")
        if returned and returned != manifest.digest:
            raise RegistryError(
                f"stored the manifest as {returned}, expected {manifest.digest}",
                context=context,
                hint="a proxy or the registry rewrote the manifest; nothing else was changed",
            )
        return manifest.digest

    def download_blob(self, repository: str, digest: str, sink: BinaryIO, *, limit: int) -> None:
        """Write the blob to `sink` (at most `limit` bytes), checking its sha256 digest on the way."""
        context = self.context(repository, f"GET blob {digest[:19]}")
        response = self.send("GET", f"/v2/{repository}/blobs/{digest}", context, stream=True, limit=limit)
        try:
            expect(response, context, 200)
            for piece in self._checked_pieces(response, digest, context):
                sink.write(piece)
        finally:
            response.close()

    @contextmanager
    def stream_blob(self, repository: str, digest: str, *, limit: int) -> Iterator[Iterator[bytes] | None]:
        """The blob's bytes as they arrive (at most `limit`), or None when the repository does not hold
        it. Its sha256 digest is checked after the last piece: a reader that stops early gets no check."""
        context = self.context(repository, f"GET blob {digest[:19]}")
        response = self.send("GET", f"/v2/{repository}/blobs/{digest}", context, stream=True, limit=limit)
        try:
            found = expect(response, context, 200, 404).status_code == 200
            yield self._checked_pieces(response, digest, context) if found else None
        finally:
            response.close()

    def _checked_pieces(self, response: httpx.Response, digest: str, context: RegistryContext) -> Iterator[bytes]:
        hasher = hashlib.sha256()
        with self._translated(context):
            for piece in response.iter_bytes():
                hasher.update(piece)
                yield piece
        if digest.startswith("sha256:") and f"sha256:{hasher.hexdigest()}" != digest:
            raise RegistryError(f"the blob's content does not match its digest {digest}", context=context)

    def find_blob(self, repository: str, digest: str) -> bytes | None:
        """A small blob's bytes (at most 4 MiB), or None when the repository does not hold it."""
        context = self.context(repository, f"GET blob {digest[:19]}")
        response = self.send("GET", f"/v2/{repository}/blobs/{digest}", context, limit=SMALL_BLOB_LIMIT)
        return None if expect(response, context, 200, 404).status_code == 404 else response.content

    # --- catalog ---------------------------------------------------------------------
    def repositories_under(self, namespace: str, *, page_size: int = _CATALOG_PAGE) -> set[str] | None:
        """Repositories under `namespace/`, from /v2/_catalog; None when the registry will not say.

        Pages start just after `namespace` (the `last` parameter) and stop once past its
        names, so a large registry costs a page, not a full listing. Pages are small because
        distribution walks its storage until a page is full: 100 names cost a fraction of 1000.
        """
        context = self.context(namespace, "list repositories")
        prefix = f"{namespace}/"
        url: str | None = f"/v2/_catalog?n={page_size}&last={quote(namespace, safe='')}"
        found: set[str] = set()
        for _ in range(_MAX_TAG_PAGES):
            if url is None:
                return found
            try:
                response = self.send("GET", url, context, limit=PAGE_LIMIT)
                if response.status_code != 200:
                    return None
                body = load_json(response.content, "the repository list")
                url = _next_link(response, context)
            except (RegistryError, ContentError):
                return None  # unknown: every repository is probed instead
            names = body.get("repositories") if isinstance(body, dict) else None
            if not isinstance(names, list):
                return None
            past = False
            for name in names:
                if not isinstance(name, str):
                    continue
                if name.startswith(prefix):
                    found.add(name)
                elif name > prefix:
                    past = True
            if past:
                url = None
        return found

    # --- tags ------------------------------------------------------------------------
    def list_tags(self, repository: str) -> list[str]:
        """Every tag, following `Link` pagination; a repository that does not exist has none."""
        return self.tags_of(repository) or []

    def tags_of(self, repository: str) -> list[str] | None:
        """Every tag, following `Link` pagination; None when the repository does not exist (404).

        Only names a tag can have are kept (`[A-Za-z0-9_][A-Za-z0-9._-]{0,127}`): a registry
        that lists anything else lists something no one can ask for."""
        context = self.context(repository, "list tags")
        url: str | None = f"/v2/{repository}/tags/list"
        tags: list[str] = []
        for _ in range(_MAX_TAG_PAGES):
            if url is None:
                break
            response = self.send("GET", url, context, limit=PAGE_LIMIT)
            if expect(response, context, 200, 404).status_code == 404:
                return tags or None
            with self._translated(context):
                tags.extend(_tags_in(response))
                url = _next_link(response, context)
            if len(tags) > MAX_TAGS:
                raise RegistryError(
                    f"the registry lists more than {MAX_TAGS} tags; featurepub stops reading there",
                    context=context,
                )
        return tags


class _GivingBack(httpx.SyncByteStream):
    """A streamed answer's body that gives its request's slot back when it is closed."""

    def __init__(self, inner: httpx.SyncByteStream | httpx.AsyncByteStream, give_back: Callable[[], None]) -> None:
        assert isinstance(inner, httpx.SyncByteStream)
        self._inner = inner
        self._give_back = give_back

    def __iter__(self) -> Iterator[bytes]:
        return iter(self._inner)

    def close(self) -> None:
        try:
            self._inner.close()
        finally:
            self._give_back()


def _content_length(response: httpx.Response) -> int:
    value = response.headers.get("Content-Length", "")
    return int(value) if value.isascii() and value.isdigit() else 0


def _tags_in(response: httpx.Response) -> list[str]:
    if not response.content.strip():
        return []
    body: Any = load_json(response.content, "the tag list")
    if not isinstance(body, dict):  # read as "no tags", it would move floating tags backwards
        raise ContentError(f"the tag list is {type(body).__name__}, not a JSON object")
    found = body.get("tags")  # GitLab sends null for a new repository
    if found is not None and not isinstance(found, list):
        raise ContentError(f"the tag list's `tags` is {type(found).__name__}, not an array")
    return [t for t in found or [] if isinstance(t, str) and is_valid_tag(t)]


def _next_link(response: httpx.Response, context: RegistryContext) -> str | None:
    match = _LINK_NEXT.search(response.headers.get("Link", ""))
    if not match:
        return None
    try:
        return str(response.request.url.join(match.group(1)))
    except httpx.InvalidURL as exc:
        raise RegistryError(f"the Link header names an invalid URL ({exc})", context=context) from None


ProgressCallback = Callable[[int], None]
