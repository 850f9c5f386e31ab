"""The hostile-server suite (issue 11): whatever a registry answers, `publish`, `inspect`, `tags`
and `push-layout` end with one clear line and a documented exit code, never a traceback, a hang
or unbounded memory; and the registry's credentials never reach another host.

The misbehaving server (tests/support/hostile.py) stands in front of the real registry and
forwards everything but the endpoint under test. Every run is the CLI in a subprocess, measured
(tests/support/hostile_cli.py): exit code, output, wall time, the child's peak RSS.
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
import secrets
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

import featurepub
from featurepub.registry.retry import RetryPolicy
from tests.integration.conftest import write_feature
from tests.support import hostile as h
from tests.support.hostile import HostileServer
from tests.support.hostile_cli import MeasuredRun, run_measured
from tests.support.registry import RegistryServer

USER = "alice"
SECRET = "pw-" + secrets.token_urlsafe(16)
COMMANDS = ["publish", "inspect", "tags", "push-layout"]
RSS_LIMIT_MIB = 100
HUGE = 600 * h.MiB


@pytest.fixture
def hostile(registry: RegistryServer) -> Iterator[HostileServer]:
    with HostileServer(registry.url) as server:
        yield server


@pytest.fixture
def published(registry: RegistryServer, namespace: str, tmp_path: Path) -> str:
    """`<namespace>/tool` with 1.0.0, 1.0, 1 and latest, pushed straight to the registry."""
    report = featurepub.publish(write_feature(tmp_path / "published"), registry=registry.host, namespace=namespace)
    assert report.ok
    return f"{namespace}/tool"


def arguments(command: str, host: str, namespace: str, tmp_path: Path) -> list[str]:
    """The command line of `command` against `host`: inspect and tags read `<namespace>/tool`,
    publish and push-layout write the sample feature (from a folder, or from a layout of it)."""
    if command == "inspect":
        return ["inspect", f"{host}/{namespace}/tool:1.0.0"]
    if command == "tags":
        return ["tags", f"{host}/{namespace}/tool"]
    source = tmp_path / "source"
    if not source.exists():
        write_feature(source)
    if command == "publish":
        return ["publish", str(source), "-r", host, "-n", f"{namespace}/new", "--report", str(tmp_path / "r.json")]
    layout = tmp_path / "layout"
    if not layout.exists():
        featurepub.publish(source, namespace=f"{namespace}/new", layout=layout)
    return ["push-layout", str(layout), "-r", host, "-n", f"{namespace}/new"]


@dataclass
class Stage:
    """A hostile server in front of the registry, `<namespace>/tool` published behind it, and a
    folder for what the commands write."""

    hostile: HostileServer
    namespace: str
    tmp_path: Path

    def misbehave(self, where: str, behaviour: h.Behaviour, *, times: int | None = None) -> None:
        """`where` is "METHOD /path-fragment" ("* /v2/" for every method)."""
        method, fragment = where.split()
        self.hostile.on(None if method == "*" else method, fragment, behaviour, times=times)

    def run(self, command: str, *extra: str) -> MeasuredRun:
        return run_measured(*arguments(command, self.hostile.host, self.namespace, self.tmp_path), *extra)


@pytest.fixture
def stage(hostile: HostileServer, namespace: str, published: str, tmp_path: Path) -> Stage:
    return Stage(hostile, namespace, tmp_path)


def assert_one_clear_line(run: MeasuredRun, code: int, *fragments: str) -> str:
    """Exit `code`, no traceback, and exactly one line saying what failed, containing `fragments`."""
    assert not run.killed, f"still running after {run.seconds:.0f} s:\n{run.stderr}"
    assert "Traceback" not in run.stderr + run.stdout, run.stderr
    assert run.code == code, run.stderr
    failures = run.error_lines()
    assert len(failures) == 1, run.stderr
    for fragment in fragments:
        assert fragment in failures[0], run.stderr
    return failures[0]


def secret_forms() -> list[str]:
    pair = base64.b64encode(f"{USER}:{SECRET}".encode()).decode()
    return [SECRET, pair, base64.b64encode(SECRET.encode()).decode().rstrip("=")]


# --- 1. credentials stay with the registry's host --------------------------------------------------


@pytest.mark.parametrize("command", COMMANDS)
def test_a_redirect_to_a_host_with_its_own_challenge_gets_no_credentials(
    command: str, registry: RegistryServer, namespace: str, published: str, tmp_path: Path
) -> None:
    # Server A takes Basic credentials and redirects every authorised request to B; B asks for a
    # Bearer token from a realm of its own and records every header it is sent.
    with HostileServer() as storage, HostileServer(registry.url, basic=(USER, SECRET)) as front:
        realm = h.TokenRealm()
        storage.on(None, "/evil-token", realm.behaviour())
        storage.on(None, "/", h.challenge(f'Bearer realm="{storage.url}/evil-token",service="evil"'))
        front.on(None, "/v2/", h.redirect(h.same_path_on(storage)))
        run = run_measured(
            *arguments(command, front.host, namespace, tmp_path),
            "--username",
            USER,
            "--password-stdin",
            stdin=SECRET,
        )
    assert_one_clear_line(run, 4, f"127.0.0.1:{storage.port}", "asks for credentials")
    assert front.authorizations(), "the registry itself was given the credentials"
    assert storage.requests(), "the redirect was followed"
    assert storage.authorizations() == []
    assert realm.seen == []
    everything_b_saw = json.dumps([s.headers for s in storage.seen] + realm.seen)
    for form in secret_forms():
        assert form not in everything_b_saw
        assert form not in run.stderr + run.stdout


# --- 2. no traceback, whatever the registry answers ------------------------------------------------


@pytest.mark.parametrize("command", COMMANDS)
def test_redirect_loop(command: str, stage: Stage) -> None:
    stage.misbehave("* /v2/", h.redirect(lambda exchange: exchange.path))
    assert_one_clear_line(stage.run(command), 4, stage.hostile.host, "redirect loop")


@pytest.mark.parametrize(
    ("command", "where", "operation"),
    [
        ("inspect", "GET /manifests/1.0.0", "GET manifest 1.0.0"),
        ("tags", "GET /tags/list", "list tags"),
        ("publish", "PUT /manifests/1.0.0", "PUT manifest 1.0.0"),
        ("push-layout", "PUT /manifests/1.0.0", "PUT manifest 1.0.0"),
    ],
)
def test_body_that_claims_gzip(command: str, where: str, operation: str, stage: Stage) -> None:
    stage.misbehave(where, h.claims_gzip(b'{"tags": ["1.0.0"]}', status=201 if "PUT" in where else 200))
    assert_one_clear_line(stage.run(command), 4, stage.hostile.host, operation, "does not decode")
    if command == "publish":
        report = json.loads((stage.tmp_path / "r.json").read_text())
        assert report["ok"] is False  # written although the registry failed mid-run


@pytest.mark.parametrize(
    ("command", "where", "behaviour"),
    [
        ("inspect", "GET /manifests/", h.redirect("http://[::1")),
        ("tags", "GET /tags/list", h.challenge('Bearer realm="http://[::1",service="x"')),
        ("publish", "POST /blobs/uploads/", h.answer(202, headers=[("Location", "http://[::1")])),
        ("push-layout", "HEAD /manifests/", h.redirect("http://[::1")),
    ],
)
def test_invalid_url_in_location_or_realm(command: str, where: str, behaviour: h.Behaviour, stage: Stage) -> None:
    stage.misbehave(where, behaviour)
    assert_one_clear_line(stage.run(command), 4, stage.hostile.host, "invalid")


@pytest.mark.parametrize("command", ["inspect", "tags"])
def test_host_label_over_63_characters(command: str, stage: Stage) -> None:
    # https, so the plain-HTTP policy lets it through to the name lookup, which must refuse it
    # before anything leaves the machine (IDNA allows 63 characters per label).
    far = f"https://{'a' * 64}.example/v2/x"
    stage.misbehave("GET /manifests/" if command == "inspect" else "GET /tags/list", h.redirect(far))
    assert_one_clear_line(stage.run(command), 4, stage.hostile.host, "not a valid host name")


# 100,000 deep is ~200 KB: over the 64 KiB a token or error body may have, so those are refused
# (or cut) for their size first; 30,000 deep (~60 KB) reaches the parser.
UNDER_64_KIB = 30_000
TOKEN_CHALLENGE = h.challenge('Bearer realm="/token",service="s"')


@pytest.mark.parametrize(
    ("command", "where", "behaviour", "token_depth", "shown"),
    [
        ("inspect", "GET /manifests/1.0.0", h.answer(200, h.deep_json()), 0, "nested too deeply"),
        ("tags", "GET /tags/list", h.answer(200, h.deep_json(key="tags")), 0, "nested too deeply"),
        ("tags", "GET /tags/list", h.answer(400, h.deep_json(key="errors")), 0, "HTTP 400"),
        ("tags", "GET /tags/list", h.answer(400, h.deep_json(UNDER_64_KIB, key="errors")), 0, "HTTP 400"),
        ("inspect", "GET /manifests/", TOKEN_CHALLENGE, 100_000, "over the 64 KiB"),
        ("inspect", "GET /manifests/", TOKEN_CHALLENGE, UNDER_64_KIB, "nested too deeply"),
        ("push-layout", "PUT /manifests/1.0.0", h.answer(400, h.deep_json(key="errors")), 0, "HTTP 400"),
        # The catalog only saves requests: one that cannot be read means "probe every repository".
        ("publish", "GET /_catalog", h.answer(200, h.deep_json(key="repositories")), 0, ""),
    ],
)
def test_json_nested_deep(
    command: str, where: str, behaviour: h.Behaviour, token_depth: int, shown: str, stage: Stage
) -> None:
    stage.misbehave(where, behaviour)
    if token_depth:
        stage.misbehave("GET /token", h.answer(200, h.deep_json(token_depth, key="token")))
    run = stage.run(command)
    if not shown:
        assert run.code == 0, run.stderr
        assert "Traceback" not in run.stderr
    else:
        assert_one_clear_line(run, 4, stage.hostile.host, shown)


def manifest_with(**fields: object) -> bytes:
    layer = {"mediaType": "application/vnd.devcontainers.layer.v1+tar", "digest": "sha256:" + "a" * 64, "size": 5}
    body: dict[str, object] = {
        "schemaVersion": 2,
        "mediaType": "application/vnd.oci.image.manifest.v1+json",
        "config": {"mediaType": "application/vnd.devcontainers", "digest": "sha256:" + "b" * 64, "size": 2},
        "layers": [layer],
    }
    body.update(fields)
    return json.dumps(body).replace('"SIZE"', "1e999").encode()


@pytest.mark.parametrize(
    ("body", "problem"),
    [
        (manifest_with(annotations=["a", "b"]), "annotations is list"),
        (manifest_with(annotations="dev.containers.metadata"), "annotations is str"),
        (manifest_with(layers=3), "layers is a JSON number"),
        (
            manifest_with(mediaType="application/vnd.oci.image.index.v1+json", manifests=7),
            "manifests is a JSON number",
        ),
        (manifest_with(layers=[{"digest": "sha256:" + "a" * 64, "size": "SIZE"}]), "size inf"),
        (manifest_with(layers=[{"digest": "sha256:../../etc/passwd", "size": 1}]), "not a valid digest"),
    ],
)
def test_malformed_manifest_in_inspect(body: bytes, problem: str, stage: Stage) -> None:
    oci = [("Content-Type", "application/vnd.oci.image.manifest.v1+json")]
    stage.misbehave("GET /manifests/1.0.0", h.answer(200, body, oci))
    assert_one_clear_line(stage.run("inspect"), 4, stage.hostile.host, "read manifest 1.0.0", problem)


def test_tags_only_lists_names_a_tag_can_have(stage: Stage) -> None:
    listed = {"tags": ["²", "1.0.0", 7, None, "x" * 200, "1"]}
    stage.misbehave("GET /tags/list", h.answer(200, json.dumps(listed).encode()))
    run = stage.run("tags", "--json")
    assert run.code == 0, run.stderr
    assert json.loads(run.stdout) == {"publishedTags": ["1.0.0", "1"]}


def test_publish_ignores_a_tag_no_registry_may_hold(stage: Stage) -> None:
    # The repository exists (so its tags are read to place the floating tags); one of them is "²".
    source = write_feature(stage.tmp_path / "next")
    metadata = source / "src" / "tool" / "devcontainer-feature.json"
    metadata.write_text(metadata.read_text().replace("1.0.0", "1.1.0"))
    stage.misbehave("GET /tags/list", h.answer(200, json.dumps({"tags": ["1.0.0", "²"]}).encode()))
    run = run_measured("publish", source, "-r", stage.hostile.host, "-n", stage.namespace)
    assert run.code == 0, run.stderr
    assert "Traceback" not in run.stderr


@pytest.mark.parametrize("command", ["inspect", "publish"])
def test_odd_retry_after_is_an_ordinary_retry(command: str, stage: Stage) -> None:
    where = "GET /manifests/1.0.0" if command == "inspect" else "PUT /blobs/uploads/"
    stage.misbehave(where, h.answer(503, b"busy", [("Retry-After", "²")]), times=2)
    run = stage.run(command)
    assert run.code == 0, run.stderr
    assert "Traceback" not in run.stderr


# --- 5. bounded memory and time ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("command", "where", "behaviour", "code"),
    [
        ("inspect", "GET /manifests/1.0.0", h.stream(HUGE), 4),
        ("inspect", "GET /manifests/1.0.0", h.stream(HUGE, length=False), 4),
        ("inspect", "GET /manifests/1.0.0", h.gzip_bomb(256 * h.MiB), 4),
        ("tags", "GET /tags/list", h.stream(HUGE), 4),
        ("tags", "GET /tags/list", h.stream(HUGE, status=500), 4),
        (
            "inspect",
            "GET /manifests/",
            h.stream(HUGE, status=401, headers=[("WWW-Authenticate", 'Bearer realm="/token"')]),
            4,
        ),
        ("push-layout", "PUT /manifests/", h.stream(HUGE, status=400), 4),
        ("publish", "GET /_catalog", h.stream(HUGE), 0),
    ],
)
def test_huge_bodies_keep_memory_bounded(
    command: str, where: str, behaviour: h.Behaviour, code: int, stage: Stage
) -> None:
    stage.misbehave(where, behaviour)
    stage.misbehave("GET /token", h.stream(HUGE))
    run = stage.run(command, "--retries", "0")
    assert run.peak_rss_mib < RSS_LIMIT_MIB, f"peak RSS {run.peak_rss_mib:.0f} MiB"
    if code == 0:
        assert run.code == 0 and "Traceback" not in run.stderr, run.stderr
    else:
        assert_one_clear_line(run, code, stage.hostile.host)


def test_a_huge_layer_read_for_its_metadata_stays_out_of_memory(stage: Stage) -> None:
    # A manifest without the metadata annotation makes inspect read devcontainer-feature.json out of
    # the layer: 600 MiB of it, without a length, go to a spooled file until the 64 MiB bound.
    stage.misbehave("GET /manifests/1.0.0", h.answer(200, manifest_with()))
    stage.misbehave("GET /blobs/", h.stream(HUGE, length=False))
    run = stage.run("inspect", "--retries", "0")
    assert run.peak_rss_mib < RSS_LIMIT_MIB, f"peak RSS {run.peak_rss_mib:.0f} MiB"
    assert_one_clear_line(run, 4, stage.hostile.host, "GET blob", "over the 64 MiB")


@pytest.mark.parametrize(
    ("command", "where", "in_headers"),
    [
        ("inspect", "GET /manifests/1.0.0", False),
        ("tags", "GET /tags/list", True),
        ("publish", "PUT /manifests/1.0.0", False),
        ("push-layout", "PUT /blobs/uploads/", True),
    ],
)
def test_slow_drip_is_stopped_by_the_timeout(command: str, where: str, in_headers: bool, stage: Stage) -> None:
    # One byte every 2 s: each read well within a 3 s timeout, the whole answer ~5.5 hours.
    stage.misbehave(where, h.drip(2.0, in_headers=in_headers))
    run = stage.run(command, "--timeout", "3", "--retries", "0")
    assert_one_clear_line(run, 4, stage.hostile.host, "timed out", "longer than 3 s")
    assert run.seconds < 15, f"took {run.seconds:.1f} s"
    if command == "publish":
        assert json.loads((stage.tmp_path / "r.json").read_text())["ok"] is False


def test_an_upload_slower_than_the_timeout_in_all_still_completes(
    hostile: HostileServer, namespace: str, tmp_path: Path
) -> None:
    # --timeout bounds each 1 MiB of an upload's body and then its answer, not the whole upload:
    # 24 MiB taken at 6 MiB/s is 4 s of upload under --timeout 2.
    source = write_feature(tmp_path / "src")
    (source / "src" / "tool" / "data.bin").write_bytes(os.urandom(24 * h.MiB))
    hostile.on("PUT", "/blobs/uploads/", h.read_slowly(6 * h.MiB))
    run = run_measured("publish", source, "-r", hostile.host, "-n", namespace, "--timeout", "2", "--retries", "0")
    assert run.code == 0, run.stderr
    assert run.seconds > 4, "the upload was not slowed down: the case proves nothing"


def test_a_blob_upload_retry_honours_retry_after(hostile: HostileServer, namespace: str, tmp_path: Path) -> None:
    # RFC 9110 10.2.3: 503 with Retry-After in seconds. upload_with_recovery used to back off on its own.
    waits: list[float] = []
    hostile.on("PUT", "/blobs/uploads/", h.answer(503, b"", [("Retry-After", "7")]), times=1)
    report = featurepub.publish(
        write_feature(tmp_path / "src"),
        registry=hostile.host,
        namespace=namespace,
        retry=RetryPolicy(sleep=waits.append),
    )
    assert report.ok
    assert waits == [7.0]


def test_tags_of_a_repository_that_does_not_exist_exits_1(registry: RegistryServer, namespace: str) -> None:
    run = run_measured("tags", f"{registry.host}/{namespace}/never-published")
    assert_one_clear_line(run, 1, f"{namespace}/never-published", "no such repository")
    assert run.stdout == ""


def _rewrite_manifest(layout: Path, change: dict[str, object], size_literal: str | None = None) -> None:
    """Replace the layout's first manifest with a changed copy, its blob and descriptor kept consistent."""
    index = json.loads((layout / "index.json").read_text())
    entry = dict(index["manifests"][0])
    old = layout / "blobs" / "sha256" / entry["digest"].split(":")[1]
    body = json.loads(old.read_bytes())
    body.update(change)
    data = json.dumps(body).encode()
    if size_literal is not None:
        data = data.replace(b'"SIZE"', size_literal.encode())
    digest = hashlib.sha256(data).hexdigest()
    (layout / "blobs" / "sha256" / digest).write_bytes(data)
    for item in index["manifests"]:
        if item["digest"] == entry["digest"]:  # every tag of that manifest; the collection's stays
            item.update({"digest": f"sha256:{digest}", "size": len(data)})
    (layout / "index.json").write_text(json.dumps(index))


@pytest.mark.parametrize(
    ("change", "size_literal", "problem"),
    [
        ({"annotations": ["a"]}, None, "annotations is list"),
        ({"annotations": "dev.containers.metadata"}, None, "annotations is str"),
        ({"layers": 3}, None, "layers is a JSON number"),
        ({"layers": [{"digest": "sha256:" + "a" * 64, "size": "SIZE"}]}, "1e999", "size inf"),
        ({"layers": [{"digest": "sha256:../../../../etc/passwd", "size": 1}]}, None, "not a valid digest"),
    ],
)
def test_push_layout_refuses_a_malformed_layout_before_pushing(
    change: dict[str, object],
    size_literal: str | None,
    problem: str,
    registry: RegistryServer,
    namespace: str,
    tmp_path: Path,
) -> None:
    layout = tmp_path / "layout"
    featurepub.publish(write_feature(tmp_path / "src"), namespace=namespace, layout=layout)
    _rewrite_manifest(layout, change, size_literal)
    run = run_measured("push-layout", layout, "-r", registry.host, "-n", namespace)
    assert_one_clear_line(run, 2, problem)
    assert run_measured("tags", f"{registry.host}/{namespace}/tool").code == 1  # nothing was pushed


def test_push_layout_refuses_an_index_naming_a_path_outside_blobs(
    registry: RegistryServer, namespace: str, tmp_path: Path
) -> None:
    layout = tmp_path / "layout"
    featurepub.publish(write_feature(tmp_path / "src"), namespace=namespace, layout=layout)
    index = json.loads((layout / "index.json").read_text())
    index["manifests"][0]["digest"] = "sha256:../../../../etc/passwd"
    (layout / "index.json").write_text(json.dumps(index))
    run = run_measured("push-layout", layout, "-r", registry.host, "-n", namespace)
    assert_one_clear_line(run, 2, "index.json", "not a valid digest")
