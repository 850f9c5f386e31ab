"""What a run reads of the namespace before it writes anything, all of it at once, while the layers
are packed: the collection (its manifest, then its layer), which repositories exist (one catalog
request, where the registry answers it), and the digest each feature's exact tag points at (a HEAD
per repository that exists; in a new namespace there is nothing to ask).

A re-publish with nothing to do is these reads and nothing else: the HEADs go out as soon as the
repository list is in, beside the collection's layer.
"""

from __future__ import annotations

from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

from featurepub.errors import ContentError, FeaturepubError
from featurepub.oci.document import load_object
from featurepub.targets.base import Target

COLLECTION_TAG = "latest"

TagKey = tuple[str, str]  # (repository, tag)


@dataclass(frozen=True)
class CollectionState:
    """The collection `<namespace>:latest` as a run found it."""

    readable: bool = True  # False: asking for it failed (the registry, the network): nothing is known
    digest: str | None = None  # None: there is none (or unknown, when not readable)
    completed: dict[str, str] = field(default_factory=dict)  # feature id -> version listed: all pushed
    document: dict[str, Any] | None = None  # the parsed document, when it is one
    problem: str | None = None  # why it could not be read or parsed


@dataclass(frozen=True)
class NamespaceState:
    """What a run reads of the namespace before it pushes anything."""

    collection: CollectionState
    existing_repositories: frozenset[str] | None  # None: unknown, probe every repository
    # (repository, exact tag) -> the digest it points at, None when it is not there.
    tags: dict[TagKey, str | None] = field(default_factory=dict)
    # (repository, exact tag) -> why asking failed (after the retries): the feature reports it rather
    # than asking again, so an unreachable registry costs one round of retries, not two.
    failed: dict[TagKey, FeaturepubError] = field(default_factory=dict)


def read_state(target: Target, namespace: str, exact_tags: Iterable[TagKey] = ()) -> NamespaceState:
    """Read the collection, the repository list and `exact_tags` at once; `api.publish` runs this while
    it packages. An exact tag is asked for once the list says its repository exists (every one when
    the registry cannot tell)."""
    wanted = list(dict.fromkeys(exact_tags))
    workers = max(1, min(len(wanted), target.requests_in_flight))
    with ThreadPoolExecutor(max_workers=workers + 1, thread_name_prefix="survey") as pool:
        collection = pool.submit(read_collection, target, namespace)
        existing = _existing_repositories(target, namespace)
        probed = [key for key in wanted if existing is None or key[0] in existing]
        answers = dict(zip(probed, pool.map(lambda key: _tag_digest(target, key), probed), strict=True))
        tags = {key: answer for key, answer in answers.items() if not isinstance(answer, FeaturepubError)}
        failed = {key: answer for key, answer in answers.items() if isinstance(answer, FeaturepubError)}
        return NamespaceState(collection.result(), existing, tags, failed)


def _tag_digest(target: Target, key: TagKey) -> str | FeaturepubError | None:
    """The digest the tag points at (None: not there), or why the registry could not say."""
    try:
        return target.tag_digest(*key)
    except FeaturepubError as exc:
        return exc


def read_collection(target: Target, namespace: str) -> CollectionState:
    """The collection and the feature versions it lists (all fully published). When it cannot be read
    nothing is trusted, and each repository reports its own error."""
    try:
        manifest = target.read_manifest(namespace, COLLECTION_TAG)
    except FeaturepubError as exc:
        return CollectionState(readable=False, problem=str(exc))
    if manifest is None:
        return CollectionState()
    try:
        layer = manifest.to_json()["layers"][0]
        data = target.read_blob(namespace, str(layer["digest"]))
        if data is None:
            raise ContentError("its layer is not in the registry")
        document = load_object(data, "the collection")
        listed = next(v for k, v in document.items() if k in ("features", "templates"))
        completed = {str(f["id"]): str(f["version"]) for f in listed}
    except (ValueError, KeyError, IndexError, TypeError, StopIteration, RecursionError, FeaturepubError) as exc:
        # Not a collection featurepub can read: trust nothing in it.
        why = exc.message if isinstance(exc, FeaturepubError) else f"{type(exc).__name__}: {exc}"
        return CollectionState(digest=manifest.digest, problem=why[:300])
    return CollectionState(digest=manifest.digest, completed=completed, document=document)


def _existing_repositories(target: Target, namespace: str) -> frozenset[str] | None:
    try:
        return target.existing_repositories(namespace)
    except FeaturepubError:
        return None  # unknown: every repository is probed
