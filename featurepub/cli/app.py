"""featurepub's command line. Commands declare options, call the library once, render the result.

Each command group lives in its own module and registers itself on `app`. Library imports
happen inside commands so that `featurepub --help` starts fast.
"""

from __future__ import annotations

from typing import Annotated

import typer

from featurepub import __version__
from featurepub.cli.common import EXIT_CODES_HELP

app = typer.Typer(
    name="featurepub",
    help="Publish Dev Container Features to OCI registries, reproducibly, readable by the reference CLI.",
    epilog=EXIT_CODES_HELP,
    no_args_is_help=True,
    add_completion=True,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
)


def _version(value: bool) -> None:
    if value:
        print(f"featurepub {__version__}")
        raise typer.Exit()


@app.callback()
def _root(
    version: Annotated[
        bool, typer.Option("--version", callback=_version, is_eager=True, help="Print the version and exit.")
    ] = False,
) -> None:
    """Publish Dev Container Features to OCI registries."""


def _register() -> None:
    # One module per command group; each adds its commands to `app`.
    from featurepub.cli import auth_cmd, docs_cmd, features_cmd, inspect_cmd, layout_cmd, profiles_cmd, publish_cmd

    for module in (features_cmd, publish_cmd, layout_cmd, inspect_cmd, docs_cmd, profiles_cmd, auth_cmd):
        module.register(app)


_register()


def main() -> None:
    app()
