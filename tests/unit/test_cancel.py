"""featurepub.cancel: the flag a run checks, and the callbacks that break off its work in flight."""

from __future__ import annotations

import threading
import time

import pytest

from featurepub.cancel import Cancellation
from featurepub.errors import Interrupted


def test_check_raises_only_once_cancelled_and_the_first_reason_wins() -> None:
    cancel = Cancellation()
    cancel.check()
    assert not cancel.cancelled
    cancel.cancel("SIGTERM")
    cancel.cancel("SIGINT")
    assert cancel.cancelled and cancel.reason == "SIGTERM"
    with pytest.raises(Interrupted, match="SIGTERM") as raised:
        cancel.check()
    assert raised.value.exit_code == 130


def test_callbacks_run_once_on_cancel_and_only_inside_their_block() -> None:
    cancel = Cancellation()
    calls: list[str] = []
    with cancel.on_cancel(lambda: calls.append("outside")):
        pass
    with cancel.on_cancel(lambda: calls.append("inside")):
        cancel.cancel()
        cancel.cancel()
    assert calls == ["inside"]
    with cancel.on_cancel(lambda: calls.append("late")):  # already cancelled: runs at once
        assert calls == ["inside", "late"]


def test_sleep_ends_at_once_when_cancelled_from_another_thread() -> None:
    cancel = Cancellation()
    cancel.sleep(0.01)  # an ordinary wait while nothing asks to stop
    threading.Timer(0.05, cancel.cancel).start()
    started = time.monotonic()
    with pytest.raises(Interrupted):
        cancel.sleep(60)
    assert time.monotonic() - started < 30  # a guard: without the wake-up this waits the full minute
