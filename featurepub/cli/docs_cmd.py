"""`featurepub docs PATH`: write each feature's or template's README.md from its metadata."""

from __future__ import annotations

from typing import Annotated

import typer

from featurepub.cli.common import (
    CURRENT_FOLDER,
    PathArgument,
    QuietOption,
    SchemaValidationOption,
    VerboseOption,
    fail,
)

DOCS_EXIT_CODES_HELP = (
    "Exit codes: 0 written (or already up to date); 1 with --check, some README.md is out of date; "
    "2 invalid features, templates or options."
)


def docs(
    path: PathArgument = CURRENT_FOLDER,
    namespace: Annotated[
        str | None,
        typer.Option(
            "--namespace",
            "-n",
            metavar="NAMESPACE",
            help="Where the features are published, for their usage snippet (required for features; "
            "templates have no snippet).",
        ),
    ] = None,
    registry: Annotated[
        str, typer.Option("--registry", "-r", metavar="HOST", help="Registry host of the usage snippet.")
    ] = "ghcr.io",
    check: Annotated[
        bool, typer.Option("--check", help="Write nothing; exit 1 when a README.md would change (for CI).")
    ] = False,
    schema_validation: SchemaValidationOption = True,
    quiet: QuietOption = False,
    verbose: VerboseOption = False,
) -> None:
    """Write README.md in each feature or template folder from its metadata, like the reference action's
    generate-docs. A feature's: title, description, a usage snippet with the published reference, the
    options table, VS Code extensions, dependencies, then the folder's hand-written NOTES.md. A template's:
    title, description, the options table, then NOTES.md.

    The output depends only on the metadata and NOTES.md, so re-running it on unchanged folders changes
    nothing.
    """
    from featurepub.api import generate_docs
    from featurepub.cli.output import Console, plural
    from featurepub.errors import FeaturepubError, InputError

    console = Console(quiet=quiet, verbose=verbose)
    try:
        result = generate_docs(
            path, registry=registry, namespace=namespace, check=check, schema_validation=schema_validation
        )
    except FeaturepubError as exc:
        fail(exc)
    except OSError as exc:
        fail(InputError(f"cannot write README.md: {exc.strerror or exc}"))
    for file in result.files:
        if file.changed:
            console.info(f"{'out of date' if check else 'wrote'}: {file.path}")
        else:
            console.debug(f"up to date: {file.path}")
    if check and result.changed:
        count = len(result.changed)
        console.info(
            f"{plural(count, 'README.md file')} {'is' if count == 1 else 'are'} out of date: run featurepub docs"
        )
        raise typer.Exit(1)


def register(app: typer.Typer) -> None:
    app.command(epilog=DOCS_EXIT_CODES_HELP)(docs)
