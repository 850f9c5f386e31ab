"""A registry as a publish target: the Target protocol over RegistryClient.

The registry's profile (registry/profiles.py) decides how blobs go up, and explains the
registry's common refusals: every RegistryError leaving the target carries its hint.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager

import httpx

from featurepub.credentials.chain import CredentialChain, default_chain
from featurepub.errors import RegistryError
from featurepub.oci.descriptor import Blob
from featurepub.oci.manifest import Manifest
from featurepub.reference import DOCKER_HUB, DOCKER_HUB_API, is_loopback
from featurepub.registry.auth import RegistryAuth
from featurepub.registry.client import RegistryClient
from featurepub.registry.connections import OpenSockets
from featurepub.registry.profiles import Profile, check_depth, explain, profile_for_host
from featurepub.registry.recovery import upload_with_recovery
from featurepub.registry.retry import RetryPolicy
from featurepub.registry.transport import TransportOptions, make_http_client
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
        options = transport or TransportOptions()
        lookup = (credentials or default_chain()).lookup(credential_scope or registry)
        if options.log is not None:
            options.log(lookup.describe())  # which source, never the secret
        api_host = DOCKER_HUB_API if registry == DOCKER_HUB else registry
        self.auth = RegistryAuth(lookup.credential, push=push, host=api_host)
        plain = is_loopback(registry) or registry in options.insecure_hosts
        self.http: httpx.Client = make_http_client(options, self.auth)
        self._sockets = OpenSockets()  # so that `abort` can break off requests in flight
        hooks = self.http.event_hooks
        self.http.event_hooks = {**hooks, "request": [*hooks.get("request", []), self._sockets.watch]}
        self.client = RegistryClient(
            registry,
            self.http,
            api_host=DOCKER_HUB_API if registry == DOCKER_HUB else None,
            plain_http=plain,
            retry=retry,
        )
        self.registry = registry
        self.profile = profile or profile_for_host(registry)
        # Where each blob is known to be, so another repository can mount it instead of uploading.
        self._holders: dict[str, list[str]] = {}
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
    def concurrency(self) -> int:
        return self.profile.concurrency

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
        # Each attempt is a whole upload from a new session; recovery decides whether to try again.
        sources = self._holders_of(blob.digest, repository)
        with self._explained(repository):
            sent = upload_with_recovery(
                self.client,
                repository,
                blob,
                lambda: upload_blob(self.client, repository, blob, self.profile, progress, mount_from=sources),
            )
        self._holds(repository, blob.digest)
        return sent

    def push_manifest(self, repository: str, tag: str, manifest: Manifest) -> str:
        with self._explained(repository):
            return self.client.put_manifest(repository, tag, manifest)

    def abort(self) -> None:
        self._sockets.break_all()

    def close(self) -> None:
        self.http.close()
