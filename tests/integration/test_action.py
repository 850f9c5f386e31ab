"""The GitHub Action, run as a runner runs a composite action (tests/support/actions.py), against the registry."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from featurepub.cli import github_action
from tests.conftest import ROOT, SAMPLES
from tests.support.actions import ActionRun, parse_output_file, python3_on_path, run_composite
from tests.support.publishing import registry_tags, tag_digest
from tests.support.registry import RegistryServer

SAMPLE_IDS = ["common-utils", "deprecated-tool", "hello-cli", "node-tool", "shell-prompt"]


def git(cwd: Path, *args: str) -> str:
    done = subprocess.run(
        ["git", "-c", "user.name=ci", "-c", "user.email=ci@example.invalid", *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        check=True,
    )
    return done.stdout.strip()


@pytest.fixture
def workspace(tmp_path: Path, registry: RegistryServer, namespace: str) -> Path:
    """A feature repository checkout (the samples, pointing at this test's namespace) with an origin."""
    repo = tmp_path / "repo"
    shutil.copytree(SAMPLES, repo)
    for metadata in repo.glob("src/*/devcontainer-feature.json"):
        text = metadata.read_text(encoding="utf-8")
        metadata.write_text(text.replace("ghcr.io/featurepub/samples", f"{registry.host}/{namespace}"))
    origin = tmp_path / "origin.git"
    git(tmp_path, "init", "-q", "--bare", str(origin))
    git(repo, "init", "-q", "-b", "main")
    git(repo, "add", ".")
    git(repo, "commit", "-q", "-m", "features")
    git(repo, "remote", "add", "origin", str(origin))
    return repo


def run_action(
    workspace: Path, tmp_path: Path, inputs: dict[str, str], env: dict[str, str] | None = None
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
            "repository": "Octo-Org/My-Features",
            "sha": git(workspace, "rev-parse", "HEAD"),
            "actor": "octocat",
            "token": "",
        },
        env={"PATH": f"{bin_dir}{os.pathsep}{os.environ['PATH']}", **(env or {})},
    )


def test_action_publishes_and_reports(
    workspace: Path, tmp_path: Path, registry: RegistryServer, namespace: str
) -> None:
    inputs = {"oci-registry": registry.host, "features-namespace": namespace, "base-path-to-features": "./src"}
    run = run_action(workspace, tmp_path, inputs)
    assert run.code == 0, run.stdout + run.stderr
    # Outputs: the report, the digests now in the registry, what was published, the git tags.
    report = json.loads(run.outputs["report"])
    assert report["ok"] is True
    assert sorted(report["features"]) == SAMPLE_IDS
    digests = json.loads(run.outputs["digests"])
    assert sorted(digests) == SAMPLE_IDS
    for feature_id, digest in digests.items():
        version = report["features"][feature_id]["version"]
        assert tag_digest(registry.url, f"{namespace}/{feature_id}", version) == digest
    assert sorted(json.loads(run.outputs["published"])) == SAMPLE_IDS
    expected_tags = sorted(f"feature_{fid}_{report['features'][fid]['version']}" for fid in SAMPLE_IDS)
    assert sorted(json.loads(run.outputs["git-tags"])) == expected_tags
    assert git(tmp_path / "origin.git", "tag", "--list").split() == expected_tags
    # The step summary: one table row per feature with version, status, tags, digest and size.
    summary = run.summary
    assert f"`{registry.host}/{namespace}`" in summary
    assert "| Feature | Version | Status | Tags | Digest | Size | Note |" in summary
    row = next(line for line in summary.splitlines() if line.startswith("| `hello-cli` |"))
    cells = [c.strip() for c in row.strip("|").split("|")]
    assert cells[1] == "2.0.1"
    assert cells[2].endswith("published")
    assert cells[3] == "`2.0.1` `2.0` `2` `latest`"
    assert cells[4] == f"`{digests['hello-cli']}`"
    assert cells[5].endswith("KiB")
    assert "Everything is in place" in summary
    # The log shows featurepub's own lines, grouped.
    assert "::group::featurepub publish ./src" in run.stdout
    assert "pushed tag 2.0.1" in run.stdout

    # A second run finds everything in place: nothing published, no new tags, digests still reported.
    again = run_action(workspace, tmp_path, inputs)
    assert again.code == 0, again.stdout + again.stderr
    assert json.loads(again.outputs["published"]) == []
    assert json.loads(again.outputs["git-tags"]) == []
    assert json.loads(again.outputs["digests"]) == digests
    assert "unchanged" in again.summary


def test_action_defaults_to_the_lowercased_repository_and_can_dry_run(
    workspace: Path, tmp_path: Path, registry: RegistryServer
) -> None:
    inputs = {"oci-registry": registry.host, "dry-run": "true", "profile": "distribution", "keep-going": "true"}
    run = run_action(workspace, tmp_path, inputs)
    assert run.code == 0, run.stdout + run.stderr
    assert "--dry-run --keep-going --profile distribution" in run.stdout  # the command, in the log group
    report = json.loads(run.outputs["report"])
    assert report["namespace"] == "octo-org/my-features"
    assert {f["status"] for f in report["features"].values()} == {"planned"}
    assert json.loads(run.outputs["digests"]) == {}
    assert json.loads(run.outputs["git-tags"]) == []
    assert "featurepub dry run" in run.summary
    assert registry_tags(registry.url, "octo-org/my-features/common-utils") == []


def test_action_validate_only_annotates_problems(
    workspace: Path, tmp_path: Path, registry: RegistryServer
) -> None:
    bad = workspace / "src" / "node-tool" / "devcontainer-feature.json"
    bad.write_text(bad.read_text().replace('"version": "0.3.0"', '"version": "v0.3.0"'))
    run = run_action(workspace, tmp_path, {"validate-only": "true", "oci-registry": registry.host})
    assert run.code == 2
    annotations = [line for line in run.stdout.splitlines() if line.startswith("::error ")]
    assert any(
        "file=src/node-tool/devcontainer-feature.json::" in line and "leading 'v'" in line for line in annotations
    )
    assert "**invalid**" in run.summary
    assert registry_tags(registry.url, "octo-org/my-features/node-tool") == []


def test_action_generates_docs_before_publishing(
    workspace: Path, tmp_path: Path, registry: RegistryServer, namespace: str
) -> None:
    (workspace / "src" / "hello-cli" / "NOTES.md").write_text("## Hand-written\n\nKept as is.\n")
    inputs = {
        "oci-registry": registry.host,
        "features-namespace": namespace,
        "base-path-to-features": "src",
        "generate-docs": "true",
        "disable-repo-tagging": "true",
    }
    run = run_action(workspace, tmp_path, inputs)
    assert run.code == 0, run.stdout + run.stderr
    readme = (workspace / "src" / "hello-cli" / "README.md").read_text()
    assert f'"{registry.host}/{namespace}/hello-cli:2": {{}}' in readme
    assert "## Hand-written\n\nKept as is.\n" in readme
    assert json.loads(run.outputs["git-tags"]) == []
    assert git(tmp_path / "origin.git", "tag", "--list") == ""
    # Docs are deterministic: a second run regenerates the same README and publishes nothing new.
    again = run_action(workspace, tmp_path, inputs)
    assert again.code == 0, again.stdout + again.stderr
    assert json.loads(again.outputs["published"]) == []


def test_a_bad_input_value_fails_clearly(workspace: Path, tmp_path: Path) -> None:
    run = run_action(workspace, tmp_path, {"dry-run": "yes"})
    assert run.code == 2
    assert "::error::input dry-run must be 'true' or 'false'" in run.stdout


def test_action_inputs_match_the_reference_action_names() -> None:
    action = yaml.safe_load((ROOT / "action.yml").read_text())
    reference_names = {
        "publish-features",
        "base-path-to-features",
        "oci-registry",
        "features-namespace",
        "generate-docs",
        "validate-only",
        "disable-repo-tagging",
    }
    assert reference_names | {"profile", "dry-run", "keep-going"} <= set(action["inputs"])
    # Every input reaches the script as an environment variable, never pasted into `run:`.
    for step in action["runs"]["steps"]:
        assert "${{" not in step["run"]
    step_env = action["runs"]["steps"][-1]["env"]
    for name in action["inputs"]:
        if name != "install":
            assert step_env[f"INPUT_{name.upper().replace('-', '_')}"] == f"${{{{ inputs.{name} }}}}"


def test_github_token_is_offered_for_ghcr_only_when_nothing_else_is(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    env = {"INPUT_OCI_REGISTRY": "ghcr.io", "INPUT_GITHUB_TOKEN": "ghs_token", "GITHUB_ACTOR": "octocat"}
    inputs = github_action.Inputs.from_env(env)
    offered = github_action.credentials_env(inputs, env)
    assert offered["GITHUB_TOKEN"] == "ghs_token"
    assert offered["DEVCONTAINERS_OCI_AUTH"] == "ghcr.io|octocat|ghs_token"
    # Credentials the user configured (docker/login-action writes the Docker config) win.
    config = tmp_path / "docker-config"
    config.mkdir()
    (config / "config.json").write_text(json.dumps({"auths": {"ghcr.io": {"auth": "dXNlcjpwYXQ="}}}))
    monkeypatch.setenv("DOCKER_CONFIG", str(config))
    assert "DEVCONTAINERS_OCI_AUTH" not in github_action.credentials_env(inputs, env)
    # Other registries never get the GitHub token.
    other = github_action.Inputs.from_env({**env, "INPUT_OCI_REGISTRY": "registry.example.com"})
    assert github_action.credentials_env(other, env) == {}


def test_output_file_syntax_round_trips(tmp_path: Path) -> None:
    out = tmp_path / "out"
    runner = github_action.Runner({"GITHUB_OUTPUT": str(out)}, sys.stdout)
    runner.output("report", '{"a": "multi\nline"}')
    runner.output("plain", "x=y")
    assert parse_output_file(out.read_text()) == {"report": '{"a": "multi\nline"}', "plain": "x=y"}


def test_install_step_makes_a_virtualenv_from_the_action_source(workspace: Path, tmp_path: Path) -> None:
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
        workspace=workspace,
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
