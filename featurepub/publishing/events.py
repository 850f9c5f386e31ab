"""Progress events a publish emits; the CLI renders them, the library never prints."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from enum import Enum


class EventKind(str, Enum):
    PACKAGED = "packaged"
    BLOB_EXISTS = "blob-exists"
    BLOB_UPLOAD = "blob-upload"  # an upload starts; `size` is the blob's size
    BLOB_PROGRESS = "blob-progress"  # `size` more bytes were sent
    BLOB_DONE = "blob-done"
    TAG_PUSHED = "tag-pushed"
    TAG_REPAIRED = "tag-repaired"  # a floating tag set to the highest version (`detail`: "1 -> 1.2.0")
    UNCHANGED = "unchanged"
    SKIPPED = "skipped"
    FAILED = "failed"
    INTERRUPTED = "interrupted"  # the run was stopped while this repository was under way
    PLANNED = "planned"
    WARNING = "warning"  # a validation warning; `detail` is the whole line (file: what (why))


@dataclass(frozen=True)
class Event:
    kind: EventKind
    subject: str  # a feature id, or "collection"
    repository: str = ""
    detail: str = ""
    size: int = 0


Listener = Callable[[Event], None]


def ignore(_: Event) -> None:
    """The default listener: release scripts that want no progress get none."""
