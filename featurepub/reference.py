"""Parse and format OCI references. Pure: no I/O.

Grammar follows the distribution reference rules: a registry host (with an
optional port), a repository of lowercase path components, then a tag or a
digest. Docker Hub names are normalised the way the docker CLI does it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from featurepub.errors import InvalidReferenceError

DOCKER_HUB = "docker.io"
DOCKER_HUB_API = "registry-1.docker.io"
_DOCKER_HUB_ALIASES = {"docker.io", "index.docker.io", "registry-1.docker.io", "registry.hub.docker.com"}

_COMPONENT = re.compile(r"[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*")
# The reference Dev Containers CLI parses feature references with a stricter path rule than the
# distribution spec: one '.', '_' or '-' between runs of letters and digits (regexForPath in
# src/spec-configuration/containerCollectionsOCI.ts), so a name with '__' or '--' cannot be used.
_DEVCONTAINER_COMPONENT = re.compile(r"[a-z0-9]+(?:[._-][a-z0-9]+)*")
MAX_TAG_LENGTH = 128
_TAG = re.compile(rf"[A-Za-z0-9_][A-Za-z0-9._-]{{0,{MAX_TAG_LENGTH - 1}}}")
# distribution refuses repository names over 255 characters (reference.NameTotalLengthMax), and the
# distribution-spec ("Pulling manifests", implementers note) says many clients limit the registry host,
# '/' and the name together to 255 characters: docker, skopeo and other users of distribution's
# reference parser refuse longer ones.
MAX_NAME_LENGTH = 255
_DIGEST = re.compile(r"[a-z0-9]+(?:[+._-][a-z0-9]+)*:[a-zA-Z0-9=_-]{32,}")
_SHA256 = re.compile(r"sha256:[a-f0-9]{64}")
_HOSTNAME = re.compile(
    r"(?:[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?)(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?)*"
)
# RFC 1035 2.3.4 and RFC 1123 2.1: a label is at most 63 octets, a name at most 253 characters (255
# octets on the wire). Longer hosts cannot be resolved; caught here, they are invalid input (exit 2)
# rather than a failed request (exit 4).
MAX_LABEL_LENGTH = 63
MAX_HOST_LENGTH = 253
_IPV6 = re.compile(r"\[[0-9A-Fa-f:.]+\]")
_LOOPBACK_HOSTS = {"localhost", "127.0.0.1", "[::1]"}
_EXAMPLE = {"namespace": "features", "repository": "features/my-feature"}


def is_valid_component(name: str) -> bool:
    """True when `name` can be one path component of a repository."""
    return _COMPONENT.fullmatch(name) is not None


def component_problem(name: str) -> str | None:
    """Why `name` cannot be a feature's repository name component (None when it can)."""
    if not is_valid_component(name):
        return (
            "is not a valid OCI repository name component "
            "(lowercase letters and digits, joined by '.', '_', '__' or '-')"
        )
    if _DEVCONTAINER_COMPONENT.fullmatch(name) is None:
        return "cannot be referenced by the Dev Containers CLI, which allows only one '.', '_' or '-' in a row"
    return None


def repository_problem(repository: str, registry: str | None = None) -> str | None:
    """Why a repository of this length cannot be published (None when it can); with a registry,
    the whole name `host/repository` counts, as the clients that pull it count it."""
    if len(repository) > MAX_NAME_LENGTH:
        return f"is {len(repository)} characters; registries take repository names of at most {MAX_NAME_LENGTH}"
    if registry is not None and len(registry) + 1 + len(repository) > MAX_NAME_LENGTH:
        room = MAX_NAME_LENGTH - len(registry) - 1
        return (
            f"is {len(repository)} characters; with the registry {registry} at most {room} fit in the "
            f"{MAX_NAME_LENGTH} characters that docker, skopeo and other clients take for a whole name"
        )
    return None


def is_valid_tag(tag: str) -> bool:
    return _TAG.fullmatch(tag) is not None


EXACT, MINOR, MAJOR, LATEST = range(4)  # what a version's tag is, numbered in the order they are pushed


def push_rank(tag: str) -> int:
    """EXACT (`X.Y.Z`, or any tag that is not floating), MINOR (`X.Y`), MAJOR (`X`) or LATEST: the
    order a version's tags are pushed in."""
    if tag == "latest":
        return LATEST
    parts = tag.split(".")
    if len(parts) <= 2 and all(p.isdigit() for p in parts):
        return MAJOR if len(parts) == 1 else MINOR
    return EXACT


def is_valid_digest(digest: str) -> bool:
    return _DIGEST.fullmatch(digest) is not None and (
        not digest.startswith("sha256:") or _SHA256.fullmatch(digest) is not None
    )


def parse_registry(value: str) -> str:
    """Validate `host[:port]` and return it lowercased (host names are case-insensitive)."""
    raw = value.strip()
    if not raw:
        raise InvalidReferenceError("registry is empty", hint="give a host such as ghcr.io or localhost:5000")
    if "://" in raw:
        raise InvalidReferenceError(
            f"registry {value!r} has a scheme",
            hint="give only host[:port]; use --insecure for plain HTTP",
        )
    if "/" in raw:
        host, _, rest = raw.partition("/")
        namespace = rest.strip("/")
        # Suggest only what would be taken as it is: a namespace that is empty or invalid is no help.
        suggestion = f" --namespace {namespace}" if namespace and _valid_path(namespace) else ""
        raise InvalidReferenceError(
            f"registry {value!r} contains a path",
            hint=f"use --registry {host}{suggestion}",
        )
    host, port = _split_port(raw)
    if not (_HOSTNAME.fullmatch(host) or _IPV6.fullmatch(host)):
        raise InvalidReferenceError(f"registry {value!r} is not a valid host name")
    if problem := _host_length_problem(host):
        raise InvalidReferenceError(f"registry {value!r} is not a valid host name: {problem}")
    if port is not None and not (port.isascii() and port.isdigit() and 0 < int(port) < 65536):
        raise InvalidReferenceError(f"registry {value!r} has an invalid port {port!r}")
    return raw.lower()


def _host_length_problem(host: str) -> str | None:
    """Why a host name is too long for DNS (None when it is not)."""
    if len(host) > MAX_HOST_LENGTH:
        return f"it is {len(host)} characters, over the {MAX_HOST_LENGTH} a DNS name may have"
    label = max(host.split("."), key=len)
    if len(label) > MAX_LABEL_LENGTH:
        size = len(label)
        return f"its label {label[:8]}... is {size} characters, over the {MAX_LABEL_LENGTH} a DNS label may have"
    return None


def parse_registry_location(value: str) -> tuple[str, str]:
    """`host[:port][/path]` -> (host, path): where a registry keeps its repositories, as
    `--registry my-registry.com/features-feed` names it (devcontainers/cli#1098). The path (empty
    when none) prefixes every repository and is checked like a namespace."""
    raw = value.strip()
    if "://" in raw:
        return parse_registry(raw), ""  # refused there, with its hint
    host, _, path = raw.partition("/")
    host = parse_registry(host)
    path = path.strip("/")
    return host, parse_repository(path, what=f"registry path of {value!r}") if path else ""


def credential_scope(registry: str, repository: str = "") -> str:
    """What credentials are looked up for: `host[/repository]`. Keys that name a path match it
    from the most specific to the registry as a whole (containers-auth.json(5), FORMAT)."""
    return f"{registry}/{repository}" if repository else registry


def scope_host(scope: str) -> str:
    return scope.partition("/")[0]


def _split_port(raw: str) -> tuple[str, str | None]:
    if raw.startswith("["):
        end = raw.find("]")
        if end == -1:
            return raw, None
        rest = raw[end + 1 :]
        return raw[: end + 1], rest[1:] if rest.startswith(":") else (rest or None)
    if ":" in raw:
        host, _, port = raw.rpartition(":")
        return host, port
    return raw, None


def _valid_path(path: str) -> bool:
    return all(is_valid_component(c) for c in path.split("/"))


def parse_repository(value: str, *, what: str = "repository") -> str:
    """Validate a repository path (or namespace): lowercase components separated by '/'."""
    path = value.strip().strip("/")
    if not path:
        raise InvalidReferenceError(f"{what} is empty", hint=f"give a path such as my-org/{_EXAMPLE[what]}")
    for component in path.split("/"):
        if not component:
            raise InvalidReferenceError(
                f"{what} {value!r} has an empty path component (two '/' in a row)",
                hint="separate path components with one '/'",
            )
        if not is_valid_component(component):
            if path.lower() != path and _valid_path(path.lower()):
                hint = f"OCI names are lowercase: use {path.lower()!r}"
            else:
                hint = "each path component is lowercase letters and digits, joined by '.', '_', '__' or '-'"
            raise InvalidReferenceError(f"{what} {value!r}: invalid path component {component!r}", hint=hint)
    if len(path) > MAX_NAME_LENGTH:
        raise InvalidReferenceError(f"{what} {value!r} is longer than {MAX_NAME_LENGTH} characters")
    return path


def _looks_like_host(component: str) -> bool:
    # docker's rule: the first component names a registry when it has a '.' or a port, or is localhost.
    return "." in component or ":" in component or component == "localhost" or component.startswith("[")


def has_explicit_registry(value: str) -> bool:
    first, sep, _ = value.partition("/")
    return bool(sep) and _looks_like_host(first)


def is_loopback(registry: str) -> bool:
    host, _ = _split_port(registry)
    return host in _LOOPBACK_HOSTS or host.startswith("127.")


@dataclass(frozen=True)
class Reference:
    """registry/repository[:tag][@digest]."""

    registry: str
    repository: str
    tag: str | None = None
    digest: str | None = None

    @property
    def api_host(self) -> str:
        """The host the HTTP API lives on (Docker Hub's differs from its name)."""
        return DOCKER_HUB_API if self.registry == DOCKER_HUB else self.registry

    @property
    def name(self) -> str:
        return f"{self.registry}/{self.repository}"

    @property
    def identifier(self) -> str:
        """What goes after /manifests/: the digest when pinned, else the tag (default latest)."""
        return self.digest or self.tag or "latest"

    def with_tag(self, tag: str) -> Reference:
        return Reference(self.registry, self.repository, tag=tag)

    def __str__(self) -> str:
        text = self.name
        if self.tag:
            text += f":{self.tag}"
        if self.digest:
            text += f"@{self.digest}"
        return text

    @classmethod
    def parse(cls, value: str, *, default_registry: str = DOCKER_HUB) -> Reference:
        text = value.strip()
        if not text:
            raise InvalidReferenceError("reference is empty")
        if "://" in text:
            raise InvalidReferenceError(
                f"reference {value!r} has a scheme",
                hint="give host[:port]/path[:tag], e.g. ghcr.io/my-org/features/hello:1; plain HTTP is used for "
                "loopback hosts and for hosts named with --insecure",
            )
        digest: str | None = None
        if "@" in text:
            text, _, digest = text.partition("@")
            if not is_valid_digest(digest):
                raise InvalidReferenceError(f"reference {value!r}: invalid digest {digest!r}")
        tag: str | None = None
        slash = text.rfind("/")
        colon = text.rfind(":")
        if colon > slash:
            text, tag = text[:colon], text[colon + 1 :]
            if not is_valid_tag(tag):
                raise InvalidReferenceError(
                    f"reference {value!r}: invalid tag {tag!r}",
                    hint="tags are up to 128 letters, digits, '_', '.', '-' and cannot start with '.' or '-'",
                )
        first, sep, rest = text.partition("/")
        if sep and _looks_like_host(first):
            registry = parse_registry(first)
            repository = rest
        else:
            registry = default_registry
            repository = text
        repository = repository.strip("/")
        if registry in _DOCKER_HUB_ALIASES:
            registry = DOCKER_HUB
            if "/" not in repository:
                repository = f"library/{repository}"
        repository = parse_repository(repository)
        return cls(registry, repository, tag=tag, digest=digest)
