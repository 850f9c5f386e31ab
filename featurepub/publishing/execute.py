"""Run a plan against a target in a safe order, and report what happened.

Per repository: blobs first, then the exact version tag, then the floating tags (all at once,
tag_push.py), so no tag ever points at content that is not there and no floating tag moves to
a version whose exact tag failed. The collection's manifest goes last, and only when every
feature is in place (its blobs go up on their own lane as soon as the run writes anything: no one
sees a blob that no manifest names), which makes it the record of complete runs: a feature
version listed there had all its tags pushed, so when its exact tag is already there with
identical content nothing more is checked (one request per repository, made while the layers
are packed: survey.py). Any other exact tag that is already there gets its floating tags checked
and repaired, so re-running after an interrupted publish finishes the job.

Everything that does not wait for something else happens at once (lanes.py): features side by
side, as many as the target takes requests; inside a feature, the config blob and the layer, the
tag list and the blobs, the floating tags. How many requests are out at once is the target's
limit (registry/limits.py). Another run may publish another version of the same feature at the
same time: after pushing floating tags a run lists the tags again and points each one at the
highest version in its range (`TagPusher.settle`).

An exact tag that is there with another digest may hold the same content packed by another tool
(the reference CLI's layers are not reproducible): its metadata and layer are compared
(content_equality.py). The same content is `unchanged`, and that version is then treated like one
this run pushed, with the registry's manifest standing in for this run's: listed in the collection,
nothing more is checked; not listed, its floating tags are checked and completed with the
registry's manifest. Other content is `skipped`, naming the first difference.

The collection: a run over part of a collection merges its entries into the one that is there
(collection_merge.py); one that cannot be read is not replaced. A collection that lists the same
entries as this run's, whoever wrote it, is left as it is.

A `Cancellation` stops the run: nothing new starts, the steps under way end (their requests are
broken off by the target), and the report says which repositories were interrupted.
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Callable
from concurrent.futures import Future
from dataclasses import dataclass
from functools import partial

from featurepub.cancel import Cancellation
from featurepub.errors import EXIT_INCOMPLETE, ContentError, FeaturepubError, Interrupted, RegistryError
from featurepub.oci.descriptor import Blob
from featurepub.oci.manifest import Manifest
from featurepub.publishing.collection_merge import UnreadableCollection, merge_collection, same_entries
from featurepub.publishing.content_equality import DEFAULT_COMPARE_LIMIT, LayerVerdicts, compare_version
from featurepub.publishing.events import Event, EventKind, Listener, ignore
from featurepub.publishing.lanes import Lanes
from featurepub.publishing.plan import Artifact, FeaturePlan, Plan
from featurepub.publishing.report import FeatureResult, PublishReport, RepositoryResult, Status, TagResult
from featurepub.publishing.survey import (
    COLLECTION_TAG,
    CollectionState,
    NamespaceState,
    TagKey,
    read_collection,
    read_state,
)
from featurepub.publishing.tag_push import SETTLE_PASSES, FloatingTagsUnsettled, TagPusher
from featurepub.publishing.tags import tags_for
from featurepub.targets.base import Target

__all__ = [
    "COLLECTION_TAG",
    "SETTLE_PASSES",
    "CollectionState",
    "FloatingTagsUnsettled",
    "NamespaceState",
    "PublishOptions",
    "exact_tags",
    "execute",
    "read_collection",
    "read_state",
]

INTERRUPTED_NOTE = "interrupted; what is marked published is in place, and a re-run finishes the rest"
NOT_STARTED_NOTE = "the run was interrupted before this began"
PACKED_ELSEWHERE = "same content, packed by another tool"


def _nothing() -> None:
    pass


def _once(action: Callable[[], None]) -> Callable[[], None]:
    """`action`, run by the first call only, from whichever thread makes it."""
    lock = threading.Lock()
    done = False

    def call() -> None:
        nonlocal done
        with lock:
            if not done:
                done = True
                action()

    return call


@dataclass(frozen=True)
class PublishOptions:
    force: bool = False
    dry_run: bool = False
    keep_going: bool = False
    concurrency: int = 1  # features under way at once
    # The most a layer in the registry may hold (as stored, and as a tar) to be compared with this run's.
    compare_limit: int = DEFAULT_COMPARE_LIMIT


def exact_tags(plan: Plan) -> list[TagKey]:
    """(repository, version) of every feature repository: what `read_state` asks about."""
    return [(repository, fp.version) for fp in plan.features for repository in fp.repositories]


class _Run:
    def __init__(
        self,
        target: Target,
        options: PublishOptions,
        emit: Listener,
        completed: dict[str, str],
        cancel: Cancellation,
        lanes: Lanes,
    ) -> None:
        self.target = target
        self.options = options
        self.cancel = cancel
        self.lanes = lanes
        self._emit = emit
        self._emit_lock = threading.Lock()
        self.completed = completed  # feature id -> version, from the collection last pushed
        self.stopped = threading.Event()
        self.known_tags: dict[TagKey, str | None] = {}  # probed once, used once
        self.failed_tags: dict[TagKey, FeaturepubError] = {}  # probed once and failed: reported, not asked again
        # Repositories known to exist (None: unknown). One that does not exist holds no tags and
        # no blobs, so probing it is skipped: that saves a tag probe, a tags list and blob HEADs.
        self.existing_repositories: frozenset[str] | None = None
        self.staged: dict[tuple[str, str], int] = {}  # (repository, digest) -> bytes sent ahead of time
        # Called when the run first writes, and when a feature is in place: the collection's blobs can go.
        self.start_collection_lane: Callable[[], None] = _nothing
        self.verdicts = LayerVerdicts()
        self.tags = TagPusher(target, lanes, cancel, self.emit)

    def needs_no_request(self, feature_plan: FeaturePlan) -> bool:
        """Whether the feature is known to be in place already (each exact tag was read with this run's
        digest, and the collection lists the version): then it is settled here, on no thread of its own."""
        if self.options.force or self.completed.get(feature_plan.id) != feature_plan.version:
            return False
        digest = feature_plan.artifact.manifest.digest
        return all(self.known_tags.get((r, feature_plan.version)) == digest for r in feature_plan.repositories)

    def publish_features(self, plans: tuple[FeaturePlan, ...]) -> list[FeatureResult]:
        """Every feature, those with requests to make side by side; results in the plan's order."""
        settled = {fp.id: self.publish_feature(fp) for fp in plans if self.needs_no_request(fp)}
        rest = iter(self.lanes.map_features(self.publish_feature, [fp for fp in plans if fp.id not in settled]))
        return [settled[fp.id] if fp.id in settled else next(rest) for fp in plans]

    def is_new(self, repository: str) -> bool:
        return self.existing_repositories is not None and repository not in self.existing_repositories

    def tag_digest(self, repository: str, tag: str) -> str | None:
        key = (repository, tag)
        if key in self.known_tags:
            return self.known_tags.pop(key)
        if key in self.failed_tags:
            raise self.failed_tags.pop(key)
        return self.target.tag_digest(repository, tag)

    def emit(self, event: Event) -> None:
        with self._emit_lock:  # listeners need not be thread-safe
            self._emit(event)

    def publish_feature(self, feature_plan: FeaturePlan) -> FeatureResult:
        repositories: list[RepositoryResult] = []
        for repository in feature_plan.repositories:
            if self.cancel.cancelled:
                repositories.append(RepositoryResult(repository, note=NOT_STARTED_NOTE))
                continue
            # A repository whose first request already failed while the namespace was read is reported
            # failed even once the run has stopped: the registry did refuse it (an unreachable registry, or
            # refused credentials, then names every feature it refused, whichever failed first).
            refused = (repository, feature_plan.version) in self.failed_tags
            if (self.stopped.is_set() and not refused) or any(r.status is Status.FAILED for r in repositories):
                repositories.append(RepositoryResult(repository))
                continue
            result = self.publish_repository(
                feature_plan.id, repository, feature_plan.artifact, feature_plan.version
            )
            repositories.append(result)
            if result.status is Status.FAILED and not self.options.keep_going:
                self.stopped.set()
        feature = FeatureResult(
            feature_plan.id,
            feature_plan.version,
            feature_plan.artifact.manifest.digest,
            feature_plan.artifact.blobs[-1].size,
            repositories,
        )
        if feature.ok:
            self.start_collection_lane()
        return feature

    def publish_repository(
        self, subject: str, repository: str, artifact: Artifact, version: str, *, versioned: bool = True
    ) -> RepositoryResult:
        """Push `artifact` as `version`; `versioned` artifacts never overwrite and get floating tags."""
        result = RepositoryResult(repository)
        try:
            self._publish_repository(subject, artifact, version, versioned, result)
        except FeaturepubError as exc:
            if isinstance(exc, Interrupted) or self.cancel.cancelled:  # a cut request fails too
                result.status, result.note = Status.INTERRUPTED, INTERRUPTED_NOTE
                self.emit(Event(EventKind.INTERRUPTED, subject, repository, INTERRUPTED_NOTE))
                return result
            result.status = Status.FAILED
            result.error = str(exc)
            result.error_exit_code = exc.exit_code
            result.error_cause = exc.reason if isinstance(exc, RegistryError) else exc.message
            result.error_hint = exc.hint
            self.emit(Event(EventKind.FAILED, subject, repository, str(exc), error=exc))
        return result

    def _publish_repository(
        self, subject: str, artifact: Artifact, version: str, versioned: bool, result: RepositoryResult
    ) -> None:
        repository = result.repository
        digest = artifact.manifest.digest
        new = versioned and self.is_new(repository)
        existing = None if new else self.tag_digest(repository, version)
        if existing == digest and not self.options.force:
            result.digest = digest
            if versioned and self.completed.get(subject) != version:
                self._complete_floating_tags(subject, artifact.manifest, version, result)
                return
            self._unchanged(subject, version, result, f"{version} already points at identical content")
            return
        if existing is not None and versioned and not self.options.force:
            self._existing_version(subject, artifact, version, existing, result)
            return
        self.cancel.check()

        def plan_tags() -> None:
            """Floating tags depend on every version already there (none, in a new repository)."""
            listed = [] if new or not versioned else self.target.list_tags(repository)
            tags = tags_for(version, listed) if versioned else [version]
            result.tags = [TagResult(tag, Status.NOT_ATTEMPTED) for tag in tags]

        if self.options.dry_run:
            plan_tags()
            self._plan_only(subject, result)
            return
        self.start_collection_lane()
        push = partial(self.push_blobs, subject, repository, artifact, probe=not new)
        if new or not versioned:
            plan_tags()
            result.bytes_uploaded += push()
        else:  # the tag list and the blobs do not wait for each other
            result.bytes_uploaded += self.lanes.together(push, plan_tags)[0]
        self.tags.push(subject, artifact.manifest, result, result.tags[:1])
        self.tags.push(subject, artifact.manifest, result, result.tags[1:])
        result.digest = digest if versioned else None
        if versioned:
            self.tags.settle(subject, artifact.manifest, version, result)
        result.status = Status.PUBLISHED

    def _existing_version(
        self, subject: str, artifact: Artifact, version: str, existing: str, result: RepositoryResult
    ) -> None:
        """`version` is there as another manifest: the same content (packed by another tool) is treated
        like this run's own; other content is skipped, naming the first difference."""
        self.cancel.check()
        comparison = compare_version(
            self.target,
            result.repository,
            existing,
            artifact.manifest,
            artifact.blobs[-1],
            limit=self.options.compare_limit,
            verdicts=self.verdicts,
        )
        result.digest = existing
        if comparison.same and comparison.manifest is not None:
            if self.completed.get(subject) != version:
                self._complete_floating_tags(subject, comparison.manifest, version, result, elsewhere=True)
            else:
                self._unchanged(subject, version, result, f"{version}: {PACKED_ELSEWHERE}")
            if comparison.documentation:
                result.note = (
                    f"{result.note}; only documentation no consumer reads differs "
                    f"({'; '.join(comparison.documentation)}): left as published"
                )
            return
        result.status = Status.SKIPPED
        result.tags = [TagResult(version, Status.SKIPPED)]
        result.note = (
            f"{version} already exists with other content ({existing}): {comparison.difference}; "
            "bump the version, or use --force to replace it"
        )
        self.emit(Event(EventKind.SKIPPED, subject, result.repository, result.note))

    def _unchanged(self, subject: str, version: str, result: RepositoryResult, note: str) -> None:
        result.status = Status.UNCHANGED
        result.tags = [TagResult(version, Status.UNCHANGED)]
        result.note = note
        self.emit(Event(EventKind.UNCHANGED, subject, result.repository, note))

    def push_blobs(
        self, subject: str, repository: str, artifact: Artifact, *, probe: bool, stage: bool = False
    ) -> int:
        """Put the artifact's blobs in `repository`, all at once (HEAD first when `probe`); returns the
        bytes sent. With `stage`, what is done is remembered instead, for the artifact's own push to count."""
        pushes = (partial(self._push_blob, subject, repository, blob, probe, stage) for blob in artifact.blobs)
        return sum(self.lanes.together(*pushes))

    def _push_blob(self, subject: str, repository: str, blob: Blob, probe: bool, stage: bool) -> int:
        self.cancel.check()
        key = (repository, blob.digest)
        if key in self.staged:
            return self.staged.pop(key)
        if probe and self.target.has_blob(repository, blob.digest):
            self.emit(Event(EventKind.BLOB_EXISTS, subject, repository, blob.digest, blob.size))
            size = 0
        else:
            self.emit(Event(EventKind.BLOB_UPLOAD, subject, repository, blob.digest, blob.size))

            def progress(done: int) -> None:
                self.emit(Event(EventKind.BLOB_PROGRESS, subject, repository, "", done))
                self.cancel.check()  # between chunks: raising here ends the upload's body

            size = self.target.push_blob(repository, blob, progress)
            self.emit(Event(EventKind.BLOB_DONE, subject, repository, blob.digest, blob.size))
        if stage:
            self.staged[key] = size
            return 0
        return size

    def stage_collection_blobs(self, namespace: str, collection: Artifact, probe: bool) -> None:
        """Upload the collection's blobs while the features publish, so that only its manifest is left
        for the end. Started once the run writes anything, so a run that pushes nothing writes nothing;
        a blob no manifest refers to is invisible, so a later failure shows nothing either."""
        with contextlib.suppress(FeaturepubError):  # the collection's own push tries again, and reports
            self.push_blobs("collection", namespace, collection, probe=probe, stage=True)

    def _complete_floating_tags(
        self, subject: str, manifest: Manifest, version: str, result: RepositoryResult, *, elsewhere: bool = False
    ) -> None:
        """The exact tag points at `manifest` but no run recorded the version as complete: check each
        floating tag, and point those that are missing or behind at `manifest`. `elsewhere`: another
        tool packed it (the same content as this run's)."""
        repository = result.repository
        digest = manifest.digest
        floating = tags_for(version, self.target.list_tags(repository))[1:]
        found = self.tags.digests(repository, floating)
        result.tags = [TagResult(version, Status.UNCHANGED)]
        result.tags += [TagResult(tag, Status.UNCHANGED) for tag in floating if found[tag] == digest]
        missing = [TagResult(tag, Status.NOT_ATTEMPTED) for tag in floating if found[tag] != digest]
        result.tags.extend(missing)
        if not missing:
            result.status = Status.UNCHANGED
            result.note = (
                f"{version} and its floating tags: {PACKED_ELSEWHERE}"
                if elsewhere
                else f"{version} and its floating tags already point at identical content"
            )
            self.emit(Event(EventKind.UNCHANGED, subject, repository, result.note))
        elif self.options.dry_run:
            self._plan_only(subject, result)
        else:
            # The blobs are there: the exact tag was only ever pushed after them.
            self.start_collection_lane()
            self.tags.push(subject, manifest, result, missing)
            result.note = (
                f"{version} was there ({PACKED_ELSEWHERE}); pointed the floating tags it lacked at it"
                if elsewhere
                else f"{version} was there; completed floating tags an earlier run did not push"
            )
            self.tags.settle(subject, manifest, version, result)
            result.status = Status.PUBLISHED

    def _plan_only(self, subject: str, result: RepositoryResult) -> None:
        planned = [t for t in result.tags if t.status is Status.NOT_ATTEMPTED]
        for tag in planned:
            tag.status = Status.PLANNED
        result.status = Status.PLANNED
        self.emit(Event(EventKind.PLANNED, subject, result.repository, ", ".join(t.tag for t in planned)))


def _collection_to_push(plan: Plan, state: CollectionState) -> tuple[Artifact | None, RepositoryResult | None]:
    """The collection artifact this run pushes, or (None, why not) when it leaves the one there alone:
    it lists the same entries already, or this run covers part of a collection that cannot be read."""
    artifact = plan.collection
    if plan.partial and (state.digest is not None or not state.readable):
        if not state.readable or state.document is None:
            return None, _unreadable_collection(plan, state)
        try:
            artifact = plan.collection_of(merge_collection(state.document, plan.collection.blobs[-1].data or b""))
        except (UnreadableCollection, ContentError) as exc:
            return None, _unreadable_collection(plan, state, str(exc))
    if state.digest != artifact.manifest.digest and same_entries(state.document, artifact.blobs[-1].data or b""):
        result = RepositoryResult(plan.namespace, Status.UNCHANGED, [TagResult(COLLECTION_TAG, Status.UNCHANGED)])
        result.note = "lists the same entries already (written by another tool); left as it is"
        return None, result
    return artifact, None


def _unreadable_collection(plan: Plan, state: CollectionState, why: str | None = None) -> RepositoryResult:
    result = RepositoryResult(plan.namespace, Status.FAILED, [TagResult(COLLECTION_TAG, Status.NOT_ATTEMPTED)])
    result.error = (
        f"the collection {plan.namespace}:{COLLECTION_TAG} could not be read ({why or state.problem}), so this "
        "run's entries were not merged into it; it was left as it is rather than replaced with only them"
    )
    result.error_exit_code = EXIT_INCOMPLETE
    result.note = "publish again, or publish the whole collection folder to replace it"
    return result


def execute(
    plan: Plan,
    target: Target,
    options: PublishOptions | None = None,
    emit: Listener = ignore,
    state: NamespaceState | None = None,
    cancel: Cancellation | None = None,
) -> PublishReport:
    """Publish `plan`; `state` is what `read_state` returned for its namespace (read now when None).
    When `cancel` is cancelled, the report says what was done and `report.interrupted` why it stopped."""
    options = options or PublishOptions()
    cancel = cancel or Cancellation()
    state = state or read_state(target, plan.namespace, exact_tags(plan))
    collection = state.collection
    report = PublishReport(target.display_name, plan.namespace, dry_run=options.dry_run, kind=plan.kind)
    to_push, left_alone = _collection_to_push(plan, collection)
    lanes = Lanes(features=options.concurrency, steps=2 * options.concurrency)
    run = _Run(target, options, emit, collection.completed, cancel, lanes)
    run.known_tags.update(state.tags)
    run.failed_tags.update(state.failed)
    if collection.readable:
        run.known_tags[(plan.namespace, COLLECTION_TAG)] = collection.digest
    run.existing_repositories = state.existing_repositories
    staging: list[Future[None]] = []
    try:
        if (
            to_push is not None
            and not options.dry_run
            and (options.force or collection.digest != to_push.manifest.digest)
        ):
            # No collection yet and no feature repository: a new namespace, whose repository holds
            # nothing worth a HEAD. With feature repositories, an earlier run that stopped may have
            # put the collection's blobs up already.
            probe = not collection.readable or collection.digest is not None or bool(state.existing_repositories)
            stage = partial(run.stage_collection_blobs, plan.namespace, to_push, probe)
            run.start_collection_lane = _once(lambda: staging.append(lanes.background(stage)))
        report.features = run.publish_features(plan.features)
        for future in staging:
            future.result()  # its lane ends before the collection's manifest goes; re-raises a bug
        report.collection = _push_collection(run, plan, to_push, left_alone, report)
    finally:
        lanes.close()
    if cancel.cancelled:
        report.interrupted = cancel.reason
    return report


def _push_collection(
    run: _Run, plan: Plan, to_push: Artifact | None, left_alone: RepositoryResult | None, report: PublishReport
) -> RepositoryResult | None:
    """The collection's manifest, last, when every feature is in place; or why it was not pushed."""
    if run.cancel.cancelled:
        return RepositoryResult(plan.namespace, note="not pushed: the run was interrupted")
    if not all(f.ok for f in report.features):
        return RepositoryResult(plan.namespace, note=f"not pushed: some {plan.kind.plural} failed")
    if to_push is not None:
        return run.publish_repository("collection", plan.namespace, to_push, COLLECTION_TAG, versioned=False)
    if left_alone is not None and left_alone.error:
        run.emit(Event(EventKind.FAILED, "collection", plan.namespace, left_alone.error))
    elif left_alone is not None and left_alone.note:
        run.emit(Event(EventKind.UNCHANGED, "collection", plan.namespace, left_alone.note))
    return left_alone
