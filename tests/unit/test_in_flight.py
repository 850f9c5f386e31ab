"""The in-flight limits (registry/limits.py) and the lanes steps run on (publishing/lanes.py)."""

from __future__ import annotations

import threading

import pytest

from featurepub.errors import Interrupted
from featurepub.publishing.lanes import Lanes
from featurepub.registry.limits import InFlight


def test_a_lane_full_makes_the_next_request_wait_until_one_is_given_back() -> None:
    limits = InFlight(requests=2, uploads=1)
    first, second = limits.take(), limits.take()
    upload = limits.take(upload=True)  # the other lane is not affected
    taken = threading.Event()

    def third() -> None:
        limits.take()()
        taken.set()

    waiter = threading.Thread(target=third)
    waiter.start()
    assert not taken.wait(0.2)  # both request slots are out
    first()
    first()  # given back twice, counted once
    waiter.join(5)
    assert taken.is_set()
    second()
    upload()
    assert limits.peak == {False: 2, True: 1}


def test_abort_ends_every_wait_and_refuses_later_requests() -> None:
    limits = InFlight(requests=1, uploads=1)
    limits.take()
    failures: list[BaseException] = []

    def wait() -> None:
        try:
            limits.take()
        except Interrupted as exc:
            failures.append(exc)

    waiter = threading.Thread(target=wait)
    waiter.start()
    limits.abort()
    waiter.join(5)
    assert len(failures) == 1
    with pytest.raises(Interrupted):
        limits.take(upload=True)


def test_limits_below_one_are_refused() -> None:
    with pytest.raises(ValueError, match="at least 1"):
        InFlight(requests=0, uploads=1)


def test_steps_together_run_at_once_and_the_first_failure_comes_after_all_ended() -> None:
    lanes = Lanes(features=1, steps=2)
    meet = threading.Barrier(3, timeout=5)  # three steps that each wait for the other two
    ended: list[str] = []

    def step(name: str, fail: bool = False) -> str:
        meet.wait()
        if fail:
            raise ValueError(name)
        ended.append(name)
        return name

    try:
        assert lanes.together(lambda: step("a"), lambda: step("b"), lambda: step("c")) == ["a", "b", "c"]
        with pytest.raises(ValueError, match="b"):
            lanes.together(lambda: step("a"), lambda: step("b", fail=True), lambda: step("c", fail=True))
        assert sorted(ended) == ["a", "a", "b", "c"]  # "a" of the failing call still ended
    finally:
        lanes.close()
