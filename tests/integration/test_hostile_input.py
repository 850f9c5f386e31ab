"""Hostile feature folders and names (issue 11, sections 3 and 4): one clear line, a documented exit code, no
traceback, no hang, and nothing pushed to the registry, by validate, package and publish (with --dry-run too).

Each case is what a real run once did: a TypeError, a RuntimeError on a symlink loop, a RecursionError
inside the JSONC parser, JSON that validated and then crashed packaging, a layer file name too long,
a hang on a FIFO, an endless read of /dev/zero, four features pushed before a long name got an HTTP
500, blobs pushed before a long version was refused as a tag, and a layer without install.sh published."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from tests.support.proxy import RegistryProxy
from tests.support.registry import RegistryServer

HANG_LIMIT = 60  # seconds; every case answers in about one
COUNT_LINE = "found in the features"


@dataclass(frozen=True)
class Run:
    code: int
    stderr: str

    @property
    def errors(self) -> list[str]:
        return [line for line in self.stderr.splitlines() if line.startswith("error:") and COUNT_LINE not in line]

    @property
    def warnings(self) -> list[str]:
        return [line for line in self.stderr.splitlines() if line.startswith("warning:")]


def cli(*args: str | Path) -> Run:
    done = subprocess.run(
        [sys.executable, "-m", "featurepub", *map(str, args)],
        capture_output=True,
        text=True,
        timeout=HANG_LIMIT,  # a hang fails the test instead of blocking the suite
        check=False,
    )
    assert "Traceback" not in done.stderr, done.stderr
    return Run(done.returncode, done.stderr)


def repositories_under(registry: RegistryServer, namespace: str) -> list[str]:
    """Every repository the registry holds under `namespace`, read from its catalog (all pages)."""
    found: list[str] = []
    last = ""
    while True:
        response = httpx.get(
            f"{registry.url}/v2/_catalog", params={"n": 1000, "last": last} if last else {"n": 1000}
        )
        response.raise_for_status()
        names: list[str] = response.json().get("repositories") or []
        found += [n for n in names if n == namespace or n.startswith(f"{namespace}/")]
        if len(names) < 1000:
            return found
        last = names[-1]


def feature(root: Path, feature_id: str = "feat", metadata: dict[str, object] | str | None = None) -> Path:
    folder = root / "src" / feature_id
    folder.mkdir(parents=True)
    if metadata is None:
        metadata = {"id": feature_id, "version": "1.0.0", "name": "Feat"}
    text = metadata if isinstance(metadata, str) else json.dumps(metadata)
    (folder / "devcontainer-feature.json").write_text(text, encoding="utf-8")
    (folder / "install.sh").write_text("#!/bin/sh\necho hi\n", encoding="utf-8")
    (folder / "install.sh").chmod(0o755)
    return folder


def option_type_list(root: Path) -> None:
    feature(root, metadata={"id": "feat", "version": "1.0.0", "name": "F", "options": {"a": {"type": []}}})


def install_links_to_itself(root: Path) -> None:
    folder = feature(root)
    (folder / "install.sh").unlink()
    (folder / "install.sh").symlink_to("install.sh")


def metadata_in_a_symlink_loop(root: Path) -> None:
    folder = feature(root)
    (folder / "devcontainer-feature.json").unlink()
    (folder / "devcontainer-feature.json").symlink_to("other.json")
    (folder / "other.json").symlink_to("devcontainer-feature.json")


def jsonc_nested_100_deep(root: Path) -> None:
    deep = "[" * 100 + "]" * 100
    feature(
        root, metadata='// JSONC\n{"id": "feat", "version": "1.0.0", "name": "F", "customizations": ' + deep + "}"
    )


def json_nested_900_deep(root: Path) -> None:
    deep = "[" * 900 + "]" * 900
    feature(
        root, metadata='{"id": "feat", "version": "1.0.0", "name": "F", "customizations": {"x": ' + deep + "}}"
    )


def id_of_250_characters(root: Path) -> None:
    long_id = "a" * 250
    feature(root, long_id, {"id": long_id, "version": "1.0.0", "name": "F"})


def metadata_is_a_fifo(root: Path) -> None:
    path = feature(root) / "devcontainer-feature.json"
    path.unlink()
    os.mkfifo(path)


def metadata_links_to_dev_zero(root: Path) -> None:
    path = feature(root) / "devcontainer-feature.json"
    path.unlink()
    path.symlink_to("/dev/zero")


def version_of_206_characters(root: Path) -> None:
    feature(root, metadata={"id": "feat", "version": "1.0.0-" + "a" * 200, "name": "F"})


def featureignore_of_everything(root: Path) -> None:
    (feature(root) / ".featureignore").write_text("*\n", encoding="utf-8")


# name, how to build it, the fragment its one error line holds
FOLDER_CASES: list[tuple[str, Callable[[Path], None], str]] = [
    ("option type []", option_type_list, 'options.a.type: must be one of "boolean", "string"'),
    (
        "install.sh linked to itself",
        install_links_to_itself,
        "install.sh: is a symlink to 'install.sh', which leads",
    ),
    ("metadata in a symlink loop", metadata_in_a_symlink_loop, "devcontainer-feature.json: is a symlink loop"),
    ("JSONC 100 deep", jsonc_nested_100_deep, "nests objects and arrays more than 64 levels deep"),
    ("JSON 900 deep", json_nested_900_deep, "nests objects and arrays more than 64 levels deep"),
    ("id of 250 characters", id_of_250_characters, "id is 250 characters"),
    (
        "metadata is a FIFO",
        metadata_is_a_fifo,
        "devcontainer-feature.json: is a named pipe (FIFO), not a regular file",
    ),
    ("metadata links to /dev/zero", metadata_links_to_dev_zero, "is a character device, not a regular file"),
    ("version of 206 characters", version_of_206_characters, "version is 206 characters"),
    ("featureignore of *", featureignore_of_everything, "devcontainer-feature.json and install.sh are excluded"),
]


def _commands(root: Path, registry: RegistryServer, namespace: str) -> dict[str, list[str | Path]]:
    publish: list[str | Path] = ["publish", root, "--registry", registry.host, "--namespace", namespace]
    return {
        "validate": ["validate", root],
        "package": ["package", root, "-o", root.parent / "out"],
        "publish": publish,
        "publish --dry-run": [*publish, "--dry-run"],
    }


@pytest.mark.parametrize(("build", "fragment"), [c[1:] for c in FOLDER_CASES], ids=[c[0] for c in FOLDER_CASES])
def test_bad_feature_folders_get_one_line_exit_2_and_push_nothing(
    tmp_path: Path, registry: RegistryServer, namespace: str, build: Callable[[Path], None], fragment: str
) -> None:
    root = tmp_path / "collection"
    build(root)
    for command, args in _commands(root, registry, namespace).items():
        run = cli(*args)
        assert run.code == 2, (command, run.stderr)
        assert len(run.errors) == 1, (command, run.stderr)
        assert fragment in run.errors[0], (command, run.errors[0])
        assert not (root.parent / "out").exists()
    assert repositories_under(registry, namespace) == []


def test_a_symlink_loop_elsewhere_is_a_warning_and_packs_as_a_link(
    tmp_path: Path, registry: RegistryServer, namespace: str
) -> None:
    # A loop breaks no consumer (it is extracted as a link), so it does not stop publishing; it is said once.
    root = tmp_path / "collection"
    folder = feature(root)
    (folder / "self").symlink_to("self")
    (folder / "a").symlink_to("b")
    (folder / "b").symlink_to("a")
    for command in ("validate", "publish --dry-run"):
        run = cli(*_commands(root, registry, namespace)[command])
        assert run.code == 0, run.stderr
        assert [line.split(": ", 2)[1].rsplit("/", 1)[1] for line in run.warnings] == ["a", "b", "self"]
        assert all("is a symlink loop" in line for line in run.warnings)
    assert repositories_under(registry, namespace) == []


def test_config_that_is_a_fifo_is_refused_without_waiting(
    tmp_path: Path, registry: RegistryServer, namespace: str
) -> None:
    root = tmp_path / "collection"
    feature(root)
    os.mkfifo(tmp_path / "featurepub.toml")
    for dry_run in ((), ("--dry-run",)):
        run = cli(
            *_commands(root, registry, namespace)["publish"], "--config", tmp_path / "featurepub.toml", *dry_run
        )
        assert run.code == 2
        assert run.errors == [
            f"error: {tmp_path / 'featurepub.toml'}: the config file is a named pipe (FIFO), not a regular file"
        ]
    assert repositories_under(registry, namespace) == []


def test_a_namespace_too_long_for_the_registry_stops_before_the_first_push(
    tmp_path: Path, registry: RegistryServer
) -> None:
    # 241 characters: with the sample ids, 4 of 5 repositories fit in distribution's 255, the fifth got a 500
    # after the others were pushed. Counting the registry host as clients do, the namespace alone is too long.
    root = tmp_path / "collection"
    for feature_id in ("common-utils", "deprecated-tool", "hello-cli", "node-tool", "shell-prompt"):
        feature(root, feature_id, {"id": feature_id, "version": "1.0.0", "name": feature_id})
    namespace = "n" * 241
    for dry_run in ((), ("--dry-run",)):
        run = cli(*_commands(root, registry, namespace)["publish"], *dry_run)
        assert run.code == 2
        assert len(run.errors) == 1
        assert "is 241 characters; with the registry localhost:" in run.errors[0]
    # Shorter, the namespace fits but the longest feature's repository does not: that feature is named.
    room = 255 - len(registry.host) - 1  # what is left of a whole name for the repository
    shorter = "n" * (room - len("/common-utils"))
    run = cli(*_commands(root, registry, shorter)["publish"])
    assert run.code == 2
    assert [line.split("/src/")[1].split("/")[0] for line in run.errors] == ["deprecated-tool"]
    # An OCI layout has no host: distribution's limit of 255 for the repository name alone applies.
    run = cli("publish", root, "--namespace", namespace, "--layout", tmp_path / "layout")
    assert run.code == 2
    assert len(run.errors) == 1
    assert "deprecated-tool' is 257 characters; registries take repository names of at most 255" in run.errors[0]
    assert not (tmp_path / "layout").exists()
    assert repositories_under(registry, namespace) == repositories_under(registry, shorter) == []


def test_every_hostile_case_is_refused_before_the_first_request(
    tmp_path: Path, make_proxy: Callable[..., RegistryProxy], namespace: str
) -> None:
    # Not one request, not even the catalog or the collection read that publish starts while packing.
    proxy = make_proxy()
    for name, build, _ in FOLDER_CASES:
        root = tmp_path / name.replace(" ", "-").replace("/", "-")
        build(root)
        assert cli("publish", root, "--registry", proxy.host, "--namespace", namespace).code == 2
    long_names = tmp_path / "long-names"
    feature(long_names)
    assert cli("publish", long_names, "--registry", proxy.host, "--namespace", "n" * 241).code == 2
    assert proxy.requests() == []


def test_the_library_warns_through_the_listener_and_publishes(tmp_path: Path) -> None:
    from featurepub.api import publish
    from featurepub.publishing.events import Event, EventKind

    root = tmp_path / "collection"
    feature(root, metadata={"id": "feat", "version": "1.0.0", "name": "F", "installsAfter": ["azure-cli"]})
    events: list[Event] = []
    report = publish(root, namespace="ns/features", layout=tmp_path / "layout", listener=events.append)
    assert report.ok
    warnings = [e for e in events if e.kind is EventKind.WARNING]
    assert [e.subject for e in warnings] == ["feat"]
    assert "'azure-cli' is a short id (consumers read it as ghcr.io/devcontainers/features/azure-cli:1" in (
        warnings[0].detail
    )


def test_a_registry_host_too_long_for_dns_is_invalid_input(tmp_path: Path) -> None:
    # RFC 1035 2.3.4 / RFC 1123 2.1: labels of at most 63 characters, names of at most 253. Such a host
    # used to get as far as the first request, and exit 4 as if the registry were down.
    root = tmp_path / "collection"
    feature(root)
    label = "a" * 64
    too_long = ".".join(["b" * 63] * 4)  # 255 characters, every label allowed
    for host, why in [
        (f"{label}.example.com", "its label aaaaaaaa... is 64 characters, over the 63 a DNS label may have"),
        (f"{too_long}:5000", "it is 255 characters, over the 253 a DNS name may have"),
    ]:
        runs = {
            "publish --dry-run": cli("publish", root, "-r", host, "-n", "ns", "--dry-run", "--retries", "0"),
            "publish -r host/path": cli("publish", root, "-r", f"{host}/feed", "-n", "ns", "--dry-run"),
            "inspect": cli("inspect", f"{host}/ns/feat:1", "--retries", "0"),
            "tags": cli("tags", f"{host}/ns/feat", "--retries", "0"),
        }
        for command, run in runs.items():
            assert run.code == 2, (command, run.stderr)
            assert run.stderr.splitlines() == [f"error: registry {host!r} is not a valid host name: {why}"], (
                command,
                run.stderr,
            )
