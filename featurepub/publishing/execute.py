"""Run a plan against a target in a safe order, and report what happened.

Per repository: blobs first, then the exact version tag, then floating tags from most
to least specific, so no tag ever points at content that is not there and `latest`
never moves to a version whose exact tag failed. The collection goes last, and only
when every feature is in place.
"""

from __future__ import annotations

from dataclasses import dataclass

from featurepub.errors import FeaturepubError
from featurepub.publish.events import Event, EventKind, Listener, ignore
from featurepub.publish.plan import Artifact, Plan
from featurepub.publish.report import FeatureResult, PublishReport, RepositoryResult, Status, TagResult
from featurepub.publish.tags import tags_for
from featurepub.targets.base import Target

COLLECTION_TAG = "latest"


@dataclass(frozen=True)
class PublishOptions:
    force: bool = False
    dry_run: bool = False
    keep_going: bool = False


class _Run:
    def __init__(self, target: Target, options: PublishOptions, emit: Listener) -> None:
        self.target = target
        self.options = options
        self.emit = emit
        self.stopped = False

    def publish_repository(
        self, subject: str, repository: str, artifact: Artifact, version: str, *, versioned: bool = True
    ) -> RepositoryResult:
        """Push `artifact` as `version`; `versioned` artifacts never overwrite and get floating tags."""
        result = RepositoryResult(repository)
        try:
            self._publish_repository(subject, artifact, version, versioned, result)
        except FeaturepubError as exc:
            result.status = Status.FAILED
            result.error = str(exc)
            result.error_exit_code = exc.exit_code
            self.emit(Event(EventKind.FAILED, subject, repository, str(exc)))
        return result

    def _publish_repository(
        self, subject: str, artifact: Artifact, version: str, versioned: bool, result: RepositoryResult
    ) -> None:
        repository = result.repository
        digest = artifact.manifest.digest
        existing = self.target.tag_digest(repository, version)
        if existing == digest and not self.options.force:
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
        # Floating tags depend on every version already there.
        tags = tags_for(version, self.target.list_tags(repository)) if versioned else [version]
        result.tags = [TagResult(tag, Status.NOT_ATTEMPTED) for tag in tags]
        if self.options.dry_run:
            for tag in result.tags:
                tag.status = Status.PLANNED
            result.status = Status.PLANNED
            self.emit(Event(EventKind.PLANNED, subject, repository, ", ".join(tags)))
            return
        for blob in artifact.blobs:
            if self.target.has_blob(repository, blob.digest):
                self.emit(Event(EventKind.BLOB_EXISTS, subject, repository, blob.digest, blob.size))
                continue
            self.emit(Event(EventKind.BLOB_UPLOAD, subject, repository, blob.digest, blob.size))

            def progress(sent: int, _repository: str = repository) -> None:
                self.emit(Event(EventKind.BLOB_PROGRESS, subject, _repository, "", sent))

            result.bytes_uploaded += self.target.push_blob(repository, blob, progress)
            self.emit(Event(EventKind.BLOB_DONE, subject, repository, blob.digest, blob.size))
        for tag in result.tags:
            try:
                self.target.push_manifest(repository, tag.tag, artifact.manifest)
            except FeaturepubError as exc:
                tag.status, tag.error = Status.FAILED, str(exc)
                raise
            tag.status = Status.PUBLISHED
            self.emit(Event(EventKind.TAG_PUSHED, subject, repository, tag.tag))
        result.status = Status.PUBLISHED


def execute(
    plan: Plan, target: Target, options: PublishOptions | None = None, emit: Listener = ignore
) -> PublishReport:
    options = options or PublishOptions()
    run = _Run(target, options, emit)
    report = PublishReport(target.display_name, plan.namespace, dry_run=options.dry_run)
    for feature_plan in plan.features:
        repositories: list[RepositoryResult] = []
        for repository in feature_plan.repositories:
            if run.stopped:
                repositories.append(RepositoryResult(repository))
                continue
            result = run.publish_repository(
                feature_plan.id, repository, feature_plan.artifact, feature_plan.version
            )
            repositories.append(result)
            if result.status is Status.FAILED:
                # Later repositories of this feature wait; later features only with --keep-going.
                run.stopped = True
        report.features.append(
            FeatureResult(
                feature_plan.id,
                feature_plan.version,
                feature_plan.artifact.manifest.digest,
                feature_plan.artifact.blobs[-1].size,
                repositories,
            )
        )
        if options.keep_going:
            run.stopped = False
    if all(f.ok for f in report.features):
        report.collection = run.publish_repository(
            "collection", plan.namespace, plan.collection, COLLECTION_TAG, versioned=False
        )
    else:
        report.collection = RepositoryResult(plan.namespace, note="not pushed: some features failed")
    return report
