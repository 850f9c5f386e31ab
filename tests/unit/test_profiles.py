"""Registry profiles: the table is consistent, hosts find their profile, failures get their fix."""

from __future__ import annotations

import pytest

from featurepub.errors import (
    AuthError,
    ConfigError,
    Diagnostic,
    InvalidReferenceError,
    RegistryContext,
    RegistryError,
)
from featurepub.registry.profiles import (
    CHUNKED,
    ECR,
    GENERIC,
    MONOLITHIC,
    OVERRIDABLE,
    PROFILES,
    STRATEGIES,
    MiB,
    check_depth,
    explain,
    format_size,
    get_profile,
    parse_size,
    problems,
    profile_for_host,
)

REQUIRED = ["ecr", "ghcr", "acr", "dockerhub", "gar", "gitlab", "harbor", "quay", "artifactory", "nexus"]


def test_every_required_registry_has_a_consistent_profile() -> None:
    assert {*REQUIRED, "gitea", "zot", "distribution", "generic"} <= set(PROFILES)
    for name, profile in PROFILES.items():
        assert profile.name == name
        assert problems(profile) == [], name
        assert set(profile.strategies) <= set(STRATEGIES)
        assert profile.allows(MONOLITHIC), f"{name}: monolithic is the upload every registry takes"


@pytest.mark.parametrize(
    ("host", "name"),
    [
        ("123456789012.dkr.ecr.eu-west-1.amazonaws.com", "ecr"),
        ("123456789012.dkr.ecr.cn-north-1.amazonaws.com.cn", "ecr"),
        ("ghcr.io", "ghcr"),
        ("myregistry.azurecr.io", "acr"),
        ("docker.io", "dockerhub"),
        ("registry-1.docker.io", "dockerhub"),
        ("europe-west1-docker.pkg.dev", "gar"),
        ("registry.gitlab.com", "gitlab"),
        ("quay.io", "quay"),
        ("acme.jfrog.io", "artifactory"),
        ("codeberg.org", "gitea"),
        ("localhost:5000", "generic"),
        ("registry.example.com", "generic"),
        ("GHCR.IO", "ghcr"),
    ],
)
def test_profile_is_chosen_by_host(host: str, name: str) -> None:
    assert profile_for_host(host).name == name


def test_profiles_by_name_and_alias() -> None:
    assert get_profile("ECR") is ECR
    assert get_profile("forgejo").name == "gitea"
    assert get_profile("default") is GENERIC
    with pytest.raises(ConfigError, match="unknown registry profile 'nope'") as caught:
        get_profile("nope")
    assert caught.value.hint is not None and "ecr" in caught.value.hint


def test_ecr_facts() -> None:
    assert ECR.chunk_min == 5 * MiB
    assert not ECR.empty_blobs
    assert ECR.repository_must_exist
    assert ECR.upload == MONOLITHIC and ECR.allows(CHUNKED)
    ghcr = get_profile("ghcr")
    assert ghcr.chunk_max == 4 * MiB and ghcr.chunk_size <= ghcr.chunk_max
    assert get_profile("acr").token_keys == ("access_token",)
    assert get_profile("dockerhub").max_depth == 2
    assert get_profile("gar").strategies == (MONOLITHIC,)


def failure(
    registry: str,
    repository: str,
    status: int,
    code: str = "",
    message: str = "",
    detail: str = "",
    cls: type[RegistryError] = RegistryError,
) -> RegistryError:
    diagnostics = [Diagnostic(code, message, detail)] if code else []
    summary = f"HTTP {status} {code}: {message}" if code else f"HTTP {status}"
    return cls(
        summary, context=RegistryContext(registry, repository, "push"), status=status, diagnostics=diagnostics
    )


@pytest.mark.parametrize(
    ("error", "expected"),
    [
        (
            failure("1.dkr.ecr.us-east-1.amazonaws.com", "ns/tool", 404, "NAME_UNKNOWN", "The repository ..."),
            "aws ecr create-repository --repository-name ns/tool",
        ),
        (
            failure(
                "1.dkr.ecr.us-east-1.amazonaws.com", "ns/tool", 400, "TAG_INVALID", "The image tag 'latest' ..."
            ),
            "immutable tags",
        ),
        (
            failure("ghcr.io", "o/f/tool", 403, "DENIED", "permission_denied: write_package", cls=AuthError),
            "packages: write",
        ),
        (
            failure(
                "registry.gitlab.com",
                "g/p/tool",
                400,
                "MANIFEST_INVALID",
                "manifest invalid",
                "unknown media type: application/vnd.devcontainers",
            ),
            "allow-list",
        ),
        (
            failure(
                "docker.io", "me/features/tool", 401, "UNAUTHORIZED", "authentication required", cls=AuthError
            ),
            "two levels (namespace/name)",
        ),
        (
            failure("myreg.azurecr.io", "ns/tool", 429, "TOOMANYREQUESTS", "too many requests"),
            "throttles requests by SKU",
        ),
    ],
)
def test_common_failures_get_the_registrys_fix(error: RegistryError, expected: str) -> None:
    assert error.hint is None
    explain(error, profile_for_host(error.context.registry))
    assert error.hint is not None and expected in error.hint
    assert expected in str(error)  # shown wherever the error is printed


def test_a_hint_already_there_is_kept() -> None:
    error = failure("1.dkr.ecr.us-east-1.amazonaws.com", "ns/tool", 401, cls=AuthError)
    error.hint = "the registry refused the credentials from DEVCONTAINERS_OCI_AUTH"
    explain(error, ECR)
    assert error.hint.startswith("the registry refused the credentials from DEVCONTAINERS_OCI_AUTH; ")
    assert "aws ecr get-login-password" in error.hint


@pytest.mark.parametrize(
    "error",
    [
        failure(
            "docker.io", "me/tool", 401, "UNAUTHORIZED", "authentication required"
        ),  # two levels: not the path
        failure("ghcr.io", "o/tool", 500, "UNKNOWN", "boom"),
        failure("registry.gitlab.com", "g/p/tool", 400, "MANIFEST_INVALID", "manifest invalid", "layers missing"),
    ],
)
def test_unrelated_failures_get_no_hint(error: RegistryError) -> None:
    explain(error, profile_for_host(error.context.registry))
    assert error.hint is None


def test_depth_rules() -> None:
    hub = get_profile("dockerhub")
    check_depth(hub, "docker.io", "me/tool")
    check_depth(GENERIC, "localhost:5000", "a/b/c/d")
    with pytest.raises(
        InvalidReferenceError, match="Docker Hub repository names have at most 2 levels, this one has 3"
    ):
        check_depth(hub, "docker.io", "me/features/tool")


def test_problems_name_the_rule() -> None:
    found = problems(ECR.with_changes(upload=CHUNKED, chunk_size=1 * MiB))
    assert found == [
        ("chunk_size", "1 MiB is below the minimum of 5 MiB: AWS ECR refuses chunks under 5 MiB except the last")
    ]
    found = problems(get_profile("gar").with_changes(upload=CHUNKED))
    assert found == [("upload", "Google Artifact Registry does not take chunked uploads (it takes monolithic)")]
    assert problems(GENERIC.with_changes(chunk_max=1 * MiB))[0][0] == "chunk_size"
    assert problems(GENERIC.with_changes(uploads_in_flight=0)) == [("uploads_in_flight", "must be at least 1")]


def test_profile_json_has_every_field() -> None:
    data = ECR.to_json()
    assert set(OVERRIDABLE) | {"name", "title", "hosts"} == set(data)
    assert data["chunk_min"] == 5 * MiB
    assert {"when": {"codes": ["NAME_UNKNOWN"]}, "hint": ECR.hints[0].hint} == data["hints"][0]


@pytest.mark.parametrize(
    ("text", "size"),
    [("5MiB", 5 * MiB), ("512 KiB", 512 * 1024), ("1GiB", 1024 * MiB), ("10MB", 10_000_000), ("4096", 4096)],
)
def test_sizes(text: str, size: int) -> None:
    assert parse_size(text) == size


@pytest.mark.parametrize("text", ["", "5 MiBs", "-1", "1.5MiB", "lots"])
def test_bad_sizes(text: str) -> None:
    with pytest.raises(ValueError, match="expected a size"):
        parse_size(text)


def test_format_size() -> None:
    assert format_size(5 * MiB) == "5 MiB"
    assert format_size(0) == "0 B"
    assert format_size(1536) == "1536 B"
    assert format_size(3 * MiB + 1) == "3.0 MiB"
