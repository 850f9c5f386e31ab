"""The action's step: validate, publish, tag and document, as devcontainers/action does, with featurepub.

It runs the `featurepub` commands a person would run (`validate --json`, `publish --report`,
`docs`) and turns what they say into annotations, the step summary and the step outputs.
Order, as in the reference: validate every collection that is published (or all, for
validate-only), publish, add the git tags, and only then generate the docs, so README.md files
written by this run never enter the layers of versions that are already published.
"""

from __future__ import annotations

import json
import os
import sys
import tempfile
from collections.abc import Mapping
from pathlib import Path
from typing import Any, TextIO

from featurepub.cli.action.findings import Cause, annotate_validation, failure_causes, unbumped
from featurepub.cli.action.git_tags import tag_published
from featurepub.cli.action.inputs import Inputs, InputsError, Job, Plan, plan
from featurepub.cli.action.outcome import DocsRun, Outcome, Publication, Validation
from featurepub.cli.action.process import Finished, child_env, credentials_env, run_featurepub
from featurepub.cli.action.summary import render
from featurepub.cli.action.workflow import Runner
from featurepub.redact import register_secret

EXIT_INVALID = 2


def run(env: Mapping[str, str], log: TextIO) -> int:
    runner = Runner(env, log)
    outcome = Outcome()
    code = _run(env, runner, outcome)
    for name, value in outcome.outputs().items():
        runner.output(name, value)
    runner.summary(render(outcome))
    return code


def _run(env: Mapping[str, str], runner: Runner, outcome: Outcome) -> int:
    try:
        inputs = Inputs.from_env(env)
        work = plan(inputs)
    except InputsError as exc:
        runner.annotate("error", str(exc))
        outcome.refused = str(exc)
        return EXIT_INVALID
    register_secret(inputs.token)
    outcome.dry_run, outcome.validate_only = inputs.dry_run, inputs.validate_only
    for notice in work.notices:
        runner.annotate("notice", notice)
    base_env = child_env(env)
    flags = ["--no-schema-validation"] if inputs.disable_schema_validation else []
    for job in work.validate:
        outcome.validations.append(_validate(job, flags, runner, base_env))
    if not outcome.valid:
        return EXIT_INVALID
    code = _publish_all(inputs, work, runner, base_env, outcome)
    if not inputs.disable_repo_tagging and not inputs.dry_run:
        outcome.tags = tag_published(outcome.reports, runner, env)
    if work.docs and code != 0:
        outcome.docs_skipped = "publishing did not finish (as with devcontainers/action)"
    elif work.docs:
        for job in work.docs:
            outcome.docs.append(_docs(job, runner, base_env))
        code = next((d.code for d in outcome.docs if d.code), 0)
    return code


def _validate(job: Job, flags: list[str], runner: Runner, env: dict[str, str]) -> Validation:
    finished = run_featurepub(["validate", job.path, "--json", *flags], runner, env)
    try:
        result: dict[str, Any] = json.loads(finished.stdout)
    except ValueError:
        causes = _annotate_errors(finished, "", runner)
        return Validation(job, ok=False, causes=causes)
    kind = str(result.get("kind") or "")
    items = result.get(f"{kind}s") or {}
    validation = Validation(
        job,
        ok=bool(result.get("ok")) and finished.code == 0,
        kind=kind,
        paths={item_id: str(entry.get("path", "")) for item_id, entry in items.items()},
        problems=annotate_validation(result, runner),
    )
    if job.kind and kind and kind != job.kind:
        other = "templates" if kind == "template" else "features"
        runner.annotate(
            "warning",
            f"{job.path} holds {other}, not {job.label}: they are handled as {other} "
            f"(the {other} inputs of this action are meant for them)",
        )
    return validation


def _publish_all(inputs: Inputs, work: Plan, runner: Runner, env: dict[str, str], outcome: Outcome) -> int:
    code = 0
    for job in work.publish:
        if code != 0 and not inputs.keep_going:
            stopped = "the " + outcome.publications[-1].job.label + "' publish failed first"
            outcome.publications.append(Publication(job, not_run=f"{stopped} (keep-going: 'true' goes on)"))
            continue
        publication = _publish(job, inputs, runner, {**env, **credentials_env(job.registry, inputs.token)})
        validation = next((v for v in outcome.validations if v.job == job), None)
        if publication.report is not None:
            paths = validation.paths if validation else {}
            publication.unbumped = unbumped(publication.report, paths, publication.kind, runner)
        outcome.publications.append(publication)
        code = code or publication.code
    return code


def _publish(job: Job, inputs: Inputs, runner: Runner, env: dict[str, str]) -> Publication:
    with tempfile.TemporaryDirectory(prefix="featurepub-action-") as workdir:
        report_path = Path(workdir) / "report.json"
        args = ["publish", job.path, "--registry", job.registry, "--namespace", job.namespace]
        args += ["--report", str(report_path)]
        args += ["--no-schema-validation"] * inputs.disable_schema_validation
        args += ["--dry-run"] * inputs.dry_run + ["--keep-going"] * inputs.keep_going
        args += ["--profile", inputs.profile] if inputs.profile else []
        finished = run_featurepub(args, runner, env)
        if not report_path.is_file():
            return Publication(job, finished.code or 1, causes=_annotate_errors(finished, job.registry, runner))
        report: dict[str, Any] = json.loads(report_path.read_text(encoding="utf-8"))
    causes = failure_causes(report)
    for cause in causes:
        runner.annotate("error", cause.message(job.registry))
    return Publication(job, finished.code, report, causes)


def _annotate_errors(finished: Finished, registry: str, runner: Runner) -> list[Cause]:
    """featurepub stopped before it had a report: one annotation per error line it printed."""
    causes = [Cause(message, hint, finished.code or 1) for message, hint in finished.errors]
    if not causes:
        causes = [Cause(f"featurepub exited with code {finished.code} (see the log)", "", finished.code or 1)]
    for cause in causes:
        runner.annotate("error", cause.message(registry))
    return causes


def _docs(job: Job, runner: Runner, env: dict[str, str]) -> DocsRun:
    # Schema findings never stop docs, as the reference writes docs without checking the schema.
    args = ["docs", job.path, "--registry", job.registry, "--namespace", job.namespace or "OWNER/REPO"]
    finished = run_featurepub([*args, "--no-schema-validation"], runner, env)
    written = [line.removeprefix("wrote: ") for line in finished.stderr if line.startswith("wrote: ")]
    causes = _annotate_errors(finished, "", runner) if finished.code else []
    return DocsRun(job, finished.code, written, causes)


def main() -> None:
    sys.exit(run(os.environ, sys.stdout))
