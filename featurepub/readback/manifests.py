"""Fetching a manifest as a registry serves it, and resolving a tag on an index to one platform.

Every manifest kind is asked for (OCI and Docker, image and index). What comes back is parsed
defensively (oci/document.py): a manifest or index that breaks the image spec in a field
featurepub reads is one RegistryError naming the registry, repository and reference.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from featurepub.errors import ContentError, InputError, RegistryContext, RegistryError
from featurepub.oci.document import Document, IndexEntry, parse_document
from featurepub.readback.results import IndexInfo, NotFoundError
from featurepub.reference import Reference

if TYPE_CHECKING:
    from featurepub.oci.manifest import Manifest
    from featurepub.registry.client import RegistryClient

# A reference without a registry host means ghcr.io, like `publish --registry`'s default.
DEFAULT_REGISTRY = "ghcr.io"
DEFAULT_PLATFORM = "linux/amd64"


def parse_reference(value: str) -> Reference:
    """A feature reference: `host[:port]/path[:tag|@digest]`; without a host, ghcr.io."""
    return Reference.parse(value, default_registry=DEFAULT_REGISTRY)


def select_platform(entries: list[IndexEntry], wanted: str | None) -> int:
    """Index of the entry for `wanted` (os/arch[/variant]); by default linux/amd64, else the first."""
    platforms = [e.platform for e in entries]
    if wanted:
        for position, name in enumerate(platforms):
            if name == wanted or (wanted.count("/") == 1 and name.startswith(wanted + "/")):
                return position
        raise InputError(
            f"the index has no manifest for platform {wanted}",
            hint=f"it has: {', '.join(platforms) or 'no entries'}",
        )
    for position, name in enumerate(platforms):
        if name == DEFAULT_PLATFORM:
            return position
    return 0


def fetch_manifest(client: RegistryClient, repository: str, reference: str) -> Manifest:
    """The manifest behind a tag or digest; NotFoundError when there is none."""
    manifest = client.get_manifest(repository, reference)
    if manifest is None:
        raise NotFoundError(
            f"{client.registry}/{repository}: manifest {reference} not found",
            hint="check the repository path and tag (`featurepub tags` lists the tags)",
        )
    if reference.startswith("sha256:") and manifest.digest != reference:
        raise RegistryError(
            f"asked for {reference}, got content with digest {manifest.digest}",
            context=RegistryContext(client.registry, repository, f"GET manifest {reference}"),
        )
    return manifest


def parse_manifest(client: RegistryClient, repository: str, reference: str, manifest: Manifest) -> Document:
    try:
        return parse_document(manifest.data, manifest.media_type, "the manifest")
    except ContentError as exc:
        raise RegistryError(
            exc.message,
            context=RegistryContext(client.registry, repository, f"read manifest {reference}"),
            hint="the registry holds a manifest that breaks the OCI image spec; it was not written by featurepub",
        ) from None


def resolve(
    client: RegistryClient, ref: Reference, platform: str | None
) -> tuple[Manifest, Document, IndexInfo | None]:
    """The image manifest behind `ref`: itself, or, for a tag on an index, the entry for `platform`
    (one level of index is followed)."""
    manifest = fetch_manifest(client, ref.repository, ref.identifier)
    document = parse_manifest(client, ref.repository, ref.identifier, manifest)
    if not document.is_index:
        return manifest, document, None
    context = RegistryContext(client.registry, ref.repository, f"read index {ref.identifier}")
    entries = list(document.entries)
    if not entries:
        raise RegistryError("the index lists no manifests", context=context)
    chosen = select_platform(entries, platform)
    index = IndexInfo(
        manifest.digest,
        document.media_type,
        manifest.size,
        tuple(e.platform for e in entries),
        entries[chosen].platform,
    )
    reference = entries[chosen].descriptor.digest
    manifest = fetch_manifest(client, ref.repository, reference)
    document = parse_manifest(client, ref.repository, reference, manifest)
    if document.is_index:
        raise RegistryError("the index points at another index; featurepub resolves one level", context=context)
    return manifest, document, index
