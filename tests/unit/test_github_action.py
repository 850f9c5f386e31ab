"""The GitHub Action's own logic: what the inputs ask for, where a field's line is, how failures read."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from featurepub.cli.action.findings import Cause, failure_causes
from featurepub.cli.action.inputs import FEATURE, TEMPLATE, Inputs, InputsError, Job, plan
from featurepub.cli.action.jsonc_lines import line_of, problem_line

DOCUMENT = """{
    // a comment with "version": inside
    "id": "tool",
    "version": "1.0.0",
    "options": {
        "flavour": {
            "type": "string",
            "default": "plain", /* trailing comma next */
        },
    },
    "dependsOn": {
        "ghcr.io/org/features/base:1": {"mode": "x"}
    },
    "installsAfter": [
        "ghcr.io/org/features/a",
        "ghcr.io/org/features/b"
    ],
    "name": "first",
    "name": "second"
}
"""


@pytest.mark.parametrize(
    ("field", "line"),
    [
        ("id", 3),
        ("version", 4),
        ("options", 5),
        ("options.flavour", 6),
        ("options.flavour.default", 8),
        ("dependsOn.ghcr.io/org/features/base:1", 12),  # a key with dots in it
        ("dependsOn.ghcr.io/org/features/base:1.mode", 12),
        ("installsAfter[1]", 16),
        ("name", 19),  # a repeated key: the last one counts, as when parsing
        ("options.flavour.enum", 6),  # missing: its object
        ("publisher", 1),  # missing at the top: the document
        ("installsAfter[9]", 14),
    ],
)
def test_line_of_a_field(field: str, line: int) -> None:
    assert line_of(DOCUMENT, field) == line


def test_line_of_a_field_in_a_file_that_does_not_parse(tmp_path: Path) -> None:
    assert line_of('{"id": "x",\n "version": }', "version") is None
    bad = tmp_path / "devcontainer-feature.json"
    bad.write_text('{\n  "id": "x"\n  "version": "1.0.0"\n}\n')
    try:
        json.loads(bad.read_text())
    except ValueError as exc:
        message = f"is not valid JSON: {exc}"
    assert problem_line(bad, "", message) == 3  # where the parser stopped
    assert problem_line(tmp_path / "install.sh", "version", "missing") is None
    assert problem_line(bad, "", "an id is required") is None


def inputs(**values: str) -> Inputs:
    env = {f"INPUT_{k.upper()}": v for k, v in values.items()}
    return Inputs.from_env({"GITHUB_REPOSITORY": "Octo-Org/My-Repo", **env})


def test_the_reference_defaults_publish_nothing() -> None:
    work = plan(inputs())
    assert (work.validate, work.publish, work.docs) == ([], [], [])


def test_publishing_features_with_the_reference_defaults() -> None:
    work = plan(inputs(publish_features="true"))
    expected = Job(FEATURE, ".", "ghcr.io", "octo-org/my-repo")
    assert work.publish == work.validate == [expected]
    assert work.docs == []


def test_validate_only_refuses_publishing_as_the_reference_does() -> None:
    for publish in ("publish_features", "publish_templates"):
        with pytest.raises(InputsError, match="mutually exclusive"):
            plan(inputs(validate_only="true", **{publish: "true"}))
    work = plan(inputs(validate_only="true", base_path_to_templates="./src"))
    assert work.validate == [Job(TEMPLATE, "./src", "ghcr.io", "octo-org/my-repo")]
    assert plan(inputs(validate_only="true")).validate == [Job("", ".", "ghcr.io", "octo-org/my-repo")]


def test_features_and_templates_together_need_apart_collections(tmp_path: Path) -> None:
    with pytest.raises(InputsError, match=re.escape("would both publish to ghcr.io/octo-org/my-repo")):
        plan(inputs(publish_features="true", publish_templates="true"))
    # The same place reached through a registry path is the same place.
    with pytest.raises(InputsError, match=re.escape("would both publish to r.example/feed/o/r")):
        plan(
            inputs(
                publish_features="true",
                oci_registry="r.example/feed",
                features_namespace="o/r",
                publish_templates="true",
                oci_registry_for_templates="r.example",
                templates_namespace="feed/o/r",
            )
        )
    apart = plan(inputs(publish_features="true", publish_templates="true", templates_namespace="octo-org/tpl"))
    assert [job.kind for job in apart.publish] == [FEATURE, TEMPLATE]
    # Templates nested under the features' namespace must not land on a feature's repository.
    feature = tmp_path / "src" / "templates"
    feature.mkdir(parents=True)
    (feature / "devcontainer-feature.json").write_text("{}")
    nested = inputs(
        publish_features="true",
        base_path_to_features=str(tmp_path),
        publish_templates="true",
        templates_namespace="octo-org/my-repo/templates",
    )
    with pytest.raises(InputsError, match="would overwrite the feature 'templates'"):
        plan(nested)


def test_docs_follow_what_is_published_or_named() -> None:
    assert [j.kind for j in plan(inputs(generate_docs="true", base_path_to_features="./src")).docs] == [FEATURE]
    assert [j.kind for j in plan(inputs(generate_docs="true", publish_templates="true")).docs] == [TEMPLATE]
    both = plan(inputs(generate_docs="true", base_path_to_features="f", base_path_to_templates="t"))
    assert [(j.kind, j.path) for j in both.docs] == [(FEATURE, "f"), (TEMPLATE, "t")]
    assert [j.path for j in plan(inputs(generate_docs="true")).docs] == ["."]


def test_names_are_lowercased_as_the_reference_cli_does() -> None:
    work = plan(inputs(publish_features="true", oci_registry="GHCR.io", features_namespace="My-Org/Features"))
    assert work.publish == [Job(FEATURE, ".", "ghcr.io", "my-org/features")]
    assert len(work.notices) == 2 and "'My-Org/Features' is used as 'my-org/features'" in work.notices[1]


def test_a_missing_namespace_is_an_input_error() -> None:
    with pytest.raises(InputsError, match="features-namespace is empty and GITHUB_REPOSITORY is not set"):
        plan(Inputs.from_env({"INPUT_PUBLISH_FEATURES": "true"}))


def test_credential_failures_say_what_fixes_them_in_ci() -> None:
    missing = Cause("HTTP 401 (Unauthorized)", "no credentials found: run featurepub login ghcr.io, ...", 3, ["a"])
    text = missing.message("ghcr.io")
    assert text.startswith("ghcr.io refused this run's push: HTTP 401 (Unauthorized) (a); no credentials")
    assert "`permissions: packages: write`" in text and "docker/login-action" in text
    assert "featurepub login" not in text
    refused = Cause("HTTP 401", "the registry refused the credentials from DEVCONTAINERS_OCI_AUTH", 3)
    assert "refused the credentials from DEVCONTAINERS_OCI_AUTH. In CI: log in to r.example" in refused.message(
        "r.example"
    )
    ecr = Cause(
        "HTTP 401", "the registry refused the credentials from x; ECR ... | featurepub login --username AWS", 3
    )
    assert "featurepub login" not in ecr.message("1.dkr.ecr.eu-west-1.amazonaws.com")
    denied = Cause("HTTP 403 (Forbidden)", "ghcr.io refused the push: give `permissions: packages: write`; x", 3)
    assert denied.message("ghcr.io").count("packages: write") == 1
    assert denied.message("ghcr.io").startswith("ghcr.io refused this run's push: HTTP 403 (Forbidden). In CI: ")
    registry = Cause("HTTP 500 (Internal Server Error)", "the registry failed", 4, ["a", "b"])
    assert (
        registry.message("r.example") == "r.example: HTTP 500 (Internal Server Error) (a, b) (the registry failed)"
    )


def test_failures_are_grouped_by_cause() -> None:
    def failed(cause: str, code: int = 3) -> dict[str, object]:
        return {"status": "failed", "error": f"op on r/x: {cause}", "cause": cause, "exitCode": code}

    report = {
        "kind": "feature",
        "features": {
            "a": {"repositories": [failed("HTTP 401"), {"status": "not-attempted"}]},
            "b": {"repositories": [failed("HTTP 401")]},
            "c": {"repositories": [failed("HTTP 500", 4)]},
            "d": {"repositories": [{"status": "published"}]},
        },
        "collection": {"status": "failed", "error": "the collection could not be read", "exitCode": 1},
    }
    causes = failure_causes(report)
    assert [(c.cause, c.exit_code, c.subjects) for c in causes] == [
        ("HTTP 401", 3, ["a", "b"]),
        ("HTTP 500", 4, ["c"]),
        ("the collection could not be read", 1, ["the collection"]),
    ]
