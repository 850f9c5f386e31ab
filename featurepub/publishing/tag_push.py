"""Pushing tags, and settling floating tags that another run may have moved.

Tags go up in two steps: the exact tag, then once it is in, every floating tag at once (they
point at the same manifest and depend on nothing but the exact tag). Another run may publish
another version of the same feature at the same time, and the two runs' floating tag pushes
interleave; `settle` then points each floating tag this run pushed at the highest version in its
range, as the registry's tag list says after the push.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import partial

from featurepub.cancel import Cancellation
from featurepub.errors import FeaturepubError, Interrupted, RegistryError
from featurepub.oci.manifest import Manifest
from featurepub.publishing.events import Event, EventKind
from featurepub.publishing.lanes import Lanes
from featurepub.publishing.report import RepositoryResult, Status, TagResult
from featurepub.publishing.tags import highest_in_range
from featurepub.targets.base import Target

# Passes of list-check-repair before floating tags another run keeps moving are reported instead.
SETTLE_PASSES = 5
# A tag push refused with MANIFEST_BLOB_UNKNOWN is tried this many times in all (see `_put`).
BLOB_LINK_ATTEMPTS = 4


class FloatingTagsUnsettled(FeaturepubError):
    """Floating tags kept moving away from the highest version while this run repaired them."""


class TagPusher:
    def __init__(self, target: Target, lanes: Lanes, cancel: Cancellation, emit: Callable[[Event], None]) -> None:
        self.target = target
        self.lanes = lanes
        self.cancel = cancel
        self.emit = emit

    def push(self, subject: str, manifest: Manifest, result: RepositoryResult, tags: list[TagResult]) -> None:
        """Point `tags` at `manifest`, all at once; each tag's status says how it went, and the first
        failure is raised once every push has ended."""
        self.lanes.together(*(partial(self._push_one, subject, manifest, result.repository, tag) for tag in tags))

    def _push_one(self, subject: str, manifest: Manifest, repository: str, tag: TagResult) -> None:
        self.cancel.check()
        try:
            self._put(repository, tag.tag, manifest)
        except FeaturepubError as exc:
            if isinstance(exc, Interrupted) or self.cancel.cancelled:
                tag.status = Status.INTERRUPTED  # cut mid-request: the registry may or may not have it
            else:
                tag.status, tag.error = Status.FAILED, str(exc)
            raise
        tag.status = Status.PUBLISHED
        self.emit(Event(EventKind.TAG_PUSHED, subject, repository, tag.tag))

    def _put(self, repository: str, tag: str, manifest: Manifest) -> None:
        """Push a manifest whose blobs are in place (this run put or found them before any tag, or the
        registry already serves a manifest naming them). distribution's filesystem storage (2.8, the
        registry:2 image) rewrites a repository's link to a blob in place, truncating it first, whenever
        the blob is uploaded or mounted there again, by another run publishing the same feature, say
        (distribution/distribution#4478, written atomically since #4624); a manifest PUT that reads the
        link meanwhile is refused MANIFEST_BLOB_UNKNOWN. So that refusal is tried again shortly after."""
        for attempt in range(1, BLOB_LINK_ATTEMPTS + 1):
            try:
                self.target.push_manifest(repository, tag, manifest)
                return
            except RegistryError as exc:
                if "MANIFEST_BLOB_UNKNOWN" not in exc.codes or attempt == BLOB_LINK_ATTEMPTS:
                    raise
            self.cancel.sleep(0.05 * attempt)

    def digests(self, repository: str, tags: list[str]) -> dict[str, str | None]:
        """The digest each of `tags` points at (None: not there), asked all at once."""
        found = self.lanes.together(*(partial(self.target.tag_digest, repository, tag) for tag in tags))
        return dict(zip(tags, found, strict=True))

    def settle(self, subject: str, manifest: Manifest, version: str, result: RepositoryResult) -> None:
        """Point each floating tag this run pushed at the highest version in its range, as the
        registry's tag list says after the push.

        Another run publishing another version at the same time may have pushed a floating tag
        just after this run did (a lower version), or this run just after it (a higher one). Only
        a version whose exact tag is already listed can have been written to a floating tag before
        the list was read (exact tags go first, repairs write listed versions); a version listed
        later belongs to a run that pushes its floating tags later and settles them itself. So a
        floating tag with no other listed release in its range needs no request, which keeps a
        first publish at one more request. Both runs may repair at once: each writes only the
        highest version's manifest, and a pass that finds every tag right ends it.
        """
        repository = result.repository
        pushed = [t for t in result.tags[1:] if t.status is Status.PUBLISHED]
        if not pushed:
            return
        moved: dict[str, str] = {}  # floating tag -> the version it was pointed at
        for _ in range(SETTLE_PASSES):
            self.cancel.check()
            listed = self.target.list_tags(repository)
            highest: dict[str, str] = {}  # floating tag -> the highest version in its range
            for tag in pushed:
                top = highest_in_range(tag.tag, listed)
                if top is None or highest_in_range(tag.tag, [t for t in listed if t != version]) is None:
                    continue  # no other release in range: nothing else can have been written here
                highest[tag.tag] = top
                if top != version:
                    tag.status = Status.SKIPPED  # superseded: another run published a higher version
                    moved[tag.tag] = top
            if not highest:
                break
            # The exact tags the floating ones belong on, and the floating tags themselves, at once.
            others = sorted({top for top in highest.values() if top != version})
            found = self.digests(repository, [*others, *highest])
            wanted = {version: manifest.digest, **{top: found[top] for top in others}}
            wrong = [
                (tag, top) for tag, top in highest.items() if wanted[top] is not None and found[tag] != wanted[top]
            ]
            if not wrong:
                break
            self._repair(subject, manifest, version, repository, wrong, wanted, moved)
        else:
            raise FloatingTagsUnsettled(
                f"{', '.join(t for t, _ in wrong)} on {repository} still not on the highest version after "
                f"{SETTLE_PASSES} repairs: another publish of this feature keeps moving them",
                hint="run the publish again once the other one has finished",
            )
        if moved:
            where = ", ".join(f"{tag} -> {to}" for tag, to in moved.items())
            note = f"another publish of this feature ran at the same time; on the highest version now: {where}"
            result.note = f"{result.note}; {note}" if result.note else note

    def _repair(
        self,
        subject: str,
        manifest: Manifest,
        version: str,
        repository: str,
        wrong: list[tuple[str, str]],
        wanted: dict[str, str | None],
        moved: dict[str, str],
    ) -> None:
        """Point each wrong floating tag at its highest version's manifest (read again, and only used when
        it still has the digest just seen: otherwise the next pass looks again), all at once."""
        manifests: dict[str, Manifest | None] = {version: manifest}
        for top in sorted({top for _, top in wrong} - {version}):
            manifests[top] = self.target.read_manifest(repository, top)
        repairs = [(tag, top) for tag, top in wrong if (m := manifests[top]) and m.digest == wanted[top]]
        outcomes = self.lanes.together(
            *(partial(self._repair_one, repository, tag, manifests[top]) for tag, top in repairs)
        )
        for (tag, top), failure in zip(repairs, outcomes, strict=True):  # events in a stable order
            if failure is None:
                moved[tag] = top
                self.emit(Event(EventKind.TAG_REPAIRED, subject, repository, f"{tag} -> {top}"))
        failure = next((f for f in outcomes if f is not None), None)
        if failure is not None:
            raise failure

    def _repair_one(self, repository: str, tag: str, right: Manifest | None) -> FeaturepubError | None:
        """Push one repair; its failure is returned, so that the others' events are still emitted."""
        assert right is not None
        try:
            self.cancel.check()
            self._put(repository, tag, right)
        except FeaturepubError as exc:
            return exc
        return None
