"""featurepub.publishing.tags: which tags a version gets (pure)."""

from __future__ import annotations

import pytest
import semver
from hypothesis import given, settings
from hypothesis import strategies as st

from featurepub.publishing.tags import floating_tags, highest_in_range, tags_for


@pytest.mark.parametrize(
    ("version", "existing", "expected"),
    [
        pytest.param("1.0.0", [], ["1.0.0", "1.0", "1", "latest"], id="first publish"),
        pytest.param("1.0.1", ["1.0.0", "1.0", "1", "latest"], ["1.0.1", "1.0", "1", "latest"], id="patch bump"),
        pytest.param("1.1.0", ["1.0.0", "1.0", "1", "latest"], ["1.1.0", "1.1", "1", "latest"], id="minor bump"),
        pytest.param(
            "1.0.2",
            ["1.0.0", "1.0.1", "1.1.0", "1.0", "1.1", "1", "latest"],
            ["1.0.2", "1.0"],
            id="fix on old minor",
        ),
        pytest.param("1.5.0", ["1.0.0", "2.0.0", "2", "latest"], ["1.5.0", "1.5", "1"], id="older major line"),
        pytest.param("1.0.0", ["1.0.0"], ["1.0.0", "1.0", "1", "latest"], id="republish same version"),
        pytest.param("1.0.0", ["1.0.1"], ["1.0.0"], id="older patch moves nothing"),
        pytest.param("2.0.0-rc.1", ["1.0.0"], ["2.0.0-rc.1"], id="prerelease moves nothing"),
        pytest.param("2.0.0-rc.1", [], ["2.0.0-rc.1"], id="first prerelease moves nothing"),
        pytest.param(
            "2.0.0",
            ["1.0.0", "2.0.0-rc.1", "3.0.0-beta"],
            ["2.0.0", "2.0", "2", "latest"],
            id="prereleases ignored",
        ),
        pytest.param(
            "1.0.0",
            ["latest", "v9.0.0", "9.0", "9", "nightly", "9.0.0+build", "sha-abc", ""],
            ["1.0.0", "1.0", "1", "latest"],
            id="non-semver and build tags ignored",
        ),
        pytest.param("0.3.0", ["0.2.9", "0.10.0"], ["0.3.0", "0.3"], id="numeric not lexical order"),
        pytest.param("10.0.0", ["9.0.0", "2.0.0"], ["10.0.0", "10.0", "10", "latest"], id="numeric major"),
    ],
)
def test_tags_for(version: str, existing: list[str], expected: list[str]) -> None:
    assert tags_for(version, existing) == expected


def test_existing_may_be_any_iterable() -> None:
    assert tags_for("1.0.2", iter(["1.1.0"])) == ["1.0.2", "1.0"]
    assert floating_tags("1.0.2", (t for t in ["1.1.0"])) == ["1.0"]


def test_invalid_version_raises() -> None:
    with pytest.raises(ValueError, match=r"(?i)semver"):
        tags_for("v1.0.0", [])


_RELEASE = st.builds(semver.Version, st.integers(0, 4), st.integers(0, 4), st.integers(0, 4))
_PRERELEASE = st.builds(
    lambda v, pre: v.replace(prerelease=pre), _RELEASE, st.sampled_from(["rc.1", "alpha", "beta.2", "0"])
)
_NOISE = st.sampled_from(["latest", "1", "1.0", "v1.0.0", "stable", "1.0.0+b1"])


def _order_key(tag: str, version: semver.Version) -> int:
    return {str(version): 0, f"{version.major}.{version.minor}": 1, str(version.major): 2, "latest": 3}[tag]


@settings(deadline=None, max_examples=300)
@given(st.lists(_RELEASE, max_size=8), _RELEASE, st.lists(_PRERELEASE | _NOISE, max_size=4))
def test_latest_iff_highest_release(
    existing: list[semver.Version], version: semver.Version, noise: list[object]
) -> None:
    existing_tags = [str(v) for v in existing] + [str(n) for n in noise]
    tags = tags_for(str(version), existing_tags)

    assert tags[0] == str(version)
    assert ("latest" in tags) == all(version >= e for e in existing)
    same_major = [e for e in existing if e.major == version.major]
    assert (str(version.major) in tags) == all(version >= e for e in same_major)
    same_minor = [e for e in same_major if e.minor == version.minor]
    assert (f"{version.major}.{version.minor}" in tags) == all(version >= e for e in same_minor)
    # most to least specific, no duplicates: the push order
    keys = [_order_key(t, version) for t in tags]
    assert keys == sorted(set(keys))


@settings(deadline=None)
@given(st.lists(_RELEASE | _PRERELEASE, max_size=6), _PRERELEASE)
def test_prerelease_gets_only_its_own_tag(existing: list[semver.Version], version: semver.Version) -> None:
    assert tags_for(str(version), [str(e) for e in existing]) == [str(version)]


@pytest.mark.parametrize(
    ("floating", "tags", "expected"),
    [
        pytest.param("latest", ["1.1.0", "1.2.0", "1", "latest"], "1.2.0", id="latest"),
        pytest.param("1", ["1.1.0", "1.10.0", "1.9.3", "2.0.0"], "1.10.0", id="major, numeric order"),
        pytest.param("1.1", ["1.1.0", "1.1.2", "1.2.0", "1.1.10"], "1.1.10", id="minor"),
        pytest.param("2", ["1.1.0", "2.0.0-rc.1"], None, id="prereleases do not count"),
        pytest.param("latest", ["1.0.0", "3.0.0+build", "v2.0.0"], "1.0.0", id="only plain releases"),
        pytest.param("1.2.3", ["1.2.3"], None, id="an exact version is not floating"),
        pytest.param("main", ["1.0.0"], None, id="not a version tag"),
        pytest.param("latest", [], None, id="nothing published"),
    ],
)
def test_highest_in_range(floating: str, tags: list[str], expected: str | None) -> None:
    assert highest_in_range(floating, tags) == expected


@settings(max_examples=200, deadline=None)
@given(st.lists(st.tuples(st.integers(0, 3), st.integers(0, 3), st.integers(0, 3)), min_size=1, max_size=8))
def test_each_floating_tag_a_version_gets_names_that_version_as_the_highest(
    versions: list[tuple[int, int, int]],
) -> None:
    tags = [".".join(map(str, v)) for v in versions]
    version = tags[-1]
    for floating in floating_tags(version, tags[:-1]):
        assert highest_in_range(floating, tags) == version


def test_the_reference_cli_lists_tags_major_first() -> None:
    from featurepub.publishing.tags import reference_tag_order

    assert reference_tag_order(["1.2.3", "1.2", "1", "latest"]) == ["1", "1.2", "1.2.3", "latest"]
    assert reference_tag_order(["1.2.5", "1.2"]) == ["1.2", "1.2.5"]
    assert reference_tag_order(["2.0.0-rc.1"]) == ["2.0.0-rc.1"]
    assert reference_tag_order(["latest", "0"]) == ["0", "latest"]
