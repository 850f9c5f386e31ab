"""The library API release scripts import. Functions return results; nothing prints."""

from __future__ import annotations

import tempfile
from collections.abc import Callable, Iterable
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING

from featurepub.credentials.chain import CredentialChain, default_chain, explicit_credential
from featurepub.errors import InputError
from featurepub.features.collection import Collection, load_collection
from featurepub.publishing.events import Listener, ignore
from featurepub.publishing.execute import PublishOptions, execute
from featurepub.publishing.plan import make_plan
from featurepub.publishing.report import PublishReport
from featurepub.reference import parse_registry
from featurepub.registry.retry import RetryPolicy
from featurepub.registry.transport import TransportOptions
from featurepub.targets.base import Target

if TYPE_CHECKING:
    from featurepub.features.docs import DocsResult
    from featurepub.features.packaging import PackageResult, ValidationResult
    from featurepub.publishing.layout_push import LayoutPushReport
    from featurepub.readback import InspectResult, TagsResult


def load(path: str | Path) -> Collection:
    """Load and validate the features under `path`; raises FeatureError listing every problem."""
    return load_collection(Path(path))


def open_target(
    *,
    registry: str | None = None,
    layout: str | Path | None = None,
    insecure_hosts: Iterable[str] = (),
    credentials: CredentialChain | None = None,
    retry: RetryPolicy | None = None,
    profile: str | None = None,
    config: str | Path | None = None,
    username: str | None = None,
    password: str | None = None,
    ca_file: str | Path | None = None,
    http2: bool = False,
    log: Callable[[str], None] | None = None,
    timeout: float | None = None,
    connect_timeout: float | None = None,
) -> Target:
    """A registry (by host) or an OCI layout folder to publish to.

    For a registry, `profile` names its quirk profile (default: chosen by host) and `config`
    is a featurepub.toml or pyproject.toml whose `registries` table overrides it per host.
    `username` and `password` come first in the credential chain; `ca_file` adds CA
    certificates to the system trust store; `log` receives one redacted line per request
    and says which credential source was used.
    """
    if (registry is None) == (layout is None):
        raise InputError("give exactly one of a registry or a layout folder")
    if layout is not None:
        from featurepub.targets.layout import LayoutTarget

        return LayoutTarget(Path(layout))
    from featurepub.targets.registry import RegistryTarget

    host = parse_registry(registry or "")
    options = TransportOptions(
        insecure_hosts=frozenset(parse_registry(h) for h in insecure_hosts), ca_file=ca_file, http2=http2, log=log
    )
    if timeout is not None:
        options = replace(options, read_timeout=timeout, write_timeout=timeout)
    if connect_timeout is not None:
        options = replace(options, connect_timeout=connect_timeout)
    if username is not None or password is not None:
        if credentials is not None:
            raise InputError("give either a credential chain or a username and password, not both")
        if not username or not password:
            raise InputError(
                "a username needs a password and a password needs a username",
                hint="e.g. --username USER --password-stdin, with the password or token on stdin",
            )
        credentials = default_chain(explicit_credential(host, username, password))
    from featurepub.config import load_config, select_profile

    chosen = select_profile(host, name=profile, config=load_config(config) if config is not None else None)
    return RegistryTarget(host, credentials=credentials, transport=options, retry=retry, profile=chosen)


def publish(
    path: str | Path,
    *,
    namespace: str,
    registry: str | None = None,
    layout: str | Path | None = None,
    force: bool = False,
    dry_run: bool = False,
    keep_going: bool = False,
    insecure_hosts: Iterable[str] = (),
    credentials: CredentialChain | None = None,
    retry: RetryPolicy | None = None,
    profile: str | None = None,
    config: str | Path | None = None,
    listener: Listener = ignore,
    username: str | None = None,
    password: str | None = None,
    ca_file: str | Path | None = None,
    http2: bool = False,
    log: Callable[[str], None] | None = None,
    timeout: float | None = None,
    connect_timeout: float | None = None,
) -> PublishReport:
    """Validate, package and publish every feature under `path`; returns the report.

    Invalid input raises before anything is pushed. Registry failures are recorded
    per feature in the report (`report.ok` says whether everything is in place).
    """
    collection = load(path)
    target = open_target(
        registry=registry,
        layout=layout,
        insecure_hosts=insecure_hosts,
        credentials=credentials,
        retry=retry,
        profile=profile,
        config=config,
        username=username,
        password=password,
        ca_file=ca_file,
        http2=http2,
        log=log,
        timeout=timeout,
        connect_timeout=connect_timeout,
    )
    try:
        with tempfile.TemporaryDirectory(prefix="featurepub-") as workdir:
            plan = make_plan(
                collection, namespace, Path(workdir), registry=parse_registry(registry) if registry else None
            )
            options = PublishOptions(
                force=force, dry_run=dry_run, keep_going=keep_going, concurrency=target.concurrency
            )
            return execute(plan, target, options, listener)
    finally:
        target.close()


# --- release-script API: validate, package, plan, push a layout, read back, docs ---------------
# Each returns a result object; nothing prints. Heavy modules load on first use.


def validate(path: str | Path) -> ValidationResult:
    """Check every feature under `path`; unlike `load`, problems are returned, not raised."""
    from featurepub.features.packaging import validate_path

    return validate_path(Path(path))


def package(path: str | Path, output: str | Path) -> PackageResult:
    """Validate, then write devcontainer-feature-<id>.tgz per feature and devcontainer-collection.json."""
    from featurepub.features.packaging import package_collection

    return package_collection(load(path), Path(output))


def plan(
    path: str | Path,
    *,
    namespace: str,
    registry: str | None = None,
    layout: str | Path | None = None,
    force: bool = False,
    insecure_hosts: Iterable[str] = (),
    credentials: CredentialChain | None = None,
) -> PublishReport:
    """What `publish` would push (statuses `planned`, `unchanged`, `skipped`); reads, never writes."""
    return publish(
        path,
        namespace=namespace,
        registry=registry,
        layout=layout,
        force=force,
        dry_run=True,
        insecure_hosts=insecure_hosts,
        credentials=credentials,
    )


def push_layout(
    layout: str | Path,
    *,
    registry: str,
    namespace: str,
    refs: Iterable[str] = (),
    repository: str | None = None,
    force: bool = False,
    dry_run: bool = False,
    keep_going: bool = False,
    insecure_hosts: Iterable[str] = (),
    credentials: CredentialChain | None = None,
    listener: Listener = ignore,
) -> LayoutPushReport:
    """Push the descriptors of an OCI layout to `registry` by their ref names (all, or `refs`)."""
    from featurepub.publishing.layout_push import push_layout as run

    target = open_target(registry=registry, insecure_hosts=insecure_hosts, credentials=credentials)
    try:
        return run(
            Path(layout),
            target,
            namespace,
            refs=refs,
            repository=repository,
            force=force,
            dry_run=dry_run,
            keep_going=keep_going,
            emit=listener,
        )
    finally:
        target.close()


def inspect(
    reference: str,
    *,
    platform: str | None = None,
    insecure_hosts: Iterable[str] = (),
    credentials: CredentialChain | None = None,
) -> InspectResult:
    """Read the manifest behind `reference` (an index resolved to `platform`), its metadata and tags."""
    from featurepub.readback import inspect as run

    return run(reference, platform=platform, insecure_hosts=insecure_hosts, credentials=credentials)


def list_tags(
    reference: str,
    *,
    digests: bool = False,
    insecure_hosts: Iterable[str] = (),
    credentials: CredentialChain | None = None,
) -> TagsResult:
    """Every tag of the reference's repository, optionally with the digest each points at."""
    from featurepub.readback import list_tags as run

    return run(reference, digests=digests, insecure_hosts=insecure_hosts, credentials=credentials)


def generate_docs(path: str | Path, *, registry: str, namespace: str, check: bool = False) -> DocsResult:
    """Write each feature's README.md from its metadata and NOTES.md; `check` only compares."""
    from featurepub.features.docs import generate_docs as run

    return run(load(path), registry=parse_registry(registry), namespace=namespace, check=check)
