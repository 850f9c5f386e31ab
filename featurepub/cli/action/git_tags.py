"""Git tags `feature_<id>_<version>` / `template_<id>_<version>` on the commit, for what this run published.

devcontainers/action makes them through the GitHub API; featurepub tags the checkout and pushes the
tags to `origin` with the credentials actions/checkout left there (the job needs `contents: write`
either way). A tag that cannot be added is a warning with the command that adds it by hand, as there.
"""

from __future__ import annotations

import subprocess
from collections.abc import Mapping
from typing import Any

from featurepub.cli.action.findings import entries
from featurepub.cli.action.workflow import Runner


def tag_published(reports: list[dict[str, Any]], runner: Runner, env: Mapping[str, str]) -> list[str]:
    workspace = env.get("GITHUB_WORKSPACE") or "."
    sha = env.get("GITHUB_SHA") or "HEAD"

    def git(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(["git", "-C", workspace, *args], capture_output=True, text=True, check=False)

    created = []
    for report in reports:
        kind = str(report.get("kind") or "feature")
        for item_id, entry in entries(report).items():
            if entry.get("status") != "published":
                continue
            tag = f"{kind}_{item_id}_{entry.get('version')}"
            if git("rev-parse", "-q", "--verify", f"refs/tags/{tag}").returncode == 0:
                runner.info(f"git tag {tag} already exists")
                continue
            made = git("tag", tag, sha)
            pushed = git("push", "origin", f"refs/tags/{tag}") if made.returncode == 0 else made
            if pushed.returncode != 0:
                why = pushed.stderr.strip().splitlines()[-1:] or ["git failed"]
                runner.annotate(
                    "warning",
                    f"could not add the git tag {tag} ({why[0][-300:]}); add it by hand: git tag {tag} {sha}",
                )
                continue
            runner.info(f"git tag {tag} added")
            created.append(tag)
    return created
