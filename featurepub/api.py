"""The library API release scripts import. Functions return results; nothing prints."""

from __future__ import annotations

import tempfile
from collections.abc import Iterable
from pathlib import Path

from featurepub.credentials.chain import CredentialChain
from featurepub.errors import InputError
from featurepub.features.collection import Collection, load_collection
from featurepub.publish.events import Listener, ignore
from featurepub.publish.execute import PublishOptions, execute
from featurepub.publish.plan import make_plan
from featurepub.publish.report import PublishReport
from featurepub.reference import parse_registry
from featurepub.registry.transport import TransportOptions
from featurepub.targets.base import Target


def load(path: str | Path) -> Collection:
    """Load and validate the features under `path`; raises FeatureError listing every problem."""
    return load_collection(Path(path))


def open_target(
    *,
    registry: str | None = None,
    layout: str | Path | None = None,
    insecure_hosts: Iterable[str] = (),
    credentials: CredentialChain | None = None,
) -> Target:
    """A registry (by host) or an OCI layout folder to publish to."""
    if (registry is None) == (layout is None):
        raise InputError("give exactly one of a registry or a layout folder")
    if layout is not None:
        from featurepub.targets.layout import LayoutTarget

        return LayoutTarget(Path(layout))
    from featurepub.targets.registry import RegistryTarget

    host = parse_registry(registry or "")
    options = TransportOptions(insecure_hosts=frozenset(parse_registry(h) for h in insecure_hosts))
    return RegistryTarget(host, credentials=credentials, transport=options)


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
    listener: Listener = ignore,
) -> PublishReport:
    """Validate, package and publish every feature under `path`; returns the report.

    Invalid input raises before anything is pushed. Registry failures are recorded
    per feature in the report (`report.ok` says whether everything is in place).
    """
    collection = load(path)
    target = open_target(registry=registry, layout=layout, insecure_hosts=insecure_hosts, credentials=credentials)
    try:
        with tempfile.TemporaryDirectory(prefix="featurepub-") as workdir:
            plan = make_plan(
                collection, namespace, Path(workdir), registry=parse_registry(registry) if registry else None
            )
            options = PublishOptions(force=force, dry_run=dry_run, keep_going=keep_going)
            return execute(plan, target, options, listener)
    finally:
        target.close()
