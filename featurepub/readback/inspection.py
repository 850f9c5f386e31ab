"""`inspect`: what is behind a reference (a feature, a template, a collection), and can the reference
CLI use it.

A tag on an index or manifest list is resolved to one platform's manifest instead of failing
(manifests.py), and the zero-byte config that the reference CLI wrote before 0.63.0 reads fine.
A template is told from a feature by its layer's title, `devcontainer-template-<id>.tgz`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from featurepub.kinds import TEMPLATE
from featurepub.oci import mediatypes
from featurepub.readback.manifests import resolve
from featurepub.readback.metadata import read_metadata
from featurepub.readback.results import InspectResult
from featurepub.readback.tags import tags_pointing_at

if TYPE_CHECKING:
    from featurepub.reference import Reference
    from featurepub.registry.client import RegistryClient


def inspect(
    ref: Reference, client: RegistryClient, *, platform: str | None = None, read_tags: bool = True
) -> InspectResult:
    """Read the manifest behind `ref` and describe it; see the module docstring."""
    manifest, document, index = resolve(client, ref, platform)
    result = InspectResult(
        reference=str(ref),
        registry=ref.registry,
        repository=ref.repository,
        tag=ref.tag if not ref.digest else None,
        digest=manifest.digest,
        media_type=document.media_type,
        manifest_size=manifest.size,
        manifest=document.body,
        config=document.config,
        layers=list(document.layers),
        annotations=document.annotations,
        artifact_type=document.artifact_type,
        index=index,
    )
    if index is not None:
        result.notes.append(f"the tag points at an index; read the {index.selected} manifest")
    if result.config is not None and result.config.size == 0:
        result.notes.append(
            "zero-byte config (written by the reference CLI before 0.63.0); readers accept it, "
            "but AWS ECR and Google Artifact Registry refuse to store a zero-byte blob"
        )
    read_metadata(client, ref.repository, result)
    result.consumable, result.consumable_reason = consumable(result)
    if read_tags:
        result.tags = client.list_tags(ref.repository)
        result.tags_here = tags_pointing_at(client, ref.repository, result.tags, result.top_digest)
    return result


def consumable(result: InspectResult) -> tuple[bool, str]:
    """What the reference CLI's reader checks (NOTES §4): only the config media type, on an image manifest."""
    if result.index is not None:
        return False, (
            "the tag points at an index; the reference CLI asks only for an image manifest "
            f"(use the platform manifest {result.canonical_id})"
        )
    if result.config is None:
        return False, "the manifest has no config"
    if result.config.media_type != mediatypes.DEVCONTAINERS_CONFIG:
        return False, (
            f"config media type is {result.config.media_type}; the reference CLI reads only "
            f"{mediatypes.DEVCONTAINERS_CONFIG}"
        )
    if not result.layers:
        return False, "the manifest has no layers"
    if result.kind == TEMPLATE.name and mediatypes.ANNOTATION_METADATA not in result.annotations:
        # `devcontainer templates metadata` reads only the annotation; `templates apply` reads the layer.
        return True, (
            f"config media type is {mediatypes.DEVCONTAINERS_CONFIG}; without the "
            f"{mediatypes.ANNOTATION_METADATA} annotation `devcontainer templates metadata` finds nothing, "
            "but `templates apply` works"
        )
    return True, f"config media type is {mediatypes.DEVCONTAINERS_CONFIG}"
