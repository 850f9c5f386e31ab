"""What each registry accepts on push, as data: one `Profile` per registry family.

A profile says how to upload (preferred and allowed strategies, chunk sizes), what the
registry refuses (zero-byte blobs, deep paths, pushes to repositories nobody created), and
which hint explains its common failures. The profile is chosen by host pattern; `--profile`
and the config file (featurepub.config) pick another one or change any field for one host.
Facts come from `registry-behaviour.md` (vendor docs and bug reports); each is worth
re-checking, which is why every field can be overridden.

Requests in flight. A run keeps up to `requests_in_flight` small requests (HEAD, GET, manifest
PUT, upload start, mount) and `uploads_in_flight` requests carrying a blob's bytes out at once
(registry/limits.py). Each profile's values come from what its registry documents, cited where
they are set; where nothing is documented they are 8 and 4: what `dockerd` itself keeps out when
it pushes (five layer uploads at once, `max-concurrent-uploads`, each a few requests one after
another) and well under any limit a registry publishes. `--requests-in-flight`,
`--uploads-in-flight`, the config file and the library change them.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, fields, replace
from fnmatch import fnmatchcase
from typing import Any

from featurepub.errors import ConfigError, InvalidReferenceError, RegistryError

MONOLITHIC = "monolithic"  # POST a session, PUT the whole body with the digest
SINGLE = "single"  # POST ?digest= with the body; PUT to the session when the registry answers 202
CHUNKED = "chunked"  # POST, PATCH chunks, PUT the last chunk with the digest
STRATEGIES = (MONOLITHIC, SINGLE, CHUNKED)

KiB = 1024
MiB = 1024 * KiB
GiB = 1024 * MiB
DEFAULT_CHUNK_SIZE = 8 * MiB

_SIZE = re.compile(r"^\s*(\d+)\s*(B|KIB|MIB|GIB|KB|MB|GB)?\s*$", re.IGNORECASE)
_UNITS = {"B": 1, "KIB": KiB, "MIB": MiB, "GIB": GiB, "KB": 1000, "MB": 1000**2, "GB": 1000**3}


def parse_size(value: str) -> int:
    """'5MiB', '512 KiB', '10MB', '4096' -> bytes; ValueError otherwise."""
    match = _SIZE.match(value)
    if match is None:
        raise ValueError(f"expected a size such as 5MiB, got {value!r}")
    return int(match.group(1)) * _UNITS[(match.group(2) or "B").upper()]


def format_size(size: int) -> str:
    for unit, factor in (("GiB", GiB), ("MiB", MiB), ("KiB", KiB)):
        if size >= factor and size % factor == 0:
            return f"{size // factor} {unit}"
    if size >= MiB:
        return f"{size / MiB:.1f} MiB"
    return f"{size} B"


@dataclass(frozen=True)
class ErrorHint:
    """What to tell the user when a failure matches: every given condition must hold."""

    hint: str
    codes: frozenset[str] = frozenset()  # any of these OCI error codes
    statuses: frozenset[int] = frozenset()  # any of these HTTP statuses
    contains: str = ""  # in the message or a diagnostic's detail, case-insensitive
    min_depth: int = 0  # the repository has at least this many path components

    def matches(self, error: RegistryError) -> bool:
        if self.codes and not (self.codes & error.codes):
            return False
        if self.statuses and error.status not in self.statuses:
            return False
        if self.contains:
            text = " ".join([error.message, *(d.message + " " + d.detail for d in error.diagnostics)])
            if self.contains.lower() not in text.lower():
                return False
        repository = error.context.repository
        return not (self.min_depth and (not repository or repository.count("/") + 1 < self.min_depth))

    def to_json(self) -> dict[str, Any]:
        when: dict[str, Any] = {}
        if self.codes:
            when["codes"] = sorted(self.codes)
        if self.statuses:
            when["statuses"] = sorted(self.statuses)
        if self.contains:
            when["contains"] = self.contains
        if self.min_depth:
            when["min_depth"] = self.min_depth
        return {"when": when, "hint": self.hint}

    def describe(self) -> str:
        """The condition in words, e.g. "HTTP 416 and the message says 'too large'"."""
        parts = [" or ".join(sorted(self.codes))] if self.codes else []
        if self.statuses:
            parts.append("HTTP " + "/".join(str(s) for s in sorted(self.statuses)))
        if self.contains:
            parts.append(f"the message says {self.contains!r}")
        if self.min_depth:
            parts.append(f"the path has {self.min_depth}+ levels")
        return " and ".join(parts) or "any error"

    def render(self, error: RegistryError) -> str:
        return self.hint.replace("{repository}", error.context.repository or "<repository>").replace(
            "{registry}", error.context.registry
        )


@dataclass(frozen=True)
class Profile:
    """One registry family's rules. Sizes are bytes; `None` means no limit."""

    name: str
    title: str
    hosts: tuple[str, ...] = ()  # fnmatch patterns on host[:port] (or the host alone)
    upload: str = MONOLITHIC  # the strategy used
    strategies: tuple[str, ...] = (MONOLITHIC, CHUNKED)  # the strategies the registry takes
    chunk_size: int = DEFAULT_CHUNK_SIZE  # PATCH body size for chunked uploads
    chunk_min: int = 0  # every chunk but the last must be at least this long
    chunk_max: int | None = None  # no chunk may be longer
    single_post: bool = False  # POST ?digest= with a body completes the upload (201)
    mount: bool = True  # cross-repository mount (?mount=&from=) is worth trying
    empty_blobs: bool = True  # zero-byte blobs are accepted
    token_keys: tuple[str, ...] = ("token", "access_token")  # where the token endpoint puts the token
    repository_must_exist: bool = False  # pushes to a repository nobody created fail
    immutable_tags: bool = False  # repositories may refuse to move a tag
    max_depth: int | None = None  # path components a repository name may have
    requests_in_flight: int = 8  # small requests out at once (see the module docstring)
    uploads_in_flight: int = 4  # requests carrying a blob's bytes out at once
    catalog: bool = False  # /v2/_catalog lists repositories: one request tells which are new
    notes: str = ""
    hints: tuple[ErrorHint, ...] = ()

    def allows(self, strategy: str) -> bool:
        return strategy in self.strategies

    def matches_host(self, registry: str) -> bool:
        host = registry.lower()
        bare = host.rsplit(":", 1)[0] if not host.endswith("]") else host
        return any(fnmatchcase(host, p) or fnmatchcase(bare, p) for p in self.hosts)

    def hint_for(self, error: RegistryError) -> str | None:
        found = next((h for h in self.hints if h.matches(error)), None)
        return found.render(error) if found else None

    def with_changes(self, **changes: Any) -> Profile:
        return replace(self, **changes)

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for item in fields(self):
            value = getattr(self, item.name)
            if item.name == "hints":
                value = [hint.to_json() for hint in value]
            elif isinstance(value, tuple):
                value = list(value)
            out[item.name] = value
        return out


# Fields a config file may set per host (everything but the profile's identity).
OVERRIDABLE = tuple(f.name for f in fields(Profile) if f.name not in ("name", "title", "hosts"))


def problems(profile: Profile) -> list[tuple[str, str]]:
    """(field, what is wrong) for settings that contradict each other or the protocol."""
    found: list[tuple[str, str]] = []
    title = profile.title
    for strategy in profile.strategies:
        if strategy not in STRATEGIES:
            found.append(("strategies", f"unknown strategy {strategy!r} (known: {', '.join(STRATEGIES)})"))
    if not profile.strategies:
        found.append(("strategies", "at least one strategy is needed"))
    if profile.upload not in STRATEGIES:
        found.append(("upload", f"unknown strategy {profile.upload!r} (known: {', '.join(STRATEGIES)})"))
    elif not profile.allows(profile.upload):
        takes = ", ".join(profile.strategies)
        found.append(("upload", f"{title} does not take {profile.upload} uploads (it takes {takes})"))
    if profile.chunk_size <= 0:
        found.append(("chunk_size", "must be more than 0"))
    if profile.chunk_size < profile.chunk_min:
        found.append(
            (
                "chunk_size",
                f"{format_size(profile.chunk_size)} is below the minimum of {format_size(profile.chunk_min)}: "
                f"{title} refuses chunks under {format_size(profile.chunk_min)} except the last",
            )
        )
    if profile.chunk_max is not None and profile.chunk_size > profile.chunk_max:
        found.append(
            (
                "chunk_size",
                f"{format_size(profile.chunk_size)} is above the maximum of {format_size(profile.chunk_max)}: "
                f"{title} refuses chunks over {format_size(profile.chunk_max)}",
            )
        )
    if profile.chunk_max is not None and profile.chunk_max < profile.chunk_min:
        found.append(("chunk_max", "is below chunk_min"))
    for name in ("requests_in_flight", "uploads_in_flight"):
        if getattr(profile, name) < 1:
            found.append((name, "must be at least 1"))
    if profile.max_depth is not None and profile.max_depth < 1:
        found.append(("max_depth", "must be at least 1"))
    return found


def _hint(
    text: str,
    *,
    codes: tuple[str, ...] = (),
    statuses: tuple[int, ...] = (),
    contains: str = "",
    min_depth: int = 0,
) -> ErrorHint:
    return ErrorHint(text, frozenset(codes), frozenset(statuses), contains, min_depth)


_GENERIC_MEDIA_TYPE = _hint(
    "the registry refused a media type: featurepub pushes artifactType and config mediaType "
    "application/vnd.devcontainers, which some registries only take once an administrator allows it",
    codes=("MANIFEST_INVALID",),
    contains="media type",
)

ECR = Profile(
    name="ecr",
    title="AWS ECR",
    hosts=("*.dkr.ecr.*.amazonaws.com", "*.dkr.ecr.*.amazonaws.com.cn", "*.dkr-ecr.*.on.aws"),
    upload=MONOLITHIC,
    strategies=(MONOLITHIC, CHUNKED),
    chunk_size=10 * MiB,
    chunk_min=5 * MiB,
    chunk_max=20 * MiB,
    mount=False,
    empty_blobs=False,
    repository_must_exist=True,
    immutable_tags=True,
    # Rate quotas per account and Region (docs.aws.amazon.com/AmazonECR/latest/userguide/service-quotas.html):
    # PutImage, which every manifest PUT is, 10 a second; InitiateLayerUpload and CompleteLayerUpload
    # tens to a hundred. Over them ECR answers 429, which is retried; few requests at once keep a release
    # near those rates. Parallel chunked uploads have caused resets (registry-behaviour.md).
    requests_in_flight=4,
    uploads_in_flight=2,
    notes="PATCH answers 201 and its Range stops advancing: the offset is tracked client-side",
    hints=(
        _hint(
            "ECR does not create repositories on push: create it first "
            "(aws ecr create-repository --repository-name {repository}) or add a repository creation "
            "template that applies to CREATE_ON_PUSH for its prefix",
            codes=("NAME_UNKNOWN",),
        ),
        _hint(
            "this ECR repository has immutable tags, which refuse any re-push of a tag, even to the same "
            "digest; featurepub moves X.Y, X and latest on every release, so make the repository's tags "
            "MUTABLE (or exclude those tags from immutability)",
            codes=("TAG_INVALID",),
        ),
        _hint(
            "ECR refuses chunks under 5 MiB except the last: keep chunk_size and chunk_min at 5MiB or more, "
            'or set upload = "monolithic"',
            contains="at least 5 MiB",
        ),
        _hint(
            "ECR refuses zero-byte uploads; featurepub never sends one, so something rewrote the request",
            contains="does not have any parts",
        ),
        _hint(
            "ECR's password is a 12-hour token: user AWS with `aws ecr get-login-password`, "
            'e.g. DEVCONTAINERS_OCI_AUTH="{registry}|AWS|$(aws ecr get-login-password)", '
            "or the ecr-login credential helper",
            statuses=(401,),
        ),
    ),
)

GHCR = Profile(
    name="ghcr",
    title="GitHub Container Registry",
    hosts=("ghcr.io",),
    upload=MONOLITHIC,
    strategies=(MONOLITHIC, CHUNKED),
    chunk_size=4 * MiB,
    chunk_max=4 * MiB,
    token_keys=("token",),
    # GitHub documents no request or concurrency limit for ghcr.io; the one concurrency limit it publishes,
    # for its REST API, is 100 requests at once (docs.github.com, "Rate limits for the REST API").
    requests_in_flight=16,
    uploads_in_flight=4,
    notes="new packages start private; no referrers API",
    hints=(
        _hint(
            "ghcr.io refused the push: in GitHub Actions give the job `permissions: packages: write` (and, "
            "for a package first pushed by hand, grant this repository write access in the package settings); "
            "elsewhere use a classic personal access token with write:packages, fine-grained tokens "
            "cannot push to ghcr.io",
            statuses=(403,),
        ),
        _hint(
            "ghcr.io refuses chunk bodies over 4 MiB: keep chunk_size at 4MiB or less, "
            'or set upload = "monolithic" (large monolithic uploads are fine)',
            statuses=(416,),
            contains="too large",
        ),
    ),
)

ACR = Profile(
    name="acr",
    title="Azure Container Registry",
    hosts=("*.azurecr.io", "*.azurecr.cn", "*.azurecr.us"),
    upload=CHUNKED,
    strategies=(MONOLITHIC, SINGLE, CHUNKED),
    chunk_size=8 * MiB,
    single_post=True,
    token_keys=("access_token",),
    # Operations per minute by SKU, reads / writes: Basic 1,000 / 100, Standard 3,000 / 500, Premium
    # 10,000 / 2,000, then 429 with Retry-After; upload bandwidth 10, 20 and 50 Mbps
    # (learn.microsoft.com/azure/container-registry/container-registry-skus): more uploads at once go no faster.
    requests_in_flight=8,
    uploads_in_flight=2,
    notes="very large single PUTs have had their connections closed, so blobs go up in chunks; "
    "Content-Range must be start-end without 'bytes '",
    hints=(
        _hint(
            "ACR throttles requests by SKU (429 with Retry-After): publish fewer features at once, "
            "retry later, or move the registry to a higher SKU",
            statuses=(429,),
        ),
        _hint(
            "ACR refused the credentials: with Entra ID use the user 00000000-0000-0000-0000-000000000000 "
            "and the token from `az acr login --name <registry> --expose-token`",
            statuses=(401,),
        ),
    ),
)

DOCKER_HUB = Profile(
    name="dockerhub",
    title="Docker Hub",
    hosts=("docker.io", "registry-1.docker.io", "index.docker.io", "registry.hub.docker.com"),
    upload=MONOLITHIC,
    strategies=(MONOLITHIC, CHUNKED),
    max_depth=2,
    token_keys=("token", "access_token"),
    # Docker Hub publishes pull limits (manifest GETs) but none for pushes; dockerd itself uploads five
    # layers at once (its max-concurrent-uploads default).
    requests_in_flight=8,
    uploads_in_flight=5,
    hints=(
        _hint(
            "Docker Hub repositories have exactly two levels (namespace/name), so {repository} cannot "
            "exist: publish with --namespace <user-or-org> so that each feature lands at <namespace>/<id>",
            statuses=(401, 403),
            min_depth=3,
        ),
    ),
)

GOOGLE = Profile(
    name="gar",
    title="Google Artifact Registry",
    hosts=("*-docker.pkg.dev", "gcr.io", "*.gcr.io"),
    upload=MONOLITHIC,
    strategies=(MONOLITHIC,),
    mount=False,
    empty_blobs=False,
    repository_must_exist=True,
    immutable_tags=True,
    # 60,000 requests and 18,000 writes a minute per project and location
    # (cloud.google.com/artifact-registry/quotas): far above what one release sends.
    requests_in_flight=16,
    uploads_in_flight=4,
    notes="no PATCH uploads; POST needs Content-Length; user oauth2accesstoken or _json_key",
    hints=(
        _hint(
            "create the Artifact Registry repository first "
            "(gcloud artifacts repositories create <name> --repository-format=docker --location=<region>)",
            codes=("NAME_UNKNOWN",),
        ),
        _hint(
            "Artifact Registry wants user oauth2accesstoken with `gcloud auth print-access-token`, "
            "or user _json_key with a service-account key",
            statuses=(401, 403),
        ),
    ),
)

GITLAB = Profile(
    name="gitlab",
    title="GitLab Container Registry",
    hosts=("registry.gitlab.com", "registry.gitlab.*"),
    upload=MONOLITHIC,
    strategies=(MONOLITHIC, SINGLE, CHUNKED),
    # GitLab.com counts /v2/ requests against its authenticated web request limit (gitlab-org/gitlab#627044)
    # and its load balancers limit new TLS sessions a second (gl-infra issue 11748): the defaults, 8 and 4.
    notes="Bearer JWTs live 5-15 minutes; media types are checked against an allow-list",
    hints=(
        _hint(
            "GitLab's registry checks media types against an allow-list and refuses "
            "application/vnd.devcontainers unless the instance allows it: ask the GitLab administrators "
            "to enable it (dynamic media types), or publish to another registry",
            codes=("MANIFEST_INVALID",),
            contains="unknown media type",
        ),
        _hint(
            "GitLab repositories live under the project path: use --namespace <group>/<project>",
            statuses=(401, 403),
        ),
    ),
)

HARBOR = Profile(
    name="harbor",
    title="Harbor",
    hosts=("demo.goharbor.io",),
    upload=MONOLITHIC,
    strategies=(MONOLITHIC, SINGLE, CHUNKED),
    repository_must_exist=True,
    immutable_tags=True,
    notes="the project (first path component) must exist; robot accounts are named robot$...",
    hints=(
        _hint(
            "Harbor pushes go into an existing project: create the project named by the first component of "
            "{repository}, or give a robot account push rights on it",
            codes=("NAME_UNKNOWN", "NOT_FOUND"),
        ),
        _hint(
            "Harbor refused the credentials: robot accounts are named robot$<project>+<name> "
            "(quote the $ in shells)",
            statuses=(401, 403),
        ),
    ),
)

QUAY = Profile(
    name="quay",
    title="Quay",
    hosts=("quay.io",),
    upload=MONOLITHIC,
    strategies=(MONOLITHIC,),
    notes="chunked uploads unreliable; tags are listed in pages of 50",
    hints=(
        _hint(
            "Quay only stores allow-listed artifact types: the administrators must enable "
            "FEATURE_GENERAL_OCI_SUPPORT and allow application/vnd.devcontainers",
            codes=("MANIFEST_INVALID",),
        ),
    ),
)

ARTIFACTORY = Profile(
    name="artifactory",
    title="JFrog Artifactory",
    hosts=("*.jfrog.io",),
    upload=MONOLITHIC,
    strategies=(MONOLITHIC,),
    mount=False,
    notes="chunked uploads once kept only the last chunk; the repository key is the first path component",
    hints=(
        _hint(
            "Artifactory wants the repository key as the first component of the namespace "
            "(--namespace <repo-key>/<path>) and an identity token as the password",
            statuses=(401, 403, 404),
        ),
    ),
)

NEXUS = Profile(
    name="nexus",
    title="Sonatype Nexus",
    upload=MONOLITHIC,
    strategies=(MONOLITHIC,),
    mount=False,
    notes="needs Content-Type: application/octet-stream on blobs and Content-Length on manifests",
    hints=(_GENERIC_MEDIA_TYPE,),
)

GITEA = Profile(
    name="gitea",
    title="Gitea / Forgejo",
    hosts=("codeberg.org", "gitea.com"),
    upload=SINGLE,
    strategies=(MONOLITHIC, SINGLE, CHUNKED),
    single_post=True,
    mount=False,
    notes="single-request POST works; PATCH needs Content-Range after the first write",
)

ZOT = Profile(
    name="zot",
    title="Zot",
    upload=SINGLE,
    strategies=(MONOLITHIC, SINGLE, CHUNKED),
    single_post=True,
    catalog=True,
    notes="single-request POST with strict headers; relative Location",
)

DISTRIBUTION = Profile(
    name="distribution",
    title="CNCF distribution (registry:2 / 3)",
    upload=MONOLITHIC,
    strategies=(MONOLITHIC, SINGLE, CHUNKED),
    single_post=False,
    catalog=True,
    # distribution documents no request limit; its filesystem storage runs up to `maxthreads` blocking
    # operations at once (default 100, at least 25: distribution.github.io, storage drivers, filesystem),
    # and Go's HTTP/2 server takes 250 streams per connection.
    requests_in_flight=32,
    notes="a single-request POST answers 202 and drops the body (the body is sent again with PUT); "
    "Location carries the _state parameter",
)

GENERIC = Profile(
    name="generic",
    title="any OCI registry",
    upload=MONOLITHIC,
    strategies=(MONOLITHIC, SINGLE, CHUNKED),
    catalog=True,  # tried once per run; a registry that refuses it costs one request
    # Nothing is documented for a registry not known here. 32 small requests at once stay well under
    # what the usual server stacks take from one client (distribution's storage runs up to 100
    # operations at once; nginx, often in front, takes 512 connections per worker by default), and a
    # registry that answers 429 is waited for (Retry-After) and retried; --requests-in-flight lowers it.
    requests_in_flight=32,
    notes="the default: monolithic uploads, which every registry takes",
    hints=(_GENERIC_MEDIA_TYPE,),
)

PROFILES: dict[str, Profile] = {
    p.name: p
    for p in (
        ECR,
        GHCR,
        ACR,
        DOCKER_HUB,
        GOOGLE,
        GITLAB,
        HARBOR,
        QUAY,
        ARTIFACTORY,
        NEXUS,
        GITEA,
        ZOT,
        DISTRIBUTION,
        GENERIC,
    )
}
ALIASES = {
    "forgejo": "gitea",
    "docker": "dockerhub",
    "docker-hub": "dockerhub",
    "google": "gar",
    "default": "generic",
}


def get_profile(name: str) -> Profile:
    """A built-in profile by name (or alias); ConfigError naming the choices otherwise."""
    key = name.strip().lower()
    found = PROFILES.get(ALIASES.get(key, key))
    if found is None:
        raise ConfigError(f"unknown registry profile {name!r}", hint=f"one of: {', '.join(PROFILES)}")
    return found


def profile_for_host(registry: str) -> Profile:
    """The built-in profile whose host patterns match `registry`, else the generic one."""
    return next((p for p in PROFILES.values() if p.matches_host(registry)), GENERIC)


def check_depth(profile: Profile, registry: str, repository: str) -> None:
    """InvalidReferenceError when `repository` has more path levels than the registry allows."""
    depth = repository.count("/") + 1
    if profile.max_depth is not None and depth > profile.max_depth:
        raise InvalidReferenceError(
            f"{registry}/{repository}: {profile.title} repository names have at most {profile.max_depth} "
            f"levels, this one has {depth}",
            hint="choose a --namespace with fewer levels, e.g. your user or organisation alone",
        )


def explain(error: RegistryError, profile: Profile) -> RegistryError:
    """Add the profile's hint for `error` (after any hint it already has); returns the same error."""
    hint = profile.hint_for(error)
    if hint and hint != error.hint:
        error.hint = f"{error.hint}; {hint}" if error.hint else hint
    return error
