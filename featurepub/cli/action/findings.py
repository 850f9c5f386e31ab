"""What a run found, as annotations and as lines for the summary: validation problems (with the file
and line), versions whose content changed without a bump, and the causes that stopped publishing.

Failures are grouped by cause, so refused credentials give one annotation, not one per feature; in
CI the fix for missing or refused credentials is the job's permissions or a login step, so that is
what the annotation says instead of featurepub's advice for a terminal (`featurepub login`).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from featurepub.cli.action.inputs import GITHUB_REGISTRY, TEMPLATE
from featurepub.cli.action.jsonc_lines import problem_line
from featurepub.cli.action.workflow import Runner

EXIT_AUTH = 3
METADATA_FILE = {TEMPLATE: "devcontainer-template.json"}
_DIFFERENCE = re.compile(r"already exists with other content \([^)]*\): (?P<what>.+?); bump the version")


@dataclass(frozen=True)
class Located:
    """A validation problem as the summary lists it: `file:line: message`."""

    level: str  # error, warning or notice
    file: str
    line: int | None
    message: str

    def __str__(self) -> str:
        where = f"{self.file}:{self.line}" if self.line else self.file
        return f"`{where}`: {self.message}"


def annotate_validation(result: dict[str, Any], runner: Runner) -> list[Located]:
    """One annotation per finding of `featurepub validate --json`: what blocks is an error, a schema
    finding let through (disable-schema-validation) a warning, lint a notice (GitHub shows only ten
    warnings per step; they are kept for what was not published)."""
    located: list[Located] = []
    for problem in result.get("problems") or []:
        blocking = problem.get("severity") == "error"
        level = "error" if blocking else ("warning" if problem.get("tier") == "schema" else "notice")
        file = Path(str(problem.get("file", "")))
        message = str(problem.get("message", ""))
        line = problem_line(file, str(problem.get("field") or ""), message)
        why = str(problem.get("why") or "").replace("--no-schema-validation", "disable-schema-validation: 'true'")
        text = f"{message} ({why})" if why else message
        runner.annotate(level, text, file=file, line=line)
        located.append(Located(level, runner.repo_path(file), line, text))
    return located


@dataclass
class Cause:
    """One reason something was not published, and what it stopped."""

    cause: str  # what went wrong, without the operation and repository it happened in
    hint: str  # featurepub's advice
    exit_code: int  # 3 credentials, 4 registry or network, 1 other
    subjects: list[str] = field(default_factory=list)

    def message(self, registry: str = "", *, subjects: bool = True) -> str:
        """Where (the registry, if any), what, what it stopped, and what to do: in CI terms for credentials."""
        stopped = f" ({', '.join(self.subjects)})" if self.subjects and subjects else ""
        if registry and self.exit_code == EXIT_AUTH:
            return f"{registry} refused this run's push: {self.cause}{stopped}{self._credentials_why(registry)}"
        where = f"{registry}: " if registry else ""
        return f"{where}{self.cause}{stopped}" + (f" ({self.hint})" if self.hint else "")

    def _credentials_why(self, registry: str) -> str:
        # What featurepub's hint says happened, without its advice for a terminal (`featurepub login`) or
        # for ghcr.io in Actions (the fix below says it).
        said = self.hint.split("; ")[0] if self.hint else ""
        if said.startswith("no credentials found"):
            said = "no credentials for it were set up"
        elif "featurepub login" in said or "packages: write" in said:
            said = ""
        return (f"; {said}" if said else "") + f". In CI: {ci_credentials_fix(registry)}"


@dataclass(frozen=True)
class Unbumped:
    id: str
    version: str
    difference: str
    file: str
    line: int | None


def unbumped(report: dict[str, Any], paths: dict[str, str], kind: str, runner: Runner) -> list[Unbumped]:
    """A `::warning::` for each version that is there with other content: nothing of it was published."""
    found = []
    for item_id, entry in entries(report).items():
        if entry.get("status") != "skipped":
            continue
        repositories = entry.get("repositories") or []
        skipped: dict[str, Any] = next((r for r in repositories if r.get("status") == "skipped"), {})
        difference = difference_of(str(skipped.get("note") or ""))
        folder = Path(paths.get(item_id, ""))
        metadata = folder / METADATA_FILE.get(kind, "devcontainer-feature.json")
        line = problem_line(metadata, "version", "") if paths.get(item_id) else None
        version = str(entry.get("version", ""))
        item = Unbumped(item_id, version, difference, runner.repo_path(metadata), line)
        runner.annotate(
            "warning",
            f"{item_id} {version} was not published: the registry has {version} with other content "
            f"({difference}); bump the version to publish the change",
            file=metadata if paths.get(item_id) else None,
            line=line,
        )
        found.append(item)
    return found


def difference_of(note: str) -> str:
    """What differs, from the note of a skipped version ("install.sh differs"); the note itself otherwise."""
    match = _DIFFERENCE.search(note)
    return match.group("what") if match else note


def failure_causes(report: dict[str, Any]) -> list[Cause]:
    """The distinct causes of failed repositories (and the collection), each with what it stopped."""
    causes: dict[tuple[str, str], Cause] = {}
    items = [
        (item_id, repo) for item_id, entry in entries(report).items() for repo in entry.get("repositories") or []
    ]
    if report.get("collection"):
        items.append(("the collection", report["collection"]))
    for subject, repo in items:
        if repo.get("status") != "failed" or not repo.get("error"):
            continue
        key = (str(repo.get("cause") or repo["error"]), str(repo.get("hint") or ""))
        cause = causes.setdefault(key, Cause(*key, int(repo.get("exitCode") or 1)))
        if subject not in cause.subjects:
            cause.subjects.append(subject)
    return list(causes.values())


def entries(report: dict[str, Any]) -> dict[str, Any]:
    """The per-id entries of a publish report, whichever kind it is about."""
    found: dict[str, Any] = report.get("templates" if report.get("kind") == TEMPLATE else "features") or {}
    return found


def ci_credentials_fix(registry: str) -> str:
    if registry == GITHUB_REGISTRY:
        return (
            "give the job `permissions: packages: write` so the action pushes with its GITHUB_TOKEN, or log in "
            "to ghcr.io before this step (docker/login-action with a token that has write:packages); a package "
            "first pushed by hand also needs this repository given write access in the package's settings"
        )
    return (
        f"log in to {registry} before this step (e.g. docker/login-action with a secret), or set "
        f"DEVCONTAINERS_OCI_AUTH to {registry}|<user>|<token> from a secret"
    )
