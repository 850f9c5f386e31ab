"""`featurepub publish`: package and push a collection to a registry or an OCI layout."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any

import typer

from featurepub.cli.auth_cmd import (
    CaFileOption,
    Http2Option,
    InsecureOption,
    PasswordStdinOption,
    UsernameOption,
    connection_keywords,
)
from featurepub.cli.common import (
    CURRENT_FOLDER,
    DEFAULT_CONNECT_TIMEOUT,
    DEFAULT_RETRIES,
    DEFAULT_RETRY_TIME,
    DEFAULT_TIMEOUT,
    EXIT_CODES_HELP,
    ConnectTimeoutOption,
    DryRunOption,
    ForceOption,
    LogLevel,
    LogLevelOption,
    PathArgument,
    QuietOption,
    ReportOption,
    RetriesOption,
    RetryTimeOption,
    SchemaValidationOption,
    TimeoutOption,
    VerboseOption,
    fail,
    network_keywords,
)

RequestsInFlightOption = Annotated[
    int | None,
    typer.Option(
        "--requests-in-flight",
        min=1,
        metavar="N",
        help="Small requests (HEAD, GET, tag pushes) out at once; default: the registry profile's "
        "(`featurepub profiles`).",
    ),
]
UploadsInFlightOption = Annotated[
    int | None,
    typer.Option(
        "--uploads-in-flight",
        min=1,
        metavar="N",
        help="Blob uploads out at once; default: the registry profile's.",
    ),
]


def in_flight_keywords(requests: int | None, uploads: int | None) -> dict[str, Any]:
    """The library API's in-flight limit keywords, for the options given."""
    given = {"requests_in_flight": requests, "uploads_in_flight": uploads}
    return {name: value for name, value in given.items() if value is not None}


def _size(value: str) -> int:
    from featurepub.errors import InputError
    from featurepub.registry.profiles import parse_size

    try:
        return parse_size(value)
    except ValueError as exc:
        fail(InputError(f"--compare-limit: {exc}"))


def publish(
    path: PathArgument = CURRENT_FOLDER,
    registry: Annotated[
        str,
        typer.Option(
            "--registry",
            "-r",
            metavar="HOST[/PATH]",
            help="Registry host[:port], optionally with a path every repository goes under "
            "(my-registry.com/features-feed). Plain HTTP for localhost/127.0.0.1/[::1].",
        ),
    ] = "ghcr.io",
    namespace: Annotated[
        str | None,
        typer.Option(
            "--namespace",
            "-n",
            metavar="NAMESPACE",
            help="Repository path the features (or templates) go under, e.g. owner/features.",
        ),
    ] = None,
    layout: Annotated[
        Path | None,
        typer.Option(
            metavar="DIR",
            help="Write an OCI image layout folder instead of pushing to a registry (no server needed).",
        ),
    ] = None,
    force: ForceOption = False,
    dry_run: DryRunOption = False,
    keep_going: Annotated[
        bool, typer.Option("--keep-going", help="After a feature fails, still publish the others.")
    ] = False,
    insecure: InsecureOption = None,
    username: UsernameOption = None,
    password_stdin: PasswordStdinOption = False,
    ca_file: CaFileOption = None,
    http2: Http2Option = False,
    report_file: ReportOption = None,
    profile: Annotated[
        str | None,
        typer.Option(
            metavar="NAME", help="Registry profile to use (see `featurepub profiles`); default: chosen by host."
        ),
    ] = None,
    config: Annotated[
        Path | None,
        typer.Option(
            metavar="FILE",
            help="Config file with per-registry settings; default: ./featurepub.toml, else [tool.featurepub] "
            "in ./pyproject.toml.",
        ),
    ] = None,
    retries: RetriesOption = DEFAULT_RETRIES,
    retry_time: RetryTimeOption = DEFAULT_RETRY_TIME,
    timeout: TimeoutOption = DEFAULT_TIMEOUT,
    connect_timeout: ConnectTimeoutOption = DEFAULT_CONNECT_TIMEOUT,
    schema_validation: SchemaValidationOption = True,
    feature: Annotated[
        list[str] | None,
        typer.Option(
            "--feature",
            metavar="ID",
            help="Publish only this feature of the collection (repeatable); its entry is merged into the "
            "collection that is there, as with a single feature folder.",
        ),
    ] = None,
    requests_in_flight: RequestsInFlightOption = None,
    uploads_in_flight: UploadsInFlightOption = None,
    compare_limit: Annotated[
        str,
        typer.Option(
            "--compare-limit",
            metavar="SIZE",
            help="Read at most this much of a layer in the registry (as stored, and as a tar) when comparing "
            "an existing version's content with this run's; a bigger one counts as different (skipped).",
        ),
    ] = "64MiB",
    as_json: Annotated[
        bool, typer.Option("--json", help="Print the full report (what --report writes) on stdout instead.")
    ] = False,
    log_level: LogLevelOption = LogLevel.INFO,
    quiet: QuietOption = False,
    verbose: VerboseOption = False,
) -> None:
    """Package and push every feature (or template) under PATH, then the collection metadata.

    Each version X.Y.Z is tagged X.Y.Z, and X.Y, X and latest when it is the
    highest release in that range (a prerelease moves no floating tag). An existing
    X.Y.Z is left alone unless --force: unchanged when it holds the same content (also when
    another tool packed it), else skipped, naming the first difference. One feature folder
    (or --feature) is merged into the collection that is there.

    stdout gets one line of JSON, exactly as `devcontainer features publish` prints it:
    {"<id>": {"publishedTags": [...], "digest": ..., "version": ..., "publishedLegacyIds": [...]}}
    for what this run published, {} for what it did not. --json prints the full report instead.

    Ctrl-C or SIGTERM stops the run within moments: uploads and tag pushes under way are broken
    off, nothing new starts, the summary and --report say what was published, and the exit code
    is 130 (143 for SIGTERM). Publishing again finishes the job.
    """
    from featurepub.errors import FeaturepubError, InputError

    if namespace is None:
        fail(InputError("--namespace is required", hint="e.g. --namespace my-org/features"))
    limit = _size(compare_limit)
    if layout is None:
        from featurepub.registry.early_connect import connect_early

        connect_early(registry, insecure or (), path)  # first: the library loads meanwhile
    from featurepub.api import publish as run_publish
    from featurepub.cli.interrupt import Interruptible
    from featurepub.cli.output import Console

    trace = verbose or log_level is LogLevel.TRACE
    console = Console(quiet=quiet, verbose=trace or log_level is LogLevel.DEBUG)
    interruptible = Interruptible(console)
    try:
        connection = connection_keywords(insecure, username, password_stdin, ca_file, http2=http2)
        if config is None and layout is None:
            from featurepub.config import find_config

            config = find_config(Path.cwd())
        report = interruptible.run(
            lambda: run_publish(
                path,
                registry=None if layout else registry,
                namespace=namespace,
                layout=layout,
                force=force,
                dry_run=dry_run,
                keep_going=keep_going,
                profile=profile,
                config=config,
                listener=console.event,
                log=console.request_log if trace else None,
                features=feature,
                compare_limit=limit,
                **network_keywords(retries, retry_time, timeout, connect_timeout),
                **in_flight_keywords(requests_in_flight, uploads_in_flight),
                schema_validation=schema_validation,
                cancel=interruptible.cancel,
                **connection,
            )
        )
    except FeaturepubError as exc:
        fail(exc, quiet, interruptible.exit_code, outcome="nothing was published")
    # The report file first: after Ctrl-C the reader of stdout may be gone already.
    if report_file is not None:
        report_file.write_text(json.dumps(report.summary_json(), indent=2) + "\n", encoding="utf-8")
    console.summary(report)
    if as_json:
        print(json.dumps(report.summary_json(), indent=2))
    else:  # byte for byte what the reference CLI prints (JSON.stringify)
        from featurepub.oci.jsjson import js_dumps

        print(js_dumps(report.reference_json()))
    interruptible.exit(report)


def register(app: typer.Typer) -> None:
    app.command(epilog=EXIT_CODES_HELP)(publish)
