"""What a publish says when the registry fails: one line per retry (what, why, when the next try
comes), one `error:` line per cause however many features it stopped, and --verbose lines that stay
whole with many requests in flight."""

from __future__ import annotations

import json
import re
import threading
from collections.abc import Callable
from pathlib import Path

import featurepub
from featurepub.publishing.events import Event, EventKind
from tests.integration.conftest import Accounts
from tests.support.proxy import ProxyRequest, ProxyResponse, RegistryProxy, Rule
from tests.support.publishing import featurepub as run_cli
from tests.support.registry import RegistryServer, free_port

RETRY_LINE = re.compile(
    r"(?P<subject>[\w-]+) \[(?P<repository>[\w/-]+)\]: retry: (?P<operation>.+) failed \((?P<reason>.+)\); "
    r"trying again in (?P<wait>\d+\.\d) s \(try (?P<attempt>\d+) of (?P<attempts>\d+)\)"
)


def small_features(root: Path, *ids: str) -> Path:
    for feature_id in ids:
        folder = root / "src" / feature_id
        folder.mkdir(parents=True)
        (folder / "devcontainer-feature.json").write_text(
            json.dumps({"id": feature_id, "version": "1.0.0", "name": feature_id})
        )
        (folder / "install.sh").write_text(f"#!/bin/sh\necho {feature_id}\n")
    return root


class Unavailable(Rule):
    """503 Service Unavailable with `Retry-After: 1` for the first `times` requests whose method and
    path match, before they reach the registry. RFC 9110 §15.6.4 and §10.2.3: a 503 may carry
    Retry-After, the seconds the client should wait before trying again."""

    def __init__(self, method: str, path: re.Pattern[str], times: int = 1) -> None:
        self.method, self.path, self.left = method, path, times
        self._lock = threading.Lock()

    def before(self, request: ProxyRequest) -> ProxyResponse | None:
        if request.method != self.method or not self.path.search(request.path):
            return None
        with self._lock:
            if self.left == 0:
                return None
            self.left -= 1
        body = json.dumps({"errors": [{"code": "UNAVAILABLE", "message": "try again later"}]}).encode()
        return ProxyResponse(503, [("Retry-After", "1"), ("Content-Type", "application/json")], body)


def test_registry_down_one_line_per_retry_and_one_error_line(tmp_path: Path, namespace: str) -> None:
    root = small_features(tmp_path, "alpha", "beta", "gamma")
    host = f"127.0.0.1:{free_port()}"  # nothing listens there
    run = run_cli("publish", root, "-r", host, "-n", namespace, "--retries", "2", "--retry-time", "30", "--json")
    assert run.code == 4, run.stderr
    lines = run.stderr.splitlines()
    retries = [m for m in map(RETRY_LINE.fullmatch, lines) if m]
    # Each feature's first request (its exact tag's HEAD, asked while the layers are packed) is tried
    # three times: two retry lines each, in order, and never asked again once it has failed.
    for feature_id in ("alpha", "beta", "gamma"):
        own = [m for m in retries if m["subject"] == feature_id]
        assert [(m["attempt"], m["attempts"]) for m in own] == [("2", "3"), ("3", "3")], run.stderr
        assert all(m["repository"] == f"{namespace}/{feature_id}" for m in own)
        assert all(m["reason"].startswith("connection failed: ") for m in own)
    # Reading the collection while the layers are packed is retried too.
    assert any(m["subject"] == "collection" and m["repository"] == namespace for m in retries)
    # Where it happened is said once, by the line's start: never again inside the reason.
    assert not [line for line in lines if "retry:" in line and host in line]
    # One error line for the three features (each one's HEAD was refused while the namespace was read, so
    # each is reported failed, whichever failed first), with its hint; no traceback.
    errors = [line for line in lines if line.startswith("error: ")]
    failed = named(lines).split(", ")
    assert sorted(failed) == ["alpha", "beta", "gamma"], run.stderr
    cause = "connection failed: [Errno 111] Connection refused"
    assert errors == [f"error: {host}: {cause} (3 features: {', '.join(failed)})"]
    assert lines[lines.index(errors[0]) + 1].startswith("hint: check that the registry is up and reachable")
    assert lines[-1].startswith(f"INCOMPLETE: 3 features to {host} ({len(failed)} failed")
    assert "Traceback" not in run.stderr
    # The report still keeps each failed feature's own error.
    features = json.loads(run.stdout)["features"]
    for feature_id in failed:
        assert features[feature_id]["repositories"][0]["error"].startswith("HEAD manifest 1.0.0 on ")


def named(lines: list[str]) -> str:
    """The features in the order their FAILED lines came (they fail in parallel)."""
    return ", ".join(line.split(" ", 1)[0] for line in lines if line.endswith(": FAILED"))


def test_a_503_with_retry_after_is_one_line_and_the_publish_goes_on(
    tmp_path: Path, make_proxy: Callable[..., RegistryProxy], namespace: str
) -> None:
    root = small_features(tmp_path, "alpha")
    manifest = Unavailable("PUT", re.compile(r"/alpha/manifests/1\.0\.0$"))
    upload = Unavailable("PUT", re.compile(r"/alpha/blobs/uploads/.*digest="))
    proxy = make_proxy(manifest, upload)
    run = run_cli("publish", root, "-r", proxy.host, "-n", namespace)
    assert run.code == 0, run.stderr
    retries = [m for m in map(RETRY_LINE.fullmatch, run.stderr.splitlines()) if m]
    assert len(retries) == 2, run.stderr
    by_operation = {m["operation"].split(" sha256:")[0]: m for m in retries}
    tag = by_operation["PUT manifest 1.0.0"]
    assert tag["reason"] == "HTTP 503 (Retry-After 1 s)"
    assert (tag["wait"], tag["attempt"]) == ("1.0", "2")
    # An upload is restarted from a new session, after the wait the registry asked for.
    blob = by_operation["upload blob"]
    assert blob["reason"] == (
        "HTTP 503 UNAVAILABLE: try again later (Retry-After 1 s); starting a new upload session"
    )
    assert (blob["wait"], blob["attempt"]) == ("1.0", "2")
    assert not [line for line in run.stderr.splitlines() if line.startswith("error:")]


def test_the_library_reports_retries_as_events(
    tmp_path: Path, make_proxy: Callable[..., RegistryProxy], namespace: str
) -> None:
    root = small_features(tmp_path, "alpha")
    proxy = make_proxy(Unavailable("PUT", re.compile(r"/alpha/manifests/1\.0$")))
    events: list[Event] = []
    report = featurepub.publish(root, registry=proxy.host, namespace=namespace, listener=events.append)
    assert report.ok
    retries = [e for e in events if e.kind is EventKind.RETRY]
    assert len(retries) == 1
    retry = retries[0].retry
    assert retry is not None
    assert (retries[0].subject, retries[0].repository) == ("alpha", f"{namespace}/alpha")
    assert (retry.operation, retry.reason, retry.attempt, retry.wait) == (
        "PUT manifest 1.0",
        "HTTP 503 (Retry-After 1 s)",
        2,
        1.0,
    )
    failed = [e for e in events if e.kind is EventKind.FAILED]
    assert failed == []


def test_the_library_reads_back_and_reports_retries_as_events(
    tmp_path: Path, make_proxy: Callable[..., RegistryProxy], namespace: str
) -> None:
    root = small_features(tmp_path, "alpha")
    assert featurepub.publish(root, registry=make_proxy().host, namespace=namespace).ok
    proxy = make_proxy(
        Unavailable("GET", re.compile(r"/alpha/manifests/1\.0\.0$")),
        Unavailable("GET", re.compile(r"/alpha/tags/list")),
    )
    events: list[Event] = []
    info = featurepub.inspect(f"{proxy.host}/{namespace}/alpha:1.0.0", listener=events.append)
    tags = featurepub.list_tags(f"{proxy.host}/{namespace}/alpha", listener=events.append)
    assert info.metadata is not None and info.metadata["id"] == "alpha"
    assert sorted(tags.tags) == ["1", "1.0", "1.0.0", "latest"]
    retries = [(e.kind, e.subject, e.repository, e.retry and e.retry.operation) for e in events]
    assert retries == [
        (EventKind.RETRY, "alpha", f"{namespace}/alpha", "GET manifest 1.0.0"),
        (EventKind.RETRY, "alpha", f"{namespace}/alpha", "list tags"),
    ]


def test_credentials_refused_everywhere_is_one_error_line(
    tmp_path: Path, plain_basic: RegistryServer, accounts: Accounts, namespace: str
) -> None:
    root = small_features(tmp_path, "alpha", "beta")
    run = run_cli(
        "publish",
        root,
        "-r",
        plain_basic.host,
        "-n",
        namespace,
        "--username",
        accounts.user,
        "--password-stdin",
        stdin="not-the-password",
    )
    assert run.code == 3, run.stderr
    lines = run.stderr.splitlines()
    errors = [line for line in lines if line.startswith("error: ")]
    assert len(errors) == 1, run.stderr
    assert errors[0].startswith(f"error: {plain_basic.host}: ")
    assert errors[0].endswith(f"(2 features: {named(lines)})")
    assert lines[lines.index(errors[0]) + 1].startswith("hint: ")
    assert "not-the-password" not in run.stderr


REQUEST_LINE = re.compile(
    r"(GET|HEAD|PUT|POST|PATCH|DELETE) http://\S+ -> (\d{3} \(HTTP/1\.1, \d+ ms\)|failed: \w+)"
)


def test_verbose_lines_stay_whole_with_many_requests_in_flight(
    tmp_path: Path, registry: RegistryServer, namespace: str
) -> None:
    # 30 features publish side by side, each request logged from the thread that sends it.
    ids = [f"f{n}" for n in range(30)]
    root = small_features(tmp_path, *ids)
    run = run_cli("publish", root, "-r", registry.host, "-n", namespace, "-v")
    assert run.code == 0, run.stderr
    lines = run.stderr.split("\n")
    assert lines.pop() == ""
    requests = [line for line in lines if REQUEST_LINE.search(line)]
    assert len(requests) >= 240  # 8 per new feature repository, and the collection's
    assert all(REQUEST_LINE.fullmatch(line) for line in requests), [
        line for line in requests if not REQUEST_LINE.fullmatch(line)
    ]
    assert "" not in lines  # a newline written apart from its line leaves an empty one
    known = re.compile(
        r"(f\d+|collection) \[[\w/-]+\]: .+|f\d+: packed sha256:\w+ \(.+\)|  .+|done: .+|"
        r"localhost:\d+: .+|" + REQUEST_LINE.pattern  # which credential source answered
    )
    assert [line for line in lines if not known.fullmatch(line)] == []
