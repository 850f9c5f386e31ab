"""Run a plan against a target in a safe order, and report what happened.

Per repository: blobs first, then the exact version tag, then floating tags from most
to least specific, so no tag ever points at content that is not there and `latest`
never moves to a version whose exact tag failed. The collection's manifest goes last, and
only when every feature is in place (its blobs may go up earlier: no one sees a blob that
no manifest names), which makes it the record of complete runs: a feature
version listed there had all its tags pushed, so when its exact tag is already there with
identical content nothing more is checked (one request per repository). Any other exact
tag that is already there gets its floating tags checked and repaired, so re-running after
an interrupted publish finishes the job.

Another run may publish another version of the same feature at the same time, and the two
runs' floating tag pushes interleave. So after pushing floating tags a run lists the tags
again and points each one at the highest version in its range (see `_settle_floating_tags`).

An exact tag that is there with another digest may hold the same content packed by another tool
(the reference CLI's layers are not reproducible): its metadata and layer are compared
(content_equality.py). The same content is `unchanged`, and that version is then treated like one
this run pushed, with the registry's manifest standing in for this run's: listed in the collection,
nothing more is checked; not listed, its floating tags are checked and completed with the
registry's manifest. Other content is `skipped`, naming the first difference.

The collection: a run over part of a collection merges its entries into the one that is there
(collection_merge.py); one that cannot be read is not replaced. A collection that lists the same
entries as this run's, whoever wrote it, is left as it is.

A `Cancellation` stops the run: nothing new starts, the step under way ends (its requests are
broken off by the target), and the report says which repositories were interrupted.
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from functools import partial
from typing import Any

from featurepub.cancel import Cancellation
from featurepub.errors import EXIT_INCOMPLETE, ContentError, FeaturepubError, Interrupted, RegistryError
from featurepub.oci.document import load_object
from featurepub.oci.manifest import Manifest
from featurepub.publishing.collection_merge import UnreadableCollection, merge_collection, same_entries
from featurepub.publishing.content_equality import DEFAULT_COMPARE_LIMIT, LayerVerdicts, compare_version
from featurepub.publishing.events import Event, EventKind, Listener, ignore
from featurepub.publishing.plan import Artifact, FeaturePlan, Plan
from featurepub.publishing.report import FeatureResult, PublishReport, RepositoryResult, Status, TagResult
from featurepub.publishing.tags import highest_in_range, tags_for
from featurepub.targets.base import Target

COLLECTION_TAG = "latest"
# Passes of list-check-repair before floating tags another run keeps moving are reported instead.
SETTLE_PASSES = 5
INTERRUPTED_NOTE = "interrupted; what is marked published is in place, and a re-run finishes the rest"
NOT_STARTED_NOTE = "the run was interrupted before this began"
PACKED_ELSEWHERE = "same content, packed by another tool"


class FloatingTagsUnsettled(FeaturepubError):
    """Floating tags kept moving away from the highest version while this run repaired them."""


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
    concurrency: int = 1  # features published at once
    # The most a layer in the registry may hold (as stored, and as a tar) to be compared with this run's.
    compare_limit: int = DEFAULT_COMPARE_LIMIT


class _Run:
    def __init__(
        self,
        target: Target,
        options: PublishOptions,
        emit: Listener,
        completed: dict[str, str],
        cancel: Cancellation,
    ) -> None:
        self.target = target
        self.options = options
        self.cancel = cancel
        self._emit = emit
        self._emit_lock = threading.Lock()
        self.completed = completed  # feature id -> version, from the collection last pushed
        self.stopped = threading.Event()
        self.known_tags: dict[tuple[str, str], str | None] = {}  # probed once, used once
        # Repositories known to exist (None: unknown). One that does not exist holds no tags and
        # no blobs, so probing it is skipped: that saves a tag probe, a tags list and blob HEADs.
        self.existing_repositories: frozenset[str] | None = None
        self.staged: dict[tuple[str, str], int] = {}  # (repository, digest) -> bytes sent ahead of time
        self.on_feature_published: Callable[[], None] = _nothing
        self.verdicts = LayerVerdicts()

    def is_new(self, repository: str) -> bool:
        return self.existing_repositories is not None and repository not in self.existing_repositories

    def tag_digest(self, repository: str, tag: str) -> str | None:
        key = (repository, tag)
        if key in self.known_tags:
            return self.known_tags.pop(key)
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
            if self.stopped.is_set() or any(r.status is Status.FAILED for r in repositories):
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
            self.on_feature_published()
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
        # Floating tags depend on every version already there (none, in a new repository).
        self.cancel.check()
        existing_tags = [] if new or not versioned else self.target.list_tags(repository)
        tags = tags_for(version, existing_tags) if versioned else [version]
        result.tags = [TagResult(tag, Status.NOT_ATTEMPTED) for tag in tags]
        if self.options.dry_run:
            self._plan_only(subject, result)
            return
        result.bytes_uploaded += self.push_blobs(subject, repository, artifact, probe=not new)
        self._push_tags(subject, artifact.manifest, result, result.tags)
        result.digest = digest if versioned else None
        if versioned:
            self._settle_floating_tags(subject, artifact.manifest, version, result)
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
        """Put the artifact's blobs in `repository` (HEAD first when `probe`); returns the bytes sent.
        With `stage`, what is done is remembered instead, for the artifact's own push to count."""
        sent = 0
        for blob in artifact.blobs:
            self.cancel.check()
            key = (repository, blob.digest)
            if key in self.staged:
                sent += self.staged.pop(key)
                continue
            if probe and self.target.has_blob(repository, blob.digest):
                self.emit(Event(EventKind.BLOB_EXISTS, subject, repository, blob.digest, blob.size))
                size = 0
            else:
                self.emit(Event(EventKind.BLOB_UPLOAD, subject, repository, blob.digest, blob.size))

                def progress(done: int, _repository: str = repository) -> None:
                    self.emit(Event(EventKind.BLOB_PROGRESS, subject, _repository, "", done))
                    self.cancel.check()  # between chunks: raising here ends the upload's body

                size = self.target.push_blob(repository, blob, progress)
                self.emit(Event(EventKind.BLOB_DONE, subject, repository, blob.digest, blob.size))
            if stage:
                self.staged[key] = size
            else:
                sent += size
        return sent

    def stage_collection_blobs(self, namespace: str, collection: Artifact, probe: bool) -> None:
        """Upload the collection's blobs while the features publish, so that only its manifest is left
        for the end. Started once a first feature is in place, so a run that pushes no feature writes
        nothing; a blob no manifest refers to is invisible, so a later failure shows nothing either."""
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
        result.tags = [TagResult(version, Status.UNCHANGED)]
        missing = []
        for tag in floating:
            if self.target.tag_digest(repository, tag) == digest:
                result.tags.append(TagResult(tag, Status.UNCHANGED))
            else:
                missing.append(TagResult(tag, Status.NOT_ATTEMPTED))
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
            self._push_tags(subject, manifest, result, missing)
            result.note = (
                f"{version} was there ({PACKED_ELSEWHERE}); pointed the floating tags it lacked at it"
                if elsewhere
                else f"{version} was there; completed floating tags an earlier run did not push"
            )
            self._settle_floating_tags(subject, manifest, version, result)
            result.status = Status.PUBLISHED

    def _push_tags(
        self, subject: str, manifest: Manifest, result: RepositoryResult, tags: list[TagResult]
    ) -> None:
        for tag in tags:
            self.cancel.check()
            try:
                self.target.push_manifest(result.repository, tag.tag, manifest)
            except FeaturepubError as exc:
                if isinstance(exc, Interrupted) or self.cancel.cancelled:
                    tag.status = Status.INTERRUPTED  # cut mid-request: the registry may or may not have it
                else:
                    tag.status, tag.error = Status.FAILED, str(exc)
                raise
            tag.status = Status.PUBLISHED
            self.emit(Event(EventKind.TAG_PUSHED, subject, result.repository, tag.tag))

    def _settle_floating_tags(
        self, subject: str, manifest: Manifest, version: str, result: RepositoryResult
    ) -> None:
        """Point each floating tag this run pushed at the highest version in its range, as the
        registry's tag list says after the push.

        Another run publishing another version at the same time may have pushed a floating tag
        just after this run did (a lower version), or this run just after it (a higher one). Only
        a version whose exact tag is already listed can have been written to a floating tag
        before the list was read (exact tags go first, repairs write listed versions); a version
        listed later belongs to a run that pushes its floating tags later and settles them itself.
        So a floating tag with no other listed release in its range needs no request, which keeps
        a first publish at one more request. Both runs may repair at once: each writes only the
        highest version's manifest, and a pass that finds every tag right ends it.
        """
        repository = result.repository
        pushed = [t for t in result.tags[1:] if t.status is Status.PUBLISHED]
        if not pushed:
            return
        digest = manifest.digest
        moved: dict[str, str] = {}  # floating tag -> the version it was pointed at
        for _ in range(SETTLE_PASSES):
            self.cancel.check()
            listed = self.target.list_tags(repository)
            wanted: dict[str, str | None] = {version: digest}  # exact tag -> its digest
            wrong: list[tuple[str, str]] = []
            for tag in pushed:
                highest = highest_in_range(tag.tag, listed)
                if highest is None or highest_in_range(tag.tag, [t for t in listed if t != version]) is None:
                    continue  # no other release in range: nothing else can have been written here
                if highest not in wanted:
                    wanted[highest] = self.target.tag_digest(repository, highest)
                if highest != version:
                    tag.status = Status.SKIPPED  # superseded: another run published a higher version
                    moved[tag.tag] = highest
                if wanted[highest] is not None and self.target.tag_digest(repository, tag.tag) != wanted[highest]:
                    wrong.append((tag.tag, highest))
            if not wrong:
                break
            for tag_name, highest in wrong:
                right = manifest if highest == version else self.target.read_manifest(repository, highest)
                if right is None or right.digest != wanted[highest]:
                    continue  # it moved since it was read: the next pass looks again
                self.cancel.check()
                self.target.push_manifest(repository, tag_name, right)
                moved[tag_name] = highest
                self.emit(Event(EventKind.TAG_REPAIRED, subject, repository, f"{tag_name} -> {highest}"))
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

    def _plan_only(self, subject: str, result: RepositoryResult) -> None:
        planned = [t for t in result.tags if t.status is Status.NOT_ATTEMPTED]
        for tag in planned:
            tag.status = Status.PLANNED
        result.status = Status.PLANNED
        self.emit(Event(EventKind.PLANNED, subject, result.repository, ", ".join(t.tag for t in planned)))


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


def read_state(target: Target, namespace: str) -> NamespaceState:
    """Read the collection and the repository list, both at once; `api.publish` runs this while
    it packages."""
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="list-repositories") as other:
        repositories = other.submit(_existing_repositories, target, namespace)
        return NamespaceState(read_collection(target, namespace), repositories.result())


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
    state = state or read_state(target, plan.namespace)
    collection = state.collection
    run = _Run(target, options, emit, collection.completed, cancel)
    if collection.readable:
        run.known_tags[(plan.namespace, COLLECTION_TAG)] = collection.digest
    run.existing_repositories = state.existing_repositories
    report = PublishReport(target.display_name, plan.namespace, dry_run=options.dry_run, kind=plan.kind)
    to_push, left_alone = _collection_to_push(plan, collection)
    staging: list[Future[None]] = []
    with ThreadPoolExecutor(max_workers=max(1, options.concurrency), thread_name_prefix="publish") as pool:
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
            run.on_feature_published = _once(lambda: staging.append(pool.submit(stage)))
        report.features = list(pool.map(run.publish_feature, plan.features))
    for future in staging:
        future.result()  # done by now; re-raises a bug rather than hiding it
    if cancel.cancelled:
        report.collection = RepositoryResult(plan.namespace, note="not pushed: the run was interrupted")
    elif not all(f.ok for f in report.features):
        report.collection = RepositoryResult(plan.namespace, note=f"not pushed: some {plan.kind.plural} failed")
    elif to_push is None:
        report.collection = left_alone
        if left_alone is not None and left_alone.error:
            run.emit(Event(EventKind.FAILED, "collection", plan.namespace, left_alone.error))
        elif left_alone is not None and left_alone.note:
            run.emit(Event(EventKind.UNCHANGED, "collection", plan.namespace, left_alone.note))
    else:
        report.collection = run.publish_repository(
            "collection", plan.namespace, to_push, COLLECTION_TAG, versioned=False
        )
    if cancel.cancelled:
        report.interrupted = cancel.reason
    return report
