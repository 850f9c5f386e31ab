"""featurepub's command line. Commands declare options, call the library once, render the result.

Library imports happen inside commands so that `featurepub --help` starts fast.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated, NoReturn

import typer

from featurepub import __version__

EXIT_CODES_HELP = (
    "Exit codes: 0 everything published (or already there); 1 the run finished but something was not "
    "published (see the report); 2 invalid input (features, names, config, options), nothing pushed; "
    "3 credentials missing or refused; 4 the registry or network failed."
)

app = typer.Typer(
    name="featurepub",
    help="Publish Dev Container Features to OCI registries, reproducibly, readable by the reference CLI.",
    epilog=EXIT_CODES_HELP,
    no_args_is_help=True,
    add_completion=True,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
)

QuietOption = Annotated[bool, typer.Option("--quiet", "-q", help="Print only errors and the result.")]
VerboseOption = Annotated[
    bool, typer.Option("--verbose", "-v", help="Print every step (secrets are never printed).")
]
PathArgument = Annotated[
    Path, typer.Argument(help="A feature folder, or a collection (a folder with src/<id>/ feature folders).")
]


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


def _fail(error: Exception, quiet: bool = False) -> NoReturn:
    from featurepub.cli.output import Console
    from featurepub.errors import FeaturepubError

    assert isinstance(error, FeaturepubError)
    Console(quiet=quiet).error(error)
    raise typer.Exit(error.exit_code)


@app.command(epilog=EXIT_CODES_HELP)
def validate(path: PathArgument, quiet: QuietOption = False) -> None:
    """Check every feature under PATH and list all problems at once (nothing is pushed)."""
    from featurepub.errors import FeaturepubError
    from featurepub.features.collection import load_collection

    try:
        collection = load_collection(path)
    except FeaturepubError as exc:
        _fail(exc)
    if not quiet:
        for feature in collection.features:
            print(f"ok: {feature.id} {feature.version} ({feature.metadata_path})", file=sys.stderr)


@app.command(epilog=EXIT_CODES_HELP)
def package(
    path: PathArgument,
    output: Annotated[Path, typer.Option("--output", "-o", help="Folder for the tarballs and collection file.")],
    quiet: QuietOption = False,
) -> None:
    """Write devcontainer-feature-<id>.tgz per feature and devcontainer-collection.json to --output.

    The tarballs are reproducible: the same folder content gives the same bytes (set
    SOURCE_DATE_EPOCH to choose the timestamp stored in them).
    """
    from featurepub.errors import FeaturepubError
    from featurepub.features.archive import package_layer
    from featurepub.features.collection import COLLECTION_FILE, load_collection

    try:
        collection = load_collection(path)
        output.mkdir(parents=True, exist_ok=True)
        for feature in collection.features:
            blob = package_layer(feature.directory, feature.archive_name, output)
            if not quiet:
                print(f"{output / feature.archive_name}  {blob.digest}  {blob.size}", file=sys.stderr)
        (output / COLLECTION_FILE).write_bytes(collection.collection_document())
    except FeaturepubError as exc:
        _fail(exc)
    except OSError as exc:
        from featurepub.errors import InputError

        _fail(InputError(f"cannot write to {output}: {exc.strerror or exc}"))


@app.command(epilog=EXIT_CODES_HELP)
def publish(
    path: PathArgument,
    registry: Annotated[
        str,
        typer.Option("--registry", "-r", help="Registry host[:port]. Plain HTTP for localhost/127.0.0.1/[::1]."),
    ] = "ghcr.io",
    namespace: Annotated[
        str | None,
        typer.Option("--namespace", "-n", help="Repository path the features go under, e.g. owner/features."),
    ] = None,
    layout: Annotated[
        Path | None,
        typer.Option(help="Write an OCI image layout folder instead of pushing to a registry (no server needed)."),
    ] = None,
    force: Annotated[bool, typer.Option(help="Replace an existing X.Y.Z whose content differs.")] = False,
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Show what would be pushed; push nothing.")] = False,
    keep_going: Annotated[
        bool, typer.Option("--keep-going", help="After a feature fails, still publish the others.")
    ] = False,
    insecure: Annotated[
        list[str] | None, typer.Option(help="Use plain HTTP for this registry host (repeatable).")
    ] = None,
    report_file: Annotated[
        Path | None, typer.Option("--report", help="Also write the full JSON report to this file.")
    ] = None,
    quiet: QuietOption = False,
    verbose: VerboseOption = False,
) -> None:
    """Package and push every feature under PATH, then the collection metadata.

    Each feature version X.Y.Z is tagged X.Y.Z, and X.Y, X and latest when it is the
    highest release in that range (a prerelease moves no floating tag). An existing
    X.Y.Z is left alone (reported as unchanged or skipped) unless --force. Prints the
    reference CLI's JSON ({"<id>": {"publishedTags", "digest", "version"}}) on stdout.
    """
    from featurepub.api import publish as run_publish
    from featurepub.cli.output import Console
    from featurepub.errors import FeaturepubError, InputError

    console = Console(quiet=quiet, verbose=verbose)
    if namespace is None:
        _fail(InputError("--namespace is required", hint="e.g. --namespace my-org/features"))
    try:
        report = run_publish(
            path,
            registry=None if layout else registry,
            namespace=namespace,
            layout=layout,
            force=force,
            dry_run=dry_run,
            keep_going=keep_going,
            insecure_hosts=insecure or [],
            listener=console.event,
        )
    except FeaturepubError as exc:
        _fail(exc, quiet)
    console.summary(report)
    print(json.dumps(report.to_json(), indent=2))
    if report_file is not None:
        report_file.write_text(json.dumps(report.summary_json(), indent=2) + "\n", encoding="utf-8")
    if not report.ok:
        raise typer.Exit(1)


def main() -> None:
    app()
