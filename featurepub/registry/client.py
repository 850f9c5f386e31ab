"""Endpoint calls of the OCI distribution API for one registry host.

Each method is one protocol step with the statuses it accepts; transport failures and
refused tokens are translated here into RegistryError / AuthError carrying the
registry, repository and operation, so callers never see an httpx exception.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

import httpx

from featurepub.errors import AuthError, RegistryContext, RegistryError
from featurepub.oci import mediatypes
from featurepub.oci.manifest import Manifest
from featurepub.registry.auth import RegistryAuth, TokenRefused
from featurepub.registry.wire import error_from_response, expect

_LINK_NEXT = re.compile(r'<([^>]+)>\s*;\s*rel="?next"?')
_MAX_TAG_PAGES = 1000


@dataclass(frozen=True)
class ManifestInfo:
    digest: str
    media_type: str
    size: int


def with_digest(location: str, digest: str) -> str:
    """Add `digest=` to an upload URL, keeping its existing query (distribution's `_state`)."""
    return f"{location}{'&' if '?' in location else '?'}digest={quote(digest, safe=':')}"


class RegistryClient:
    def __init__(
        self, registry: str, http: httpx.Client, *, api_host: str | None = None, plain_http: bool = False
    ):
        self.registry = registry
        self.http = http
        self.base = f"{'http' if plain_http else 'https'}://{api_host or registry}"
        self.request_count = 0

    @property
    def auth(self) -> RegistryAuth | None:
        auth = self.http.auth if hasattr(self.http, "auth") else None
        return auth if isinstance(auth, RegistryAuth) else None

    def context(self, repository: str, operation: str) -> RegistryContext:
        return RegistryContext(self.registry, repository, operation)

    @contextmanager
    def _translated(self, context: RegistryContext) -> Iterator[None]:
        try:
            yield
        except TokenRefused as exc:
            raise AuthError(
                f"the token endpoint refused the credentials (HTTP {exc.status})",
                context=context,
                status=exc.status,
                hint="check the username and password or token for this registry",
            ) from None
        except httpx.TimeoutException as exc:
            raise RegistryError(f"timed out ({type(exc).__name__})", context=context, retryable=True) from None
        except httpx.TransportError as exc:
            raise RegistryError(f"connection failed: {exc}", context=context, retryable=True) from None

    def send(
        self,
        method: str,
        url: str,
        context: RegistryContext,
        *,
        headers: dict[str, str] | None = None,
        content: bytes | Iterator[bytes] | None = None,
        stream: bool = False,
    ) -> httpx.Response:
        target = url if "://" in url else self.base + url
        with self._translated(context):
            request = self.http.build_request(method, target, headers=headers, content=content)
            self.request_count += 1
            response = self.http.send(request, stream=stream)
        if response.status_code == 401:
            raise error_from_response(response, context, hint=self._auth_hint())
        return response

    def _auth_hint(self) -> str:
        auth = self.auth
        if auth is not None and auth.credential is not None:
            return f"the registry refused the credentials from {auth.credential.source}"
        return "no credentials found: set DEVCONTAINERS_OCI_AUTH or run docker login"

    def resolve(self, response: httpx.Response, location: str | None, context: RegistryContext) -> str:
        if not location:
            raise RegistryError(
                f"HTTP {response.status_code} without a Location header",
                context=context,
                hint="the registry or a proxy in front of it broke the upload protocol",
            )
        return str(response.request.url.join(location))

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
        response = self.send("PUT", with_digest(location, digest), context, headers=headers, content=body)
        expect(response, context, 201, 204)
        returned = response.headers.get("Docker-Content-Digest")
        if returned and returned != digest:
            raise RegistryError(f"stored the blob as {returned}, expected {digest}", context=context)

    # --- manifests -------------------------------------------------------------------
    def manifest_info(self, repository: str, reference: str) -> ManifestInfo | None:
        context = self.context(repository, f"HEAD manifest {reference}")
        response = self.send(
            "HEAD",
            f"/v2/{repository}/manifests/{reference}",
            context,
            headers={"Accept": mediatypes.MANIFEST_ACCEPT},
        )
        if expect(response, context, 200, 404).status_code == 404:
            return None
        return ManifestInfo(
            digest=response.headers.get("Docker-Content-Digest", ""),
            media_type=response.headers.get("Content-Type", "").split(";")[0].strip(),
            size=int(response.headers.get("Content-Length") or 0),
        )

    def get_manifest(self, repository: str, reference: str) -> Manifest | None:
        context = self.context(repository, f"GET manifest {reference}")
        response = self.send(
            "GET",
            f"/v2/{repository}/manifests/{reference}",
            context,
            headers={"Accept": mediatypes.MANIFEST_ACCEPT},
        )
        if expect(response, context, 200, 404).status_code == 404:
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

    def get_blob(self, repository: str, digest: str) -> bytes:
        context = self.context(repository, f"GET blob {digest[:19]}")
        response = self.send("GET", f"/v2/{repository}/blobs/{digest}", context)
        return expect(response, context, 200).content

    # --- tags ------------------------------------------------------------------------
    def list_tags(self, repository: str) -> list[str]:
        """Every tag, following `Link` pagination; a repository that does not exist has none."""
        context = self.context(repository, "list tags")
        url: str | None = f"/v2/{repository}/tags/list"
        tags: list[str] = []
        for _ in range(_MAX_TAG_PAGES):
            if url is None:
                break
            response = self.send("GET", url, context)
            if expect(response, context, 200, 404).status_code == 404:
                return tags
            tags.extend(_tags_in(response))
            url = _next_link(response)
        return tags


def _tags_in(response: httpx.Response) -> list[str]:
    try:
        body: Any = response.json()
    except ValueError:
        return []
    found = body.get("tags") if isinstance(body, dict) else None  # GitLab sends null for a new repository
    return [str(t) for t in found] if isinstance(found, list) else []


def _next_link(response: httpx.Response) -> str | None:
    match = _LINK_NEXT.search(response.headers.get("Link", ""))
    return str(response.request.url.join(match.group(1))) if match else None


ProgressCallback = Callable[[int], None]
