"""A repository's tags: all of them (every page), what each points at, and the order people read them in."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from featurepub.readback.results import NotFoundError, TagsResult

if TYPE_CHECKING:
    from featurepub.reference import Reference
    from featurepub.registry.client import RegistryClient

# At most this many tags are asked which manifest they point at.
MAX_TAG_LOOKUPS = 50


def list_tags(ref: Reference, client: RegistryClient, *, digests: bool = False) -> TagsResult:
    """Every tag of the reference's repository (all pages), optionally with what each points at;
    NotFoundError when the repository does not exist.

    Unlike `devcontainer features info tags`, the reference's own tag need not exist.
    """
    tags = client.tags_of(ref.repository)
    if tags is None:
        raise NotFoundError(
            f"{ref.registry}/{ref.repository}: no such repository",
            hint="check the registry and repository path (`featurepub inspect` shows what a tag points at)",
        )
    found: dict[str, str | None] | None = None
    if digests:
        found = {}
        for tag in tags:
            info = client.manifest_info(ref.repository, tag)
            found[tag] = info.digest if info else None
    return TagsResult(f"{ref.registry}/{ref.repository}", ref.repository, tags, found)


def tags_pointing_at(client: RegistryClient, repository: str, tags: list[str], digest: str) -> list[str] | None:
    """The tags among `tags` that point at `digest`; None when there are too many to ask about."""
    if len(tags) > MAX_TAG_LOOKUPS:
        return None
    here = []
    for tag in tags:
        info = client.manifest_info(repository, tag)
        if info is not None and info.digest == digest:
            here.append(tag)
    return here


def sort_tags(tags: Iterable[str]) -> list[str]:
    """Tags for people: versions newest first (X.Y.Z, then X.Y, then X), other names after, latest first."""
    import semver

    def key(tag: str) -> tuple[int, Any]:
        if tag == "latest":
            return (0, ())
        parts = tag.split(".")
        if semver.Version.is_valid(tag):
            version = semver.Version.parse(tag)
            return (1, _Descending(version))
        if all(p.isascii() and p.isdigit() for p in parts) and len(parts) <= 2:  # "²".isdigit() is True
            padded = [int(p) for p in parts] + [10**9] * (3 - len(parts))
            return (1, _Descending(semver.Version(*padded)))
        return (2, tag)

    return sorted(tags, key=key)


@dataclass(frozen=True)
class _Descending:
    version: Any

    def __lt__(self, other: _Descending) -> bool:
        return bool(self.version > other.version)
