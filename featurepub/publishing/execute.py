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

A `Cancellation` stops the run: nothing new starts, the step under way ends (its requests are
broken off by the target), and the report says which repositories were interrupted.
"""

from __future__ import annotations

import contextlib
import json
import threading
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from functools import partial

from featurepub.cancel import Cancellation
from featurepub.errors import FeaturepubError, Interrupted
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
            if versioned and self.completed.get(subject) != version:
                self._complete_floating_tags(subject, artifact, version, result)
                return
            result.status = Status.UNCHANGED
            result.tags = [TagResult(version, Status.UNCHANGED)]
            result.note = f"{version} already points at identical content"
            self.emit(Event(EventKind.UNCHANGED, subject, repository, result.note))
            return
        if existing is not None and versioned and not self.options.force:
            result.status = Status.SKIPPED
            result.tags = [TagResult(version, Status.SKIPPED)]
            result.note = (
                f"{version} already exists with different content ({existing}); "
                "bump the version, or use --force to replace it"
            )
            self.emit(Event(EventKind.SKIPPED, subject, repository, result.note))
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
        self._push_tags(subject, artifact, result, result.tags)
        if versioned:
            self._settle_floating_tags(subject, artifact, version, result)
        result.status = Status.PUBLISHED

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
        self, subject: str, artifact: Artifact, version: str, result: RepositoryResult
    ) -> None:
        """The exact tag is in place but the last run did not finish: check each floating tag."""
        repository = result.repository
        digest = artifact.manifest.digest
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
            result.note = f"{version} and its floating tags already point at identical content"
            self.emit(Event(EventKind.UNCHANGED, subject, repository, result.note))
        elif self.options.dry_run:
            self._plan_only(subject, result)
        else:
            # The blobs are there: the exact tag was only ever pushed after them.
            self._push_tags(subject, artifact, result, missing)
            result.note = f"{version} was there; completed floating tags an earlier run did not push"
            self._settle_floating_tags(subject, artifact, version, result)
            result.status = Status.PUBLISHED

    def _push_tags(
        self, subject: str, artifact: Artifact, result: RepositoryResult, tags: list[TagResult]
    ) -> None:
        for tag in tags:
            self.cancel.check()
            try:
                self.target.push_manifest(result.repository, tag.tag, artifact.manifest)
            except FeaturepubError as exc:
                if isinstance(exc, Interrupted) or self.cancel.cancelled:
                    tag.status = Status.INTERRUPTED  # cut mid-request: the registry may or may not have it
                else:
                    tag.status, tag.error = Status.FAILED, str(exc)
                raise
            tag.status = Status.PUBLISHED
            self.emit(Event(EventKind.TAG_PUSHED, subject, result.repository, tag.tag))

    def _settle_floating_tags(
        self, subject: str, artifact: Artifact, version: str, result: RepositoryResult
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
        digest = artifact.manifest.digest
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
                manifest = (
                    artifact.manifest if highest == version else self.target.read_manifest(repository, highest)
                )
                if manifest is None or manifest.digest != wanted[highest]:
                    continue  # it moved since it was read: the next pass looks again
                self.cancel.check()
                self.target.push_manifest(repository, tag_name, manifest)
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
class NamespaceState:
    """What a run reads of the namespace before it pushes anything."""

    # The collection's digest and the feature versions it lists; None when it could not be read.
    collection: tuple[str | None, dict[str, str]] | None
    existing_repositories: frozenset[str] | None  # None: unknown, probe every repository


def read_state(target: Target, namespace: str) -> NamespaceState:
    """Read the collection and the repository list, both at once; `api.publish` runs this while
    it packages."""
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="list-repositories") as other:
        repositories = other.submit(_existing_repositories, target, namespace)
        return NamespaceState(_completed_versions(target, namespace), repositories.result())


def _completed_versions(target: Target, namespace: str) -> tuple[str | None, dict[str, str]] | None:
    """The collection's current digest and the feature versions it lists (all fully published);
    None when it cannot be read: then nothing is trusted, and each repository reports its own error."""
    try:
        manifest = target.read_manifest(namespace, COLLECTION_TAG)
    except FeaturepubError:
        return None
    if manifest is None:
        return None, {}
    try:
        layer = manifest.to_json()["layers"][0]
        document = json.loads(target.read_blob(namespace, str(layer["digest"])) or b"{}")
        listed = document["features"] if "features" in document else document["templates"]
        return manifest.digest, {str(f["id"]): str(f["version"]) for f in listed}
    except (ValueError, KeyError, IndexError, TypeError, RecursionError, FeaturepubError):
        return manifest.digest, {}  # not a collection featurepub can read: trust nothing in it


def _existing_repositories(target: Target, namespace: str) -> frozenset[str] | None:
    try:
        return target.existing_repositories(namespace)
    except FeaturepubError:
        return None  # unknown: every repository is probed


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
    run = _Run(target, options, emit, collection[1] if collection else {}, cancel)
    if collection is not None:
        run.known_tags[(plan.namespace, COLLECTION_TAG)] = collection[0]
    run.existing_repositories = state.existing_repositories
    report = PublishReport(target.display_name, plan.namespace, dry_run=options.dry_run, kind=plan.kind)
    pushed_collection = collection[0] if collection is not None else None
    staging: list[Future[None]] = []
    with ThreadPoolExecutor(max_workers=max(1, options.concurrency), thread_name_prefix="publish") as pool:
        if not options.dry_run and (options.force or pushed_collection != plan.collection.manifest.digest):
            # No collection yet and no feature repository: a new namespace, whose repository holds
            # nothing worth a HEAD. With feature repositories, an earlier run that stopped may have
            # put the collection's blobs up already.
            probe = collection is None or pushed_collection is not None or bool(state.existing_repositories)
            stage = partial(run.stage_collection_blobs, plan.namespace, plan.collection, probe)
            run.on_feature_published = _once(lambda: staging.append(pool.submit(stage)))
        report.features = list(pool.map(run.publish_feature, plan.features))
    for future in staging:
        future.result()  # done by now; re-raises a bug rather than hiding it
    if cancel.cancelled:
        report.collection = RepositoryResult(plan.namespace, note="not pushed: the run was interrupted")
    elif all(f.ok for f in report.features):
        report.collection = run.publish_repository(
            "collection", plan.namespace, plan.collection, COLLECTION_TAG, versioned=False
        )
    else:
        report.collection = RepositoryResult(plan.namespace, note=f"not pushed: some {plan.kind.plural} failed")
    if cancel.cancelled:
        report.interrupted = cancel.reason
    return report
