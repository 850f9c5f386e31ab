"""Which tags a version gets. Pure.

`X.Y.Z` always; `X.Y`, `X` and `latest` only when X.Y.Z is the highest release in that
range, so publishing a fix to an old line never moves the newer line's tags. A
prerelease moves no floating tag. Order: most to least specific, the push order.
"""

from __future__ import annotations

from collections.abc import Iterable

import semver

from featurepub.reference import EXACT, LATEST, MAJOR, MINOR, push_rank


def _releases(tags: Iterable[str]) -> list[semver.Version]:
    return list(_releases_by_tag(tags))


def _releases_by_tag(tags: Iterable[str]) -> dict[semver.Version, str]:
    found = {}
    for tag in tags:
        if semver.Version.is_valid(tag):
            version = semver.Version.parse(tag)
            if not version.prerelease and not version.build:
                found[version] = tag
    return found


def floating_tags(version: str, existing: Iterable[str]) -> list[str]:
    current = semver.Version.parse(version)
    if current.prerelease:
        return []
    releases = _releases(existing)
    tags = []
    if all(r <= current for r in releases if (r.major, r.minor) == (current.major, current.minor)):
        tags.append(f"{current.major}.{current.minor}")
    if all(r <= current for r in releases if r.major == current.major):
        tags.append(f"{current.major}")
    if all(r <= current for r in releases):
        tags.append("latest")
    return tags


def tags_for(version: str, existing: Iterable[str]) -> list[str]:
    return [version, *floating_tags(version, existing)]


def highest_in_range(floating: str, tags: Iterable[str]) -> str | None:
    """The exact tag a floating tag (`X.Y`, `X` or `latest`) should point at among `tags`: the
    highest release in its range; None when there is none (or `floating` is not a floating tag)."""
    if push_rank(floating) == EXACT:
        return None
    prefix = () if floating == "latest" else tuple(int(p) for p in floating.split("."))
    releases = _releases_by_tag(tags)
    in_range = [v for v in releases if (v.major, v.minor)[: len(prefix)] == prefix]
    return releases[max(in_range)] if in_range else None


def reference_tag_order(tags: Iterable[str]) -> list[str]:
    """`tags` in the order the reference CLI lists them: `X`, `X.Y`, `X.Y.Z` (or any other), `latest`.
    (getSemanticTags in its publishCommandImpl.ts builds the list in that order.)"""

    order = {MAJOR: 0, MINOR: 1, EXACT: 2, LATEST: 3}
    return sorted(tags, key=lambda tag: order[push_rank(tag)])
