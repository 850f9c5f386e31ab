"""Progress of uploads and of packing large layers: bars on a terminal, plain lines anywhere else.

Every transfer has its own bar (features upload in parallel, so several run at once), with its
bytes, rate and time left; when the terminal is narrow the time left, the rate, the bar and the
percentage go before the label is cut, and the label keeps its start (the feature's id). Bars are
drawn by rich, imported only when a first bar is drawn: runs with nothing large to show, and runs
off a terminal, never pay for it. Off a terminal (CI logs, pipes) a large transfer gets a line when it
starts, one every PLAIN_EVERY seconds while it runs, and one when it ends.

There is one terminal per process, so there is one bar display: `current()` is it while bars are
drawn, and whatever is printed then goes above the bars (cli/output.py does that).
"""

from __future__ import annotations

import atexit
import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, TextIO

if TYPE_CHECKING:
    from collections.abc import Callable

    from rich.progress import TaskID

MIB = 1024 * 1024
# Anything smaller is done before a bar could be read: an upload that takes a second on a slow
# uplink; a layer that takes a moment to pack (packing runs at hundreds of MiB/s).
UPLOAD_MIN_BYTES = MIB
PACKING_MIN_BYTES = 32 * MIB
PLAIN_EVERY = 10.0  # seconds between progress lines off a terminal
BAR_WIDTH = 24
_MIN_BAR = 10
_MIN_LABEL = 16


def human_size(size: float) -> str:
    value = float(size)
    for unit in ("B", "KiB", "MiB", "GiB"):
        if value < 1024 or unit == "GiB":
            return f"{value:.0f} {unit}" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1024
    return f"{size} B"


def duration(seconds: float) -> str:
    """`7 s`, `1:05`, `1:02:03`."""
    whole = max(int(seconds + 0.5), 0)
    if whole < 60:
        return f"{whole} s"
    minutes, secs = divmod(whole, 60)
    if minutes < 60:
        return f"{minutes}:{secs:02d}"
    hours, minutes = divmod(minutes, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}"


def _cut(text: str, room: int) -> str:
    return text if len(text) <= room else text[: max(room - 3, 1)] + "..."


def progress_line(
    label: str, done: int, total: int, speed: float | None, remaining: float | None, width: int
) -> str:
    """One bar as text, at most `width - 1` characters (the last column would wrap on some terminals):
    `big  [##########..............]   42%  5.0 MiB / 12.0 MiB  2.1 MiB/s  ETA 3 s`. On a narrow
    terminal the bar shrinks, then the time left, the rate, the label's end, the bar and the percentage
    go, in that order: the label's start (the feature's id) and the size stay."""
    fraction = min(done / total, 1.0) if total > 0 else 0.0
    figures = f"{human_size(done)} / {human_size(total)}"
    percent = f"{fraction * 100:3.0f}%"
    rate = f"{human_size(speed)}/s" if speed else ""
    eta = f"ETA {duration(remaining)}" if remaining is not None and fraction < 1 else ""
    limit = max(width - 1, 1)

    def with_bar(shown: str, rest: str, cells: int) -> str:
        filled = int(fraction * cells)
        return f"{shown}  [{'#' * filled}{'.' * (cells - filled)}]  {rest}"

    for extras in ([rate, eta], [rate], []):
        rest = "  ".join(p for p in [percent, figures, *extras] if p)
        cells = min(BAR_WIDTH, limit - len(label) - len(rest) - 6)
        if cells >= _MIN_BAR:
            return with_bar(label, rest, cells)
    rest = f"{percent}  {figures}"
    room = limit - len(rest) - 6 - _MIN_BAR
    if room >= min(len(label), _MIN_LABEL):
        return with_bar(_cut(label, room), rest, _MIN_BAR)
    for rest in (f"{percent}  {figures}", figures):
        room = limit - len(rest) - 2
        if room >= min(len(label), _MIN_LABEL):
            return f"{_cut(label, room)}  {rest}"
    return f"{_cut(label, max(limit - len(figures) - 2, 8))}  {figures}"[:limit]


class Bars:
    """The bars on the terminal: one rich Progress task per transfer, redrawn in place, gone when
    the last transfer ends."""

    def __init__(self, stream: TextIO, color: bool) -> None:
        self.stream = stream
        from rich.console import Console as RichConsole
        from rich.progress import Progress, ProgressColumn, Task
        from rich.text import Text

        console = RichConsole(
            file=stream, force_terminal=True, no_color=not color, highlight=False, markup=False, emoji=False
        )

        class Line(ProgressColumn):
            def render(self, task: Task) -> Text:
                remaining = task.time_remaining if task.speed else None
                line = progress_line(
                    task.description,
                    int(task.completed),
                    int(task.total or 0),
                    task.speed,
                    remaining,
                    console.width,
                )
                return Text(line, no_wrap=True, overflow="crop")

        self._text = Text
        self._progress = Progress(
            Line(),
            console=console,
            transient=True,
            refresh_per_second=8,
            redirect_stdout=False,
            redirect_stderr=False,
        )
        self._progress.start()

    def add(self, label: str, total: int) -> TaskID:
        return self._progress.add_task(label, total=total)

    def advance(self, task: TaskID, size: int) -> None:
        self._progress.advance(task, size)

    def reset(self, task: TaskID) -> None:
        self._progress.reset(task)

    def finish(self, task: TaskID, total: int) -> None:
        """Show the bar at its total, then take it away."""
        self._progress.update(task, completed=total)
        self._progress.refresh()
        self.drop(task)

    def drop(self, task: TaskID) -> None:
        self._progress.remove_task(task)
        self._progress.refresh()  # or the next line printed above the bars redraws this one once more

    @property
    def empty(self) -> bool:
        return not self._progress.task_ids

    def print(self, text: str) -> None:
        """A line above the bars (`text` may hold the colour codes cli/output.py paints with)."""
        self._progress.console.print(self._text.from_ansi(text), soft_wrap=True)

    def stop(self) -> None:
        self._progress.stop()


class _Shown:
    """The bars on this process's terminal, while there are any."""

    bars: Bars | None = None
    stopped_at_exit = False


_SHOWN = _Shown()


def current() -> Bars | None:
    """The bars being drawn, if any."""
    return _SHOWN.bars


def stop() -> None:
    """Take the bars off the terminal (before an error, or at the end of a run)."""
    if _SHOWN.bars is not None:
        _SHOWN.bars.stop()
        _SHOWN.bars = None


@dataclass
class _Transfer:
    where: str  # how lines name it: "big [ns/big]"
    verb: str  # "upload" or "pack" (it ends with "uploaded" or "packed")
    total: int
    started: float = field(default_factory=time.monotonic)
    done: int = 0
    said: float = field(default_factory=time.monotonic)  # when the last plain line was printed
    task: TaskID | None = None  # its bar, on a terminal


class Transfers:
    """The large transfers under way, keyed by (verb, subject, repository): each repository's blobs
    go up one at a time, so each upload's events reach its own bar however the threads interleave."""

    def __init__(self, stream: TextIO, *, bars: bool, color: bool, say: Callable[[str], None]) -> None:
        self._stream = stream
        self._bars = bars
        self._color = color
        self._say = say  # prints one line (through the console's lock and redaction)
        self._open: dict[tuple[str, str, str], _Transfer] = {}

    def start(self, verb: str, subject: str, repository: str, where: str, total: int) -> None:
        if total < (UPLOAD_MIN_BYTES if verb == "upload" else PACKING_MIN_BYTES):
            return
        transfer = _Transfer(where, verb, total)
        self._open[(verb, subject, repository)] = transfer
        if self._bars:
            if _SHOWN.bars is None:
                _SHOWN.bars = Bars(self._stream, self._color)
                if not _SHOWN.stopped_at_exit:
                    atexit.register(stop)  # whatever ends the process, the cursor comes back
                    _SHOWN.stopped_at_exit = True
            label = subject if verb == "upload" else f"{subject} (packing)"
            transfer.task = _SHOWN.bars.add(label, total)
        else:
            self._say(f"{where}: {'uploading' if verb == 'upload' else 'packing'} {human_size(total)}")

    def advance(self, verb: str, subject: str, repository: str, size: int) -> None:
        transfer = self._open.get((verb, subject, repository))
        if transfer is None:
            return
        transfer.done += size
        if transfer.task is not None and _SHOWN.bars is not None:
            _SHOWN.bars.advance(transfer.task, size)
            return
        now = time.monotonic()
        if not self._bars and now - transfer.said >= PLAIN_EVERY and transfer.done < transfer.total:
            transfer.said = now
            elapsed = now - transfer.started
            speed = transfer.done / elapsed if elapsed > 0 else 0.0
            left = f", about {duration((transfer.total - transfer.done) / speed)} left" if speed else ""
            self._say(
                f"{transfer.where}: {transfer.done * 100 // transfer.total}% of {human_size(transfer.total)} "
                f"({human_size(speed)}/s{left})"
            )

    def restart(self, subject: str, repository: str) -> None:
        """An upload starts again from its first byte (a new upload session after a failure)."""
        transfer = self._open.get(("upload", subject, repository))
        if transfer is not None:
            transfer.done = 0
            if transfer.task is not None and _SHOWN.bars is not None:
                _SHOWN.bars.reset(transfer.task)

    def finish(self, verb: str, subject: str, repository: str) -> None:
        transfer = self._open.pop((verb, subject, repository), None)
        if transfer is None:
            return
        if transfer.task is not None and _SHOWN.bars is not None:
            _SHOWN.bars.finish(transfer.task, transfer.total)
            if _SHOWN.bars.empty:
                stop()
        elapsed = time.monotonic() - transfer.started
        speed = f", {human_size(transfer.total / elapsed)}/s" if elapsed > 0 else ""
        self._say(f"{transfer.where}: {verb}ed {human_size(transfer.total)} in {elapsed:.1f} s{speed}")

    def drop(self, subject: str, repository: str) -> None:
        """A repository failed or was interrupted: its transfers end where they are."""
        for key in [k for k in self._open if k[1:] == (subject, repository)]:
            transfer = self._open.pop(key)
            if transfer.task is not None and _SHOWN.bars is not None:
                _SHOWN.bars.drop(transfer.task)
        if _SHOWN.bars is not None and _SHOWN.bars.empty:
            stop()
