"""The action's inputs (INPUT_* variables, as action.yml passes them) and the work they ask for.

Every input of devcontainers/action is read with its name, default and meaning there: nothing is
published unless `publish-features` or `publish-templates` is 'true'; an empty base path is the
current folder; an empty registry is ghcr.io; an empty namespace is <owner>/<repo>. Registry and
namespace are lowercased, as the reference CLI lowercases every reference it publishes to.

Where featurepub goes further: features and templates may be published by one step when their
collections land in different places (the reference refuses the combination outright), and
generate-docs may cover both kinds.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

GITHUB_REGISTRY = "ghcr.io"
FEATURE = "feature"
TEMPLATE = "template"
_METADATA = {FEATURE: "devcontainer-feature.json", TEMPLATE: "devcontainer-template.json"}


class InputsError(ValueError):
    """The inputs contradict each other or are malformed: nothing is done (exit code 2)."""


@dataclass(frozen=True)
class Inputs:
    publish_features: bool
    base_path_to_features: str  # "" when not given
    oci_registry: str
    features_namespace: str
    publish_templates: bool
    base_path_to_templates: str
    oci_registry_for_templates: str
    templates_namespace: str
    generate_docs: bool
    validate_only: bool
    disable_repo_tagging: bool
    disable_schema_validation: bool
    devcontainer_cli_version: str
    profile: str
    dry_run: bool
    keep_going: bool
    token: str  # the github-token input, or the workflow's GITHUB_TOKEN when that input is the default
    repository: str  # GITHUB_REPOSITORY: owner/repo

    @classmethod
    def from_env(cls, env: Mapping[str, str]) -> Inputs:
        def text(name: str) -> str:
            return env.get(f"INPUT_{name}", "").strip()

        def flag(name: str) -> bool:
            value = text(name).lower()
            if value not in ("", "true", "false"):
                raise InputsError(
                    f"input {name.lower().replace('_', '-')} must be 'true' or 'false', not {value!r}"
                )
            return value == "true"

        return cls(
            publish_features=flag("PUBLISH_FEATURES"),
            base_path_to_features=text("BASE_PATH_TO_FEATURES"),
            oci_registry=text("OCI_REGISTRY"),
            features_namespace=text("FEATURES_NAMESPACE"),
            publish_templates=flag("PUBLISH_TEMPLATES"),
            base_path_to_templates=text("BASE_PATH_TO_TEMPLATES"),
            oci_registry_for_templates=text("OCI_REGISTRY_FOR_TEMPLATES"),
            templates_namespace=text("TEMPLATES_NAMESPACE"),
            generate_docs=flag("GENERATE_DOCS"),
            validate_only=flag("VALIDATE_ONLY"),
            disable_repo_tagging=flag("DISABLE_REPO_TAGGING"),
            disable_schema_validation=flag("DISABLE_SCHEMA_VALIDATION"),
            devcontainer_cli_version=text("DEVCONTAINER_CLI_VERSION"),
            profile=text("PROFILE"),
            dry_run=flag("DRY_RUN"),
            keep_going=flag("KEEP_GOING"),
            token=_token(env),
            repository=env.get("GITHUB_REPOSITORY", "").strip(),
        )


def _token(env: Mapping[str, str]) -> str:
    """The token for ghcr.io. The reference reads GITHUB_TOKEN from the environment (the official
    workflows set it on the step); an explicit github-token input wins over it, the input's default
    (the job's token, which action.yml also passes as FEATUREPUB_JOB_TOKEN) does not."""
    given = env.get("INPUT_GITHUB_TOKEN", "").strip()
    from_env = env.get("GITHUB_TOKEN", "").strip()
    if from_env and (not given or given == env.get("FEATUREPUB_JOB_TOKEN", "").strip()):
        return from_env
    return given


@dataclass(frozen=True)
class Job:
    """One collection to validate, publish or document."""

    kind: str  # FEATURE, TEMPLATE, or "" for whatever the folder holds
    path: str
    registry: str
    namespace: str

    @property
    def label(self) -> str:
        return {FEATURE: "features", TEMPLATE: "templates"}.get(self.kind, "collection")

    @property
    def location(self) -> str:
        return f"{self.registry}/{self.namespace}"


@dataclass(frozen=True)
class Plan:
    validate: list[Job]  # checked first; a problem stops everything
    publish: list[Job]
    docs: list[Job]  # after publishing, as the reference does
    notices: list[str]


def plan(inputs: Inputs) -> Plan:
    """What the inputs ask for, or InputsError when they cannot all be done."""
    publishing = inputs.publish_features or inputs.publish_templates
    if inputs.validate_only and publishing:
        which = "publish-features" if inputs.publish_features else "publish-templates"
        raise InputsError(
            f"validate-only and {which} are mutually exclusive: validate-only publishes nothing "
            "(as with devcontainers/action); run them as two steps, or drop one"
        )
    notices: list[str] = []
    if inputs.devcontainer_cli_version:
        notices.append(
            f"devcontainer-cli-version {inputs.devcontainer_cli_version!r} is ignored: featurepub publishes "
            "without the devcontainer CLI"
        )
    features = _job(inputs, FEATURE, notices)
    templates = _job(inputs, TEMPLATE, notices)
    publish = [
        job for job, on in ((features, inputs.publish_features), (templates, inputs.publish_templates)) if on
    ]
    for job in publish:
        if not job.namespace:
            raise InputsError(
                f"{_NAMESPACE_INPUT[job.kind]} is empty and GITHUB_REPOSITORY is not set: say where the "
                f"{job.label} go (owner/name)"
            )
    if len(publish) == 2:
        _check_apart(features, templates)
    given = [
        job
        for job, path in ((features, inputs.base_path_to_features), (templates, inputs.base_path_to_templates))
        if path
    ]
    whole_folder = Job("", ".", features.registry, features.namespace)
    validate = publish or ((given or [whole_folder]) if inputs.validate_only else [])
    docs: list[Job] = []
    if inputs.generate_docs:
        docs = [job for job in (features, templates) if job in publish or job in given] or [whole_folder]
    return Plan(validate, publish, docs, notices)


_NAMESPACE_INPUT = {FEATURE: "features-namespace", TEMPLATE: "templates-namespace"}


def _job(inputs: Inputs, kind: str, notices: list[str]) -> Job:
    if kind == FEATURE:
        path, registry, namespace = inputs.base_path_to_features, inputs.oci_registry, inputs.features_namespace
        names = ("oci-registry", "features-namespace")
    else:
        path, registry = inputs.base_path_to_templates, inputs.oci_registry_for_templates
        namespace, names = inputs.templates_namespace, ("oci-registry-for-templates", "templates-namespace")
    for name, value in zip(names, (registry, namespace), strict=True):
        if value != value.lower():
            notices.append(f"{name} {value!r} is used as {value.lower()!r}: OCI names are lowercase")
    return Job(kind, path or ".", (registry or GITHUB_REGISTRY).lower(), (namespace or inputs.repository).lower())


def _check_apart(features: Job, templates: Job) -> None:
    """Features and templates each write a collection at <namespace>:latest, so they need different
    namespaces (the spec asks for that anyway); one nested in the other must not land on an id."""
    if features.location == templates.location:
        raise InputsError(
            f"publish-features and publish-templates would both publish to {features.location}: each writes "
            f"its collection to {features.location}:latest and would overwrite the other's; set "
            f"templates-namespace (e.g. {features.namespace}-templates) or features-namespace so they differ"
        )
    for outer, inner in ((features, templates), (templates, features)):
        prefix = f"{outer.location}/"
        if inner.location.startswith(prefix):
            first = inner.location[len(prefix) :].split("/", 1)[0]
            if first in item_ids(Path(outer.path), outer.kind):
                raise InputsError(
                    f"the {inner.label}' collection {inner.location}:latest would overwrite the "
                    f"{outer.label[:-1]} {first!r} published at {outer.location}/{first}: choose another "
                    f"namespace for the {inner.label}"
                )


def item_ids(path: Path, kind: str) -> set[str]:
    """The ids of the folders under `path` (or its src/) that hold `kind`'s metadata file."""
    metadata = _METADATA[kind]
    roots = [path / "src", path] if (path / "src").is_dir() else [path]
    return {
        child.name for root in roots if root.is_dir() for child in root.iterdir() if (child / metadata).is_file()
    }
