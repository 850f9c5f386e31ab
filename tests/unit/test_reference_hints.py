"""Hints for names that do not parse suggest only values that would: never an empty or still-invalid one."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from featurepub.errors import InvalidReferenceError
from featurepub.reference import Reference, parse_registry, parse_repository


def refused(call: Callable[..., object], *args: str, **kwargs: str) -> InvalidReferenceError:
    with pytest.raises(InvalidReferenceError) as info:
        call(*args, **kwargs)
    return info.value


def test_an_empty_namespace_gets_an_example_not_an_empty_suggestion() -> None:
    error = refused(parse_repository, "  ", what="namespace")
    assert error.message == "namespace is empty"
    assert error.hint == "give a path such as my-org/features"


def test_two_slashes_in_a_row_are_named() -> None:
    error = refused(parse_repository, "my_org//x", what="namespace")
    assert error.message == "namespace 'my_org//x' has an empty path component (two '/' in a row)"
    assert error.hint == "separate path components with one '/'"


@pytest.mark.parametrize("value", ["my_org//x", "My_Org//x", "My-Org//x"])
def test_no_hint_suggests_a_name_that_is_still_invalid(value: str) -> None:
    # 'My_Org//x' once got "OCI names are lowercase: use 'my_org//x'".
    assert "//" not in (refused(parse_repository, value, what="namespace").hint or "")


def test_a_lowercase_suggestion_is_made_only_when_it_is_valid() -> None:
    assert (
        refused(parse_repository, "My-Org/x", what="namespace").hint == "OCI names are lowercase: use 'my-org/x'"
    )
    still_invalid = refused(parse_repository, "My-Org/x--", what="namespace")
    assert "use" not in (still_invalid.hint or "")


@pytest.mark.parametrize(
    ("value", "hint"),
    [
        ("ghcr.io/", "use --registry ghcr.io"),
        ("ghcr.io//", "use --registry ghcr.io"),
        ("ghcr.io/My Org", "use --registry ghcr.io"),
        ("ghcr.io/my-org/features", "use --registry ghcr.io --namespace my-org/features"),
    ],
)
def test_a_registry_with_a_path_suggests_a_namespace_only_when_it_is_one(value: str, hint: str) -> None:
    assert refused(parse_registry, value).hint == hint


def test_a_reference_with_a_scheme_says_so_as_publish_does() -> None:
    # `inspect http://host/x` once said "registry 'http:' has an invalid port".
    error = refused(Reference.parse, "http://host/x", default_registry="ghcr.io")
    assert error.message == "reference 'http://host/x' has a scheme"
    assert error.hint is not None and "--insecure" in error.hint
    assert "scheme" in refused(parse_registry, "http://host").message
