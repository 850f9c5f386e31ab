"""Pieces every command shares: option types, the exit-code text, error rendering."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, NoReturn

import typer

EXIT_CODES_HELP = (
    "Exit codes: 0 everything published (or already there); 1 something was not published (see the "
    "report); 2 invalid input (features, names, config, options), nothing pushed; 3 credentials missing "
    "or refused; 4 the registry or network failed; 130 (143) interrupted by Ctrl-C/SIGINT (SIGTERM). With "
    "3, 4, 130 and 143 the report still says what was published, and publishing again finishes the job."
)

QuietOption = Annotated[bool, typer.Option("--quiet", "-q", help="Print only errors and the result.")]
VerboseOption = Annotated[
    bool, typer.Option("--verbose", "-v", help="Print every step (secrets are never printed).")
]
ForceOption = Annotated[bool, typer.Option(help="Replace an existing X.Y.Z tag whose content differs.")]
DryRunOption = Annotated[bool, typer.Option("--dry-run", help="Show what would be pushed; push nothing.")]
ReportOption = Annotated[
    Path | None, typer.Option("--report", help="Also write the full JSON report to this file.")
]
PathArgument = Annotated[
    Path, typer.Argument(help="A feature folder, or a collection (a folder with src/<id>/ feature folders).")
]


def fail(error: Exception, quiet: bool = False, code: int | None = None) -> NoReturn:
    """Print a FeaturepubError as one clear line (plus a hint) and exit with its code (or `code`)."""
    from featurepub.cli.output import Console
    from featurepub.errors import FeaturepubError

    if not isinstance(error, FeaturepubError):
        raise error
    Console(quiet=quiet).error(error)
    raise typer.Exit(error.exit_code if code is None else code)
