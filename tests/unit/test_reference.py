"""featurepub.reference: parse and format OCI references (pure)."""

from __future__ import annotations

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from featurepub.errors import InputError, InvalidReferenceError
from featurepub.reference import (
    DOCKER_HUB,
    DOCKER_HUB_API,
    Reference,
    component_problem,
    has_explicit_registry,
    is_loopback,
    is_valid_component,
    is_valid_digest,
    is_valid_tag,
    parse_registry,
    parse_repository,
    repository_problem,
)

SHA = "sha256:" + "0123456789abcdef" * 4


@pytest.mark.parametrize(
    ("text", "registry", "repository", "tag", "digest"),
    [
        ("ghcr.io/owner/features/node:1", "ghcr.io", "owner/features/node", "1", None),
        ("ghcr.io/owner/node", "ghcr.io", "owner/node", None, None),
        ("localhost:5000/ns/feat:1.2.3", "localhost:5000", "ns/feat", "1.2.3", None),
        ("localhost/ns/feat", "localhost", "ns/feat", None, None),
        ("127.0.0.1:5000/a", "127.0.0.1:5000", "a", None, None),
        ("[::1]:5000/a/b:latest", "[::1]:5000", "a/b", "latest", None),
        ("[::1]/a", "[::1]", "a", None, None),
        (f"ghcr.io/a/b@{SHA}", "ghcr.io", "a/b", None, SHA),
        (f"ghcr.io/a/b:1.0@{SHA}", "ghcr.io", "a/b", "1.0", SHA),
        ("GHCR.IO/a/b", "ghcr.io", "a/b", None, None),  # host names are case-insensitive
        ("  ghcr.io/a/b:1  ", "ghcr.io", "a/b", "1", None),
        ("my.registry.example:443/x__y/z-z.w:_t", "my.registry.example:443", "x__y/z-z.w", "_t", None),
    ],
)
def test_parse_valid(text: str, registry: str, repository: str, tag: str | None, digest: str | None) -> None:
    ref = Reference.parse(text)
    assert (ref.registry, ref.repository, ref.tag, ref.digest) == (registry, repository, tag, digest)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("ubuntu", "docker.io/library/ubuntu"),
        ("ubuntu:22.04", "docker.io/library/ubuntu:22.04"),
        ("owner/repo", "docker.io/owner/repo"),
        ("docker.io/ubuntu", "docker.io/library/ubuntu"),
        ("index.docker.io/ubuntu", "docker.io/library/ubuntu"),
        ("index.docker.io/owner/repo:1", "docker.io/owner/repo:1"),
        ("registry-1.docker.io/owner/repo", "docker.io/owner/repo"),
        ("registry.hub.docker.com/ubuntu", "docker.io/library/ubuntu"),
        ("Docker.IO/ubuntu", "docker.io/library/ubuntu"),
        # docker's rule: a first component without '.', ':' or 'localhost' is a path, not a host.
        ("myhost/repo", "docker.io/myhost/repo"),
    ],
)
def test_docker_hub_normalisation(text: str, expected: str) -> None:
    assert str(Reference.parse(text)) == expected


def test_docker_hub_api_host_differs_from_its_name() -> None:
    hub = Reference.parse("ubuntu")
    assert hub.registry == DOCKER_HUB
    assert hub.api_host == DOCKER_HUB_API
    assert Reference.parse("ghcr.io/a/b").api_host == "ghcr.io"


def test_default_registry_used_for_short_names() -> None:
    ref = Reference.parse("ns/feat:1", default_registry="ghcr.io")
    assert ref == Reference("ghcr.io", "ns/feat", "1")


def test_identifier_name_and_with_tag() -> None:
    ref = Reference.parse(f"ghcr.io/a/b:1@{SHA}")
    assert ref.identifier == SHA  # a digest wins over the tag
    assert ref.name == "ghcr.io/a/b"
    assert Reference.parse("ghcr.io/a/b:2").identifier == "2"
    assert Reference.parse("ghcr.io/a/b").identifier == "latest"
    retagged = ref.with_tag("3")
    assert retagged == Reference("ghcr.io", "a/b", "3")
    assert retagged.digest is None


def _error(text: str) -> InvalidReferenceError:
    with pytest.raises(InvalidReferenceError) as info:
        Reference.parse(text)
    return info.value


def test_invalid_reference_error_is_an_input_error() -> None:
    assert isinstance(_error(""), InputError)
    assert _error("").exit_code == 2


def test_uppercase_namespace_hints_the_lowercase_name() -> None:
    err = _error("ghcr.io/My-Org/Features")
    assert "'My-Org'" in err.message
    assert err.hint is not None
    assert "'my-org/features'" in err.hint
    assert "lowercase" in err.hint


def test_invalid_component_without_lowercase_fix_gets_the_grammar_hint() -> None:
    err = _error("ghcr.io/a/b--/c")
    assert err.hint is not None
    assert "lowercase letters and digits" in err.hint


@pytest.mark.parametrize("tag", [".hidden", "-dash", "a" * 129, "t+build", "t!"])
def test_bad_tag(tag: str) -> None:
    err = _error(f"ghcr.io/a/b:{tag}")
    assert "invalid tag" in err.message
    assert err.hint is not None
    assert "128" in err.hint


def test_longest_tag_is_accepted() -> None:
    assert Reference.parse("ghcr.io/a/b:" + "a" * 128).tag == "a" * 128


@pytest.mark.parametrize(
    "digest",
    [
        "sha256:abc",  # too short
        "sha256:" + "A" * 64,  # sha256 is lowercase hex
        "sha256:" + "0" * 63,
        "sha256:" + "0" * 65,
        "sha256" + "0" * 64,
        "md5:" + "0" * 31,
        "",
    ],
)
def test_bad_digest(digest: str) -> None:
    assert "invalid digest" in _error(f"ghcr.io/a/b@{digest}").message


def test_other_algorithms_are_accepted() -> None:
    assert is_valid_digest("sha512:" + "0" * 128)
    assert is_valid_digest(SHA)


@pytest.mark.parametrize(
    ("value", "hint_part"),
    [
        ("https://ghcr.io", "--insecure"),
        ("http://localhost:5000", "host[:port]"),
    ],
)
def test_registry_with_scheme(value: str, hint_part: str) -> None:
    with pytest.raises(InvalidReferenceError) as info:
        parse_registry(value)
    assert "scheme" in info.value.message
    assert info.value.hint is not None
    assert hint_part in info.value.hint


def test_registry_with_path_hints_namespace() -> None:
    with pytest.raises(InvalidReferenceError) as info:
        parse_registry("ghcr.io/my-org/features/")
    assert "path" in info.value.message
    assert info.value.hint == "use --registry ghcr.io --namespace my-org/features"


@pytest.mark.parametrize("value", ["ghcr.io:0", "ghcr.io:65536", "ghcr.io:http", "ghcr.io:", "[::1]:", "[::1]x"])
def test_registry_with_bad_port(value: str) -> None:
    with pytest.raises(InvalidReferenceError, match="port"):
        parse_registry(value)


@pytest.mark.parametrize("value", ["", "   ", "bad_host", "-bad.io", "bad-.io", "a..b", "[zz::1]"])
def test_registry_with_bad_host(value: str) -> None:
    with pytest.raises(InvalidReferenceError):
        parse_registry(value)


@pytest.mark.parametrize(
    ("value", "label"),
    [
        ("a" * 64 + ".example.com", "a" * 64),
        ("registry." + "b" * 64 + ":5000", "b" * 64),
        ("c" * 64, "c" * 64),
    ],
)
def test_registry_with_a_label_over_63_characters(value: str, label: str) -> None:
    # RFC 1035 2.3.4 and RFC 1123 2.1: a label is at most 63 octets. Such a host used to fail only on
    # the first request (exit 4), as if the registry were unreachable.
    with pytest.raises(InvalidReferenceError) as info:
        parse_registry(value)
    assert info.value.message == (
        f"registry {value!r} is not a valid host name: its label {label[:8]}... is {len(label)} characters, "
        "over the 63 a DNS label may have"
    )


def test_registry_with_a_host_name_over_253_characters() -> None:
    host = ".".join(["a" * 63] * 4)  # 255 characters, every label allowed
    with pytest.raises(InvalidReferenceError) as info:
        parse_registry(f"{host}:443")
    assert info.value.message == (
        f"registry {host + ':443'!r} is not a valid host name: it is 255 characters, over the 253 a DNS "
        "name may have"
    )
    fits = ".".join(["a" * 63] * 3 + ["a" * 61])  # 253
    assert parse_registry(fits) == fits
    assert parse_registry("a" * 63 + ".io") == "a" * 63 + ".io"


@pytest.mark.parametrize(
    ("value", "expected"),
    [("GHCR.io", "ghcr.io"), ("localhost:5000", "localhost:5000"), ("[::1]:65535", "[::1]:65535"), ("h:1", "h:1")],
)
def test_parse_registry_ok(value: str, expected: str) -> None:
    assert parse_registry(value) == expected


def test_superscript_port_is_an_invalid_reference() -> None:
    with pytest.raises(InvalidReferenceError):
        Reference.parse("ghcr.io:²/a")


def test_non_ascii_digit_port_is_refused() -> None:
    with pytest.raises(InvalidReferenceError):
        parse_registry("ghcr.io:\u0661\u0662")


@pytest.mark.parametrize("text", ["ubuntu/", "/ubuntu"])
def test_stray_slashes_still_normalise_docker_hub(text: str) -> None:
    ref = Reference.parse(text)
    assert Reference.parse(str(ref)) == ref


def test_empty_and_malformed_references() -> None:
    assert "empty" in _error("  ").message
    _error("ghcr.io/")
    _error("ghcr.io/a//b")
    _error("ghcr.io/a b")
    _error("ghcr.io/a@b@c")


def test_repository_length_limit() -> None:
    long_path = "/".join(["a" * 50] * 6)  # 305 characters
    with pytest.raises(InvalidReferenceError, match="255"):
        parse_repository(long_path)
    assert parse_repository("/".join(["a" * 50] * 5)) == "/".join(["a" * 50] * 5)


def test_parse_repository_names_what_it_checks() -> None:
    with pytest.raises(InvalidReferenceError, match=r"^namespace is empty"):
        parse_repository(" / ", what="namespace")
    assert parse_repository("/ns/features/") == "ns/features"


@pytest.mark.parametrize(
    ("name", "ok"),
    [
        ("a", True),
        ("node-tool", True),
        ("a--b", True),
        ("a__b", True),
        ("a.b_c", True),
        ("a___b", False),
        ("a._b", False),
        ("-a", False),
        ("a-", False),
        ("A", False),
        ("", False),
        ("a/b", False),
    ],
)
def test_is_valid_component(name: str, ok: bool) -> None:
    assert is_valid_component(name) is ok


@pytest.mark.parametrize(
    ("tag", "ok"), [("1.0.0", True), ("latest", True), ("_x", True), (".x", False), ("a:b", False), ("", False)]
)
def test_is_valid_tag(tag: str, ok: bool) -> None:
    assert is_valid_tag(tag) is ok


@pytest.mark.parametrize(
    ("value", "explicit"),
    [
        ("ghcr.io/a/b", True),
        ("localhost/a", True),
        ("localhost:5000/a", True),
        ("[::1]/a", True),
        ("owner/repo", False),
        ("ghcr.io", False),
        ("node:1", False),
    ],
)
def test_has_explicit_registry(value: str, explicit: bool) -> None:
    assert has_explicit_registry(value) is explicit


@pytest.mark.parametrize(
    ("registry", "loopback"),
    [
        ("localhost", True),
        ("localhost:5000", True),
        ("127.0.0.1", True),
        ("127.0.0.1:5000", True),
        ("127.1.2.3:80", True),
        ("[::1]", True),
        ("[::1]:5000", True),
        ("ghcr.io", False),
        ("localhost.example.com", False),
        ("10.0.0.1:5000", False),
        ("[::2]:5000", False),
        ("128.0.0.1", False),
    ],
)
def test_is_loopback(registry: str, loopback: bool) -> None:
    assert is_loopback(registry) is loopback


# --- properties ------------------------------------------------------------------------------------------

_LABEL = st.from_regex(r"[a-z0-9]([a-z0-9-]{0,8}[a-z0-9])?", fullmatch=True)
_PORT = st.integers(min_value=1, max_value=65535)
_HOST = st.one_of(
    st.lists(_LABEL, min_size=2, max_size=4).map(".".join),
    st.just("localhost"),
    st.just("[::1]"),
)
REGISTRIES = st.builds(
    lambda host, port: f"{host}:{port}" if port is not None else host, _HOST, st.none() | _PORT
).filter(lambda r: r not in {"docker.io", "index.docker.io", "registry-1.docker.io", "registry.hub.docker.com"})
_COMPONENTS = st.from_regex(r"[a-z0-9]{1,6}((\.|_|__|-{1,3})[a-z0-9]{1,6}){0,2}", fullmatch=True)
REPOSITORIES = st.lists(_COMPONENTS, min_size=1, max_size=4).map("/".join)
TAGS = st.from_regex(r"[A-Za-z0-9_][A-Za-z0-9._-]{0,40}", fullmatch=True)
DIGESTS = st.text(alphabet="0123456789abcdef", min_size=64, max_size=64).map(lambda h: f"sha256:{h}")


@settings(deadline=None)
@given(REGISTRIES, REPOSITORIES, st.none() | TAGS, st.none() | DIGESTS)
def test_format_then_parse_round_trips(
    registry: str, repository: str, tag: str | None, digest: str | None
) -> None:
    ref = Reference(registry, repository, tag=tag, digest=digest)
    assert Reference.parse(str(ref)) == ref


@settings(deadline=None)
@given(REPOSITORIES.filter(lambda r: "/" in r), st.none() | TAGS)
def test_docker_hub_round_trip(repository: str, tag: str | None) -> None:
    ref = Reference(DOCKER_HUB, repository, tag=tag)
    assert Reference.parse(str(ref)) == ref


# Any character, non-ASCII digits included (a port of '²' once escaped as a bare ValueError).
_SAFE_CHARS = st.characters()
_REFERENCE_ISH = st.text(alphabet=st.sampled_from([*"aZ09._-:/@[]+ \t", "é", "İ", "\x00"]), max_size=40)


@settings(deadline=None, max_examples=300)
@given(st.one_of(st.text(alphabet=_SAFE_CHARS, max_size=60), _REFERENCE_ISH))
@example("ghcr.io:/a")
@example("[/a")
@example("[::1]x/a")
@example("@")
@example(":")
@example("a:")
def test_parse_arbitrary_text_returns_or_raises_invalid_reference(text: str) -> None:
    try:
        ref = Reference.parse(text)
    except InvalidReferenceError:
        return
    assert isinstance(ref, Reference)
    assert all(is_valid_component(c) for c in ref.repository.split("/"))
    assert ref.tag is None or is_valid_tag(ref.tag)


# --- names a registry and its clients take (checked before publishing) -----------------------------------


@pytest.mark.parametrize(
    ("name", "fragment"),
    [
        ("feature", None),
        ("my.feature_x-y", None),
        ("a__b", "Dev Containers CLI"),  # distribution takes it, the reference CLI's parser does not
        ("a--b", "Dev Containers CLI"),
        ("Feature", "not a valid OCI repository name component"),
        ("-a", "not a valid OCI repository name component"),
    ],
)
def test_component_problem(name: str, fragment: str | None) -> None:
    why = component_problem(name)
    assert (why is None) if fragment is None else (why is not None and fragment in why)


def test_repository_problem_counts_the_host_as_clients_do() -> None:
    assert repository_problem("a" * 255) is None
    assert "at most 255" in (repository_problem("a" * 256) or "")
    host = "registry.example.org:5000"  # the distribution spec's example: 229 characters are left
    assert repository_problem("a" * 229, host) is None
    assert "at most 229 fit" in (repository_problem("a" * 230, host) or "")


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("ghcr.io", ("ghcr.io", "")),
        ("My-Registry.com/features-feed", ("my-registry.com", "features-feed")),
        ("localhost:5000/a/b/", ("localhost:5000", "a/b")),
        ("[::1]:5000/feed", ("[::1]:5000", "feed")),
    ],
)
def test_a_registry_may_carry_a_path(value: str, expected: tuple[str, str]) -> None:
    """devcontainers/cli#1098: `--registry my-registry.com/features-feed` puts every repository under it."""
    from featurepub.reference import parse_registry_location

    assert parse_registry_location(value) == expected


@pytest.mark.parametrize(
    ("value", "message"),
    [("https://ghcr.io/x", "has a scheme"), ("ghcr.io/Feed", "lowercase"), ("ghcr.io/a b", "invalid path")],
)
def test_a_registry_path_is_checked_like_a_namespace(value: str, message: str) -> None:
    from featurepub.reference import parse_registry_location

    with pytest.raises(InvalidReferenceError) as info:
        parse_registry_location(value)
    assert message in f"{info.value.message} {info.value.hint}"


def test_a_full_reference_with_a_registry_path_parses_host_and_repository() -> None:
    ref = Reference.parse("localhost:5000/features-feed/ns/hello-cli:2")
    assert (ref.registry, ref.repository, ref.tag) == ("localhost:5000", "features-feed/ns/hello-cli", "2")
