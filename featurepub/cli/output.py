"""How the CLI talks to people: one line per event on stderr, errors without tracebacks."""

from __future__ import annotations

import sys
from typing import TextIO

from featurepub.errors import FeatureError, FeaturepubError
from featurepub.publish.events import Event, EventKind
from featurepub.publish.report import PublishReport, Status


def human_size(size: int) -> str:
    value = float(size)
    for unit in ("B", "KiB", "MiB", "GiB"):
        if value < 1024 or unit == "GiB":
            return f"{value:.0f} {unit}" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1024
    return f"{size} B"


class Console:
    def __init__(self, *, quiet: bool = False, verbose: bool = False, stream: TextIO | None = None) -> None:
        self.quiet = quiet
        self.verbose = verbose
        self.stream = stream or sys.stderr

    def info(self, message: str) -> None:
        if not self.quiet:
            print(message, file=self.stream)

    def debug(self, message: str) -> None:
        if self.verbose and not self.quiet:
            print(message, file=self.stream)

    def error(self, error: FeaturepubError) -> None:
        if isinstance(error, FeatureError):
            for problem in error.problems:
                print(f"error: {problem}", file=self.stream)
            print(f"error: {error.message}; nothing was published", file=self.stream)
            return
        print(f"error: {error.message}", file=self.stream)
        if error.hint:
            print(f"hint: {error.hint}", file=self.stream)

    def event(self, event: Event) -> None:
        where = f"{event.subject} [{event.repository}]" if event.repository else event.subject
        if event.kind is EventKind.BLOB_UPLOAD:
            self.debug(f"{where}: uploading {event.detail[:19]} ({human_size(event.size)})")
        elif event.kind is EventKind.BLOB_EXISTS:
            self.debug(f"{where}: blob {event.detail[:19]} already present")
        elif event.kind is EventKind.TAG_PUSHED:
            self.info(f"{where}: pushed tag {event.detail}")
        elif event.kind in (EventKind.UNCHANGED, EventKind.SKIPPED):
            self.info(f"{where}: {event.kind.value}: {event.detail}")
        elif event.kind is EventKind.FAILED:
            self.info(f"{where}: FAILED: {event.detail}")
        elif event.kind is EventKind.PLANNED:
            self.info(f"{where}: would push tags {event.detail}")

    def summary(self, report: PublishReport) -> None:
        counts: dict[Status, int] = {}
        for feature in report.features:
            counts[feature.status] = counts.get(feature.status, 0) + 1
        parts = [f"{n} {status.value}" for status, n in counts.items()]
        verdict = "done" if report.ok else "INCOMPLETE"
        self.info(
            f"{verdict}: {len(report.features)} features to {report.target} ({', '.join(parts) or 'none'}), "
            f"{human_size(report.bytes_uploaded)} uploaded"
        )
        if report.collection is not None and report.collection.note and not report.ok:
            self.info(f"collection {report.collection.repository}: {report.collection.note}")
