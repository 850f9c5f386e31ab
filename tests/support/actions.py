"""Run a composite GitHub Action's steps the way a runner does, on this machine.

What a runner does for `using: composite` (docs: "Metadata syntax for GitHub Actions", "Workflow
commands"): inputs get their defaults, `${{ ... }}` expressions in each step's `env`, `run`
and `if` are evaluated against the `inputs`, `github`, `runner`, `env` and `steps` contexts,
each `run` is written to a file and run with `bash --noprofile --norc -eo pipefail FILE`,
each step gets fresh GITHUB_OUTPUT and GITHUB_STEP_SUMMARY files (outputs are read back as
`name=value` or `name<<DELIMITER` blocks, summaries are concatenated), a failing step stops
the action, and the action's `outputs` are evaluated at the end.

Only expressions made of context lookups, string literals, `==`, `!=`, `&&`, `||` and `!` are
understood; anything else raises, so a test never silently skips what it cannot evaluate.
"""

from __future__ import annotations

import os
import re
import shlex
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

_EXPRESSION = re.compile(r"\$\{\{\s*(.*?)\s*\}\}")
_TOKEN = re.compile(r"\s*(==|!=|&&|\|\||!|\(|\)|'(?:[^']|'')*'|[A-Za-z_][A-Za-z0-9_.-]*)")


@dataclass
class StepRun:
    id: str
    name: str
    code: int
    stdout: str
    stderr: str
    outputs: dict[str, str]
    skipped: bool = False


@dataclass
class ActionRun:
    code: int
    steps: list[StepRun] = field(default_factory=list)
    outputs: dict[str, str] = field(default_factory=dict)
    summary: str = ""

    @property
    def stdout(self) -> str:
        return "".join(s.stdout for s in self.steps)

    @property
    def stderr(self) -> str:
        return "".join(s.stderr for s in self.steps)


def python3_on_path(bin_dir: Path) -> Path:
    """A `python3` in `bin_dir` that runs this test's interpreter, for `install: "false"`.

    A wrapper, not a symlink: Python finds its venv from the path it was started by, so a link
    outside the venv starts the base interpreter, which has no featurepub unless the machine
    happens to have it installed globally."""
    bin_dir.mkdir(parents=True, exist_ok=True)
    wrapper = bin_dir / "python3"
    wrapper.write_text(f'#!/bin/sh\nexec {shlex.quote(sys.executable)} "$@"\n', encoding="utf-8")
    wrapper.chmod(0o755)
    return bin_dir


def parse_output_file(text: str) -> dict[str, str]:
    """GITHUB_OUTPUT / GITHUB_ENV syntax: `name=value` lines and `name<<DELIMITER` ... `DELIMITER` blocks."""
    values: dict[str, str] = {}
    lines = text.split("\n")
    i = 0
    while i < len(lines):
        line = lines[i]
        if "<<" in line and ("=" not in line or line.index("<<") < line.index("=")):
            name, delimiter = line.split("<<", 1)
            end = lines.index(delimiter, i + 1)
            values[name] = "\n".join(lines[i + 1 : end])
            i = end + 1
            continue
        if "=" in line:
            name, value = line.split("=", 1)
            values[name] = value
        i += 1
    return values


class _Expression:
    def __init__(self, text: str, contexts: dict[str, Any]) -> None:
        self.tokens: list[str] = _TOKEN.findall(text)  # one group: the token itself
        if "".join(self.tokens).replace(" ", "") != text.replace(" ", ""):
            raise ValueError(f"unsupported expression: {text!r}")
        self.contexts = contexts
        self.position = 0

    def evaluate(self) -> Any:
        value = self._or()
        if self.position != len(self.tokens):
            raise ValueError(f"unsupported expression near {self.tokens[self.position :]}")
        return value

    def _peek(self) -> str | None:
        return self.tokens[self.position] if self.position < len(self.tokens) else None

    def _take(self) -> str:
        token = self.tokens[self.position]
        self.position += 1
        return token

    def _or(self) -> Any:
        value = self._and()
        while self._peek() == "||":
            self._take()
            right = self._and()
            value = value or right
        return value

    def _and(self) -> Any:
        value = self._compare()
        while self._peek() == "&&":
            self._take()
            right = self._compare()
            value = value and right
        return value

    def _compare(self) -> Any:
        value = self._unary()
        while self._peek() in ("==", "!="):
            op = self._take()
            right = self._unary()
            # GitHub compares strings case-insensitively.
            same = str(value).lower() == str(right).lower()
            value = same if op == "==" else not same
        return value

    def _unary(self) -> Any:
        token = self._take()
        if token == "!":
            return not self._unary()
        if token == "(":
            value = self._or()
            if self._take() != ")":
                raise ValueError("unbalanced parentheses")
            return value
        if token.startswith("'"):
            return token[1:-1].replace("''", "'")
        if token in ("true", "false"):
            return token == "true"
        return self._lookup(token)

    def _lookup(self, path: str) -> Any:
        head, *rest = path.split(".")
        if head not in self.contexts:
            raise ValueError(f"unknown context {head!r} in {path!r}")
        value: Any = self.contexts[head]
        for part in rest:
            value = value.get(part, "") if isinstance(value, dict) else ""
        return value


def evaluate(text: str, contexts: dict[str, Any]) -> Any:
    return _Expression(text, contexts).evaluate()


def substitute(text: str, contexts: dict[str, Any]) -> str:
    def replace(match: re.Match[str]) -> str:
        value = evaluate(match.group(1), contexts)
        if isinstance(value, bool):
            return "true" if value else "false"
        return str(value)

    return _EXPRESSION.sub(replace, text)


def run_composite(
    action_dir: Path,
    inputs: dict[str, str],
    *,
    workspace: Path,
    runner_temp: Path,
    github: dict[str, str] | None = None,
    env: dict[str, str] | None = None,
) -> ActionRun:
    """Run `action_dir/action.yml` with `inputs` (as a `with:` block gives them)."""
    action = yaml.safe_load((action_dir / "action.yml").read_text(encoding="utf-8"))
    assert action["runs"]["using"] == "composite"
    declared: dict[str, Any] = action.get("inputs") or {}
    unknown = set(inputs) - set(declared)
    if unknown:
        raise ValueError(f"inputs not declared in action.yml: {sorted(unknown)}")  # a runner warns; tests fail
    github_context = {
        "action_path": str(action_dir),
        "workspace": str(workspace),
        "token": "",
        "repository": "",
        "sha": "",
        "actor": "",
        **(github or {}),
    }
    base_env = {**os.environ, **(env or {})}
    contexts: dict[str, Any] = {
        "github": github_context,
        "runner": {"temp": str(runner_temp), "os": "Linux"},
        "env": base_env,
        "steps": {},
    }
    resolved = {}
    for name, spec in declared.items():
        if name in inputs:
            resolved[name] = inputs[name]
        else:
            resolved[name] = substitute(str((spec or {}).get("default", "")), contexts)
    contexts["inputs"] = resolved
    run_env = {
        **base_env,
        "GITHUB_ACTIONS": "true",
        "GITHUB_ACTION_PATH": str(action_dir),
        "GITHUB_WORKSPACE": str(workspace),
        "GITHUB_REPOSITORY": github_context["repository"],
        "GITHUB_SHA": github_context["sha"],
        "GITHUB_ACTOR": github_context["actor"],
        "RUNNER_TEMP": str(runner_temp),
    }
    result = ActionRun(code=0)
    for position, step in enumerate(action["runs"]["steps"]):
        step_id = step.get("id") or f"__step{position}"
        condition = step.get("if")
        if condition is not None:
            text = str(condition)
            match = _EXPRESSION.fullmatch(text.strip())
            if not evaluate(match.group(1) if match else text, contexts):
                result.steps.append(StepRun(step_id, step.get("name", ""), 0, "", "", {}, skipped=True))
                continue
        assert "run" in step, "only run: steps are supported"
        assert step.get("shell") == "bash", "composite run steps must name their shell"
        step_env = dict(run_env)
        for key, value in (step.get("env") or {}).items():
            step_env[key] = substitute(str(value), contexts)
        script = runner_temp / f"step-{position}.sh"
        script.write_text(substitute(str(step["run"]), contexts), encoding="utf-8")
        output_file = runner_temp / f"output-{position}"
        summary_file = runner_temp / f"summary-{position}"
        output_file.write_text("")
        summary_file.write_text("")
        step_env["GITHUB_OUTPUT"] = str(output_file)
        step_env["GITHUB_STEP_SUMMARY"] = str(summary_file)
        done = subprocess.run(
            ["bash", "--noprofile", "--norc", "-eo", "pipefail", str(script)],
            cwd=workspace,
            env=step_env,
            capture_output=True,
            text=True,
            timeout=600,
            check=False,
        )
        outputs = parse_output_file(output_file.read_text(encoding="utf-8"))
        result.summary += summary_file.read_text(encoding="utf-8")
        result.steps.append(
            StepRun(step_id, step.get("name", ""), done.returncode, done.stdout, done.stderr, outputs)
        )
        contexts["steps"][step_id] = {
            "outputs": outputs,
            "outcome": "success" if done.returncode == 0 else "failure",
        }
        if done.returncode != 0:
            result.code = done.returncode
            break
    for name, spec in (action.get("outputs") or {}).items():
        result.outputs[name] = substitute(str(spec.get("value", "")), contexts)
    return result
