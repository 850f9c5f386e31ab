"""The GitHub Action's step: `python -m featurepub.cli.github_action`, configured by `INPUT_*` variables.

action.yml passes each input as an environment variable (`INPUT_PUBLISH_FEATURES`, ...), never
by pasting it into the script. This runs the `featurepub` command a person would run
(validate, docs, publish --report), then turns the report into the step summary (a Markdown
table), step outputs (`report`, `digests`, `published`, `git-tags`) and, like the reference
action, git tags `feature_<id>_<version>` for what was newly published.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import tempfile
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TextIO

GITHUB_REGISTRY = "ghcr.io"
_ERROR_LINE = re.compile(r"^error: (?P<path>/?[^:\s][^:]*): (?P<message>.+)$")


@dataclass(frozen=True)
class Inputs:
    publish_features: bool
    base_path: str
    registry: str
    namespace: str
    generate_docs: bool
    validate_only: bool
    disable_repo_tagging: bool
    profile: str
    dry_run: bool
    keep_going: bool
    token: str

    @classmethod
    def from_env(cls, env: Mapping[str, str]) -> Inputs:
        def text(name: str, default: str = "") -> str:
            return env.get(f"INPUT_{name}", "").strip() or default

        def flag(name: str, default: bool) -> bool:
            value = text(name).lower()
            if not value:
                return default
            if value not in ("true", "false"):
                raise ValueError(
                    f"input {name.lower().replace('_', '-')} must be 'true' or 'false', not {value!r}"
                )
            return value == "true"

        repository = env.get("GITHUB_REPOSITORY", "")
        return cls(
            publish_features=flag("PUBLISH_FEATURES", True),
            base_path=text("BASE_PATH_TO_FEATURES", "."),
            registry=text("OCI_REGISTRY", GITHUB_REGISTRY),
            # The reference CLI lowercases references; OCI names are lowercase. Only the default is
            # changed: an explicit namespace is used as given (featurepub explains a bad one).
            namespace=text("FEATURES_NAMESPACE") or repository.lower(),
            generate_docs=flag("GENERATE_DOCS", False),
            validate_only=flag("VALIDATE_ONLY", False),
            disable_repo_tagging=flag("DISABLE_REPO_TAGGING", False),
            profile=text("PROFILE"),
            dry_run=flag("DRY_RUN", False),
            keep_going=flag("KEEP_GOING", False),
            token=text("GITHUB_TOKEN", env.get("GITHUB_TOKEN", "")),
        )


class Runner:
    """Talks to the runner: log commands on stdout, files named by GITHUB_OUTPUT / GITHUB_STEP_SUMMARY."""

    def __init__(self, env: Mapping[str, str], log: TextIO) -> None:
        self.env = env
        self.log = log

    def command(self, name: str, message: str, **properties: str) -> None:
        props = ",".join(f"{k}={_escape_property(v)}" for k, v in properties.items())
        print(f"::{name}{' ' + props if props else ''}::{_escape_data(message)}", file=self.log, flush=True)

    def output(self, name: str, value: str) -> None:
        path = self.env.get("GITHUB_OUTPUT")
        if not path:
            return
        delimiter = f"ghadelimiter_{uuid.uuid4()}"
        with open(path, "a", encoding="utf-8") as handle:
            handle.write(f"{name}<<{delimiter}\n{value}\n{delimiter}\n")

    def summary(self, markdown: str) -> None:
        path = self.env.get("GITHUB_STEP_SUMMARY")
        if path:
            with open(path, "a", encoding="utf-8") as handle:
                handle.write(markdown)


def _escape_data(text: str) -> str:
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def _escape_property(text: str) -> str:
    return _escape_data(text).replace(":", "%3A").replace(",", "%2C")


def credentials_env(inputs: Inputs, env: Mapping[str, str]) -> dict[str, str]:
    """GITHUB_TOKEN for ghcr.io, unless the credential chain already has ghcr.io credentials.

    The token is offered the way the reference CLI reads credentials, as a last resort: when
    DEVCONTAINERS_OCI_AUTH, the Docker config (e.g. docker/login-action) or another source of
    the chain knows ghcr.io, that wins.
    """
    extra: dict[str, str] = {}
    if inputs.registry != GITHUB_REGISTRY or not inputs.token:
        return extra
    extra["GITHUB_TOKEN"] = inputs.token
    from featurepub.credentials.chain import default_chain

    saved = {k: os.environ.get(k) for k in ("GITHUB_TOKEN", "GH_TOKEN")}
    try:
        # Ask the chain without the token in sight: does any other source know ghcr.io?
        for key in saved:
            os.environ.pop(key, None)
        known = default_chain().resolve(GITHUB_REGISTRY)
    finally:
        for key, value in saved.items():
            if value is not None:
                os.environ[key] = value
    if known is None:
        actor = env.get("GITHUB_ACTOR") or "x-access-token"
        entry = f"{GITHUB_REGISTRY}|{actor}|{inputs.token}"
        current = env.get("DEVCONTAINERS_OCI_AUTH", "")
        extra["DEVCONTAINERS_OCI_AUTH"] = f"{current},{entry}" if current else entry
    return extra


def featurepub(args: list[str], runner: Runner, env: Mapping[str, str]) -> tuple[int, str]:
    """Run `featurepub ARGS`; stderr streams to the log (errors also as annotations); returns (code, stdout)."""
    runner.command("group", f"featurepub {' '.join(args)}")
    process = subprocess.Popen(
        [sys.executable, "-m", "featurepub", *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=dict(env),
    )
    assert process.stderr is not None
    assert process.stdout is not None
    for line in process.stderr:
        runner.log.write(line)
        runner.log.flush()
        match = _ERROR_LINE.match(line.rstrip("\n"))
        if match and Path(match["path"]).exists():
            runner.command("error", match["message"], file=_repo_path(match["path"], env))
    stdout = process.stdout.read()
    code = process.wait()
    runner.command("endgroup", "")
    return code, stdout


def _repo_path(path: str, env: Mapping[str, str]) -> str:
    """Annotations name files relative to the repository root, as GitHub shows them."""
    workspace = Path(env.get("GITHUB_WORKSPACE") or ".").resolve()
    try:
        return str(Path(path).resolve().relative_to(workspace))
    except ValueError:
        return path


def _human_size(size: int) -> str:
    from featurepub.cli.output import human_size

    return human_size(size)


def layer_sizes(path: str) -> dict[str, int]:
    """The published layer size per feature: the layers are reproducible, so packaging again gives them."""
    from featurepub.api import package
    from featurepub.errors import FeaturepubError

    try:
        with tempfile.TemporaryDirectory(prefix="featurepub-action-") as out:
            return {f.id: f.size for f in package(path, out).features}
    except FeaturepubError:
        return {}


_STATUS_ICON = {
    "published": "✅",
    "unchanged": "✔️",
    "planned": "📝",
    "skipped": "⚠️",
    "failed": "❌",
    "not-attempted": "⏸️",
    "interrupted": "⏹️",
}


def summary_table(report: dict[str, Any], sizes: Mapping[str, int]) -> str:
    target = f"{report.get('target')}/{report.get('namespace')}"
    heading = "featurepub dry run" if report.get("dryRun") else "featurepub publish"
    lines = [
        f"### {heading}: `{target}`",
        "",
        "| Feature | Version | Status | Tags | Digest | Size | Note |",
        "|---|---|---|---|---|---:|---|",
    ]
    for feature_id, entry in (report.get("features") or {}).items():
        status = str(entry.get("status", ""))
        primary = (entry.get("repositories") or [{}])[0]
        tag_states: dict[str, str] = primary.get("tags") or {}
        shown = [t for t, s in tag_states.items() if s in ("published", "planned", "unchanged")]
        tags = " ".join(f"`{t}`" for t in shown) or "-"
        digest = f"`{entry.get('digest', '')}`" if status in ("published", "unchanged", "planned") else "-"
        size = _human_size(sizes[feature_id]) if feature_id in sizes else "-"
        notes = [r.get("error") or r.get("note") for r in entry.get("repositories") or []]
        note = "; ".join(str(n) for n in notes if n).replace("|", "\\|").replace("\n", " ") or ""
        icon = _STATUS_ICON.get(status, "")
        version = entry.get("version", "")
        lines.append(f"| `{feature_id}` | {version} | {icon} {status} | {tags} | {digest} | {size} | {note} |")
    collection = report.get("collection") or {}
    lines += ["", f"Collection `{collection.get('repository', '')}`: {collection.get('status', 'not pushed')}."]
    uploaded = _human_size(int(report.get("bytesUploaded") or 0))
    verdict = "Everything is in place" if report.get("ok") else "**Something was not published**"
    lines += ["", f"{verdict}; {uploaded} uploaded.", ""]
    return "\n".join(lines) + "\n"


def repo_tags(report: dict[str, Any], runner: Runner, env: Mapping[str, str]) -> list[str]:
    """Tag the commit `feature_<id>_<version>` for each newly published feature, and push the tags."""
    workspace = env.get("GITHUB_WORKSPACE") or "."
    sha = env.get("GITHUB_SHA") or "HEAD"
    created = []
    for feature_id, entry in (report.get("features") or {}).items():
        if entry.get("status") != "published":
            continue
        tag = f"feature_{feature_id}_{entry.get('version')}"

        def git(*args: str) -> subprocess.CompletedProcess[str]:
            return subprocess.run(["git", "-C", workspace, *args], capture_output=True, text=True, check=False)

        if git("rev-parse", "-q", "--verify", f"refs/tags/{tag}").returncode == 0:
            print(f"git tag {tag} already exists", file=runner.log)
            continue
        made = git("tag", tag, sha)
        pushed = git("push", "origin", f"refs/tags/{tag}") if made.returncode == 0 else made
        if pushed.returncode != 0:
            runner.command("warning", f"could not add the git tag {tag}: {pushed.stderr.strip()[-300:]}")
            continue
        print(f"git tag {tag} added", file=runner.log)
        created.append(tag)
    return created


def run(env: Mapping[str, str], log: TextIO) -> int:
    runner = Runner(env, log)
    try:
        inputs = Inputs.from_env(env)
    except ValueError as exc:
        runner.command("error", str(exc))
        return 2
    # featurepub itself gets no INPUT_* variables (the token among them), only what it reads.
    child_env = {k: v for k, v in env.items() if not k.startswith("INPUT_")}
    child_env["NO_COLOR"] = "1"
    if inputs.validate_only or not inputs.publish_features:
        code, _ = featurepub(["validate", inputs.base_path], runner, child_env)
        verdict = "valid" if code == 0 else "**invalid** (see the annotations)"
        runner.summary(f"### featurepub validate: `{inputs.base_path}`\n\nThe features are {verdict}.\n")
        runner.output("report", json.dumps({"ok": code == 0, "validateOnly": True}))
        runner.output("digests", "{}")
        runner.output("published", "[]")
        if code == 0 and inputs.generate_docs:
            code, _ = _docs(inputs, runner, child_env)
        return code
    if not inputs.namespace:
        runner.command("error", "features-namespace is empty and GITHUB_REPOSITORY is not set")
        return 2
    if inputs.generate_docs:
        # Before publishing, so the published folders hold the same README.md as the next run.
        code, _ = _docs(inputs, runner, child_env)
        if code != 0:
            return code
    child_env.update(credentials_env(inputs, env))
    with tempfile.TemporaryDirectory(prefix="featurepub-action-") as workdir:
        report_path = Path(workdir) / "report.json"
        args = ["publish", inputs.base_path, "--registry", inputs.registry, "--namespace", inputs.namespace]
        args += ["--report", str(report_path)]
        args += ["--dry-run"] * inputs.dry_run + ["--keep-going"] * inputs.keep_going
        args += ["--profile", inputs.profile] if inputs.profile else []
        code, _ = featurepub(args, runner, child_env)
        if not report_path.is_file():
            runner.summary(
                f"### featurepub publish: `{inputs.registry}/{inputs.namespace}`\n\nNothing was published.\n"
            )
            return code or 1
        report: dict[str, Any] = json.loads(report_path.read_text(encoding="utf-8"))
    runner.summary(summary_table(report, layer_sizes(inputs.base_path)))
    features = report.get("features") or {}
    digests = {fid: e["digest"] for fid, e in features.items() if e.get("status") in ("published", "unchanged")}
    runner.output("report", json.dumps(report))
    runner.output("digests", json.dumps(digests))
    runner.output("published", json.dumps([fid for fid, e in features.items() if e.get("status") == "published"]))
    tags: list[str] = []
    if not inputs.disable_repo_tagging and not inputs.dry_run:
        tags = repo_tags(report, runner, env)
    runner.output("git-tags", json.dumps(tags))
    return code


def _docs(inputs: Inputs, runner: Runner, env: Mapping[str, str]) -> tuple[int, str]:
    namespace = inputs.namespace or "OWNER/REPO"
    return featurepub(
        ["docs", inputs.base_path, "--registry", inputs.registry, "--namespace", namespace], runner, env
    )


def main() -> None:
    sys.exit(run(os.environ, sys.stdout))


if __name__ == "__main__":
    main()
