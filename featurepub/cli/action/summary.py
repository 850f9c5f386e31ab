"""The step summary (Markdown): first what was not published and why, then a table per collection."""

from __future__ import annotations

from typing import Any

from featurepub.cli.action.findings import difference_of, entries
from featurepub.cli.action.outcome import Outcome, Publication
from featurepub.cli.output import human_size

_MAX_LISTED = 30
_ICON = {
    "published": "✅",
    "unchanged": "✔️",
    "planned": "📝",
    "skipped": "⚠️",
    "failed": "❌",
    "not-attempted": "⏸️",
    "interrupted": "⏹️",
}


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def _ids(subjects: list[str]) -> str:
    return ", ".join(s if s.startswith("the ") else f"`{s}`" for s in subjects)


def not_published(outcome: Outcome) -> list[str]:
    """One bullet per reason something was not published."""
    lines: list[str] = []
    if outcome.refused:
        lines.append(f"- Nothing was published: {outcome.refused}")
    for validation in outcome.validations:
        if validation.ok:
            continue
        errors = [p for p in validation.problems if p.level == "error"]
        what = f"{len(errors)} problem{'s' if len(errors) != 1 else ''}" if errors else "a problem"
        have = "has" if validation.job.label == "collection" else "have"
        lines.append(
            f"- Nothing was published: the {validation.job.label} at `{validation.job.path}` {have} {what}:"
        )
        lines += [f"  - {problem}" for problem in errors[:_MAX_LISTED]]
        lines += [f"  - {cause.cause}" + (f" ({cause.hint})" if cause.hint else "") for cause in validation.causes]
    for publication in outcome.publications:
        lines += _publication_reasons(publication)
    return lines


def _publication_reasons(publication: Publication) -> list[str]:
    job = publication.job
    if publication.not_run:
        return [f"- The {job.label} (`{job.location}`): not published, {publication.not_run}"]
    lines = [
        f"- `{u.id}` {u.version}: the registry has {u.version} with other content ({u.difference}); bump the "
        "version to publish the change"
        for u in publication.unbumped
    ]
    for cause in publication.causes:
        text = cause.message(job.registry, subjects=False)
        lines.append(f"- {_ids(cause.subjects)}: {text}" if cause.subjects else f"- {text}")
    report = publication.report or {}
    waiting = [i for i, e in entries(report).items() if e.get("status") in ("not-attempted", "interrupted")]
    if waiting:
        why = "the run was interrupted" if report.get("interrupted") else "the failure above stopped the run"
        lines.append(f"- {_ids(waiting)}: not attempted, {why}; publishing again finishes the job")
    collection = report.get("collection") or {}
    if collection.get("status") == "not-attempted" and not waiting and publication.causes:
        lines.append(
            f"- the collection `{collection.get('repository')}:latest`: not pushed ({collection.get('note', '')})"
        )
    return lines


def render(outcome: Outcome) -> str:
    reasons = not_published(outcome)
    out = ["## featurepub", ""]
    if reasons:
        out += ["**Not published:**", "", *reasons, ""]
    elif outcome.publications:
        out += [_all_in_place(outcome), ""]
    elif outcome.validate_only:
        out += ["**Nothing was published:** validate-only checks and publishes nothing.", ""]
    elif outcome.docs:
        out += ["**Nothing was published:** publish-features and publish-templates are 'false' (docs only).", ""]
    else:
        out += [
            "**Nothing was published:** publish-features, publish-templates, validate-only and generate-docs "
            "are all 'false' (as with devcontainers/action, nothing is published by default).",
            "",
        ]
    for validation in outcome.validations:
        if validation.ok and not outcome.publications:
            kind = validation.kind + "s" if validation.kind else "items"
            out += [
                f"Validated `{validation.job.path}`: {validation.count} {kind}, all valid"
                + (f" ({len(validation.problems)} notes in the annotations)." if validation.problems else "."),
                "",
            ]
    for publication in outcome.publications:
        if publication.report is not None:
            out += table(publication.report)
    for docs in outcome.docs:
        written = len(docs.written)
        state = f"{written} README.md written" if written else "every README.md was up to date"
        if docs.code:
            state = "failed (see the annotations)"
        out += [f"generate-docs `{docs.job.path}`: {state}.", ""]
    if outcome.docs_skipped:
        out += [f"generate-docs: not run, {outcome.docs_skipped}.", ""]
    if outcome.tags:
        out += ["Git tags added: " + " ".join(f"`{t}`" for t in outcome.tags), ""]
    return "\n".join(out) + "\n"


def _all_in_place(outcome: Outcome) -> str:
    parts = []
    for publication in outcome.publications:
        report = publication.report or {}
        statuses = [e.get("status") for e in entries(report).values()]
        kind = f"{publication.kind}s" if len(statuses) != 1 else publication.kind
        verb = "to publish" if report.get("dryRun") else "published"
        new, there = statuses.count("published") + statuses.count("planned"), statuses.count("unchanged")
        parts.append(
            f"{len(statuses)} {kind} at `{publication.job.location}` ({new} {verb}, {there} already there)"
        )
    heading = "**Dry run: nothing was pushed.**" if outcome.dry_run else "**Everything is published:**"
    return f"{heading} " + "; ".join(parts) + "."


def _note(repository: dict[str, Any]) -> str:
    if repository.get("status") == "skipped":
        return "other content is there: " + difference_of(str(repository.get("note") or ""))
    return str(repository.get("cause") or repository.get("error") or repository.get("note") or "")


def table(report: dict[str, Any]) -> list[str]:
    kind = "Template" if report.get("kind") == "template" else "Feature"
    heading = "dry run" if report.get("dryRun") else "publish"
    lines = [
        f"### {kind}s, {heading}: `{report.get('target')}/{report.get('namespace')}`",
        "",
        f"| {kind} | Version | Status | Tags | Digest | Size | Note |",
        "|---|---|---|---|---|---:|---|",
    ]
    for item_id, entry in entries(report).items():
        status = str(entry.get("status", ""))
        primary = (entry.get("repositories") or [{}])[0]
        tag_states: dict[str, str] = primary.get("tags") or {}
        shown = [t for t, s in tag_states.items() if s in ("published", "planned", "unchanged")]
        tags = " ".join(f"`{t}`" for t in shown) or "-"
        digest = f"`{entry.get('digest')}`" if status in ("published", "unchanged", "planned", "skipped") else "-"
        size = human_size(int(entry["size"])) if isinstance(entry.get("size"), int) else "-"
        notes = [_note(r) for r in entry.get("repositories") or []]
        note = _cell("; ".join(dict.fromkeys(str(n) for n in notes if n)))
        version = entry.get("version", "")
        lines.append(
            f"| `{item_id}` | {version} | {_ICON.get(status, '')} {status} | {tags} | {digest} | {size} | {note} |"
        )
    collection = report.get("collection") or {}
    uploaded = human_size(int(report.get("bytesUploaded") or 0))
    lines += [
        "",
        f"Collection `{collection.get('repository', '')}:latest`: {collection.get('status', 'not pushed')}; "
        f"{uploaded} uploaded.",
        "",
    ]
    return lines
