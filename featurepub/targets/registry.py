"""A registry as a publish target: the Target protocol over RegistryClient.

The registry's profile (registry/profiles.py) decides how blobs go up and how many requests are
out at once (registry/limits.py), and explains the registry's common refusals: every RegistryError
leaving the target carries its hint.

A blob another repository of the run holds is mounted from there rather than uploaded again; one
that another repository is uploading right now is waited for and then mounted (the features of a
new namespace all share one config blob, which the first of them uploads).
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import replace

import httpx

from featurepub.credentials.chain import CredentialChain, default_chain
from featurepub.errors import RegistryError
from featurepub.oci.descriptor import Blob
from featurepub.oci.manifest import Manifest
from featurepub.reference import DOCKER_HUB, DOCKER_HUB_API, is_loopback
from featurepub.registry.auth import RegistryAuth
from featurepub.registry.client import RegistryClient
from featurepub.registry.connections import OpenSockets
from featurepub.registry.limits import InFlight
from featurepub.registry.profiles import Profile, check_depth, explain, profile_for_host
from featurepub.registry.recovery import upload_with_recovery
from featurepub.registry.retry import RetryPolicy
from featurepub.registry.transport import RegistryTransport, TransportOptions, make_http_client
from featurepub.registry.upload import upload_blob
from featurepub.targets.base import BlobStream, Progress


class RegistryTarget:
    def __init__(
        self,
        registry: str,
        *,
        credentials: CredentialChain | None = None,
        transport: TransportOptions | None = None,
        push: bool = True,
        retry: RetryPolicy | None = None,
        profile: Profile | None = None,
        credential_scope: str | None = None,
    ) -> None:
        """`credential_scope` (`host/path`, default the host) is what credentials are looked up for:
        keys naming a path under the registry apply to it, the most specific first."""
        self.profile = profile or profile_for_host(registry)
        self.in_flight = InFlight(self.profile.requests_in_flight, self.profile.uploads_in_flight)
        options = transport or TransportOptions()
        # A connection per request in flight (HTTP/1.1), and two for a token endpoint.
        connections = self.in_flight.requests + self.in_flight.uploads + 2
        options = replace(options, max_connections=max(options.max_connections, connections))
        lookup = (credentials or default_chain()).lookup(credential_scope or registry)
        if options.log is not None:
            options.log(lookup.describe())  # which source, never the secret
        api_host = DOCKER_HUB_API if registry == DOCKER_HUB else registry
        self.auth = RegistryAuth(lookup.credential, push=push, host=api_host)
        plain = is_loopback(registry) or registry in options.insecure_hosts
        self.transport = RegistryTransport(options)
        self.http: httpx.Client = make_http_client(options, self.auth, self.transport)
        self._sockets = OpenSockets()  # so that `abort` can break off requests in flight
        hooks = self.http.event_hooks
        self.http.event_hooks = {**hooks, "request": [*hooks.get("request", []), self._sockets.watch]}
        self.client = RegistryClient(
            registry,
            self.http,
            api_host=DOCKER_HUB_API if registry == DOCKER_HUB else None,
            plain_http=plain,
            retry=retry,
            in_flight=self.in_flight,
        )
        self.registry = registry
        # Where each blob is known to be, so another repository can mount it instead of uploading.
        self._holders: dict[str, list[str]] = {}
        self._uploading: dict[str, threading.Event] = {}  # digest -> set once its first upload ended
        self._holders_lock = threading.Lock()  # features publish in parallel

    @contextmanager
    def _explained(self, repository: str) -> Iterator[None]:
        """Refuse names the registry cannot hold; add the profile's hint to registry errors."""
        check_depth(self.profile, self.registry, repository)
        try:
            yield
        except RegistryError as exc:
            explain(exc, self.profile)
            raise

    def _holds(self, repository: str, digest: str) -> None:
        with self._holders_lock:
            holders = self._holders.setdefault(digest, [])
            if repository not in holders:
                holders.append(repository)

    def _holders_of(self, digest: str, repository: str) -> tuple[str, ...]:
        with self._holders_lock:
            return tuple(r for r in self._holders.get(digest, ()) if r != repository)

    @property
    def display_name(self) -> str:
        return self.registry

    def list_tags(self, repository: str) -> list[str]:
        with self._explained(repository):
            return self.client.list_tags(repository)

    def tag_digest(self, repository: str, tag: str) -> str | None:
        with self._explained(repository):
            info = self.client.manifest_info(repository, tag)
        return info.digest if info else None

    def read_manifest(self, repository: str, reference: str) -> Manifest | None:
        with self._explained(repository):
            return self.client.get_manifest(repository, reference)

    def read_blob(self, repository: str, digest: str) -> bytes | None:
        with self._explained(repository):
            return self.client.find_blob(repository, digest)

    @contextmanager
    def _streamed(self, repository: str, digest: str, limit: int) -> Iterator[Iterator[bytes] | None]:
        with self._explained(repository), self.client.stream_blob(repository, digest, limit=limit) as pieces:
            yield pieces

    def stream_blob(self, repository: str, digest: str, limit: int) -> BlobStream:
        return self._streamed(repository, digest, limit)

    @property
    def requests_in_flight(self) -> int:
        return self.in_flight.requests

    def open_ahead(self, count: int) -> None:
        """Start connecting for `count` requests soon to be out at once (at most the limits allow)."""
        limit = self.in_flight.requests + self.in_flight.uploads
        self.transport.open_ahead(self.client.base, min(count, limit))

    def existing_repositories(self, namespace: str) -> frozenset[str] | None:
        if not self.profile.catalog:
            return None
        found = self.client.repositories_under(namespace)
        return None if found is None else frozenset(found)

    def has_blob(self, repository: str, digest: str) -> bool:
        with self._explained(repository):
            found = self.client.blob_exists(repository, digest)
        if found:
            self._holds(repository, digest)
        return found

    def push_blob(self, repository: str, blob: Blob, progress: Progress | None = None) -> int:
        sources = self._holders_of(blob.digest, repository)
        first = None
        if not sources and self.profile.mount:
            with self._holders_lock:
                underway = self._uploading.get(blob.digest)
                if underway is None:
                    first = self._uploading[blob.digest] = threading.Event()
            if underway is not None:  # another repository is uploading it: mount from there once it is in
                underway.wait()
                sources = self._holders_of(blob.digest, repository)
        try:
            # Each attempt is a whole upload from a new session; recovery decides whether to try again.
            with self._explained(repository):
                sent = upload_with_recovery(
                    self.client,
                    repository,
                    blob,
                    lambda: upload_blob(self.client, repository, blob, self.profile, progress, mount_from=sources),
                )
            self._holds(repository, blob.digest)
        finally:
            if first is not None:
                with self._holders_lock:
                    del self._uploading[blob.digest]
                first.set()
        return sent

    def push_manifest(self, repository: str, tag: str, manifest: Manifest) -> str:
        with self._explained(repository):
            return self.client.put_manifest(repository, tag, manifest)

    def abort(self) -> None:
        self.in_flight.abort()
        self._sockets.break_all()

    def close(self) -> None:
        self.http.close()
