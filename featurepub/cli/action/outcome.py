"""What one run of the action did, collection by collection, and the step outputs made from it."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from featurepub.cli.action.findings import Cause, Located, Unbumped, entries
from featurepub.cli.action.inputs import Job

# Statuses after which the version is in the registry (skipped: with the content that was there).
IN_REGISTRY = ("published", "unchanged", "skipped")


@dataclass
class Validation:
    job: Job
    ok: bool
    kind: str = ""  # what `validate --json` found: feature or template
    paths: dict[str, str] = field(default_factory=dict)  # id -> folder
    problems: list[Located] = field(default_factory=list)
    causes: list[Cause] = field(default_factory=list)  # validate could not run (e.g. no such folder)

    @property
    def count(self) -> int:
        return len(self.paths)


@dataclass
class Publication:
    job: Job
    code: int = 0
    report: dict[str, Any] | None = None
    causes: list[Cause] = field(default_factory=list)
    unbumped: list[Unbumped] = field(default_factory=list)
    not_run: str = ""  # why this collection was not published at all

    @property
    def kind(self) -> str:
        return str((self.report or {}).get("kind") or self.job.kind)


@dataclass
class DocsRun:
    job: Job
    code: int
    written: list[str] = field(default_factory=list)
    causes: list[Cause] = field(default_factory=list)


@dataclass
class Outcome:
    dry_run: bool = False
    validate_only: bool = False
    refused: str = ""  # the inputs could not be followed
    validations: list[Validation] = field(default_factory=list)
    publications: list[Publication] = field(default_factory=list)
    docs: list[DocsRun] = field(default_factory=list)
    docs_skipped: str = ""  # why generate-docs did not run
    tags: list[str] = field(default_factory=list)

    @property
    def reports(self) -> list[dict[str, Any]]:
        return [p.report for p in self.publications if p.report is not None]

    @property
    def valid(self) -> bool:
        return all(v.ok for v in self.validations)

    def digests(self) -> dict[str, str]:
        """Every feature and template now in the registry: the digest its version's tag points at there."""
        found: dict[str, str] = {}
        for report in self.reports:
            for item_id, entry in entries(report).items():
                primary = (entry.get("repositories") or [{}])[0]
                there = entry.get("status") in IN_REGISTRY or primary.get("tags", {}).get(
                    entry.get("version")
                ) in (
                    "published",
                    "unchanged",
                )
                if there and entry.get("digest"):
                    found[item_id] = str(entry["digest"])
        return found

    def published(self) -> list[str]:
        return [i for report in self.reports for i, e in entries(report).items() if e.get("status") == "published"]

    def report_output(self) -> dict[str, Any]:
        """One publish: its report as `featurepub publish --report` writes it; else (nothing published, or
        features and templates) `{"ok", "reports": [...]}`."""
        reports = self.reports
        if len(reports) == 1 and len(self.publications) == 1:
            return reports[0]
        ok = not self.refused and self.valid and all(p.code == 0 and not p.not_run for p in self.publications)
        return {"ok": ok, "reports": reports}

    def outputs(self) -> dict[str, str]:
        return {
            "report": json.dumps(self.report_output()),
            "digests": json.dumps(self.digests()),
            "published": json.dumps(self.published()),
            "git-tags": json.dumps(self.tags),
        }
