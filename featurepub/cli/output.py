"""How the CLI talks to people: one line per event on stderr, errors without tracebacks.

On a terminal, large uploads and packing show progress bars (cli/progress.py) and statuses are
coloured; anywhere else (CI logs, pipes, files) every line is plain text, as written here, and
a large transfer is reported in lines. `NO_COLOR` turns colour off; `FORCE_COLOR` turns it on off
a terminal.

Requests are logged (--verbose) and retries reported from every thread a run uses, so every write
to the terminal, from every Console, takes one lock and is written whole: lines never interleave.
"""

from __future__ import annotations

import os
import sys
import threading
from collections.abc import Callable
from typing import TextIO

from featurepub.cli import progress as bars
from featurepub.cli.progress import human_size
from featurepub.errors import FeatureError, FeaturepubError, RegistryError
from featurepub.publishing.events import Event, EventKind
from featurepub.publishing.report import PublishReport, RepositoryResult, Status
from featurepub.redact import redact

__all__ = ["Console", "human_size", "is_terminal", "plural", "wants_color"]

_STYLES = {"bold": "1", "dim": "2", "red": "31", "green": "32", "yellow": "33", "cyan": "36"}
# One terminal per process: one lock for every line written to it.
_TERMINAL = threading.RLock()
# A group of failures names at most this many of the features it stopped.
_NAMED = 5


def plural(count: int, noun: str, nouns: str | None = None) -> str:
    """`1 ref`, `3 refs`; `nouns` when the plural is not `noun` + "s"."""
    return f"{count} {noun if count == 1 else nouns or noun + 's'}"


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
        # Bars only where a line can be redrawn: a terminal that moves its cursor, never a CI log or a pipe.
        redraws = is_terminal(self.stream) and os.environ.get("TERM") != "dumb"
        drawn = (redraws and not quiet) if progress is None else progress
        self._transfers = bars.Transfers(self.stream, bars=drawn, color=self.color, say=self.info)
        self._failures: list[tuple[str, FeaturepubError]] = []  # (subject, error), in the order they came

    # --- plain output ---------------------------------------------------------------------
    def paint(self, text: str, *styles: str) -> str:
        if not self.color or not styles:
            return text
        codes = ";".join(_STYLES[s] for s in styles)
        return f"\x1b[{codes}m{text}\x1b[0m"

    def _print(self, message: str) -> None:
        text = redact(message)  # every line passes the redactor: no secret is printed
        with _TERMINAL:
            shown = bars.current()
            if shown is not None and shown.stream is self.stream:
                shown.print(text)  # above the bars, which are redrawn below it
            else:
                self.stream.write(text + "\n")  # one write: a line is never split by another thread's
                self.stream.flush()

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

    def error(self, error: FeaturepubError, *, outcome: str | None = None) -> None:
        """The error in one line (a FeatureError: one per problem, then a count), and its hint.
        `outcome` says what the command did not do because of it, e.g. "nothing was published"."""
        with _TERMINAL:
            bars.stop()  # an error ends the bars: what follows is read, not redrawn
            label = self.paint("error:", "red", "bold")
            if isinstance(error, FeatureError):
                for warning in error.warnings:
                    self.warning(str(warning))
                for problem in error.problems:
                    self._print(f"{label} {problem}")
                self._print(f"{label} {error.message}" + (f"; {outcome}" if outcome else ""))
                return
            self._print(f"{label} {error.message}")
            if error.hint:
                self._print(f"{self.paint('hint:', 'cyan')} {error.hint}")

    # --- events -----------------------------------------------------------------------------
    def event(self, event: Event) -> None:
        with _TERMINAL:
            self._event(event)

    def _event(self, event: Event) -> None:
        subject, repository = event.subject, event.repository
        where = f"{subject} [{repository}]" if repository else subject
        kind = event.kind
        if kind is EventKind.PACKING:
            self._transfers.start("pack", subject, repository, subject, event.size)
        elif kind is EventKind.PACKING_PROGRESS:
            self._transfers.advance("pack", subject, repository, event.size)
        elif kind is EventKind.PACKAGED:
            self._transfers.finish("pack", subject, repository)
            self.debug(f"{subject}: packed {event.detail[:19]} ({human_size(event.size)})")
        elif kind is EventKind.BLOB_UPLOAD:
            self.debug(f"{where}: uploading {event.detail[:19]} ({human_size(event.size)})")
            self._transfers.start("upload", subject, repository, where, event.size)
        elif kind is EventKind.BLOB_PROGRESS:
            self._transfers.advance("upload", subject, repository, event.size)
        elif kind is EventKind.BLOB_DONE:
            self._transfers.finish("upload", subject, repository)
        elif kind is EventKind.BLOB_EXISTS:
            self.debug(f"{where}: blob {event.detail[:19]} already present")
        elif kind is EventKind.RETRY:
            self._transfers.restart(subject, repository)
            self.info(f"{where}: {self.paint('retry:', 'yellow')} {event.detail}")
        elif kind is EventKind.TAG_PUSHED:
            self.info(f"{where}: {self.paint('pushed tag', 'green')} {event.detail}")
        elif kind in (EventKind.UNCHANGED, EventKind.SKIPPED):
            style = "dim" if kind is EventKind.UNCHANGED else "yellow"
            self.info(f"{where}: {self.paint(kind.value, style)}: {event.detail}")
        elif kind is EventKind.TAG_REPAIRED:
            self.info(f"{where}: {self.paint('moved tag', 'yellow')} {event.detail} (another publish ran at once)")
        elif kind is EventKind.FAILED:
            self._transfers.drop(subject, repository)
            # The cause is printed once at the end, with every feature it stopped (`failures`).
            if event.error is not None:
                self._failures.append((subject, event.error))
                self.info(f"{where}: {self.paint('FAILED', 'red', 'bold')}")
            else:
                self.info(f"{where}: {self.paint('FAILED', 'red', 'bold')}: {event.detail}")
        elif kind is EventKind.INTERRUPTED:
            self._transfers.drop(subject, repository)
            self.info(f"{where}: {self.paint('interrupted', 'yellow')}")
        elif kind is EventKind.PLANNED:
            self.info(f"{where}: would push tags {event.detail}")
        elif kind is EventKind.WARNING:
            self.warning(event.detail)

    def failures(self, noun: tuple[str, str] = ("feature", "features")) -> None:
        """One `error:` line (and hint) per cause of the failures reported so far: a registry that is
        down or refuses the credentials stops every feature with the same cause, said once."""
        with _TERMINAL:
            bars.stop()
            label = self.paint("error:", "red", "bold")
            for error, subjects in _by_cause(self._failures):
                if len(subjects) == 1:
                    text = error.message
                else:
                    named = ", ".join(subjects[:_NAMED]) + (", ..." if len(subjects) > _NAMED else "")
                    text = f"{_cause(error)} ({len(subjects)} {noun[1]}: {named})"
                self._print(f"{label} {text}")
                if error.hint:
                    self._print(f"{self.paint('hint:', 'cyan')} {error.hint}")

    def verdict(self, ok: bool, interrupted: str | None) -> str:
        """The word a summary starts with: done, INCOMPLETE, or INTERRUPTED (and by what)."""
        if ok:
            return self.paint("done", "green")
        if interrupted:
            return self.paint(f"INTERRUPTED ({interrupted})", "yellow", "bold")
        return self.paint("INCOMPLETE", "red", "bold")

    def summary(self, report: PublishReport) -> None:
        """One line per repository with what happened to each tag, the causes of failures, then the verdict."""
        bars.stop()
        for feature in report.features:
            for repository in feature.repositories:
                self.info(
                    f"  {feature.id} {feature.version} [{repository.repository}]: {_tag_account(repository)}"
                )
        if report.collection is not None:
            self.info(f"  collection [{report.collection.repository}]: {_tag_account(report.collection)}")
        self.failures((report.kind.name, report.kind.plural))
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
        if report.interrupted and not report.ok:
            self.info("what is marked published is in place; publish again to finish the rest")


def _cause(error: FeaturepubError) -> str:
    """The error without the operation and repository it happened in: what repeats across features."""
    if isinstance(error, RegistryError):
        return f"{error.context.registry}: {error.reason}"
    return error.message


def _by_cause(failures: list[tuple[str, FeaturepubError]]) -> list[tuple[FeaturepubError, list[str]]]:
    """The failures grouped by cause and hint (the first error of each group stands for it), each
    with the subjects it stopped, in the order the causes first came."""
    groups: dict[tuple[str, str, str], tuple[FeaturepubError, list[str]]] = {}
    for subject, error in failures:
        key = (type(error).__name__, _cause(error), error.hint or "")
        _, subjects = groups.setdefault(key, (error, []))
        if subject not in subjects:
            subjects.append(subject)
    return list(groups.values())


def _tag_account(result: RepositoryResult) -> str:
    """e.g. "published 1.2.0, 1.2, 1, latest" or "failed (published 1.2.0; failed 1.2; not-attempted 1)"."""
    groups: dict[str, list[str]] = {}
    for tag in result.tags:
        groups.setdefault(tag.status.value, []).append(tag.tag)
    detail = "; ".join(f"{status} {', '.join(tags)}" for status, tags in groups.items())
    if not detail:
        return result.status.value + (f" ({result.note})" if result.note else "")
    return detail if list(groups) == [result.status.value] else f"{result.status.value} ({detail})"
