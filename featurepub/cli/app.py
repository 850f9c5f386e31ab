"""featurepub's command line. Commands declare options, call the library once, render the result.

Each command group lives in its own module and registers itself on the app. Library imports
happen inside commands, and a run loads only the module of the command it names, so that
`featurepub --help` and `featurepub publish` start fast.
"""

from __future__ import annotations

import importlib
import os
import sys
from typing import Annotated

import typer
from typer import _click as click
from typer.core import TyperCommand

from featurepub import __version__
from featurepub.cli.common import APP_EXIT_CODES_HELP

# Which module registers each top-level command (tests/unit/test_cli_commands.py keeps it true).
COMMAND_MODULES = {
    "validate": "features_cmd",
    "package": "features_cmd",
    "publish": "publish_cmd",
    "push-layout": "layout_cmd",
    "inspect": "inspect_cmd",
    "tags": "inspect_cmd",
    "docs": "docs_cmd",
    "profiles": "profiles_cmd",
    "login": "auth_cmd",
    "logout": "auth_cmd",
    "auth": "auth_cmd",
}


# What `featurepub --help` lists for each command: short enough not to be cut on 80 columns.
SHORT_HELP = {
    "validate": "Check features or templates; list every problem.",
    "package": "Write the layers and collection file to a folder.",
    "publish": "Validate, package and push to a registry or layout.",
    "push-layout": "Push an OCI image layout to a registry.",
    "inspect": "Show what a reference points at.",
    "tags": "List a repository's tags, newest first.",
    "docs": "Write each README.md from the metadata.",
    "profiles": "List the registry profiles and their quirks.",
    "login": "Check credentials, then store them.",
    "logout": "Remove the credentials login stored.",
    "auth": "See which credentials featurepub uses.",
}


def _version(value: bool) -> None:
    if value:
        print(f"featurepub {__version__}")
        raise typer.Exit()


def _root(
    version: Annotated[
        bool, typer.Option("--version", callback=_version, is_eager=True, help="Print the version and exit.")
    ] = False,
) -> None:
    """Publish Dev Container Features and Templates to OCI registries."""


def build_app(command: str | None = None) -> typer.Typer:
    """The command line; given a `command` name it knows, only that command's module is loaded.
    Typer converts every registered command's options on each run, so fewer is faster."""
    app = typer.Typer(
        name="featurepub",
        help="Publish Dev Container Features and Templates to OCI registries, reproducibly, readable by the "
        "reference CLI.",
        epilog=APP_EXIT_CODES_HELP,
        no_args_is_help=True,
        add_completion=True,
        pretty_exceptions_enable=False,
        rich_markup_mode=None,
    )
    app.callback()(_root)
    modules = [COMMAND_MODULES[command]] if command in COMMAND_MODULES else COMMAND_MODULES.values()
    for name in dict.fromkeys(modules):
        importlib.import_module(f"featurepub.cli.{name}").register(app)
    _shorten_helps(app)
    return app


def _shorten_helps(app: typer.Typer) -> None:
    """Give each command its one line in `featurepub --help` (the first line of a docstring is cut),
    and usage lines as other command lines write them."""
    commands = list(app.registered_commands)
    for group in app.registered_groups:
        group.short_help = group.short_help or SHORT_HELP.get(group.name or "")
        commands += group.typer_instance.registered_commands if group.typer_instance else []
    for info in commands:
        name = info.name or (info.callback.__name__ if info.callback else "")
        info.short_help = info.short_help or SHORT_HELP.get(name)
        info.cls = _PlainUsage if info.cls in (None, TyperCommand) else info.cls


class _PlainUsage(TyperCommand):
    """`Usage: featurepub validate [OPTIONS] PATH`: typer writes a required argument as `{PATH}`."""

    def collect_usage_pieces(self, ctx: click.Context) -> list[str]:
        pieces = super().collect_usage_pieces(ctx)
        return [p[1:-1] if p.startswith("{") and p.endswith("}") else p for p in pieces]


def main() -> None:
    """The `featurepub` executable. Once the command is done (its output written, its files closed)
    the process ends without the interpreter's clean-up, which tears down every loaded module and
    object one by one: 40-60 ms after a publish, a tenth of a re-publish with nothing to do."""
    try:
        build_app(sys.argv[1] if len(sys.argv) > 1 else None)()
        code: object = 0
    except SystemExit as exc:
        code = exc.code
    if code is not None and not isinstance(code, int):
        print(code, file=sys.stderr)
        code = 1
    try:
        sys.stdout.flush()
        sys.stderr.flush()
    except OSError:  # stdout or stderr went away (a closed pipe): nothing more can be said
        pass
    os._exit(code or 0)
