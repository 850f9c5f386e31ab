"""`featurepub login`, `featurepub logout` and `featurepub auth status`, and the credential options
`publish` shares with them. A password is read from stdin or a hidden prompt, never from argv."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated, Any

import typer

from featurepub.cli.common import QuietOption, VerboseOption, fail

LOGIN_EXIT_CODES_HELP = (
    "Exit codes: 0 logged in (the credentials are stored); 2 invalid registry or options; 3 the registry "
    "refused the credentials, or they could not be stored (a credential helper missing or failing); 4 the "
    "registry or network failed."
)
LOGOUT_EXIT_CODES_HELP = (
    "Exit codes: 0 removed, or there was nothing to remove; 2 invalid registry; 3 the keyring or a "
    "credential helper failed."
)
STATUS_EXIT_CODES_HELP = (
    "Exit codes: 0 a source has credentials (with --check: and the registry accepts them, or takes "
    "anonymous requests); 2 invalid registry or options; 3 no source has credentials, or the registry "
    "refuses them; 4 the registry or network failed (--check)."
)

RegistryArgument = Annotated[
    str, typer.Argument(metavar="REGISTRY", help="Registry host[:port], e.g. ghcr.io or localhost:5000.")
]
UsernameOption = Annotated[
    str | None,
    typer.Option(
        "--username",
        "-u",
        metavar="USER",
        help="User name for the registry (the password comes from --password-stdin).",
    ),
]
PasswordStdinOption = Annotated[
    bool,
    typer.Option(
        "--password-stdin",
        help="Read the password or token from stdin (it is never taken from the command line).",
    ),
]
CaFileOption = Annotated[
    Path | None,
    typer.Option(
        "--ca-file",
        metavar="FILE",
        help="PEM file of CA certificates to trust in addition to the system trust store.",
        exists=True,
        dir_okay=False,
    ),
]
InsecureOption = Annotated[
    list[str] | None,
    typer.Option(
        metavar="HOST",
        help="Allow plain HTTP, or TLS without certificate checks, for this host (repeatable). Only loopback "
        "hosts and hosts named here are ever spoken to that way.",
    ),
]


Http2Option = Annotated[
    bool,
    typer.Option(
        "--http2",
        help="Offer HTTP/2 over TLS; a registry that does not take it answers in HTTP/1.1. Needs the h2 "
        "package: pip install 'featurepub[http2]'.",
    ),
]


def connection_keywords(
    insecure: list[str] | None,
    username: str | None,
    password_stdin: bool,
    ca_file: Path | None,
    *,
    http2: bool = False,
) -> dict[str, Any]:
    """The registry connection keywords of the library API, from the options commands share."""
    return {
        "insecure_hosts": insecure or [],
        "username": username,
        "password": read_password(username, password_stdin, prompt=True),
        "ca_file": ca_file,
        "http2": http2,
    }


def read_password(username: str | None, password_stdin: bool, *, prompt: bool) -> str | None:
    """The password for `username`: from stdin with --password-stdin, else a hidden prompt on a terminal.

    Returns None when neither a username nor --password-stdin was given (the chain decides).
    """
    from featurepub.errors import InputError

    if password_stdin:
        if not username:
            raise InputError("--password-stdin needs --username", hint="e.g. --username USER --password-stdin")
        secret = sys.stdin.read()
        # Like docker: one trailing newline (and a CR before it) is not part of the password.
        secret = secret.removesuffix("\n").removesuffix("\r")
        if not secret:
            raise InputError("--password-stdin: nothing was read from stdin")
        return secret
    if username is None:
        return None
    if prompt and sys.stdin.isatty():
        secret = typer.prompt(f"Password for {username}", hide_input=True)
        return str(secret) if secret else None
    raise InputError(
        "--username needs --password-stdin",
        hint="pipe the password or token in, e.g. printf '%s' \"$TOKEN\" | featurepub ... --password-stdin",
    )


def login(
    registry: RegistryArgument,
    username: UsernameOption = None,
    password_stdin: PasswordStdinOption = False,
    ca_file: CaFileOption = None,
    insecure: InsecureOption = None,
    no_check: Annotated[
        bool, typer.Option("--no-check", help="Store the credentials without trying them on the registry.")
    ] = False,
    quiet: QuietOption = False,
    verbose: VerboseOption = False,
) -> None:
    """Check credentials against REGISTRY, then store them in the OS keyring for later runs.

    Without a keyring (typical on CI and in containers, or with FEATUREPUB_NO_KEYRING=1)
    they go to the Docker config ($DOCKER_CONFIG/config.json, else ~/.docker/config.json)
    as docker login writes them: to the credential helper it names for REGISTRY, else
    base64-encoded (not encrypted) in its "auths".
    """
    from featurepub.accounts import login as run_login
    from featurepub.cli.output import Console
    from featurepub.errors import FeaturepubError, InputError

    console = Console(quiet=quiet, verbose=verbose)
    try:
        if username is None:
            if password_stdin or not sys.stdin.isatty():
                raise InputError("--username is required here", hint="e.g. featurepub login REGISTRY -u USER")
            username = str(typer.prompt("Username"))
        password = read_password(username, password_stdin, prompt=True)
        result = run_login(
            registry,
            username,
            password or "",
            check=not no_check,
            insecure_hosts=insecure or [],
            ca_file=ca_file,
            log=console.request_log,
        )
    except FeaturepubError as exc:
        fail(exc, quiet)
    checked = "" if no_check or result.challenged else " (the registry did not ask for credentials)"
    if result.keyring_missing:
        console.info(f"{result.keyring_missing}: storing the credentials in the Docker config instead")
    if result.plaintext_file:
        console.warning(
            f"the credentials for {result.registry} are in {result.plaintext_file} base64-encoded, which is "
            "not encryption: whoever can read that file can use them "
            f"(featurepub logout {result.registry} removes them)"
        )
    console.info(f"logged in to {result.registry} as {result.username}{checked}; stored in {result.backend}")


def logout(registry: RegistryArgument, quiet: QuietOption = False, verbose: VerboseOption = False) -> None:
    """Remove the credentials `featurepub login` stored for REGISTRY.

    From the OS keyring, or without one from the Docker config: the registry's entry in
    its "auths" (every spelling of the host) and in the credential helper it names for it.
    With -v, also says which credentials featurepub would use for REGISTRY now.
    """
    from featurepub.accounts import logout as run_logout
    from featurepub.accounts import status as run_status
    from featurepub.cli.output import Console
    from featurepub.errors import FeaturepubError

    console = Console(quiet=quiet, verbose=verbose)
    try:
        result = run_logout(registry)
        if console.verbose:
            console.debug(f"now: {run_status(result.registry).describe()}")
    except FeaturepubError as exc:
        fail(exc, quiet)
    if result.removed:
        console.info(f"removed the credentials for {result.registry} from {' and '.join(result.removed_from)}")
    elif result.keyring_missing:
        console.info(
            f"not logged in to {result.registry}: nothing for it in the Docker config ({result.keyring_missing})"
        )
    else:
        console.info(f"not logged in to {result.registry}")


auth_app = typer.Typer(help="See which credentials featurepub uses.", no_args_is_help=True)


@auth_app.command("status", epilog=STATUS_EXIT_CODES_HELP)
def status(
    registry: RegistryArgument,
    check: Annotated[
        bool, typer.Option("--check", help="Also try the credentials on the registry (GET /v2/).")
    ] = False,
    ca_file: CaFileOption = None,
    insecure: InsecureOption = None,
    quiet: Annotated[
        bool, typer.Option("--quiet", "-q", help="Print only which source answers, not what each source said.")
    ] = False,
    verbose: VerboseOption = False,
) -> None:
    """Say which source of the credential chain answers for REGISTRY (never the secret), and what each
    source before it said. REGISTRY may carry a path (host/path): then the most specific key that
    applies there answers, as for publish."""
    from featurepub.accounts import check_credentials
    from featurepub.accounts import status as run_status
    from featurepub.cli.output import Console
    from featurepub.errors import EXIT_AUTH, FeaturepubError
    from featurepub.redact import redact
    from featurepub.reference import scope_host

    console = Console(verbose=verbose)
    try:
        lookup = run_status(registry)
        print(redact(lookup.describe()))
        for name, said in [] if quiet else lookup.trail:
            print(redact(f"  {name}: {said}"))
        if check:
            check_credentials(
                scope_host(lookup.registry),
                lookup.credential,
                insecure_hosts=insecure or [],
                ca_file=ca_file,
                log=console.request_log,
            )
            accepted = f"{scope_host(lookup.registry)} accepted the credentials"
            print(accepted if lookup.credential else "anonymous access works")
    except FeaturepubError as exc:
        fail(exc)
    if lookup.credential is None:
        raise typer.Exit(EXIT_AUTH)


def register(app: typer.Typer) -> None:
    app.command(epilog=LOGIN_EXIT_CODES_HELP)(login)
    app.command(epilog=LOGOUT_EXIT_CODES_HELP)(logout)
    app.add_typer(auth_app, name="auth")
