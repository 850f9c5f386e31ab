"""Run the featurepub CLI as a subprocess and measure what the hostile-server suite asserts on:
exit code, output, wall time, and its peak RSS.

The peak is taken by a small wrapper process that starts featurepub and reads its children's
rusage: a child forked straight from pytest would count pytest's own pages in its peak."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

_KILL_AFTER = 60.0  # a hang fails the test instead of the suite
_WRAPPER = (
    "import resource, subprocess, sys\n"
    "code = subprocess.call(sys.argv[2:])\n"
    "with open(sys.argv[1], 'w') as out:\n"
    "    out.write(str(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss))\n"
    "sys.exit(code if code >= 0 else 128 - code)\n"
)


@dataclass(frozen=True)
class MeasuredRun:
    code: int
    stdout: str
    stderr: str
    seconds: float
    peak_rss_mib: float
    killed: bool

    @property
    def lines(self) -> list[str]:
        return [line for line in self.stderr.splitlines() if line.strip()]

    def error_lines(self) -> list[str]:
        """The lines that report a failure: `error: ...` (a command that failed) or `... FAILED: ...`
        (one feature or ref of a publish)."""
        return [line for line in self.lines if line.startswith("error:") or ": FAILED: " in line]


def run_measured(*args: str | Path, stdin: str | None = None, env: dict[str, str] | None = None) -> MeasuredRun:
    with tempfile.TemporaryDirectory() as scratch:
        folder = Path(scratch)
        (folder / "stdin").write_text(stdin or "")
        peak_file = folder / "peak"
        with (
            (folder / "stdin").open("rb") as given,
            (folder / "stdout").open("wb") as out,
            (folder / "stderr").open("wb") as err,
        ):
            started = time.monotonic()
            wrapper = subprocess.Popen(
                [
                    sys.executable,
                    "-c",
                    _WRAPPER,
                    str(peak_file),
                    sys.executable,
                    "-m",
                    "featurepub",
                    *map(str, args),
                ],
                stdin=given,
                stdout=out,
                stderr=err,
                env={**os.environ, "NO_COLOR": "1", **(env or {})},
                start_new_session=True,  # one process group: a hang is killed whole
            )
            try:
                code = wrapper.wait(timeout=_KILL_AFTER)
                killed = False
            except subprocess.TimeoutExpired:
                os.killpg(wrapper.pid, signal.SIGKILL)
                code = wrapper.wait()
                killed = True
            seconds = time.monotonic() - started
        peak_kib = int(peak_file.read_text()) if peak_file.exists() else 0
        return MeasuredRun(
            code,
            (folder / "stdout").read_text(encoding="utf-8", errors="replace"),
            (folder / "stderr").read_text(encoding="utf-8", errors="replace"),
            seconds,
            peak_kib / 1024,  # ru_maxrss is in KiB on Linux
            killed,
        )
