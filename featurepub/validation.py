"""The tier machinery every artifact kind validates with (features and templates).

A kind supplies rule functions that report into a `Findings` per file, each finding with its
tier (featurepub.errors.Tier): ERROR always blocks, SCHEMA blocks unless schema validation is
off, WARNING never blocks. The schema's own findings come from featurepub.schemas; `combine`
drops a schema finding that an ERROR rule already reported for the same field, so one mistake
gives one line.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

from featurepub.errors import Problem, Tier


class Findings:
    """The problems found in one file, in the order the rules found them."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.items: list[Problem] = []

    def error(self, message: str, *, field: str = "", why: str = "") -> None:
        self.items.append(Problem(self.path, message, Tier.ERROR, why, field))

    def warn(self, message: str, why: str, *, field: str = "") -> None:
        self.items.append(Problem(self.path, message, Tier.WARNING, why, field))

    def schema(self, message: str, why: str, *, field: str = "") -> None:
        """What the kind's schema refuses but a JSON schema cannot say well (e.g. two keys together)."""
        self.items.append(Problem(self.path, message, Tier.SCHEMA, why, field))


def field_path(parts: Iterable[str | int]) -> str:
    """`options.version.default`, `installsAfter[0]`: where a value sits in a JSON document."""
    text = ""
    for part in parts:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else str(part))
    return text


def _covers(outer: str, inner: str) -> bool:
    return inner == outer or inner.startswith((f"{outer}.", f"{outer}["))


def combine(rule_problems: list[Problem], schema_problems: list[Problem]) -> list[Problem]:
    """Rule findings, then the schema's, minus schema findings on a field an ERROR rule covers."""
    covered = [p.field for p in rule_problems if p.tier is Tier.ERROR and p.field]
    kept = [s for s in schema_problems if not any(_covers(field, s.field) for field in covered)]
    return [*rule_problems, *kept]


def split(problems: Iterable[Problem], *, schema_validation: bool) -> tuple[list[Problem], list[Problem]]:
    """(what blocks, what is only a warning) under the given policy."""
    blocking: list[Problem] = []
    warnings: list[Problem] = []
    for problem in problems:
        (blocking if problem.blocks(schema_validation) else warnings).append(problem)
    return blocking, warnings
