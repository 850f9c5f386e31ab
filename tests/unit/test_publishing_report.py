"""featurepub.publishing.report and featurepub.errors: what a run reports."""

from __future__ import annotations

from pathlib import Path

import pytest

from featurepub.errors import (
    EXIT_AUTH,
    EXIT_INCOMPLETE,
    EXIT_INTERRUPTED,
    EXIT_INVALID,
    EXIT_REGISTRY,
    AuthError,
    ConfigError,
    FeatureError,
    FeaturepubError,
    Interrupted,
    InvalidReferenceError,
    Problem,
    RegistryContext,
    RegistryError,
)
from featurepub.kinds import TEMPLATE
from featurepub.publishing.report import FeatureResult, PublishReport, RepositoryResult, Status, TagResult

DIGEST = "sha256:" + "a" * 64


def repo(name: str, status: Status, *tags: tuple[str, Status], uploaded: int = 0) -> RepositoryResult:
    return RepositoryResult(name, status, [TagResult(t, s) for t, s in tags], bytes_uploaded=uploaded)


@pytest.mark.parametrize(
    ("statuses", "expected"),
    [
        ([Status.PUBLISHED], Status.PUBLISHED),
        ([Status.UNCHANGED], Status.UNCHANGED),
        ([Status.UNCHANGED, Status.PUBLISHED], Status.PUBLISHED),
        ([Status.PUBLISHED, Status.SKIPPED], Status.SKIPPED),
        ([Status.PUBLISHED, Status.NOT_ATTEMPTED], Status.NOT_ATTEMPTED),
        ([Status.NOT_ATTEMPTED, Status.FAILED, Status.PUBLISHED], Status.FAILED),
        ([Status.PLANNED, Status.UNCHANGED], Status.PLANNED),
        ([Status.PUBLISHED, Status.INTERRUPTED, Status.NOT_ATTEMPTED], Status.INTERRUPTED),
        ([Status.INTERRUPTED, Status.FAILED], Status.FAILED),
    ],
)
def test_feature_status_is_the_worst_repository_status(statuses: list[Status], expected: Status) -> None:
    result = FeatureResult("f", "1.0.0", DIGEST, 1, [repo(f"ns/r{i}", s) for i, s in enumerate(statuses)])
    assert result.status is expected
    assert result.ok is (expected not in (Status.FAILED, Status.NOT_ATTEMPTED, Status.INTERRUPTED))


def test_report_json_has_the_reference_cli_shape() -> None:
    primary = repo(
        "ns/feat",
        Status.PUBLISHED,
        ("1.2.0", Status.PUBLISHED),
        ("1.2", Status.PUBLISHED),
        ("1", Status.UNCHANGED),
        uploaded=100,
    )
    legacy = repo("ns/old", Status.FAILED, ("1.2.0", Status.FAILED), uploaded=7)
    legacy.error = "boom"
    legacy.note = "a note"
    report = PublishReport("ghcr.io", "ns", [FeatureResult("feat", "1.2.0", DIGEST, 10, [primary, legacy])])
    report.collection = repo("ns", Status.PUBLISHED, ("latest", Status.PUBLISHED), uploaded=3)
    out = report.to_json()
    assert list(out) == ["feat"]
    entry = out["feat"]
    assert entry["publishedTags"] == ["1.2.0", "1.2"]  # only what this run published, in push order
    assert entry["digest"] == DIGEST
    assert entry["version"] == "1.2.0"
    assert entry["status"] == "failed"
    assert entry["repositories"][1] == {
        "repository": "ns/old",
        "status": "failed",
        "tags": {"1.2.0": "failed"},
        "bytesUploaded": 7,
        "note": "a note",
        "error": "boom",
    }
    assert "note" not in entry["repositories"][0]
    assert report.bytes_uploaded == 110
    assert report.ok is False
    summary = report.summary_json()
    assert summary["ok"] is False
    assert summary["bytesUploaded"] == 110
    assert summary["collection"]["tags"] == {"latest": "published"}
    assert summary["dryRun"] is False


def test_report_ok_depends_on_collection_too() -> None:
    report = PublishReport("t", "ns", [FeatureResult("f", "1.0.0", DIGEST, 1, [repo("ns/f", Status.UNCHANGED)])])
    assert report.ok
    assert report.summary_json()["collection"] is None
    report.collection = repo("ns", Status.NOT_ATTEMPTED)
    assert not report.ok
    report.collection = repo("ns", Status.SKIPPED)
    assert report.ok


def test_an_interrupted_report_exits_130_unless_everything_is_in_place() -> None:
    cut = repo("ns/f", Status.INTERRUPTED, ("1.0.0", Status.PUBLISHED), ("1.0", Status.INTERRUPTED))
    report = PublishReport("t", "ns", [FeatureResult("f", "1.0.0", DIGEST, 1, [cut])], interrupted="SIGINT")
    report.collection = repo("ns", Status.NOT_ATTEMPTED)
    assert not report.ok
    assert report.exit_code == EXIT_INTERRUPTED == Interrupted("x").exit_code == 130
    summary = report.summary_json()
    assert summary["interrupted"] == "SIGINT"
    assert summary["features"]["f"]["status"] == "interrupted"
    assert summary["features"]["f"]["publishedTags"] == ["1.0.0"]
    assert summary["features"]["f"]["repositories"][0]["tags"] == {"1.0.0": "published", "1.0": "interrupted"}
    done = PublishReport("t", "ns", [FeatureResult("f", "1.0.0", DIGEST, 1, [repo("ns/f", Status.PUBLISHED)])])
    done.interrupted = "SIGINT"  # stopped after the last step: nothing is missing
    assert done.ok and done.exit_code == 0


def test_status_values_are_strings() -> None:
    assert [s.value for s in Status] == [
        "published",
        "unchanged",
        "skipped",
        "failed",
        "not-attempted",
        "planned",
        "interrupted",
    ]
    assert Status("skipped") is Status.SKIPPED


# --- errors ----------------------------------------------------------------------------------------------


def test_exit_codes() -> None:
    assert (EXIT_INCOMPLETE, EXIT_INVALID, EXIT_AUTH, EXIT_REGISTRY) == (1, 2, 3, 4)
    context = RegistryContext("r")
    assert FeaturepubError("x").exit_code == 1
    assert ConfigError("x").exit_code == 2
    assert InvalidReferenceError("x").exit_code == 2
    assert FeatureError([]).exit_code == 2
    assert RegistryError("x", context=context).exit_code == 4
    assert AuthError("x", context=context).exit_code == 3


def test_error_text_with_and_without_hint() -> None:
    assert str(FeaturepubError("broke")) == "broke"
    assert str(FeaturepubError("broke", hint="fix it")) == "broke (fix it)"


def test_feature_error_counts() -> None:
    one = FeatureError([Problem(Path("a"), "m")])
    assert one.message == "1 problem found in the features"
    assert FeatureError([]).message == "0 problems found in the features"
    assert str(one.problems[0]) == "a: m"


def test_registry_error_prefixes_context() -> None:
    error = RegistryError(
        "HTTP 500", context=RegistryContext("ghcr.io", "a/b", "push"), status=500, retryable=True
    )
    assert error.message == "push on ghcr.io/a/b: HTTP 500"
    assert error.diagnostics == []
    assert error.codes == set()
    assert error.retryable


def test_a_templates_report_names_templates_and_a_features_report_keeps_its_keys() -> None:
    entry = FeatureResult("t", "1.0.0", DIGEST, 10, [repo("ns/t", Status.PUBLISHED, ("1.0.0", Status.PUBLISHED))])
    features = PublishReport("localhost:5000", "ns", [entry]).summary_json()
    assert (features["kind"], list(features["features"])) == ("feature", ["t"])
    templates = PublishReport("localhost:5000", "ns", [entry], kind=TEMPLATE).summary_json()
    assert (templates["kind"], list(templates["templates"])) == ("template", ["t"])
    assert "features" not in templates
    assert FeatureError([], subject="templates").message == "0 problems found in the templates"


def test_stdout_is_what_the_reference_cli_prints() -> None:
    """featuresCLI/publish.ts: `{...publishResult, version}` for a published feature (getSemanticTags orders
    the tags X, X.Y, X.Y.Z, latest), `{}` otherwise, `publishedLegacyIds` only when a legacy id got tags."""
    published = repo(
        "ns/feat",
        Status.PUBLISHED,
        ("1.2.0", Status.PUBLISHED),
        ("1.2", Status.PUBLISHED),
        ("1", Status.PUBLISHED),
        ("latest", Status.PUBLISHED),
    )
    published.digest = DIGEST
    old = repo("ns/old-name", Status.PUBLISHED, ("1.2.0", Status.PUBLISHED))
    skipped_legacy = repo("ns/older", Status.UNCHANGED, ("1.2.0", Status.UNCHANGED))
    fixed = repo("ns/fix", Status.PUBLISHED, ("0.9.1", Status.PUBLISHED), ("0.9", Status.PUBLISHED))
    theirs = "sha256:" + "b" * 64
    unchanged = repo("ns/same", Status.UNCHANGED, ("2.0.0", Status.UNCHANGED))
    unchanged.digest = theirs
    skipped = repo("ns/skip", Status.SKIPPED, ("3.0.0", Status.SKIPPED))
    report = PublishReport(
        "ghcr.io",
        "ns",
        [
            FeatureResult("feat", "1.2.0", DIGEST, 1, [published, old, skipped_legacy]),
            FeatureResult("fix", "0.9.1", DIGEST, 1, [fixed]),
            FeatureResult("same", "2.0.0", DIGEST, 1, [unchanged]),
            FeatureResult("skip", "3.0.0", DIGEST, 1, [skipped]),
            FeatureResult("legacy-only", "1.0.0", DIGEST, 1, [repo("ns/l", Status.UNCHANGED), old]),
        ],
    )
    assert report.reference_json() == {
        "feat": {
            "publishedTags": ["1", "1.2", "1.2.0", "latest"],
            "digest": DIGEST,
            "version": "1.2.0",
            "publishedLegacyIds": ["old-name"],
        },
        "fix": {"publishedTags": ["0.9", "0.9.1"], "digest": DIGEST, "version": "0.9.1"},
        "same": {},
        "skip": {},
        "legacy-only": {},
    }
    assert list(report.reference_json()["feat"]) == ["publishedTags", "digest", "version", "publishedLegacyIds"]
    # The full report names the registry's digest where another tool packed the same content.
    assert report.to_json()["same"]["digest"] == theirs
    assert report.to_json()["same"]["packedDigest"] == DIGEST
    assert report.to_json()["same"]["repositories"][0]["digest"] == theirs


def test_a_failed_repository_says_its_cause_hint_and_exit_code() -> None:
    failed = repo("ns/feat", Status.FAILED)
    failed.error = "HEAD manifest 1.0.0 on r.example/ns/feat: HTTP 401 (Unauthorized) (no credentials found)"
    failed.error_cause, failed.error_hint, failed.error_exit_code = (
        "HTTP 401 (Unauthorized)",
        "no credentials found",
        3,
    )
    report = PublishReport("r.example", "ns", [FeatureResult("feat", "1.0.0", DIGEST, 10, [failed])])
    entry = report.to_json()["feat"]
    assert entry["size"] == 10
    assert entry["repositories"][0] == {
        "repository": "ns/feat",
        "status": "failed",
        "tags": {},
        "bytesUploaded": 0,
        "error": failed.error,
        "exitCode": 3,
        "cause": "HTTP 401 (Unauthorized)",
        "hint": "no credentials found",
    }
