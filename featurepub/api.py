"""The library API release scripts import. Functions return results; nothing prints."""

from __future__ import annotations

import sys
import tempfile
import time
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, TypedDict

if sys.version_info >= (3, 11):
    from typing import Unpack
else:  # a slow import, only for Python 3.10
    from typing_extensions import Unpack

from featurepub.cancel import Cancellation
from featurepub.credentials.chain import CredentialChain, default_chain, explicit_credential
from featurepub.errors import InputError
from featurepub.features.collection import Collection, load_collection
from featurepub.publishing.content_equality import DEFAULT_COMPARE_LIMIT
from featurepub.publishing.events import Event, EventKind, Listener, ignore, retry_events, serialized
from featurepub.publishing.plan import check_names, feature_repositories
from featurepub.publishing.report import PublishReport
from featurepub.reference import credential_scope, parse_registry, parse_registry_location
from featurepub.registry.retry import RetryPolicy
from featurepub.registry.transport import TransportOptions
from featurepub.targets.base import Target

if TYPE_CHECKING:
    from featurepub.features.docs import DocsResult
    from featurepub.features.packaging import PackageResult, ValidationResult
    from featurepub.publishing.layout_push import LayoutPushReport
    from featurepub.readback.results import InspectResult, TagsResult
    from featurepub.registry.client import RegistryClient
    from featurepub.registry.profiles import Profile
    from featurepub.targets.registry import RegistryTarget


def load(path: str | Path, *, schema_validation: bool = True) -> Collection:
    """Load and validate the features under `path`; raises FeatureError listing every problem.
    With `schema_validation=False` what only the spec's JSON schema refuses is a warning
    (`Collection.warnings`), as devcontainers/action's disable-schema-validation makes it."""
    return load_collection(Path(path), schema_validation=schema_validation)


class Connection(TypedDict, total=False):
    """How to reach a registry; every function that talks to one takes these as keywords.

    `profile` names its quirk profile (default: chosen by host) and `config` is a
    featurepub.toml or pyproject.toml whose `registries` table overrides it per host.
    `username` and `password` come first in the credential chain (or give a whole
    `credentials` chain); `ca_file` adds CA certificates to the system trust store;
    `insecure_hosts` may use plain HTTP or unverified TLS; `log` receives one redacted line
    per request and says which credential source was used. `requests_in_flight` and
    `uploads_in_flight` change how many small requests and how many blob uploads are out at once
    (default: the profile's).
    """

    insecure_hosts: Iterable[str]
    credentials: CredentialChain | None
    username: str | None
    password: str | None
    ca_file: str | Path | None
    profile: str | None
    config: str | Path | None
    retry: RetryPolicy | None
    timeout: float | None  # seconds for each request as a whole (an upload: per 1 MiB piece, then its answer)
    connect_timeout: float | None
    http2: bool
    log: Callable[[str], None] | None
    requests_in_flight: int | None
    uploads_in_flight: int | None


def _transport(host: str, connection: Connection) -> TransportOptions:
    options = TransportOptions(
        insecure_hosts=frozenset(parse_registry(h) for h in connection.get("insecure_hosts", ())),
        ca_file=connection.get("ca_file"),
        http2=connection.get("http2", False),
        log=connection.get("log"),
    )
    if (timeout := connection.get("timeout")) is not None:
        options = replace(options, read_timeout=timeout, write_timeout=timeout, request_timeout=timeout)
    if (connect_timeout := connection.get("connect_timeout")) is not None:
        options = replace(options, connect_timeout=connect_timeout)
    return options


def _interruptible(connection: Connection, cancel: Cancellation) -> Connection:
    """The connection with a retry policy whose waits end at once when `cancel` is cancelled."""
    policy = connection.get("retry") or RetryPolicy()
    sleep = policy.sleep

    def checked(seconds: float) -> None:
        cancel.check()
        sleep(seconds)
        cancel.check()

    interruptible: Connection = {**connection}
    interruptible["retry"] = replace(policy, sleep=cancel.sleep if sleep is time.sleep else checked)
    return interruptible


def _credentials(host: str, connection: Connection) -> CredentialChain | None:
    username, password = connection.get("username"), connection.get("password")
    credentials = connection.get("credentials")
    if username is None and password is None:
        return credentials
    if credentials is not None:
        raise InputError("give either a credential chain or a username and password, not both")
    if not username or not password:
        raise InputError(
            "a username needs a password and a password needs a username",
            hint="e.g. --username USER --password-stdin, with the password or token on stdin",
        )
    return default_chain(explicit_credential(host, username, password))


def open_registry(
    registry: str, *, push: bool = True, repository: str = "", **connection: Unpack[Connection]
) -> RegistryTarget:
    """A registry target by host; `push=False` asks only for pull access. Credentials are those for
    `repository` (a namespace, or a path under the host): a key naming a path under the registry
    applies there, the most specific first."""
    from featurepub.config import load_config, select_profile
    from featurepub.targets.registry import RegistryTarget

    host = parse_registry(registry)
    config = connection.get("config")
    profile = select_profile(
        host, name=connection.get("profile"), config=load_config(config) if config is not None else None
    )
    profile = _with_limits(profile, connection)
    return RegistryTarget(
        host,
        credentials=_credentials(host, connection),
        transport=_transport(host, connection),
        retry=connection.get("retry"),
        profile=profile,
        push=push,
        credential_scope=credential_scope(host, repository),
    )


def _with_limits(profile: Profile, connection: Connection) -> Profile:
    """The profile with the in-flight limits the caller gave (InputError for one under 1)."""
    for name in ("requests_in_flight", "uploads_in_flight"):
        value = connection.get(name)
        if value is None:
            continue
        if isinstance(value, bool) or not isinstance(value, int) or value < 1:
            raise InputError(f"{name} must be a whole number of at least 1, not {value!r}")
        profile = profile.with_changes(**{name: value})
    return profile


def _report_retries(target: Target, listener: Listener, subjects: dict[str, str] | None = None) -> None:
    """Each retry of a registry request reaches `listener` as a RETRY event (a layout never retries)."""
    client: RegistryClient | None = getattr(target, "client", None)
    if client is not None:
        client.on_retry = retry_events(listener, subjects or {}, client.retry.max_attempts)


def open_target(
    *,
    registry: str | None = None,
    layout: str | Path | None = None,
    repository: str = "",
    **connection: Unpack[Connection],
) -> Target:
    """A registry (by host) or an OCI layout folder to publish to; `repository` as in `open_registry`."""
    if (registry is None) == (layout is None):
        raise InputError("give exactly one of a registry or a layout folder")
    if layout is not None:
        from featurepub.targets.layout import LayoutTarget

        return LayoutTarget(Path(layout))
    return open_registry(registry or "", repository=repository, **connection)


def _select(collection: Collection, ids: Iterable[str] | None) -> Collection:
    """The features named by `ids` (all when None); InputError naming any id the collection lacks."""
    if ids is None:
        return collection
    wanted = list(dict.fromkeys(ids))
    known = {f.id: f for f in collection.features}
    unknown = [i for i in wanted if i not in known]
    if unknown or not wanted:
        raise InputError(
            f"no feature {', '.join(map(repr, unknown))} under {collection.root}"
            if unknown
            else "the list of features to publish is empty",
            hint=f"the features there: {', '.join(sorted(known)) or 'none'}",
        )
    return replace(collection, features=tuple(known[i] for i in sorted(wanted)))


def publish(
    path: str | Path,
    *,
    namespace: str,
    registry: str | None = None,
    layout: str | Path | None = None,
    force: bool = False,
    dry_run: bool = False,
    keep_going: bool = False,
    listener: Listener = ignore,
    schema_validation: bool = True,
    cancel: Cancellation | None = None,
    features: Iterable[str] | None = None,
    compare_limit: int = DEFAULT_COMPARE_LIMIT,
    **connection: Unpack[Connection],
) -> PublishReport:
    """Validate, package and publish every feature under `path` (or those `features` names); returns
    the report.

    `registry` is `host[:port]`, or `host[:port]/path` to put every repository under that path
    (credentials then come from the most specific key that names it). A single feature folder, or
    `features`, is merged into the collection that is there rather than replacing it.
    An existing version with another digest is compared by content, reading at most
    `compare_limit` bytes of its layer; the same content is `unchanged`.
    Invalid input raises before anything is pushed (or asked of the registry). Validation
    warnings go to `listener` as WARNING events. Registry failures are recorded per feature
    in the report (`report.ok` says whether everything is in place).
    `cancel.cancel()` (from another thread) stops the run within moments: requests in flight are
    broken off, nothing new starts, and the report says what was published and what was
    interrupted (`report.interrupted`); publishing again finishes the job.
    """
    cancel = cancel or Cancellation()
    if compare_limit < 0:
        raise InputError(f"the compare limit cannot be negative ({compare_limit})")
    listener = serialized(listener)  # retries and packing are reported from other threads than uploads
    collection = _select(load(path, schema_validation=schema_validation), features)
    for warning in collection.warnings:
        listener(Event(EventKind.WARNING, warning.path.parent.name, detail=str(warning)))
    host, prefix = parse_registry_location(registry) if registry else (None, "")
    namespace = check_names(collection, f"{prefix}/{namespace}" if prefix else namespace, registry=host)
    target = open_target(registry=host, layout=layout, repository=namespace, **_interruptible(connection, cancel))
    owners = {r: f for f in collection.features for r in feature_repositories(f, namespace)}
    exact_tags = [(repository, feature.version) for repository, feature in owners.items()]
    _report_retries(target, listener, {**{r: f.id for r, f in owners.items()}, namespace: "collection"})
    try:
        with (
            cancel.on_cancel(target.abort),
            tempfile.TemporaryDirectory(prefix="featurepub-") as workdir,
            ThreadPoolExecutor(max_workers=1, thread_name_prefix="read-state") as background,
        ):
            # Connections open, and the registry's answers about the namespace arrive, while the engine
            # loads and the layers are packed: a feature's first requests (its exact tag's HEAD, or its
            # blobs) need neither.
            target.open_ahead(len(exact_tags) + 3)  # a HEAD or a blob per repository, and the collection
            from featurepub.publishing.survey import read_state

            state = background.submit(read_state, target, namespace, exact_tags)
            from featurepub.publishing.execute import PublishOptions, execute
            from featurepub.publishing.plan import make_plan

            plan = make_plan(
                collection, namespace, Path(workdir), registry=host, partial=features is not None, emit=listener
            )
            options = PublishOptions(
                force=force,
                dry_run=dry_run,
                keep_going=keep_going,
                concurrency=target.requests_in_flight,
                compare_limit=compare_limit,
            )
            return execute(plan, target, options, listener, state.result(), cancel)
    finally:
        target.close()


# --- release-script API: validate, package, plan, push a layout, read back, docs ---------------
# Each returns a result object; nothing prints. Heavy modules load on first use.


def validate(path: str | Path, *, schema_validation: bool = True) -> ValidationResult:
    """Check every feature under `path`; unlike `load`, problems are returned, not raised."""
    from featurepub.features.packaging import validate_path

    return validate_path(Path(path), schema_validation=schema_validation)


def package(path: str | Path, output: str | Path, *, schema_validation: bool = True) -> PackageResult:
    """Validate, then write devcontainer-feature-<id>.tgz per feature and devcontainer-collection.json."""
    from featurepub.features.packaging import package_collection

    return package_collection(load(path, schema_validation=schema_validation), Path(output))


def plan(
    path: str | Path,
    *,
    namespace: str,
    registry: str | None = None,
    layout: str | Path | None = None,
    force: bool = False,
    schema_validation: bool = True,
    features: Iterable[str] | None = None,
    compare_limit: int = DEFAULT_COMPARE_LIMIT,
    **connection: Unpack[Connection],
) -> PublishReport:
    """What `publish` would push (statuses `planned`, `unchanged`, `skipped`); reads, never writes."""
    return publish(
        path,
        namespace=namespace,
        registry=registry,
        layout=layout,
        force=force,
        dry_run=True,
        schema_validation=schema_validation,
        features=features,
        compare_limit=compare_limit,
        **connection,
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
    listener: Listener = ignore,
    cancel: Cancellation | None = None,
    **connection: Unpack[Connection],
) -> LayoutPushReport:
    """Push the descriptors of an OCI layout to `registry` by their ref names (all, or `refs`);
    `cancel` stops it as it stops `publish`."""
    from featurepub.publishing.layout_push import push_layout as run

    cancel = cancel or Cancellation()
    listener = serialized(listener)
    target = open_registry(registry, **_interruptible(connection, cancel))
    _report_retries(target, listener)
    try:
        with cancel.on_cancel(target.abort):
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
                cancel=cancel,
            )
    finally:
        target.close()


def inspect(
    reference: str,
    *,
    platform: str | None = None,
    listener: Listener = ignore,
    **connection: Unpack[Connection],
) -> InspectResult:
    """Read the manifest behind `reference` (an index resolved to `platform`), its metadata and tags.
    Each retry of a request reaches `listener` as a RETRY event."""
    from featurepub.readback.inspection import inspect as run
    from featurepub.readback.manifests import parse_reference

    ref = parse_reference(reference)
    target = open_registry(ref.registry, push=False, repository=ref.repository, **connection)
    _report_retries(target, listener)
    try:
        return run(ref, target.client, platform=platform)
    finally:
        target.close()


def list_tags(
    reference: str, *, digests: bool = False, listener: Listener = ignore, **connection: Unpack[Connection]
) -> TagsResult:
    """Every tag of the reference's repository, optionally with the digest each points at. Each retry
    of a request reaches `listener` as a RETRY event."""
    from featurepub.readback.manifests import parse_reference
    from featurepub.readback.tags import list_tags as run

    ref = parse_reference(reference)
    target = open_registry(ref.registry, push=False, repository=ref.repository, **connection)
    _report_retries(target, listener)
    try:
        return run(ref, target.client, digests=digests)
    finally:
        target.close()


def generate_docs(
    path: str | Path,
    *,
    registry: str = "ghcr.io",
    namespace: str | None = None,
    check: bool = False,
    schema_validation: bool = True,
) -> DocsResult:
    """Write each feature's or template's README.md from its metadata and NOTES.md; `check` only compares.
    Features need the `namespace` (and `registry`) they are published to, for their usage snippet."""
    from featurepub.features.docs import generate_docs as run

    collection = load(path, schema_validation=schema_validation)
    host, prefix = parse_registry_location(registry)  # a path goes before the namespace, as in `publish`
    return run(collection, registry=host, namespace=f"{prefix}/{namespace}" if prefix else namespace, check=check)
