"""featurepub.cli.interrupt without a signal: the run's result or error, and the handlers put back.
(Signals themselves are sent to real processes in tests/integration/test_interrupt.py.)"""

from __future__ import annotations

import io
import signal
import threading

import pytest

from featurepub.cli.interrupt import Interruptible
from featurepub.cli.output import Console
from featurepub.errors import RegistryContext, RegistryError


def quiet() -> Interruptible:
    return Interruptible(Console(stream=io.StringIO()))


def test_returns_the_result_and_restores_the_handlers() -> None:
    before = (signal.getsignal(signal.SIGINT), signal.getsignal(signal.SIGTERM))
    seen: list[object] = []
    interruptible = quiet()

    def work() -> int:
        seen.append(signal.getsignal(signal.SIGINT))
        return 42

    result = interruptible.run(work)
    assert result == 42
    assert seen != [before[0]]  # another handler while the run went on
    assert (signal.getsignal(signal.SIGINT), signal.getsignal(signal.SIGTERM)) == before
    assert interruptible.exit_code is None and not interruptible.cancel.cancelled


def test_raises_what_the_run_raised() -> None:
    def broken() -> None:
        raise RegistryError("down", context=RegistryContext("r"))

    with pytest.raises(RegistryError, match="down"):
        quiet().run(broken)


def test_outside_the_main_thread_runs_without_handlers() -> None:
    results: list[int] = []
    thread = threading.Thread(target=lambda: results.append(quiet().run(lambda: 7)))
    thread.start()
    thread.join()
    assert results == [7]
