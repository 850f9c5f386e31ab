"""`featurepub push-layout DIR`: push an OCI image layout to a registry by its ref names."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

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
    DEFAULT_CONNECT_TIMEOUT,
    DEFAULT_RETRIES,
    DEFAULT_RETRY_TIME,
    DEFAULT_TIMEOUT,
    ConnectTimeoutOption,
    DryRunOption,
    ForceOption,
    QuietOption,
    ReportOption,
    RetriesOption,
    RetryTimeOption,
    TimeoutOption,
    VerboseOption,
    fail,
    network_keywords,
)

PUSH_LAYOUT_EXIT_CODES_HELP = (
    "Exit codes: 0 everything pushed (or already there); 1 something was not pushed (see the report); "
    "2 invalid layout, names or options, nothing pushed; 3 credentials missing or refused; 4 the registry or "
    "network failed; 130 (143) interrupted by Ctrl-C/SIGINT (SIGTERM). With 3, 4, 130 and 143 the report "
    "still says what was pushed, and pushing again finishes the job."
)


def _complete_refs(ctx: typer.Context, incomplete: str) -> list[str]:
    """Shell completion for --ref: the ref names in the layout named on the command line."""
    import os
    import shlex

    # While --ref still waits for its value the parsed LAYOUT is not available: read the words
    # the shell passed (bash: COMP_WORDS; zsh, fish, PowerShell: _TYPER_COMPLETE_ARGS).
    given = ctx.params.get("layout")
    words = os.environ.get("COMP_WORDS") or os.environ.get("_TYPER_COMPLETE_ARGS") or ""
    try:
        split = shlex.split(words)
    except ValueError:
        split = words.split()
    candidates = [Path(given)] if given else [Path(w) for w in split[1:] if not w.startswith("-")]
    for layout in candidates:
        try:
            index = json.loads((layout / "index.json").read_text(encoding="utf-8"))
            names = [
                str((d.get("annotations") or {}).get("org.opencontainers.image.ref.name", ""))
                for d in index.get("manifests", [])
            ]
        except (OSError, ValueError, AttributeError):
            continue
        return [name for name in names if name and name.startswith(incomplete)]
    return []


def push_layout(
    layout: Annotated[
        Path,
        typer.Argument(
            metavar="DIR", help="An OCI image layout folder (index.json, oci-layout, blobs/), e.g. from --layout."
        ),
    ],
    registry: Annotated[
        str,
        typer.Option(
            "--registry",
            "-r",
            metavar="HOST",
            help="Registry host[:port]. Plain HTTP for localhost/127.0.0.1/[::1].",
        ),
    ] = "ghcr.io",
    namespace: Annotated[
        str | None,
        typer.Option(
            "--namespace",
            "-n",
            metavar="NAMESPACE",
            help="The namespace the layout was written for: every <repository>:<tag> ref name must be under it.",
        ),
    ] = None,
    ref: Annotated[
        list[str] | None,
        typer.Option(
            "--ref",
            metavar="NAME",
            help="Push only the descriptor with this org.opencontainers.image.ref.name (repeatable); "
            "default: all.",
            autocompletion=_complete_refs,
        ),
    ] = None,
    repository: Annotated[
        str | None,
        typer.Option(
            metavar="NAME",
            help="Repository (under the namespace) for ref names that are bare tags, e.g. my-feature.",
        ),
    ] = None,
    force: ForceOption = False,
    dry_run: DryRunOption = False,
    keep_going: Annotated[
        bool, typer.Option("--keep-going", help="After a ref fails, still push the others.")
    ] = False,
    insecure: InsecureOption = None,
    username: UsernameOption = None,
    password_stdin: PasswordStdinOption = False,
    ca_file: CaFileOption = None,
    http2: Http2Option = False,
    retries: RetriesOption = DEFAULT_RETRIES,
    retry_time: RetryTimeOption = DEFAULT_RETRY_TIME,
    timeout: TimeoutOption = DEFAULT_TIMEOUT,
    connect_timeout: ConnectTimeoutOption = DEFAULT_CONNECT_TIMEOUT,
    report_file: ReportOption = None,
    quiet: QuietOption = False,
    verbose: VerboseOption = False,
) -> None:
    """Push the descriptors of an OCI image layout to a registry, each to where its ref name says.

    A ref name <repository>:<tag> (what `publish --layout` writes) is pushed as that tag of that
    repository; a bare <tag> (oras, skopeo) needs --repository. A descriptor without a ref name is
    never pushed: nothing is guessed. Every blob is checked before anything is pushed, and the order
    is publish's: blobs, exact versions, other tags, latest, the collection last. Prints the JSON
    report on stdout. Ctrl-C or SIGTERM stops it as it stops `publish` (exit 130 or 143, report written).
    """
    from featurepub.api import push_layout as run
    from featurepub.cli.interrupt import Interruptible
    from featurepub.cli.output import Console, human_size, plural
    from featurepub.errors import FeaturepubError, InputError

    console = Console(quiet=quiet, verbose=verbose)
    if namespace is None:
        fail(InputError("--namespace is required", hint="the namespace given to `publish --layout`"), quiet)
    interruptible = Interruptible(console)
    try:
        connection = connection_keywords(insecure, username, password_stdin, ca_file, http2=http2)
        report = interruptible.run(
            lambda: run(
                layout,
                registry=registry,
                namespace=namespace,
                refs=ref or [],
                repository=repository,
                force=force,
                dry_run=dry_run,
                keep_going=keep_going,
                listener=console.event,
                log=console.request_log,
                cancel=interruptible.cancel,
                **network_keywords(retries, retry_time, timeout, connect_timeout),
                **connection,
            )
        )
    except FeaturepubError as exc:
        fail(exc, quiet, interruptible.exit_code)
    text = json.dumps(report.to_json(), indent=2)
    if report_file is not None:  # first: after Ctrl-C the reader of stdout may be gone already
        report_file.write_text(text + "\n", encoding="utf-8")
    counts: dict[str, int] = {}
    for result in report.results:
        counts[result.status.value] = counts.get(result.status.value, 0) + 1
    console.failures(("ref", "refs"))
    verdict = console.verdict(report.ok, report.interrupted)
    parts = ", ".join(f"{n} {status}" for status, n in counts.items()) or "none"
    console.info(
        f"{verdict}: {plural(len(report.results), 'ref')} to {report.target} ({parts}), "
        f"{human_size(report.bytes_uploaded)} uploaded"
    )
    if report.ignored:
        console.info(f"not pushed: {plural(len(report.ignored), 'descriptor')} without a ref name")
    print(text)
    interruptible.exit(report)


def register(app: typer.Typer) -> None:
    app.command("push-layout", epilog=PUSH_LAYOUT_EXIT_CODES_HELP)(push_layout)
