"""The GitHub Action, its step run as a runner runs a composite action (tests/support/actions.py: the
GITHUB_* variables, INPUT_* from action.yml's defaults plus each test's inputs), against the registry.

The inputs of each scenario are those of the official repositories' workflows (devcontainers/features
and devcontainers/templates: release, update-documentation, validate-metadata-files), pointed at the
test registry. Each test checks the outputs, the step summary, the annotations and the registry.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml

from featurepub.cli.action import inputs as action_inputs
from featurepub.cli.action.workflow import Runner
from tests.conftest import ROOT, copy_samples
from tests.integration.conftest import Accounts
from tests.support import consumers
from tests.support.actions import ActionRun, parse_output_file, python3_on_path, run_composite
from tests.support.connectproxy import ConnectProxy
from tests.support.proxy import RegistryProxy
from tests.support.publishing import registry_tags, tag_digest
from tests.support.registry import RegistryServer
from tests.support.secure import Secure, token_digest
from tests.support.templates import SAMPLE_TEMPLATE_IDS, copy_sample_templates

FEATURE_IDS = ["common-utils", "deprecated-tool", "hello-cli", "node-tool", "shell-prompt"]
VERSIONS = {
    "common-utils": "1.2.0",
    "deprecated-tool": "1.1.0",
    "hello-cli": "2.0.1",
    "node-tool": "0.3.0",
    "shell-prompt": "1.0.0",
}
TEMPLATE_VERSIONS = {
    "debian-basic": "1.2.0",
    "node-postgres": "0.4.0",
    "python-app": "2.0.1",
    "static-site": "1.0.0",
}
REPOSITORY = "Octo-Org/My-Features"  # GITHUB_REPOSITORY: the default namespace is its lowercase
# Example workflows sit one folder down, where GitHub does not run them in this repository.
WORKFLOWS = ROOT / ".github" / "workflows" / "examples"


def git(cwd: Path, *args: str) -> str:
    done = subprocess.run(
        ["git", "-c", "user.name=ci", "-c", "user.email=ci@example.invalid", *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        check=True,
    )
    return done.stdout.strip()


def checkout(repo: Path) -> Path:
    """Make `repo` a committed git checkout with a bare `origin` beside it (where tags are pushed)."""
    origin = repo.parent / f"{repo.name}-origin.git"
    git(repo.parent, "init", "-q", "--bare", str(origin))
    git(repo, "init", "-q", "-b", "main")
    git(repo, "add", ".")
    git(repo, "commit", "-q", "-m", "collection")
    git(repo, "remote", "add", "origin", str(origin))
    return repo


def commit(repo: Path, message: str) -> None:
    git(repo, "commit", "-q", "-am", message)


def origin_tags(repo: Path) -> list[str]:
    return sorted(git(repo.parent / f"{repo.name}-origin.git", "tag", "--list").split())


@pytest.fixture
def features_repo(tmp_path: Path, registry: RegistryServer, namespace: str) -> Path:
    """A features repository as devcontainers/features lays it out (./src/<id>), references localised."""
    return checkout(copy_samples(tmp_path / "features-repo", f"{registry.host}/{namespace}"))


@pytest.fixture
def templates_repo(tmp_path: Path) -> Path:
    return checkout(copy_sample_templates(tmp_path / "templates-repo"))


def run_action(
    workspace: Path,
    tmp_path: Path,
    inputs: dict[str, str],
    env: dict[str, str] | None = None,
    *,
    actor: str = "octocat",
    repository: str = REPOSITORY,
) -> ActionRun:
    # The runner's python3 is the one that has featurepub (install: "false" uses python3 from PATH).
    bin_dir = tmp_path / "bin"
    python3_on_path(bin_dir)
    runner_temp = tmp_path / f"runner-temp-{len(list(tmp_path.glob('runner-temp-*')))}"
    runner_temp.mkdir()
    return run_composite(
        ROOT,
        {"install": "false", **inputs},
        workspace=workspace,
        runner_temp=runner_temp,
        github={
            "repository": repository,
            "sha": git(workspace, "rev-parse", "HEAD"),
            "actor": actor,
            "token": "",
        },
        env={"PATH": f"{bin_dir}{os.pathsep}{os.environ['PATH']}", **(env or {})},
    )


def release_inputs(registry: RegistryServer, namespace: str, **more: str) -> dict[str, str]:
    """devcontainers/features' release inputs, publishing to the test registry."""
    inputs = {"publish-features": "true", "base-path-to-features": "./src"}
    return {**inputs, "oci-registry": registry.host, "features-namespace": namespace, **more}


def workflow_step(name: str) -> tuple[dict[str, str], dict[str, str]]:
    """The `with:` and `env:` of the featurepub step of an example workflow in .github/workflows/examples/."""
    workflow = yaml.safe_load((WORKFLOWS / name).read_text(encoding="utf-8"))
    (job,) = workflow["jobs"].values()
    step = next(s for s in job["steps"] if str(s.get("uses", "")).startswith("featurepub/featurepub@"))
    return {k: str(v) for k, v in step["with"].items()}, {k: str(v) for k, v in step.get("env", {}).items()}


def annotation_lines(run: ActionRun, level: str) -> list[str]:
    return [line for line in run.stdout.splitlines() if line.startswith((f"::{level}::", f"::{level} "))]


def outputs(run: ActionRun) -> dict[str, Any]:
    return {name: json.loads(value) for name, value in run.outputs.items()}


def summary_top(run: ActionRun) -> str:
    """The summary up to its first table: what was (not) published and why."""
    return run.summary.split("\n### ", 1)[0]


def line_of(path: Path, text: str, after: str = "") -> int:
    """The 1-based line of the first line holding `text` (after the first line holding `after`)."""
    lines = path.read_text(encoding="utf-8").splitlines()
    start = next(i for i, line in enumerate(lines) if after in line) if after else 0
    return next(i for i, line in enumerate(lines) if i >= start and text in line) + 1


def collection_ids(registry: RegistryServer, namespace: str, key: str) -> list[str]:
    """The ids the collection document at <namespace>:latest lists under `key`, read straight from the registry."""
    manifest = httpx.get(
        f"{registry.url}/v2/{namespace}/manifests/latest",
        headers={"Accept": "application/vnd.oci.image.manifest.v1+json"},
    ).json()
    blob = httpx.get(f"{registry.url}/v2/{namespace}/blobs/{manifest['layers'][0]['digest']}").json()
    return sorted(entry["id"] for entry in blob[key])


def test_docs_only_publishes_nothing_and_touches_no_registry(
    features_repo: Path, tmp_path: Path, make_proxy: Any
) -> None:
    proxy: RegistryProxy = make_proxy()
    # A schema finding does not stop docs: devcontainers/action writes docs without checking the schema.
    node = features_repo / "src" / "node-tool" / "devcontainer-feature.json"
    node.write_text(node.read_text().replace('"default": false', '"default": "false"'))
    # devcontainers/features' update-documentation.yml: generate-docs and the base path, nothing else.
    inputs = {"generate-docs": "true", "base-path-to-features": "./src", "oci-registry": proxy.host}
    run = run_action(features_repo, tmp_path, inputs)
    assert run.code == 0, run.stdout + run.stderr
    for feature_id in FEATURE_IDS:
        readme = (features_repo / "src" / feature_id / "README.md").read_text(encoding="utf-8")
        major = VERSIONS[feature_id].split(".")[0]
        assert f'"{proxy.host}/octo-org/my-features/{feature_id}:{major}": {{}}' in readme
    assert proxy.requests() == []  # not one request to the registry
    assert outputs(run) == {
        "report": {"ok": True, "reports": []},
        "digests": {},
        "published": [],
        "git-tags": [],
    }
    assert "**Nothing was published:** publish-features and publish-templates are 'false'" in summary_top(run)
    assert "generate-docs `./src`: 5 README.md written." in run.summary
    assert annotation_lines(run, "error") == annotation_lines(run, "warning") == []
    assert origin_tags(features_repo) == []


def test_features_release_workflow_replaces_devcontainers_action(
    features_repo: Path, tmp_path: Path, registry: RegistryServer, namespace: str
) -> None:
    """A repository that published with devcontainers/action switches by changing the `uses:` line."""
    # The versions the reference published (it packs .featureignore and what it names as ordinary files,
    # so the switching repository has none).
    node = features_repo / "src" / "node-tool"
    (node / ".featureignore").unlink()
    shutil.rmtree(node / "scratch")
    git(features_repo, "add", "-A")
    commit(features_repo, "as published by devcontainers/action")
    done = subprocess.run(
        [consumers.DEVCONTAINER, "features", "publish", "-r", registry.host, "-n", namespace, "./src"],
        cwd=features_repo,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    reference_digests = {fid: tag_digest(registry.url, f"{namespace}/{fid}", v) for fid, v in VERSIONS.items()}

    with_, env = workflow_step("release-features.yml")
    assert with_ == {"publish-features": "true", "base-path-to-features": "./src"}
    assert env == {"GITHUB_TOKEN": "${{ secrets.GITHUB_TOKEN }}"}
    inputs = {**with_, "oci-registry": registry.host, "features-namespace": namespace}
    run = run_action(features_repo, tmp_path, inputs, env={"GITHUB_TOKEN": "ghs_job_token"})
    assert run.code == 0, run.stdout + run.stderr
    # Nothing new: every version is there (packed by the reference), and the digests are the registry's.
    out = outputs(run)
    assert out["published"] == [] and out["git-tags"] == []
    assert out["digests"] == reference_digests
    assert out["report"]["ok"] is True and out["report"]["bytesUploaded"] == 0
    expected = f"5 features at `{registry.host}/{namespace}` (0 published, 5 already there)."
    assert summary_top(run).strip().endswith(f"**Everything is published:** {expected}")
    assert annotation_lines(run, "error") == annotation_lines(run, "warning") == []

    # A version bump publishes that feature, tags the commit, and keeps the other digests.
    metadata = features_repo / "src" / "hello-cli" / "devcontainer-feature.json"
    metadata.write_text(metadata.read_text().replace('"version": "2.0.1"', '"version": "2.0.2"'))
    commit(features_repo, "hello-cli 2.0.2")
    again = run_action(features_repo, tmp_path, inputs, env={"GITHUB_TOKEN": "ghs_job_token"})
    assert again.code == 0, again.stdout + again.stderr
    out = outputs(again)
    assert out["published"] == ["hello-cli"]
    assert out["git-tags"] == ["feature_hello-cli_2.0.2"]
    assert origin_tags(features_repo) == ["feature_hello-cli_2.0.2"]
    assert git(features_repo, "rev-list", "-n1", "feature_hello-cli_2.0.2") == git(
        features_repo, "rev-parse", "HEAD"
    )
    new_digest = tag_digest(registry.url, f"{namespace}/hello-cli", "2.0.2")
    assert out["digests"] == {**reference_digests, "hello-cli": new_digest}
    assert tag_digest(registry.url, f"{namespace}/hello-cli", "2") == new_digest
    row = next(line for line in again.summary.splitlines() if line.startswith("| `hello-cli` |"))
    assert row.startswith(f"| `hello-cli` | 2.0.2 | ✅ published | `2.0.2` `2.0` `2` `latest` | `{new_digest}` |")
    assert "(1 published, 4 already there)" in summary_top(again)


def test_templates_release_workflow(
    templates_repo: Path, tmp_path: Path, registry: RegistryServer, namespace: str
) -> None:
    with_, _ = workflow_step("release-templates.yml")
    assert with_ == {"publish-templates": "true", "base-path-to-templates": "./src"}
    inputs = {**with_, "oci-registry-for-templates": registry.host, "templates-namespace": namespace}
    run = run_action(templates_repo, tmp_path, inputs)
    assert run.code == 0, run.stdout + run.stderr
    out = outputs(run)
    assert out["report"]["kind"] == "template" and out["report"]["ok"] is True
    assert out["published"] == list(SAMPLE_TEMPLATE_IDS)
    expected_tags = sorted(f"template_{tid}_{v}" for tid, v in TEMPLATE_VERSIONS.items())
    assert sorted(out["git-tags"]) == expected_tags == origin_tags(templates_repo)
    assert out["digests"] == {
        tid: tag_digest(registry.url, f"{namespace}/{tid}", v) for tid, v in TEMPLATE_VERSIONS.items()
    }
    assert collection_ids(registry, namespace, "templates") == list(SAMPLE_TEMPLATE_IDS)
    assert f"**Everything is published:** 4 templates at `{registry.host}/{namespace}`" in summary_top(run)
    assert f"### Templates, publish: `{registry.host}/{namespace}`" in run.summary
    assert "| Template | Version | Status |" in run.summary
    assert annotation_lines(run, "error") == annotation_lines(run, "warning") == []


def test_features_and_templates_in_one_step_need_two_namespaces(
    tmp_path: Path, registry: RegistryServer, namespace: str
) -> None:
    repo = tmp_path / "both"
    repo.mkdir()
    copy_samples(repo / "features", f"{registry.host}/{namespace}")
    copy_sample_templates(repo / "templates")
    checkout(repo)
    inputs = {
        **release_inputs(registry, namespace, **{"base-path-to-features": "features/src"}),
        "publish-templates": "true",
        "base-path-to-templates": "templates/src",
        "oci-registry-for-templates": registry.host,
        "templates-namespace": namespace,
    }
    # One namespace: each kind's collection would overwrite the other's <namespace>:latest.
    clash = run_action(repo, tmp_path, inputs)
    assert clash.code == 2
    (error,) = annotation_lines(clash, "error")
    assert f"would both publish to {registry.host}/{namespace}" in error
    assert f"templates-namespace (e.g. {namespace}-templates)" in error
    assert outputs(clash)["published"] == []
    assert "- Nothing was published: publish-features and publish-templates would both publish" in summary_top(
        clash
    )
    assert registry_tags(registry.url, namespace) == []
    assert registry_tags(registry.url, f"{namespace}/hello-cli") == []

    # Two namespaces: both published, both collections complete, tags of both kinds.
    inputs["templates-namespace"] = f"{namespace}-templates"
    run = run_action(repo, tmp_path, inputs)
    assert run.code == 0, run.stdout + run.stderr
    out = outputs(run)
    assert out["published"] == FEATURE_IDS + list(SAMPLE_TEMPLATE_IDS)
    assert sorted(out["digests"]) == sorted(FEATURE_IDS + list(SAMPLE_TEMPLATE_IDS))
    assert out["digests"]["python-app"] == tag_digest(registry.url, f"{namespace}-templates/python-app", "2.0.1")
    assert out["digests"]["hello-cli"] == tag_digest(registry.url, f"{namespace}/hello-cli", "2.0.1")
    assert out["report"]["ok"] is True
    assert [r["kind"] for r in out["report"]["reports"]] == ["feature", "template"]
    assert "feature_hello-cli_2.0.1" in out["git-tags"] and "template_python-app_2.0.1" in out["git-tags"]
    assert origin_tags(repo) == sorted(out["git-tags"])
    assert collection_ids(registry, namespace, "features") == FEATURE_IDS
    assert collection_ids(registry, f"{namespace}-templates", "templates") == list(SAMPLE_TEMPLATE_IDS)
    top = summary_top(run)
    assert f"5 features at `{registry.host}/{namespace}` (5 published, 0 already there)" in top
    assert f"4 templates at `{registry.host}/{namespace}-templates` (4 published, 0 already there)" in top
    assert "### Features, publish" in run.summary and "### Templates, publish" in run.summary


def test_validate_only_and_its_combination_with_publishing(
    features_repo: Path, tmp_path: Path, make_proxy: Any
) -> None:
    proxy: RegistryProxy = make_proxy()
    # devcontainers/features' validate-metadata-files.yml.
    inputs = {"validate-only": "true", "base-path-to-features": "./src", "oci-registry": proxy.host}
    run = run_action(features_repo, tmp_path, inputs)
    assert run.code == 0, run.stdout + run.stderr
    assert annotation_lines(run, "error") == []
    assert outputs(run) == {"report": {"ok": True, "reports": []}, "digests": {}, "published": [], "git-tags": []}
    assert "**Nothing was published:** validate-only checks and publishes nothing." in summary_top(run)
    assert "Validated `./src`: 5 features, all valid" in run.summary

    # As in devcontainers/action, validate-only with a publish input is an error, and nothing is done.
    both = run_action(features_repo, tmp_path, {**inputs, "publish-features": "true"})
    assert both.code == 2
    assert annotation_lines(both, "error") == [
        "::error::validate-only and publish-features are mutually exclusive: validate-only publishes nothing "
        "(as with devcontainers/action); run them as two steps, or drop one"
    ]
    assert "- Nothing was published: validate-only and publish-features are mutually exclusive" in summary_top(
        both
    )
    assert outputs(both)["report"] == {"ok": False, "reports": []}
    assert proxy.requests() == []


def test_validation_errors_are_annotated_at_their_line(
    features_repo: Path, tmp_path: Path, registry: RegistryServer, namespace: str
) -> None:
    node = features_repo / "src" / "node-tool" / "devcontainer-feature.json"
    text = node.read_text()
    text = text.replace('"version": "0.3.0"', '"version": "v0.3.0"')
    text = text.replace('"default": false', '"default": "false"')  # installYarn: a schema error
    node.write_text(text)
    commit(features_repo, "broken")
    inputs = release_inputs(registry, namespace)
    run = run_action(features_repo, tmp_path, inputs)
    assert run.code == 2
    version_line = line_of(node, '"version"')
    default_line = line_of(node, '"default"', after='"installYarn"')
    assert default_line > version_line + 5
    errors = annotation_lines(run, "error")
    assert len(errors) == 2, errors
    assert errors[0].startswith(f"::error file=src/node-tool/devcontainer-feature.json,line={version_line}::")
    assert "leading 'v'" in errors[0]
    assert errors[1].startswith(f"::error file=src/node-tool/devcontainer-feature.json,line={default_line}::")
    assert (
        "options.installYarn.default" in errors[1]
        and "disable-schema-validation: 'true' publishes it anyway" in errors[1]
    )
    top = summary_top(run)
    assert "- Nothing was published: the features at `./src` have 2 problems:" in top
    assert f"`src/node-tool/devcontainer-feature.json:{version_line}`: version 'v0.3.0'" in top
    assert outputs(run)["published"] == [] and outputs(run)["digests"] == {}
    assert registry_tags(registry.url, f"{namespace}/common-utils") == []  # all or nothing

    # disable-schema-validation lets the schema finding through, as a warning at the same line.
    node.write_text(node.read_text().replace('"version": "v0.3.0"', '"version": "0.3.0"'))
    commit(features_repo, "version fixed")
    lenient = run_action(features_repo, tmp_path, {**inputs, "disable-schema-validation": "true"})
    assert lenient.code == 0, lenient.stdout + lenient.stderr
    assert annotation_lines(lenient, "error") == []
    (warning,) = annotation_lines(lenient, "warning")
    assert warning.startswith(f"::warning file=src/node-tool/devcontainer-feature.json,line={default_line}::")
    assert sorted(outputs(lenient)["published"]) == FEATURE_IDS
    assert tag_digest(registry.url, f"{namespace}/node-tool", "0.3.0") == outputs(lenient)["digests"]["node-tool"]


def test_a_change_without_a_version_bump_is_a_warning(
    features_repo: Path, tmp_path: Path, registry: RegistryServer, namespace: str
) -> None:
    inputs = release_inputs(registry, namespace)
    first = run_action(features_repo, tmp_path, inputs)
    assert first.code == 0, first.stdout + first.stderr
    digests = outputs(first)["digests"]
    install = features_repo / "src" / "node-tool" / "install.sh"
    install.write_text(install.read_text() + "echo changed\n")
    commit(features_repo, "node-tool changed, version not bumped")

    run = run_action(features_repo, tmp_path, inputs)
    assert run.code == 0, run.stdout + run.stderr
    metadata = features_repo / "src" / "node-tool" / "devcontainer-feature.json"
    version_line = line_of(metadata, '"version"')
    (warning,) = annotation_lines(run, "warning")
    assert warning == (
        f"::warning file=src/node-tool/devcontainer-feature.json,line={version_line}::"
        "node-tool 0.3.0 was not published: the registry has 0.3.0 with other content (install.sh differs); "
        "bump the version to publish the change"
    )
    assert annotation_lines(run, "error") == []
    top = summary_top(run)
    assert top.startswith("## featurepub\n\n**Not published:**\n\n- `node-tool` 0.3.0: the registry has 0.3.0")
    assert "Everything is published" not in run.summary
    out = outputs(run)
    assert out["published"] == [] and out["git-tags"] == []
    assert out["digests"] == digests  # what the registry holds, node-tool's old content included
    assert tag_digest(registry.url, f"{namespace}/node-tool", "0.3.0") == digests["node-tool"]
    row = next(line for line in run.summary.splitlines() if line.startswith("| `node-tool` |"))
    assert "⚠️ skipped" in row and "| other content is there: install.sh differs |" in row


def test_a_credential_failure_is_one_error_with_the_ci_fix(
    features_repo: Path, tmp_path: Path, plain_basic: RegistryServer, accounts: Accounts
) -> None:
    inputs = {"publish-features": "true", "base-path-to-features": "./src", "oci-registry": plain_basic.host}
    run = run_action(features_repo, tmp_path, inputs)
    assert run.code == 3
    (error,) = annotation_lines(run, "error")  # one cause, not one per feature
    assert error.startswith(f"::error::{plain_basic.host} refused this run's push: HTTP 401")
    assert "`common-utils`" not in error and "common-utils" in error
    assert f"log in to {plain_basic.host} before this step" in error
    assert "featurepub login" not in error
    top = summary_top(run)
    assert top.startswith("## featurepub\n\n**Not published:**\n\n- ")
    assert "refused this run's push: HTTP 401" in top and "docker/login-action" in top
    out = outputs(run)
    assert out["published"] == [] and out["digests"] == {} and out["git-tags"] == []
    assert out["report"]["ok"] is False
    auth = (accounts.user, accounts.password)
    catalog = httpx.get(f"{plain_basic.url}/v2/_catalog", auth=auth).json()
    assert not [r for r in catalog["repositories"] if r.startswith("octo-org/my-features")]


def test_the_release_workflow_as_it_is_on_ghcr_io(
    features_repo: Path, tmp_path: Path, secure: Secure, accounts: Accounts, namespace: str
) -> None:
    """No input changed: ghcr.io is the tests' token registry behind a CONNECT proxy (its certificate names
    ghcr.io, its CA is trusted through SSL_CERT_FILE), and the GITHUB_TOKEN the workflow sets is the credential."""
    with_, _ = workflow_step("release-features.yml")
    repository = "Octo-Org/" + namespace.replace("/", "-")  # the default namespace, unique to this test
    proxy = ConnectProxy({"ghcr.io:443": ("127.0.0.1", secure.token.port)}).start()
    network = {"HTTPS_PROXY": proxy.url, "NO_PROXY": "localhost", "SSL_CERT_FILE": str(secure.pki.ca_file)}
    try:
        # A token ghcr.io refuses: one error, saying what fixes it in a workflow.
        refused = run_action(
            features_repo,
            tmp_path,
            with_,
            env={**network, "GITHUB_TOKEN": "ghs_revoked"},
            actor=accounts.github_actor,
            repository=repository,
        )
        run = run_action(
            features_repo,
            tmp_path,
            with_,
            env={**network, "GITHUB_TOKEN": accounts.github_token},
            actor=accounts.github_actor,
            repository=repository,
        )
    finally:
        proxy.stop()
    assert refused.code == 3, refused.stdout + refused.stderr
    (error,) = annotation_lines(refused, "error")
    assert error.startswith("::error::ghcr.io refused this run's push: ")
    # The features it names are those that had a request refused before the first refusal stopped the
    # run (they publish side by side): one or more, in id order, in one error.
    named = re.search(r"\(([a-z-]+(?:, [a-z-]+)*)\); the registry refused the credentials from ", error)
    assert named is not None, error
    ids = named[1].split(", ")
    assert ids == sorted(ids) and set(ids) <= set(FEATURE_IDS), ids
    assert "GITHUB_TOKEN. In CI: give the job `permissions: packages: write`" in error
    assert "docker/login-action" in error
    assert "featurepub login" not in error and "ghs_revoked" not in refused.stdout + refused.summary
    assert "permissions: packages: write" in summary_top(refused)
    assert outputs(refused)["published"] == []

    assert run.code == 0, run.stdout + run.stderr
    assert set(proxy.connects) == {"CONNECT ghcr.io:443"} and proxy.refused == []
    out = outputs(run)
    assert sorted(out["published"]) == FEATURE_IDS
    ns = repository.lower()
    assert out["digests"] == {fid: token_digest(secure, f"{ns}/{fid}", v) for fid, v in VERSIONS.items()}
    assert sorted(out["git-tags"]) == sorted(f"feature_{fid}_{v}" for fid, v in VERSIONS.items())
    assert f"**Everything is published:** 5 features at `ghcr.io/{ns}` (5 published" in summary_top(run)


def test_dry_run_and_the_lowercased_default_namespace(
    features_repo: Path, tmp_path: Path, registry: RegistryServer
) -> None:
    inputs = {
        "publish-features": "true",
        "base-path-to-features": "src",
        "oci-registry": registry.host,
        "dry-run": "true",
        "profile": "distribution",
        "keep-going": "true",
    }
    run = run_action(features_repo, tmp_path, inputs)
    assert run.code == 0, run.stdout + run.stderr
    assert "--dry-run --keep-going --profile distribution" in run.stdout  # the command, in the log group
    report = outputs(run)["report"]
    assert report["namespace"] == "octo-org/my-features"
    assert {f["status"] for f in report["features"].values()} == {"planned"}
    assert outputs(run)["digests"] == {} and outputs(run)["git-tags"] == []
    assert (
        summary_top(run)
        .strip()
        .endswith(
            "**Dry run: nothing was pushed.** 5 features at `"
            + registry.host
            + "/octo-org/my-features` (5 to publish, 0 already there)."
        )
    )
    assert registry_tags(registry.url, "octo-org/my-features/common-utils") == []


def test_generate_docs_runs_after_publishing(
    features_repo: Path, tmp_path: Path, registry: RegistryServer, namespace: str
) -> None:
    """README.md files this run writes are not in the layers it publishes (as with devcontainers/action)."""
    (features_repo / "src" / "hello-cli" / "NOTES.md").write_text("## Hand-written\n\nKept as is.\n")
    git(features_repo, "add", "-A")
    commit(features_repo, "notes")
    inputs = release_inputs(registry, namespace, **{"generate-docs": "true", "disable-repo-tagging": "true"})
    run = run_action(features_repo, tmp_path, inputs)
    assert run.code == 0, run.stdout + run.stderr
    assert run.stdout.index("featurepub publish ./src") < run.stdout.index("featurepub docs ./src")
    readme = (features_repo / "src" / "hello-cli" / "README.md").read_text()
    assert f'"{registry.host}/{namespace}/hello-cli:2": {{}}' in readme
    assert "## Hand-written\n\nKept as is.\n" in readme
    layer = consumers.skopeo_raw(f"docker://{registry.host}/{namespace}/hello-cli:2.0.1")["layers"][0]
    blob = httpx.get(f"{registry.url}/v2/{namespace}/hello-cli/blobs/{layer['digest']}").content
    assert b"README.md" not in blob and b"NOTES.md" in blob
    assert outputs(run)["git-tags"] == [] and origin_tags(features_repo) == []
    assert "generate-docs `./src`: 5 README.md written." in run.summary


def test_a_bad_input_value_fails_clearly(features_repo: Path, tmp_path: Path) -> None:
    run = run_action(features_repo, tmp_path, {"dry-run": "yes", "devcontainer-cli-version": "0.80.0"})
    assert run.code == 2
    assert annotation_lines(run, "error") == ["::error::input dry-run must be 'true' or 'false', not 'yes'"]
    assert outputs(run)["report"] == {"ok": False, "reports": []}


def test_nothing_asked_publishes_nothing(features_repo: Path, tmp_path: Path) -> None:
    """All defaults (devcontainers/action's): nothing to do; the ignored CLI version is a notice."""
    run = run_action(features_repo, tmp_path, {"devcontainer-cli-version": "0.80.0"})
    assert run.code == 0, run.stdout + run.stderr
    assert annotation_lines(run, "notice") == [
        "::notice::devcontainer-cli-version '0.80.0' is ignored: featurepub publishes without the devcontainer CLI"
    ]
    assert "publish-features, publish-templates, validate-only and generate-docs are all 'false'" in run.summary
    assert "::group::" not in run.stdout  # featurepub was not even started


# devcontainers/action's action.yml (v1, read from github.com/devcontainers/action): input -> default.
REFERENCE_INPUTS = {
    "generate-docs": "false",
    "disable-schema-validation": "false",
    "validate-only": "false",
    "disable-repo-tagging": "false",
    "devcontainer-cli-version": "",
    "publish-features": "false",
    "base-path-to-features": "",
    "oci-registry": "",
    "features-namespace": "",
    "publish-templates": "false",
    "base-path-to-templates": "",
    "oci-registry-for-templates": "",
    "templates-namespace": "",
}


def test_every_input_of_devcontainers_action_with_its_default() -> None:
    action = yaml.safe_load((ROOT / "action.yml").read_text())
    declared = {name: str(spec.get("default", "")) for name, spec in action["inputs"].items()}
    assert {name: declared.get(name) for name in REFERENCE_INPUTS} == REFERENCE_INPUTS
    assert {"profile", "dry-run", "keep-going", "github-token", "install"} <= set(declared)
    # Every input reaches the script as an environment variable, never pasted into `run:`.
    for step in action["runs"]["steps"]:
        assert "${{" not in step["run"]
    step_env = action["runs"]["steps"][-1]["env"]
    for name in action["inputs"]:
        if name != "install":
            assert step_env[f"INPUT_{name.upper().replace('-', '_')}"] == f"${{{{ inputs.{name} }}}}"


def test_github_token_is_offered_for_ghcr_only() -> None:
    from featurepub.cli.action.process import credentials_env

    assert credentials_env("ghcr.io", "ghs_token") == {"GITHUB_TOKEN": "ghs_token"}
    assert credentials_env("ghcr.io", "") == {}
    assert credentials_env("registry.example.com", "ghs_token") == {}  # never sent elsewhere


def test_the_workflows_github_token_wins_over_the_inputs_default() -> None:
    """The official workflows set GITHUB_TOKEN on the step (the reference reads only that); an explicit
    github-token input wins over it, the input's default (the job token) does not."""

    def token(**env: str) -> str:
        return action_inputs.Inputs.from_env(env).token

    assert token(INPUT_GITHUB_TOKEN="job", FEATUREPUB_JOB_TOKEN="job", GITHUB_TOKEN="pat") == "pat"
    assert token(INPUT_GITHUB_TOKEN="explicit", FEATUREPUB_JOB_TOKEN="job", GITHUB_TOKEN="pat") == "explicit"
    assert token(INPUT_GITHUB_TOKEN="job", FEATUREPUB_JOB_TOKEN="job") == "job"


def test_output_file_syntax_round_trips(tmp_path: Path) -> None:
    out = tmp_path / "out"
    runner = Runner({"GITHUB_OUTPUT": str(out)}, sys.stdout)
    runner.output("report", '{"a": "multi\nline"}')
    runner.output("plain", "x=y")
    assert parse_output_file(out.read_text()) == {"report": '{"a": "multi\nline"}', "plain": "x=y"}


def test_install_step_makes_a_virtualenv_from_the_action_source(features_repo: Path, tmp_path: Path) -> None:
    """With install: "true" the runner's python3 makes a venv and pip-installs the action's own folder.

    No network here: a stand-in python3 records what it is asked to do and plays the venv's python.
    """
    log = tmp_path / "calls.log"
    fake_bin = tmp_path / "fake-bin"
    fake_bin.mkdir()
    fake = fake_bin / "python3"
    fake.write_text(
        "#!/bin/bash\n"
        f'echo "$0 $*" >> {log}\n'
        'if [ "$1 $2" = "-m venv" ]; then mkdir -p "$3/bin"; cp "$0" "$3/bin/python"; fi\n'
    )
    fake.chmod(0o755)
    runner_temp = tmp_path / "runner-temp"
    runner_temp.mkdir()
    run = run_composite(
        ROOT,
        {"install": "true", "dry-run": "true"},
        workspace=features_repo,
        runner_temp=runner_temp,
        github={"repository": "o/r", "sha": "0" * 40, "actor": "a"},
        env={"PATH": f"{fake_bin}{os.pathsep}{os.environ['PATH']}"},
    )
    assert run.code == 0, run.stdout + run.stderr
    venv_python = runner_temp / "featurepub-venv" / "bin" / "python"
    assert run.steps[0].outputs == {"python": str(venv_python)}
    calls = log.read_text().splitlines()
    assert calls == [
        f"{fake} -m venv {runner_temp / 'featurepub-venv'}",
        f"{venv_python} -m pip install --quiet --disable-pip-version-check {ROOT}",
        f"{venv_python} -m featurepub.cli.github_action",
    ]
