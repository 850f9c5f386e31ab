"""Ctrl-C (SIGINT) and SIGTERM during a command that pushes: stop cleanly, report, exit 130 or 143.

The library call runs in a worker thread while the main thread waits for it. A signal's handler
only raises in the main thread, which then cancels the run there, outside the handler (cancelling
breaks connections, which takes locks a handler must not wait for). The run returns its report
moments later and the command prints and writes it as usual, then exits 128 + the signal's number.
A second signal exits at once, without a report. The handlers are in place only during the run.
"""

from __future__ import annotations

import os
import signal
import threading
from collections.abc import Callable
from types import FrameType
from typing import Protocol, TypeVar

import typer

from featurepub.cancel import Cancellation
from featurepub.cli import progress as bars
from featurepub.cli.output import Console

T = TypeVar("T")
SIGNALS = (signal.SIGINT, signal.SIGTERM)
_WAKE_EVERY = 0.1  # seconds


class Outcome(Protocol):
    """A report a command ends with (PublishReport, LayoutPushReport)."""

    @property
    def ok(self) -> bool: ...

    @property
    def exit_code(self) -> int: ...


class _Signalled(BaseException):
    """Raised by the handler in the main thread while it waits, so that it cancels the run."""


class Interruptible:
    def __init__(self, console: Console) -> None:
        self.console = console
        self.cancel = Cancellation()
        self.signum: int | None = None
        self._waiting = False  # the handler raises only while the main thread waits for the run

    @property
    def exit_code(self) -> int | None:
        """128 + the signal's number (130 for SIGINT, 143 for SIGTERM); None when no signal came."""
        return None if self.signum is None else 128 + self.signum

    def exit(self, outcome: Outcome) -> None:
        """End the command: 128 + the signal when one came, else the report's code unless it is ok."""
        if self.exit_code is not None:
            raise typer.Exit(self.exit_code)
        if not outcome.ok:
            raise typer.Exit(outcome.exit_code)

    def run(self, work: Callable[[], T]) -> T:
        """`work()`'s result (or what it raised), with SIGINT and SIGTERM cancelling `self.cancel`."""
        if threading.current_thread() is not threading.main_thread():
            return work()  # handlers can only be set from the main thread; the caller handles signals
        outcome: list[T] = []
        raised: list[BaseException] = []
        # Not Thread.join: on Python 3.11 a join interrupted by a handler's exception marks the
        # thread stopped while it still runs (the bpo-45274 fix releases a lock the thread holds).
        done = threading.Event()

        def target() -> None:
            try:
                outcome.append(work())
            except BaseException as exc:  # handed to the main thread, which raises it
                raised.append(exc)
            finally:
                done.set()

        worker = threading.Thread(target=target, name="featurepub-run", daemon=True)
        previous = {number: signal.getsignal(number) for number in SIGNALS}
        try:
            for number in SIGNALS:
                signal.signal(number, self._handle)
            worker.start()
            while not done.is_set():
                if self.signum is not None and not self.cancel.cancelled:
                    self._stop()
                self._wait(done)
        finally:
            for number, handler in previous.items():
                signal.signal(number, handler if handler is not None else signal.SIG_DFL)
        if raised:
            raise raised[0]
        return outcome[0]

    def _wait(self, done: threading.Event) -> None:
        try:
            self._waiting = True
            if self.signum is None or self.cancel.cancelled:  # else: a signal came, cancel first
                # Woken now and then: the kernel may hand a signal to any thread, and Python runs the
                # handler in the main thread only once that thread wakes (seen with a run's many threads).
                while not done.wait(_WAKE_EVERY):
                    pass
        except _Signalled:
            pass
        finally:
            self._waiting = False

    def _handle(self, signum: int, _frame: FrameType | None) -> None:
        if self.signum is not None:
            if bars.current() is not None:  # progress bars hide the cursor while they are drawn
                os.write(2, b"\n\x1b[?25h")
            os.write(2, b"interrupted again: exiting now, without a report\n")  # no locks in a handler
            os._exit(128 + self.signum)
        self.signum = signum
        if self._waiting:
            raise _Signalled()

    def _stop(self) -> None:
        assert self.signum is not None
        name = signal.Signals(self.signum).name
        self.console.warning(
            f"{name} received: stopping the uploads and tag pushes under way, then reporting "
            "(a second Ctrl-C exits at once, without a report)"
        )
        self.cancel.cancel(name)
