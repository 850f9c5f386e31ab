"""Shared fixtures: a real registry per session, proxies in front of it, the sample features."""

from __future__ import annotations

import itertools
import re
import shutil
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from featurepub.redact import forget_secrets
from tests.support.proxy import RegistryProxy, Rule
from tests.support.registry import RegistryServer

ROOT = Path(__file__).resolve().parent.parent
SAMPLES = ROOT / "sample-features"
SAMPLE_NAMESPACE = "ghcr.io/featurepub/samples"
_counter = itertools.count()


@pytest.fixture(scope="session")
def registry(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RegistryServer]:
    server = RegistryServer(tmp_path_factory.mktemp("registry")).start()
    yield server
    server.stop()


@pytest.fixture
def namespace(request: pytest.FixtureRequest) -> str:
    """A repository namespace no other test uses, so one registry serves the whole session."""
    name = "".join(c if c.isalnum() else "-" for c in request.node.name.lower())
    # One separator in a row: the reference CLI cannot reference a path with "--" in it.
    name = re.sub("-+", "-", name).strip("-")[:40].strip("-")
    return f"t{next(_counter)}/{name}"


@pytest.fixture
def make_proxy(registry: RegistryServer) -> Iterator[Callable[..., RegistryProxy]]:
    started: list[RegistryProxy] = []

    def start(*rules: Rule, upload_rate: float | None = None) -> RegistryProxy:
        proxy = RegistryProxy(registry.url, rules, upload_rate=upload_rate).start()
        started.append(proxy)
        return proxy

    yield start
    for proxy in started:
        proxy.stop()


@pytest.fixture(autouse=True)
def _isolated_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # The reference CLI leaves temp folders behind; keep them in the test's own tmp.
    tmp = tmp_path / "tmp"
    tmp.mkdir()
    monkeypatch.setenv("TMPDIR", str(tmp))
    # No stray credentials or proxies from the machine running the tests.
    for name in ("DEVCONTAINERS_OCI_AUTH", "HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "http_proxy", "https_proxy"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("DOCKER_CONFIG", str(tmp_path / "docker-config"))
    monkeypatch.delenv("SOURCE_DATE_EPOCH", raising=False)
    # The rest of the credential chain: no real keyring, no containers auth.json, no GitHub token.
    for name in ("GITHUB_TOKEN", "GH_TOKEN", "REGISTRY_AUTH_FILE", "all_proxy", "FEATUREPUB_NO_KEYRING"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("PYTHON_KEYRING_BACKEND", "keyring.backends.null.Keyring")
    runtime = tmp_path / "xdg-runtime"
    runtime.mkdir()  # skopeo refuses a $XDG_RUNTIME_DIR that does not exist
    monkeypatch.setenv("XDG_RUNTIME_DIR", str(runtime))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "config-home"))


@pytest.fixture(autouse=True)
def _forget_secrets() -> Iterator[None]:
    # Secrets are remembered for the life of the process, as a run needs. A test that feeds the library
    # random tokens (a hypothesis strategy can draw "True" or "realm") would otherwise mask those words
    # in every later test's output.
    yield
    forget_secrets()


def copy_samples(destination: Path, repository_prefix: str) -> Path:
    """The sample collection, with its cross-feature references pointed at `repository_prefix`."""
    shutil.copytree(SAMPLES, destination, symlinks=True)
    for metadata in destination.glob("src/*/devcontainer-feature.json"):
        text = metadata.read_text(encoding="utf-8")
        metadata.write_text(text.replace(SAMPLE_NAMESPACE, repository_prefix), encoding="utf-8")
    return destination


@pytest.fixture
def samples(tmp_path: Path, registry: RegistryServer, namespace: str) -> Path:
    """sample-features, rewritten to depend on each other inside this test's namespace."""
    return copy_samples(tmp_path / "samples", f"{registry.host}/{namespace}")
