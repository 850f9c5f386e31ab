"""Where a run's work happens at once: features side by side, and the independent steps of each.

Two pools of threads. Features run in one, as many at once as the target takes requests (each
feature has at least one request out while it runs, so fewer would leave the limit unused). The
steps of a feature that do not wait for each other (its config blob and its layer, its floating
tags) run in the other: those are leaves that never wait for another step, so the pool cannot
run out of threads for a step someone waits on. How many requests are out at once is the
target's business (registry/limits.py); the pools only give it enough to send.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any, TypeVar

T = TypeVar("T")
R = TypeVar("R")


class Lanes:
    def __init__(self, features: int, steps: int) -> None:
        self._features = ThreadPoolExecutor(max(1, features), thread_name_prefix="feature")
        self._steps = ThreadPoolExecutor(max(1, steps), thread_name_prefix="step")
        self._background = ThreadPoolExecutor(1, thread_name_prefix="background")

    def map_features(self, publish: Callable[[T], R], items: Iterable[T]) -> list[R]:
        """`publish` each item, features side by side; results in the items' order."""
        return list(self._features.map(publish, items))

    def together(self, *steps: Callable[[], Any]) -> list[Any]:
        """Run independent steps at once (the first on this thread) and wait for all of them; their
        results in order. When any fails, the first failure (in order) is raised once all have ended,
        so that nothing is still under way when the caller reports it."""
        if len(steps) <= 1:
            return [step() for step in steps]
        futures = [self._steps.submit(step) for step in steps[1:]]
        results: list[Any] = []
        failure: BaseException | None = None
        try:
            results.append(steps[0]())
        except BaseException as exc:
            failure = exc
        for future in futures:
            try:
                results.append(future.result())
            except BaseException as exc:
                failure = failure or exc
        if failure is not None:
            raise failure
        return results

    def background(self, work: Callable[[], None]) -> Future[None]:
        """Start `work` on its own lane, beside the features (the collection's blobs)."""
        return self._background.submit(work)

    def close(self) -> None:
        for pool in (self._features, self._steps, self._background):
            pool.shutdown(wait=True)
