"""Each command's --help: a usage line as other command lines write it, its own exit codes, -q/-v
where it prints anything, and a top-level list that is not cut."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from featurepub.cli.app import COMMAND_MODULES

# command -> (usage after "featurepub", the start of its exit codes, whether it takes -q and -v); PATH is
# optional where it defaults to the current folder, as with the reference CLI.
COMMANDS = {
    "validate": ("validate [OPTIONS] [PATH]", "Exit codes: 0 all valid", True),
    "package": ("package [OPTIONS] [PATH]", "Exit codes: 0 packaged", True),
    "publish": ("publish [OPTIONS] [PATH]", "Exit codes: 0 everything published", True),
    "push-layout": ("push-layout [OPTIONS] DIR", "Exit codes: 0 everything pushed", True),
    "inspect": ("inspect [OPTIONS] REF", "Exit codes: 0 read", True),
    "tags": ("tags [OPTIONS] REF", "Exit codes: 0 read", True),
    "docs": ("docs [OPTIONS] [PATH]", "Exit codes: 0 written", True),
    "profiles": ("profiles [OPTIONS] [NAME]", "Exit codes: 0 shown", False),  # prints only what it is asked
    "login": ("login [OPTIONS] REGISTRY", "Exit codes: 0 logged in", True),
    "logout": ("logout [OPTIONS] REGISTRY", "Exit codes: 0 removed", True),
    "auth status": ("auth status [OPTIONS] REGISTRY", "Exit codes: 0 a source has credentials", True),
}
ENV = {"COLUMNS": "80", "TERM": "dumb"}


def help_of(command: str) -> str:
    """--help as users run it: the `featurepub` script the package installs."""
    script = Path(sys.executable).parent / "featurepub"
    env = {**os.environ, **ENV}
    run = subprocess.run(
        [script, *command.split(), "--help"], capture_output=True, text=True, env=env, check=False
    )
    assert run.returncode == 0, run.stderr
    return run.stdout


def epilog(text: str) -> str:
    """The exit codes paragraph, unwrapped."""
    return " ".join(text[text.index("Exit codes:") :].split())


@pytest.mark.parametrize("command", COMMANDS)
def test_each_command_has_its_usage_exit_codes_and_output_options(command: str) -> None:
    usage, codes, quiet_verbose = COMMANDS[command]
    text = help_of(command)
    assert text.splitlines()[0] == f"Usage: featurepub {usage}"
    # No typer placeholders: `{path}`, `<str>`, `<int range>`, `<path>`.
    assert not re.search(r"\{[a-z_]+\}|<(str|int|float|path|int range|float range)>", text), text
    assert epilog(text).startswith(codes)
    if command != "publish":
        assert "everything published" not in text  # publish's exit codes are publish's own
    assert " 2 invalid" in epilog(text)
    for option in ("-q, --quiet", "-v, --verbose"):
        assert (option in text) is quiet_verbose, (command, option)


def test_validate_says_nothing_about_publishing() -> None:
    text = help_of("validate")
    assert "published" not in text.replace("publishing would fail", "")


def test_the_command_list_is_not_cut() -> None:
    text = help_of("")
    listed = text[text.index("Commands:") : text.index("Exit codes:")].splitlines()[1:]
    rows = {line.split()[0]: line for line in listed if line.strip()}
    assert set(rows) == set(COMMAND_MODULES)
    for row in rows.values():
        assert len(row) <= 80
        assert not row.rstrip().endswith(("...", "…")), row
    assert epilog(text).startswith("Exit codes: 0 done; 1 incomplete")
    assert "COMMAND --help" in epilog(text)


def test_options_read_like_a_command_line() -> None:
    text = help_of("publish")
    for option in (
        "-r, --registry HOST",
        "-n, --namespace NAMESPACE",
        "--layout DIR",
        "--report FILE",
        "--timeout SECONDS",
        "--retries N",
        "-u, --username USER",
    ):
        assert option in text, option
