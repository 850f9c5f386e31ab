"""`featurepub validate` and `featurepub package`: work on feature folders, no registry."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer

from featurepub.cli.common import EXIT_CODES_HELP, PathArgument, QuietOption, fail


def validate(path: PathArgument, quiet: QuietOption = False) -> None:
    """Check every feature under PATH and list all problems at once (nothing is pushed)."""
    from featurepub.errors import FeaturepubError
    from featurepub.features.collection import load_collection

    try:
        collection = load_collection(path)
    except FeaturepubError as exc:
        fail(exc)
    if not quiet:
        for feature in collection.features:
            print(f"ok: {feature.id} {feature.version} ({feature.metadata_path})", file=sys.stderr)


def package(
    path: PathArgument,
    output: Annotated[Path, typer.Option("--output", "-o", help="Folder for the tarballs and collection file.")],
    quiet: QuietOption = False,
) -> None:
    """Write devcontainer-feature-<id>.tgz per feature and devcontainer-collection.json to --output.

    The tarballs are reproducible: the same folder content gives the same bytes (set
    SOURCE_DATE_EPOCH to choose the timestamp stored in them).
    """
    from featurepub.errors import FeaturepubError, InputError
    from featurepub.features.archive import package_feature
    from featurepub.features.collection import COLLECTION_FILE, load_collection

    try:
        collection = load_collection(path)
        output.mkdir(parents=True, exist_ok=True)
        for feature in collection.features:
            blob = package_feature(feature, output)
            if not quiet:
                print(f"{output / feature.archive_name}  {blob.digest}  {blob.size}", file=sys.stderr)
        (output / COLLECTION_FILE).write_bytes(collection.collection_document())
    except FeaturepubError as exc:
        fail(exc)
    except OSError as exc:
        fail(InputError(f"cannot write to {output}: {exc.strerror or exc}"))


def register(app: typer.Typer) -> None:
    app.command(epilog=EXIT_CODES_HELP)(validate)
    app.command(epilog=EXIT_CODES_HELP)(package)
