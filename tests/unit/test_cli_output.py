"""featurepub.cli.output and cli.progress: lines that never interleave, bars that fit the terminal,
progress per transfer, one error line per cause, retry lines."""

from __future__ import annotations

import io
import re
import threading
import time
from pathlib import Path

import pytest

from featurepub.cli import progress
from featurepub.cli.output import Console, plural
from featurepub.cli.progress import progress_line
from featurepub.errors import AuthError, FeatureError, InputError, Problem, RegistryContext, RegistryError
from featurepub.publishing.events import Event, EventKind, retry_events

MIB = 1024 * 1024


class SlowStream(io.StringIO):
    """A stream that lets other threads run in the middle of every write, as a busy terminal does."""

    def write(self, text: str) -> int:
        time.sleep(0.0002)
        return super().write(text)


def test_lines_from_many_threads_never_interleave() -> None:
    # --verbose logs each request from the thread that sends it; print() wrote a line and its newline
    # separately, and two request lines ended up on one line.
    stream = SlowStream()
    console = Console(verbose=True, stream=stream, color=False, progress=False)

    def log_requests(n: int) -> None:
        for i in range(60):
            console.debug(f"GET /v2/t{n}/line{i} -> 200")

    threads = [threading.Thread(target=log_requests, args=(n,)) for n in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    lines = stream.getvalue().split("\n")
    assert lines.pop() == ""
    assert len(lines) == 8 * 60
    assert all(re.fullmatch(r"GET /v2/t\d/line\d+ -> 200", line) for line in lines), lines


def test_every_console_shares_one_lock() -> None:
    # Commands make more than one Console (errors, warnings): they write through the same lock.
    stream = SlowStream()
    consoles = [Console(stream=stream, color=False, progress=False) for _ in range(4)]
    threads = [
        threading.Thread(target=lambda c=c, n=n: [c.info(f"console {n} line {i}") for i in range(50)])
        for n, c in enumerate(consoles)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert all(re.fullmatch(r"console \d line \d+", line) for line in stream.getvalue().splitlines())


@pytest.mark.parametrize("width", [200, 120, 80, 60, 40, 30, 25])
def test_a_bar_fits_the_terminal_and_keeps_its_label_and_size(width: int) -> None:
    line = progress_line("common-utils-extended", 5 * MIB, 12 * MIB, 2.1 * MIB, 3.4, width)
    assert len(line) <= width - 1
    assert line.startswith("commo")  # the feature's id keeps its start
    assert "5.0 MiB / 12" in line


def test_a_narrow_terminal_shrinks_the_bar_then_drops_eta_rate_and_bar_before_the_label() -> None:
    def line(width: int, label: str = "big") -> str:
        return progress_line(label, 6 * MIB, 12 * MIB, 2 * MIB, 3.0, width)

    assert line(100) == "big  [############............]   50%  6.0 MiB / 12.0 MiB  2.0 MiB/s  ETA 3 s"
    assert line(70) == "big  [########........]   50%  6.0 MiB / 12.0 MiB  2.0 MiB/s  ETA 3 s"
    assert line(60) == "big  [#######........]   50%  6.0 MiB / 12.0 MiB  2.0 MiB/s"
    assert line(48) == "big  [#######.......]   50%  6.0 MiB / 12.0 MiB"
    assert line(40) == "big   50%  6.0 MiB / 12.0 MiB"
    assert (
        line(60, "a-feature-with-a-very-long-id") == "a-feature-with-a...  [#####.....]   50%  6.0 MiB / 12.0 MiB"
    )
    assert line(40, "a-feature-with-a-very-long-id") == "a-feature-with-a...  6.0 MiB / 12.0 MiB"
    assert line(30, "a-feature-with-a-very-long-id") == "a-feat...  6.0 MiB / 12.0 MiB"


def test_a_finished_bar_shows_no_eta() -> None:
    assert progress_line("big", 12 * MIB, 12 * MIB, 2 * MIB, 0.0, 100) == (
        "big  [########################]  100%  12.0 MiB / 12.0 MiB  2.0 MiB/s"
    )


def upload(subject: str, size: int) -> list[Event]:
    repository = f"ns/{subject}"
    return [
        Event(EventKind.BLOB_UPLOAD, subject, repository, "sha256:" + "a" * 64, size),
        Event(EventKind.BLOB_PROGRESS, subject, repository, "", size // 2),
        Event(EventKind.BLOB_PROGRESS, subject, repository, "", size - size // 2),
        Event(EventKind.BLOB_DONE, subject, repository, "sha256:" + "a" * 64, size),
    ]


def test_overlapping_uploads_are_counted_each_on_its_own(monkeypatch: pytest.MonkeyPatch) -> None:
    # Two features' events interleave: each transfer ends at its own size, not at the sum.
    seen: list[tuple[str, int, int]] = []

    class Recording:
        def __init__(self, stream: object, color: bool) -> None:
            self.stream = stream
            self.tasks: dict[int, tuple[str, int, int]] = {}

        def add(self, label: str, total: int) -> int:
            self.tasks[len(self.tasks)] = (label, 0, total)
            return len(self.tasks) - 1

        def advance(self, task: int, size: int) -> None:
            label, done, total = self.tasks[task]
            self.tasks[task] = (label, done + size, total)

        def finish(self, task: int, total: int) -> None:
            seen.append(self.tasks.pop(task))

        def drop(self, task: int) -> None:
            self.tasks.pop(task)

        @property
        def empty(self) -> bool:
            return not self.tasks

        def print(self, text: str) -> None:
            pass

        def stop(self) -> None:
            pass

    monkeypatch.setattr(progress, "Bars", Recording)
    console = Console(stream=io.StringIO(), color=False, progress=True)
    a, b = upload("big-a", 8 * MIB), upload("big-b", 12 * MIB)
    for event in [a[0], b[0], a[1], b[1], b[2], a[2], b[3], a[3]]:
        console.event(event)
    assert sorted(seen) == [("big-a", 8 * MIB, 8 * MIB), ("big-b", 12 * MIB, 12 * MIB)]
    assert progress.current() is None  # the last bar gone, the display is too


def test_plain_lines_for_large_uploads_only() -> None:
    stream = io.StringIO()
    console = Console(stream=stream, color=False, progress=False)
    for event in [*upload("big", 8 * MIB), *upload("small", 300)]:
        console.event(event)
    lines = stream.getvalue().splitlines()
    assert lines[0] == "big [ns/big]: uploading 8.0 MiB"
    assert re.fullmatch(r"big \[ns/big\]: uploaded 8\.0 MiB in \d+\.\d s(, .+/s)?", lines[1])
    assert len(lines) == 2  # a 300-byte upload is done before a line could be read


def test_packing_a_large_layer_is_reported() -> None:
    stream = io.StringIO()
    console = Console(stream=stream, color=False, progress=False)
    for event in [
        Event(EventKind.PACKING, "big", "ns/big", size=40 * MIB),
        Event(EventKind.PACKING_PROGRESS, "big", "ns/big", size=40 * MIB),
        Event(EventKind.PACKAGED, "big", "ns/big", "sha256:" + "b" * 64, 40 * MIB + 2048),
    ]:
        console.event(event)
    lines = stream.getvalue().splitlines()
    assert lines[0] == "big: packing 40.0 MiB"
    assert lines[1].startswith("big: packed 40.0 MiB in ")


def registry_error(repository: str, operation: str, reason: str, hint: str | None = None) -> RegistryError:
    return RegistryError(reason, context=RegistryContext("127.0.0.1:1", repository, operation), hint=hint)


def test_a_cause_common_to_every_feature_is_one_error_line() -> None:
    stream = io.StringIO()
    console = Console(stream=stream, color=False, progress=False)
    refused = "connection failed: [Errno 111] Connection refused"
    for subject, operation in [("a", "HEAD manifest 1.0.0"), ("b", "GET tags"), ("c", "HEAD manifest 2.0.0")]:
        error = registry_error(f"ns/{subject}", operation, refused, hint="check that the registry is up")
        console.event(Event(EventKind.FAILED, subject, f"ns/{subject}", str(error), error=error))
    denied = AuthError("denied (HTTP 403)", context=RegistryContext("127.0.0.1:1", "ns/d", "PUT manifest 1"))
    console.event(Event(EventKind.FAILED, "d", "ns/d", str(denied), error=denied))
    console.failures()
    lines = stream.getvalue().splitlines()
    assert lines[:4] == ["a [ns/a]: FAILED", "b [ns/b]: FAILED", "c [ns/c]: FAILED", "d [ns/d]: FAILED"]
    assert lines[4:] == [
        f"error: 127.0.0.1:1: {refused} (3 features: a, b, c)",
        "hint: check that the registry is up",
        "error: PUT manifest 1 on 127.0.0.1:1/ns/d: denied (HTTP 403)",  # alone: said in full
    ]


def test_the_causes_of_failures_are_printed_even_when_quiet() -> None:
    stream = io.StringIO()
    console = Console(quiet=True, stream=stream, color=False, progress=False)
    error = registry_error("ns/a", "HEAD manifest 1.0.0", "HTTP 500")
    console.event(Event(EventKind.FAILED, "a", "ns/a", str(error), error=error))
    console.failures()
    assert stream.getvalue() == "error: HEAD manifest 1.0.0 on 127.0.0.1:1/ns/a: HTTP 500\n"


def test_retries_become_one_line_each_saying_what_why_and_when() -> None:
    stream = io.StringIO()
    console = Console(stream=stream, color=False, progress=False)
    hook = retry_events(console.event, {"ns/hello": "hello-cli", "ns": "collection"}, attempts=6)
    hook(RegistryContext("ghcr.io", "ns/hello", "HEAD manifest 2.0.1"), "HTTP 503 (Retry-After 2 s)", 1, 2.0)
    hook(RegistryContext("ghcr.io", "ns", "list repositories"), "timed out (ReadTimeout)", 2, 1.25)
    hook(RegistryContext("ghcr.io", "other/x", "GET tags"), "HTTP 502 (Bad Gateway)", 1, 0.5)
    assert stream.getvalue().splitlines() == [
        "hello-cli [ns/hello]: retry: HEAD manifest 2.0.1 failed (HTTP 503 (Retry-After 2 s)); trying again in "
        "2.0 s (try 2 of 6)",
        "collection [ns]: retry: list repositories failed (timed out (ReadTimeout)); trying again in 1.2 s "
        "(try 3 of 6)",
        "x [other/x]: retry: GET tags failed (HTTP 502 (Bad Gateway)); trying again in 0.5 s (try 2 of 6)",
    ]


def test_invalid_features_end_with_what_the_command_did_not_do() -> None:
    error = FeatureError([Problem(Path("src/a/devcontainer-feature.json"), "id is missing")])
    published, validated = io.StringIO(), io.StringIO()
    Console(stream=published, color=False).error(error, outcome="nothing was published")
    Console(stream=validated, color=False).error(error)
    assert published.getvalue().splitlines()[-1] == "error: 1 problem found in the features; nothing was published"
    assert validated.getvalue().splitlines()[-1] == "error: 1 problem found in the features"


def test_an_error_with_a_hint_is_two_lines() -> None:
    stream = io.StringIO()
    Console(stream=stream, color=False).error(InputError("--namespace is required", hint="e.g. -n my-org/x"))
    assert stream.getvalue() == "error: --namespace is required\nhint: e.g. -n my-org/x\n"


def test_plurals() -> None:
    assert plural(1, "ref") == "1 ref"
    assert plural(2, "ref") == "2 refs"
    assert plural(0, "descriptor") == "0 descriptors"
    assert plural(1, "README.md file") == "1 README.md file"
