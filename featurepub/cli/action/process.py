"""Running the `featurepub` command as a person would, inside a log group, and the credentials it
gets for ghcr.io in a workflow."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Mapping
from dataclasses import dataclass, field

from featurepub.cli.action.inputs import GITHUB_REGISTRY
from featurepub.cli.action.workflow import Runner


@dataclass
class Finished:
    code: int
    stdout: str
    # Each `error:` line featurepub printed, with the `hint:` line after it ("" when none).
    errors: list[tuple[str, str]] = field(default_factory=list)
    stderr: list[str] = field(default_factory=list)


def run_featurepub(args: list[str], runner: Runner, env: Mapping[str, str]) -> Finished:
    """`featurepub ARGS`: its stderr goes to the log as it comes; stdout is returned."""
    runner.command("group", f"featurepub {' '.join(args)}")
    process = subprocess.Popen(
        [sys.executable, "-m", "featurepub", *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=dict(env),
    )
    assert process.stderr is not None and process.stdout is not None
    errors: list[tuple[str, str]] = []
    lines: list[str] = []
    for line in process.stderr:
        runner.log.write(line)
        runner.log.flush()
        text = line.rstrip("\n")
        lines.append(text)
        if text.startswith("error: "):
            errors.append((text.removeprefix("error: "), ""))
        elif text.startswith("hint: ") and errors and not errors[-1][1]:
            errors[-1] = (errors[-1][0], text.removeprefix("hint: "))
    stdout = process.stdout.read()
    code = process.wait()
    runner.command("endgroup")
    return Finished(code, stdout, errors, lines)


def child_env(env: Mapping[str, str]) -> dict[str, str]:
    """What featurepub itself sees: none of the INPUT_* variables (the token among them), plain text."""
    out = {k: v for k, v in env.items() if not k.startswith("INPUT_") and k != "FEATUREPUB_JOB_TOKEN"}
    out["NO_COLOR"] = "1"
    return out


def credentials_env(registry: str, token: str) -> dict[str, str]:
    """GITHUB_TOKEN for ghcr.io: the last source featurepub's credential chain asks, as with the reference
    CLI, so credentials set up otherwise (DEVCONTAINERS_OCI_AUTH, docker/login-action's Docker config) win."""
    return {"GITHUB_TOKEN": token} if registry == GITHUB_REGISTRY and token else {}
