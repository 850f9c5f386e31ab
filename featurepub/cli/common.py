"""Pieces every command shares: option types, the exit-code text, error rendering."""

from __future__ import annotations

from enum import Enum
from pathlib import Path
from typing import Annotated, Any, NoReturn

import typer

# `featurepub --help`'s; each command's --help lists the codes that command uses.
APP_EXIT_CODES_HELP = (
    "Exit codes: 0 done; 1 incomplete (something was not published or pushed, a reference does not "
    "exist); 2 invalid input (features, templates, names, config, options): nothing pushed; 3 credentials "
    "missing or refused; 4 the registry or network failed; 130 (143) interrupted by Ctrl-C/SIGINT (SIGTERM). "
    "`featurepub COMMAND --help` lists each command's."
)
# `publish`'s.
EXIT_CODES_HELP = (
    "Exit codes: 0 everything published (or already there); 1 something was not published (see the "
    "report); 2 invalid input (features, names, config, options), nothing pushed; 3 credentials missing "
    "or refused; 4 the registry or network failed; 130 (143) interrupted by Ctrl-C/SIGINT (SIGTERM). With "
    "3, 4, 130 and 143 the report still says what was published, and publishing again finishes the job."
)

QuietOption = Annotated[bool, typer.Option("--quiet", "-q", help="Print only errors and the result.")]


class LogLevel(str, Enum):
    INFO = "info"
    DEBUG = "debug"
    TRACE = "trace"


LogLevelOption = Annotated[
    LogLevel,
    typer.Option(
        "--log-level",
        case_sensitive=False,
        help="What goes to stderr, as the reference CLI's --log-level: info, progress, statuses and the "
        "summary; debug, also every step (each blob found or uploaded); trace, also every request "
        "(method, URL, status) and which credential source answered. Secrets are never printed. "
        "-v is trace; -q prints only errors and the result at any level.",
    ),
]
VerboseOption = Annotated[
    bool,
    typer.Option(
        "--verbose", "-v", help="Print every step, and every request with -v (secrets are never printed)."
    ),
]
ForceOption = Annotated[bool, typer.Option(help="Replace an existing X.Y.Z tag whose content differs.")]
DryRunOption = Annotated[bool, typer.Option("--dry-run", help="Show what would be pushed; push nothing.")]
ReportOption = Annotated[
    Path | None, typer.Option("--report", metavar="FILE", help="Also write the full JSON report to this file.")
]
# How hard to try a registry: every command that talks to one takes these, with these defaults.
DEFAULT_RETRIES = 5
DEFAULT_RETRY_TIME = 300.0
DEFAULT_TIMEOUT = 300.0
DEFAULT_CONNECT_TIMEOUT = 15.0
RetriesOption = Annotated[
    int,
    typer.Option(
        min=0,
        metavar="N",
        help="Retries per request after 408/429/5xx or a lost connection (with backoff, honouring Retry-After).",
    ),
]
RetryTimeOption = Annotated[
    float,
    typer.Option(
        min=0, metavar="SECONDS", help="Give up retrying one step after this many seconds, waits included."
    ),
]
TimeoutOption = Annotated[
    float,
    typer.Option(
        min=1,
        metavar="SECONDS",
        help="Seconds each request may take in all, however slowly the registry answers (an upload: each "
        "1 MiB of its body, then the answer).",
    ),
]
ConnectTimeoutOption = Annotated[
    float, typer.Option(min=1, metavar="SECONDS", help="Seconds to wait for a connection.")
]


def network_keywords(retries: int, retry_time: float, timeout: float, connect_timeout: float) -> dict[str, Any]:
    """The library API's retry and timeout keywords, from the options above."""
    from featurepub.registry.retry import RetryPolicy

    return {
        "retry": RetryPolicy(max_attempts=retries + 1, max_elapsed=retry_time),
        "timeout": timeout,
        "connect_timeout": connect_timeout,
    }


SchemaValidationOption = Annotated[
    bool,
    typer.Option(
        "--schema-validation/--no-schema-validation",
        help="Refuse what the spec's JSON schema refuses (default). --no-schema-validation reports it as "
        "warnings and goes on, like devcontainers/action's disable-schema-validation; errors that break "
        "publishing or consumers still stop.",
    ),
]
PathArgument = Annotated[
    Path,
    typer.Argument(
        metavar="PATH",
        help="A feature or template folder, or a collection (a folder with src/<id>/ feature or template "
        "folders). Default: the current folder, as with the reference CLI.",
    ),
]
CURRENT_FOLDER = Path(".")


def fail(
    error: Exception, quiet: bool = False, code: int | None = None, *, outcome: str | None = None
) -> NoReturn:
    """Print a FeaturepubError as one clear line (plus a hint) and exit with its code (or `code`).
    `outcome` ends the line of invalid features: what the command did not do ("nothing was published")."""
    from featurepub.cli.output import Console
    from featurepub.errors import FeaturepubError

    if not isinstance(error, FeaturepubError):
        raise error
    Console(quiet=quiet).error(error, outcome=outcome)
    raise typer.Exit(error.exit_code if code is None else code)
