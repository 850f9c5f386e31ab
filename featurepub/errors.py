"""One error tree for the whole library; the CLI maps each class to an exit code.

Every error carries a one-line message that says what failed and where, and an
optional hint that says what to do. Nothing here ever holds a secret: messages
are built from names, paths and registry diagnostics, never from credentials.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum
from pathlib import Path

from featurepub.redact import redact

# Exit codes, documented in `featurepub --help` and the README.
EXIT_OK = 0
EXIT_INCOMPLETE = 1  # the run finished but something was not published
EXIT_INVALID = 2  # bad input: features, references, config, command line
EXIT_AUTH = 3  # credentials missing or refused
EXIT_REGISTRY = 4  # the registry (or the network to it) failed or refused
EXIT_INTERRUPTED = 130  # stopped by SIGINT (Ctrl-C); the CLI exits 143 for SIGTERM (128 + the signal)


class FeaturepubError(Exception):
    """Base of every error featurepub raises on purpose."""

    exit_code = EXIT_INCOMPLETE

    def __init__(self, message: str, *, hint: str | None = None) -> None:
        # The one gate for error text: whatever went into the message, no secret comes out.
        message = redact(message)
        hint = redact(hint) if hint else hint
        super().__init__(message)
        self.message = message
        self.hint = hint

    def __str__(self) -> str:
        return f"{self.message} ({self.hint})" if self.hint else self.message


class Interrupted(FeaturepubError):
    """The run was asked to stop (featurepub.cancel.Cancellation); raised by the step it stopped."""

    exit_code = EXIT_INTERRUPTED


class InputError(FeaturepubError):
    """Something the user gave us is wrong; nothing was pushed."""

    exit_code = EXIT_INVALID


class ConfigError(InputError):
    """A config file or option value is invalid."""


class InvalidReferenceError(InputError):
    """A registry, namespace, repository, tag or digest does not parse."""


class ContentError(FeaturepubError, ValueError):
    """A manifest, index, descriptor or other JSON document is malformed.

    Raised by the parsers in featurepub.oci, which do not know where the bytes came from: callers
    turn it into a RegistryError (a registry served it) or an InputError (a file holds it). It is
    a ValueError too, so code that treats unreadable JSON as "nothing usable" keeps doing so.
    """


class Tier(str, Enum):
    """How much a validation finding weighs; every artifact kind (features, templates) uses the same three."""

    ERROR = "error"  # publishing fails or consumers break: always refused
    SCHEMA = "schema"  # the spec's JSON schema refuses it: refused unless schema validation is off
    WARNING = "warning"  # lint: reported, never refused


@dataclass(frozen=True)
class Problem:
    """One validation finding, tied to the file it is about (and the field inside it, when known)."""

    path: Path
    message: str
    tier: Tier = Tier.ERROR
    why: str = ""  # why it matters, for warnings
    field: str = ""  # where in the document, e.g. "options.version.default"

    def blocks(self, schema_validation: bool = True) -> bool:
        """Whether this finding stops validation, publishing and packaging."""
        return self.tier is Tier.ERROR or (self.tier is Tier.SCHEMA and schema_validation)

    def __str__(self) -> str:
        return f"{self.path}: {self.message}" + (f" ({self.why})" if self.why else "")


class FeatureError(InputError):
    """One or more features (or templates: `subject`) are invalid; `problems` lists every finding that
    blocks, `warnings` the rest."""

    def __init__(
        self, problems: list[Problem], warnings: list[Problem] | None = None, *, subject: str = "features"
    ) -> None:
        count = len(problems)
        super().__init__(f"{count} problem{'s' if count != 1 else ''} found in the {subject}")
        self.subject = subject
        self.problems = problems
        self.warnings = warnings or []


@dataclass(frozen=True)
class Diagnostic:
    """One entry of an OCI error body: {"code", "message", "detail"}."""

    code: str
    message: str = ""
    detail: str = ""


@dataclass
class RegistryContext:
    """Where a registry call went: enough to name it in one line."""

    registry: str
    repository: str = ""
    operation: str = ""

    def __str__(self) -> str:
        where = f"{self.registry}/{self.repository}" if self.repository else self.registry
        return f"{self.operation} on {where}" if self.operation else where


class RegistryError(FeaturepubError):
    """The registry refused a request, answered nonsense, or could not be reached."""

    exit_code = EXIT_REGISTRY

    def __init__(
        self,
        message: str,
        *,
        context: RegistryContext,
        status: int | None = None,
        diagnostics: list[Diagnostic] | None = None,
        hint: str | None = None,
        retryable: bool = False,
        retry_after: float | None = None,
    ) -> None:
        super().__init__(f"{context}: {message}", hint=hint)
        self.reason = redact(message)  # the message without the context
        self.context = context
        self.status = status
        self.diagnostics = diagnostics or []
        self.retryable = retryable
        self.retry_after = retry_after  # seconds the registry asked to wait (Retry-After), if it did

    @property
    def codes(self) -> set[str]:
        return {d.code for d in self.diagnostics}


class AuthError(RegistryError):
    """Credentials are missing, or the registry refused the ones we sent."""

    exit_code = EXIT_AUTH


class CredentialError(FeaturepubError):
    """Credentials could not be read or stored: a credential helper is missing, hangs or fails,
    or there is no keyring to store them in."""

    exit_code = EXIT_AUTH
