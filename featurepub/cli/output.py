"""How the CLI talks to people: one line per event on stderr, errors without tracebacks.

On a terminal, uploads show a progress bar that redraws in place and statuses are coloured;
anywhere else (CI logs, pipes, files) every line is plain text, as written here, and a bar is
never drawn. `NO_COLOR` turns colour off; `FORCE_COLOR` turns it on off a terminal.
"""

from __future__ import annotations

import os
import shutil
import sys
import time
from collections.abc import Callable
from typing import TextIO

from featurepub.errors import FeatureError, FeaturepubError
from featurepub.publishing.events import Event, EventKind
from featurepub.publishing.report import PublishReport, RepositoryResult, Status
from featurepub.redact import redact


def human_size(size: int) -> str:
    value = float(size)
    for unit in ("B", "KiB", "MiB", "GiB"):
        if value < 1024 or unit == "GiB":
            return f"{value:.0f} {unit}" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1024
    return f"{size} B"


_STYLES = {"bold": "1", "dim": "2", "red": "31", "green": "32", "yellow": "33", "cyan": "36"}


def is_terminal(stream: TextIO) -> bool:
    try:
        return stream.isatty()
    except (AttributeError, ValueError):
        return False


def wants_color(stream: TextIO) -> bool:
    """Colour only on a terminal, unless NO_COLOR (https://no-color.org) or FORCE_COLOR says otherwise."""
    if os.environ.get("NO_COLOR"):
        return False
    if os.environ.get("FORCE_COLOR"):
        return True
    return os.environ.get("TERM") != "dumb" and is_terminal(stream)


class ProgressBar:
    """One upload's bar: `label [#####.....]  42%  1.1 MiB / 2.6 MiB`, redrawn in place."""

    WIDTH = 24
    MIN_INTERVAL = 0.08  # seconds between redraws

    def __init__(self, label: str, total: int) -> None:
        self.label = label
        self.total = max(total, 0)
        self.sent = 0
        self._drawn_at = 0.0

    def advance(self, sent: int) -> None:
        self.sent = min(self.sent + sent, self.total) if self.total else self.sent + sent

    @property
    def done(self) -> bool:
        return self.total > 0 and self.sent >= self.total

    def due(self) -> bool:
        now = time.monotonic()
        if self.done or now - self._drawn_at >= self.MIN_INTERVAL:
            self._drawn_at = now
            return True
        return False

    def render(self, columns: int) -> str:
        fraction = self.sent / self.total if self.total else 0.0
        filled = int(fraction * self.WIDTH)
        bar = "#" * filled + "." * (self.WIDTH - filled)
        tail = f" [{bar}] {fraction * 100:3.0f}%  {human_size(self.sent)} / {human_size(self.total)}"
        room = max(columns - len(tail) - 1, 10)
        label = self.label if len(self.label) <= room else "..." + self.label[-(room - 3) :]
        return label + tail


class Console:
    def __init__(
        self,
        *,
        quiet: bool = False,
        verbose: bool = False,
        stream: TextIO | None = None,
        color: bool | None = None,
        progress: bool | None = None,
    ) -> None:
        self.quiet = quiet
        self.verbose = verbose
        self.stream = stream or sys.stderr
        self.color = wants_color(self.stream) if color is None else color
        # Bars only where a line can be redrawn: a terminal, never a CI log or a pipe.
        self.progress = (is_terminal(self.stream) and not quiet) if progress is None else progress
        self._bar: ProgressBar | None = None

    # --- plain output ---------------------------------------------------------------------
    def paint(self, text: str, *styles: str) -> str:
        if not self.color or not styles:
            return text
        codes = ";".join(_STYLES[s] for s in styles)
        return f"\x1b[{codes}m{text}\x1b[0m"

    def _print(self, message: str) -> None:
        self._clear_bar()
        print(redact(message), file=self.stream)  # every line passes the redactor: no secret is printed
        self._draw_bar(force=True)

    def info(self, message: str) -> None:
        if not self.quiet:
            self._print(message)

    def debug(self, message: str) -> None:
        if self.verbose and not self.quiet:
            self._print(message)

    @property
    def request_log(self) -> Callable[[str], None] | None:
        """The library's request-log hook: `debug` with --verbose, else none (no line is even built)."""
        return self.debug if self.verbose and not self.quiet else None

    def warning(self, message: str) -> None:
        self._print(f"{self.paint('warning:', 'yellow', 'bold')} {message}")

    def error(self, error: FeaturepubError) -> None:
        label = self.paint("error:", "red", "bold")
        if isinstance(error, FeatureError):
            for warning in error.warnings:
                self.warning(str(warning))
            for problem in error.problems:
                self._print(f"{label} {problem}")
            self._print(f"{label} {error.message}; nothing was published")
            return
        self._print(f"{label} {error.message}")
        if error.hint:
            self._print(f"{self.paint('hint:', 'cyan')} {error.hint}")

    # --- progress bars --------------------------------------------------------------------
    def _columns(self) -> int:
        return shutil.get_terminal_size((80, 24)).columns

    def _clear_bar(self) -> None:
        if self._bar is not None:
            self.stream.write("\r\x1b[K")

    def _draw_bar(self, *, force: bool = False) -> None:
        bar = self._bar
        if bar is not None and (bar.due() or force):
            self.stream.write("\r\x1b[K" + bar.render(self._columns()))
            self.stream.flush()

    def _start_bar(self, label: str, total: int) -> None:
        if self.progress:
            self._clear_bar()
            self._bar = ProgressBar(label, total)
            self._draw_bar(force=True)

    def _end_bar(self) -> None:
        if self._bar is not None:
            self._clear_bar()
            self.stream.flush()
            self._bar = None

    # --- events -----------------------------------------------------------------------------
    def event(self, event: Event) -> None:
        where = f"{event.subject} [{event.repository}]" if event.repository else event.subject
        if event.kind is EventKind.BLOB_UPLOAD:
            self.debug(f"{where}: uploading {event.detail[:19]} ({human_size(event.size)})")
            self._start_bar(f"{where}: {event.detail[:19]}", event.size)
        elif event.kind is EventKind.BLOB_PROGRESS:
            if self._bar is not None:
                self._bar.advance(event.size)
                self._draw_bar()
        elif event.kind is EventKind.BLOB_DONE:
            self._end_bar()
        elif event.kind is EventKind.BLOB_EXISTS:
            self.debug(f"{where}: blob {event.detail[:19]} already present")
        elif event.kind is EventKind.TAG_PUSHED:
            self.info(f"{where}: {self.paint('pushed tag', 'green')} {event.detail}")
        elif event.kind in (EventKind.UNCHANGED, EventKind.SKIPPED):
            style = "dim" if event.kind is EventKind.UNCHANGED else "yellow"
            self.info(f"{where}: {self.paint(event.kind.value, style)}: {event.detail}")
        elif event.kind is EventKind.TAG_REPAIRED:
            self.info(f"{where}: {self.paint('moved tag', 'yellow')} {event.detail} (another publish ran at once)")
        elif event.kind is EventKind.FAILED:
            self._end_bar()
            self.info(f"{where}: {self.paint('FAILED', 'red', 'bold')}: {event.detail}")
        elif event.kind is EventKind.INTERRUPTED:
            self._end_bar()
            self.info(f"{where}: {self.paint('interrupted', 'yellow')}")
        elif event.kind is EventKind.PLANNED:
            self.info(f"{where}: would push tags {event.detail}")
        elif event.kind is EventKind.WARNING:
            self.warning(event.detail)

    def verdict(self, ok: bool, interrupted: str | None) -> str:
        """The word a summary starts with: done, INCOMPLETE, or INTERRUPTED (and by what)."""
        if ok:
            return self.paint("done", "green")
        if interrupted:
            return self.paint(f"INTERRUPTED ({interrupted})", "yellow", "bold")
        return self.paint("INCOMPLETE", "red", "bold")

    def summary(self, report: PublishReport) -> None:
        """One line per repository with what happened to each tag, then the verdict."""
        for feature in report.features:
            for repository in feature.repositories:
                self.info(
                    f"  {feature.id} {feature.version} [{repository.repository}]: {_tag_account(repository)}"
                )
        if report.collection is not None:
            self.info(f"  collection [{report.collection.repository}]: {_tag_account(report.collection)}")
        counts: dict[Status, int] = {}
        for feature in report.features:
            counts[feature.status] = counts.get(feature.status, 0) + 1
        parts = [f"{n} {status.value}" for status, n in counts.items()]
        verdict = self.verdict(report.ok, report.interrupted)
        published = report.kind.count(len(report.features))
        self.info(
            f"{verdict}: {published} to {report.target} ({', '.join(parts) or 'none'}), "
            f"{human_size(report.bytes_uploaded)} uploaded"
        )
        if report.collection is not None and report.collection.note and not report.ok:
            self.info(f"collection {report.collection.repository}: {report.collection.note}")
        if report.interrupted and not report.ok:
            self.info("what is marked published is in place; publish again to finish the rest")


def _tag_account(result: RepositoryResult) -> str:
    """e.g. "published 1.2.0, 1.2, 1, latest" or "failed (published 1.2.0; failed 1.2; not-attempted 1)"."""
    groups: dict[str, list[str]] = {}
    for tag in result.tags:
        groups.setdefault(tag.status.value, []).append(tag.tag)
    detail = "; ".join(f"{status} {', '.join(tags)}" for status, tags in groups.items())
    if not detail:
        return result.status.value + (f" ({result.note})" if result.note else "")
    return detail if list(groups) == [result.status.value] else f"{result.status.value} ({detail})"
