"""Talking to the Actions runner: workflow commands on stdout, and the files GITHUB_OUTPUT and
GITHUB_STEP_SUMMARY name (docs: "Workflow commands for GitHub Actions")."""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from pathlib import Path
from typing import TextIO

from featurepub.redact import redact


def escape_data(text: str) -> str:
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def escape_property(text: str) -> str:
    return escape_data(text).replace(":", "%3A").replace(",", "%2C")


class Runner:
    """Annotations and groups go to the log (stdout); outputs and the summary to the runner's files."""

    def __init__(self, env: Mapping[str, str], log: TextIO) -> None:
        self.env = env
        self.log = log
        self.workspace = Path(env.get("GITHUB_WORKSPACE") or ".").resolve()

    def command(self, name: str, message: str = "", **properties: str) -> None:
        props = ",".join(f"{key}={escape_property(value)}" for key, value in properties.items() if value)
        line = f"::{name}{' ' + props if props else ''}::{escape_data(redact(message))}"
        print(line, file=self.log, flush=True)

    def annotate(
        self, level: str, message: str, *, file: Path | str | None = None, line: int | None = None
    ) -> None:
        """`level` is error, warning or notice; a file is named relative to the repository, as GitHub shows it."""
        where = {"file": self.repo_path(file)} if file else {}
        if file and line:
            where["line"] = str(line)
        self.command(level, message, **where)

    def info(self, message: str) -> None:
        print(redact(message), file=self.log, flush=True)

    def repo_path(self, path: Path | str) -> str:
        try:
            return Path(path).resolve().relative_to(self.workspace).as_posix()
        except ValueError:
            return str(path)

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
                handle.write(redact(markdown))
