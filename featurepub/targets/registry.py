"""A registry as a publish target: the Target protocol over RegistryClient."""

from __future__ import annotations

import httpx

from featurepub.credentials.chain import CredentialChain, default_chain
from featurepub.oci.descriptor import Blob
from featurepub.oci.manifest import Manifest
from featurepub.reference import DOCKER_HUB, DOCKER_HUB_API, is_loopback
from featurepub.registry.auth import RegistryAuth
from featurepub.registry.client import RegistryClient
from featurepub.registry.transport import TransportOptions, make_http_client
from featurepub.registry.upload import upload_monolithic
from featurepub.targets.base import Progress


class RegistryTarget:
    def __init__(
        self,
        registry: str,
        *,
        credentials: CredentialChain | None = None,
        transport: TransportOptions | None = None,
        push: bool = True,
    ) -> None:
        options = transport or TransportOptions()
        credential = (credentials or default_chain()).resolve(registry)
        self.auth = RegistryAuth(credential, push=push)
        plain = is_loopback(registry) or registry in options.insecure_hosts
        self.http: httpx.Client = make_http_client(options, self.auth)
        self.client = RegistryClient(
            registry, self.http, api_host=DOCKER_HUB_API if registry == DOCKER_HUB else None, plain_http=plain
        )
        self.registry = registry

    @property
    def display_name(self) -> str:
        return self.registry

    def list_tags(self, repository: str) -> list[str]:
        return self.client.list_tags(repository)

    def tag_digest(self, repository: str, tag: str) -> str | None:
        info = self.client.manifest_info(repository, tag)
        return info.digest if info else None

    def read_manifest(self, repository: str, reference: str) -> Manifest | None:
        return self.client.get_manifest(repository, reference)

    def has_blob(self, repository: str, digest: str) -> bool:
        return self.client.blob_exists(repository, digest)

    def push_blob(self, repository: str, blob: Blob, progress: Progress | None = None) -> int:
        return upload_monolithic(self.client, repository, blob, progress)

    def push_manifest(self, repository: str, tag: str, manifest: Manifest) -> str:
        return self.client.put_manifest(repository, tag, manifest)

    def close(self) -> None:
        self.http.close()
