"""Progress events a publish emits; the CLI renders them, the library never prints.

Every event names its subject (a feature or template id, or "collection") and, once there is one,
its repository. Features publish in parallel, so the events of different uploads interleave: a
listener tells them apart by (subject, repository), as each repository's blobs go up one at a time.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from enum import Enum

from featurepub.errors import FeaturepubError, RegistryContext


class EventKind(str, Enum):
    PACKING = "packing"  # a layer is being packed; `size` is the bytes of file content it holds
    PACKING_PROGRESS = "packing-progress"  # `size` more bytes were packed
    PACKAGED = "packaged"  # the layer is packed; `detail` is its digest, `size` its size
    BLOB_EXISTS = "blob-exists"
    BLOB_UPLOAD = "blob-upload"  # an upload starts; `size` is the blob's size
    BLOB_PROGRESS = "blob-progress"  # `size` more bytes were sent
    BLOB_DONE = "blob-done"
    RETRY = "retry"  # a request failed and is tried again after a wait (`retry` says what, why, when)
    TAG_PUSHED = "tag-pushed"
    TAG_REPAIRED = "tag-repaired"  # a floating tag set to the highest version (`detail`: "1 -> 1.2.0")
    UNCHANGED = "unchanged"
    SKIPPED = "skipped"
    FAILED = "failed"  # `error` is what stopped the repository
    INTERRUPTED = "interrupted"  # the run was stopped while this repository was under way
    PLANNED = "planned"
    WARNING = "warning"  # a validation warning; `detail` is the whole line (file: what (why))


@dataclass(frozen=True)
class Retry:
    """A registry request that failed and is tried again."""

    operation: str  # what was tried, e.g. "HEAD manifest 1.0.0" or "upload blob sha256:..."
    reason: str  # why it failed, e.g. "HTTP 503 (Retry-After 2 s)"
    attempt: int  # the attempt about to be made (2 for the first retry)
    attempts: int  # how many attempts the retry policy allows in all
    wait: float  # seconds until that attempt

    def __str__(self) -> str:
        return (
            f"{self.operation} failed ({self.reason}); trying again in {self.wait:.1f} s "
            f"(try {self.attempt} of {self.attempts})"
        )


@dataclass(frozen=True)
class Event:
    kind: EventKind
    subject: str  # a feature id, or "collection"
    repository: str = ""
    detail: str = ""
    size: int = 0
    retry: Retry | None = None  # RETRY events
    error: FeaturepubError | None = None  # FAILED events


Listener = Callable[[Event], None]
RetryHook = Callable[[RegistryContext, str, int, float], None]  # RegistryClient.on_retry


def ignore(_: Event) -> None:
    """The default listener: release scripts that want no progress get none."""


def serialized(listener: Listener) -> Listener:
    """`listener`, called by one thread at a time: events come from every thread a run uses, and
    listeners need not be thread-safe."""
    lock = threading.Lock()

    def call(event: Event) -> None:
        with lock:
            listener(event)

    return call


def retry_events(listener: Listener, subjects: Mapping[str, str], attempts: int) -> RetryHook:
    """A registry client's `on_retry` hook that reports each retry to `listener` as a RETRY event.
    `subjects` maps repositories to the feature (or "collection") they are pushed for; any other
    repository is named by its last component."""

    def on_retry(context: RegistryContext, reason: str, attempt: int, wait: float) -> None:
        repository = context.repository
        subject = subjects.get(repository) or repository.rsplit("/", 1)[-1] or context.registry
        retry = Retry(context.operation or f"request to {context.registry}", reason, attempt + 1, attempts, wait)
        listener(Event(EventKind.RETRY, subject, repository, str(retry), retry=retry))

    return on_retry
