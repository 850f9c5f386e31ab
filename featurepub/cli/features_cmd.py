"""`featurepub validate` and `featurepub package`: work on feature or template folders, no registry."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from featurepub.cli.common import (
    CURRENT_FOLDER,
    LogLevel,
    PathArgument,
    QuietOption,
    SchemaValidationOption,
    VerboseOption,
    fail,
)

if TYPE_CHECKING:
    from featurepub.errors import Problem

VALIDATE_HELP = (
    "Exit codes: 0 all valid (warnings do not count); 2 invalid features or templates: every problem is "
    "listed on stderr (and with --json on stdout)."
)
PACKAGE_HELP = (
    "Exit codes: 0 packaged; 2 invalid features or templates (every problem is listed on stderr), or the "
    "output folder cannot be written."
)


def _warn(warnings: tuple[Problem, ...] | list[Problem]) -> None:
    from featurepub.cli.output import Console

    console = Console()
    for warning in warnings:
        console.warning(str(warning))


def validate(
    path: PathArgument = CURRENT_FOLDER,
    schema_validation: SchemaValidationOption = True,
    as_json: Annotated[
        bool,
        typer.Option(
            "--json", help="Print every feature or template and every problem (file, tier, message) as JSON."
        ),
    ] = False,
    quiet: QuietOption = False,
    verbose: VerboseOption = False,
) -> None:
    """Check every feature or template under PATH and list all problems at once (nothing is pushed).

    Problems come in three tiers: errors (publishing would fail or consumers break) always stop;
    schema errors (what the spec's JSON schema refuses; for templates, featurepub's schema of the spec's
    property tables) stop unless --no-schema-validation; warnings (lint: `warning: <file>: <what>
    (<why it matters>)`) never change the exit code.
    """
    from featurepub.errors import FeatureError
    from featurepub.features.packaging import validate_path

    result = validate_path(path, schema_validation=schema_validation)
    if as_json:
        print(json.dumps(result.to_json(), indent=2))
    if not result.ok:
        fail(FeatureError(list(result.problems), list(result.warnings), subject=result.subject))
    _warn(result.warnings)
    from featurepub.cli.output import Console

    console = Console(quiet=quiet, verbose=verbose)
    for feature in result.features:
        console.info(f"ok: {feature.id} {feature.version} ({feature.metadata_path})")
        console.debug(f"  publishes to: {', '.join(feature.repository_names)}")
    schema = "checked" if schema_validation else "reported as warnings (--no-schema-validation)"
    console.debug(f"{result.kind.count(len(result.features))}; what the spec's JSON schema refuses: {schema}")


def _clean(output: Path, sources: list[Path]) -> None:
    """Empty `output` (kept itself), unless it holds any of `sources`: that would delete the features."""
    import shutil

    from featurepub.errors import InputError

    if not output.exists():
        return
    if not output.is_dir() or output.is_symlink():
        raise InputError(f"cannot clean {output}: it is not a folder")
    real = output.resolve()
    for source in sources:
        if source.resolve().is_relative_to(real):
            raise InputError(
                f"refusing to clean {output}: it holds the features being packaged ({source})",
                hint="choose an output folder outside the source, e.g. -o ./output",
            )
    for child in output.iterdir():
        if child.is_dir() and not child.is_symlink():
            shutil.rmtree(child)
        else:
            child.unlink()


def package(
    path: PathArgument = CURRENT_FOLDER,
    output: Annotated[
        Path,
        typer.Option(
            "--output", "-o", "--output-folder", metavar="DIR", help="Folder for the tarballs and collection file."
        ),
    ] = Path("output"),
    force_clean: Annotated[
        bool,
        typer.Option(
            "--force-clean-output-folder",
            "-f",
            help="Empty the output folder first (as the reference CLI's -f does); refused when it holds the "
            "source. Without it, files there are overwritten and others kept.",
        ),
    ] = False,
    schema_validation: SchemaValidationOption = True,
    log_level: Annotated[
        LogLevel,
        typer.Option(
            "--log-level",
            case_sensitive=False,
            help="Taken as the reference CLI takes it; package prints one line per tarball at every level.",
        ),
    ] = LogLevel.INFO,
    quiet: QuietOption = False,
    verbose: VerboseOption = False,
) -> None:
    """Write devcontainer-feature-<id>.tgz per feature (devcontainer-template-<id>.tgz per template) and
    devcontainer-collection.json to --output (default ./output, as with the reference CLI).

    The tarballs are reproducible: the same folder content gives the same bytes (set
    SOURCE_DATE_EPOCH to choose the timestamp stored in them). A template's devcontainer-template.json
    is stored with what packaging adds (type, files, fileCount, featureIds), as the reference CLI does.
    An output folder inside a feature folder is refused: it would be packed into that feature.
    """
    from featurepub.errors import FeaturepubError, InputError
    from featurepub.features.archive import package_feature
    from featurepub.features.collection import COLLECTION_FILE, load_collection

    try:
        collection = load_collection(path, schema_validation=schema_validation)
        _warn(collection.warnings)
        for feature in collection.features:
            if output.resolve().is_relative_to(feature.directory.resolve()):
                raise InputError(
                    f"the output folder {output} is inside the feature folder {feature.directory}: "
                    "it would be packed into the feature",
                    hint="choose an output folder outside it, e.g. -o ../output",
                )
        if force_clean:
            _clean(output, [path, *(f.directory for f in collection.features)])
        output.mkdir(parents=True, exist_ok=True)
        for feature in collection.features:
            blob = package_feature(feature, output)
            if not quiet:
                print(f"{output / feature.archive_name}  {blob.digest}  {blob.size}", file=sys.stderr)
        (output / COLLECTION_FILE).write_bytes(collection.collection_document())
        if verbose and not quiet:
            listed = collection.kind.count(len(collection.features))
            print(f"{output / COLLECTION_FILE}  (lists {listed})", file=sys.stderr)
    except FeaturepubError as exc:
        fail(exc)
    except OSError as exc:
        fail(InputError(f"cannot write to {output}: {exc.strerror or exc}"))


def register(app: typer.Typer) -> None:
    app.command(epilog=VALIDATE_HELP)(validate)
    app.command(epilog=PACKAGE_HELP)(package)
