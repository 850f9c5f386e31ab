"""featurepub.publishing.content_equality: the same files and metadata, however another tool packed them."""

from __future__ import annotations

import gzip
import io
import tarfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass

import pytest

from featurepub.publishing.content_equality import (
    OverLimit,
    index_layer,
    layer_difference,
    metadata_difference,
    same_json,
)


@dataclass(frozen=True)
class Item:
    name: str
    data: bytes = b""
    mode: int = 0o644
    kind: bytes = tarfile.REGTYPE
    link: str = ""
    mtime: int = 0
    owner: int = 0


FEATURE = [
    Item("./", kind=tarfile.DIRTYPE, mode=0o755),
    Item("./devcontainer-feature.json", b'{"id": "tool", "version": "1.0.0", "name": "Tool"}'),
    Item("./install.sh", b"#!/bin/sh\necho tool\n", 0o755),
    Item("./bin/", kind=tarfile.DIRTYPE, mode=0o755),
    Item("./bin/tool", b"\x7fELF" + bytes(range(256)) * 40, 0o755),
    Item("./bin/current", kind=tarfile.SYMTYPE, link="tool"),
]


def tar(items: list[Item], *, pad: bool = False, fmt: int = tarfile.USTAR_FORMAT) -> bytes:
    """A tar of `items`; `pad` keeps Python's 10 KiB record padding, as an older featurepub wrote it."""
    out = io.BytesIO()
    with tarfile.open(fileobj=out, mode="w", format=fmt) as archive:
        for item in items:
            info = tarfile.TarInfo(item.name)
            info.type, info.mode, info.mtime = item.kind, item.mode, item.mtime
            info.uid = info.gid = item.owner
            info.uname = "someone" if item.owner else ""
            info.linkname = item.link
            info.size = len(item.data) if item.kind == tarfile.REGTYPE else 0
            archive.addfile(info, io.BytesIO(item.data) if item.kind == tarfile.REGTYPE else None)
        end = archive.offset  # where the members end; then two zero blocks and the record's padding
    data = out.getvalue()
    return data if pad else data[: end + 2 * tarfile.BLOCKSIZE]


def pieces(data: bytes, size: int = 7) -> Iterator[bytes]:
    for start in range(0, len(data), size):
        yield data[start : start + size]


LOCAL = index_layer([tar(FEATURE)])


def test_the_index_holds_files_folders_and_links() -> None:
    assert sorted(LOCAL) == ["bin", "bin/current", "bin/tool", "devcontainer-feature.json", "install.sh"]
    assert LOCAL["install.sh"].executable and not LOCAL["devcontainer-feature.json"].executable
    assert LOCAL["bin/current"].link_target == "tool"


def test_how_another_tool_packs_is_not_content() -> None:
    # node-tar's way: real mtimes and owners, its own order, no "./" prefix, no folder entries,
    # group and other bits, pax headers; then gzip; and an older featurepub's 10 KiB padding.
    reordered = [
        Item(i.name.removeprefix("./"), i.data, i.mode | 0o020, i.kind, i.link, 1_700_000_000 + n, 1000)
        for n, i in enumerate(reversed(FEATURE))
        if i.kind != tarfile.DIRTYPE
    ]
    padded_gzip = gzip.compress(tar(FEATURE, pad=True)) + bytes(700)  # zeros after the gzip member
    remotes = (
        tar(reordered, fmt=tarfile.PAX_FORMAT),
        gzip.compress(tar(reordered)),
        tar(FEATURE, pad=True),
        padded_gzip,
    )
    for remote in remotes:
        assert layer_difference(LOCAL, pieces(remote)) is None


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        (
            lambda items: [*items[:2], Item("./install.sh", b"#!/bin/sh\necho other\n", 0o755), *items[3:]],
            "install.sh differs",
        ),
        (
            lambda items: [*items[:2], Item("./install.sh", FEATURE[2].data, 0o644), *items[3:]],
            "install.sh is not executable in the registry's version",
        ),
        (lambda items: [*items, Item("./NOTES.md", b"x")], "NOTES.md is only in the registry's version"),
        (
            lambda items: [i for i in items if i.name != "./bin/current"],
            "bin/current is not in the registry's version",
        ),
        (
            lambda items: [*items[:5], Item("./bin/current", kind=tarfile.SYMTYPE, link="other")],
            "bin/current links to 'other' in the registry's version, to 'tool' here",
        ),
        (
            lambda items: [*items, Item("./empty/", kind=tarfile.DIRTYPE, mode=0o755)],
            "empty is only in the registry's version",
        ),
        (
            lambda items: [*items[:5], Item("./bin/current", b"tool")],
            "bin/current is a file in the registry's version, a symlink here",
        ),
    ],
)
def test_a_real_change_names_the_first_file_that_differs(
    change: Callable[[list[Item]], list[Item]], expected: str
) -> None:
    remote = tar(change(list(FEATURE)))
    assert layer_difference(LOCAL, pieces(remote)) == expected


def test_documentation_no_consumer_reads_is_collected_apart_when_asked() -> None:
    # README.md rewritten after publishing (docs run after publish), NOTES.md only here: the rest is the same.
    local = index_layer([tar([*FEATURE, Item("./README.md", b"# Tool, regenerated\n"), Item("./NOTES.md", b"n")])])
    remote = tar([*FEATURE, Item("./README.md", b"# Tool\n")])
    documentation: list[str] = []
    assert layer_difference(local, pieces(remote), documentation=documentation) is None
    assert documentation == ["README.md differs", "NOTES.md is not in the registry's version"]
    # Without the list it is a difference like any other; so is a README.md below the root.
    assert layer_difference(local, pieces(remote)) == "README.md differs"
    nested = tar([*FEATURE, Item("./bin/README.md", b"x")])
    assert (
        layer_difference(LOCAL, pieces(nested), documentation=[])
        == "bin/README.md is only in the registry's version"
    )
    # A documentation difference never hides a real one that comes after it.
    changed = tar(
        [Item("./README.md", b"# Tool\n"), *FEATURE[:2], Item("./install.sh", b"other", 0o755), *FEATURE[3:]]
    )
    assert layer_difference(local, pieces(changed), documentation=[]) == "install.sh differs"


def test_a_hard_link_holds_what_it_links_to() -> None:
    items = [*FEATURE[:4], Item("./bin/tool", FEATURE[4].data, 0o755)]
    linked = [Item("./bin/tool2", kind=tarfile.LNKTYPE, link="./bin/tool", mode=0o755)]
    local = index_layer([tar([*items, Item("./bin/tool2", FEATURE[4].data, 0o755)])])
    assert layer_difference(local, [tar(items + linked)]) is None


def test_an_entry_twice_or_a_broken_archive_is_different() -> None:
    twice = tar([*FEATURE, Item("./install.sh", FEATURE[2].data, 0o755)])
    assert "appears twice" in str(layer_difference(LOCAL, [twice]))
    assert "not a tar archive" in str(layer_difference(LOCAL, [b"this is no tar at all" * 40]))
    assert "not a tar archive" in str(layer_difference(LOCAL, [gzip.compress(b"x" * 2000)[:-9]]))


def test_the_first_difference_stops_the_download() -> None:
    big = [*FEATURE[:2], Item("./install.sh", b"changed", 0o755), Item("./blob.bin", b"\0" * 4_000_000)]
    taken = 0

    def counted() -> Iterator[bytes]:
        nonlocal taken
        for piece in pieces(tar(big), 64 * 1024):
            taken += len(piece)
            yield piece

    assert layer_difference(LOCAL, counted()) == "install.sh differs"
    assert taken < 200 * 1024


def test_the_same_layer_is_read_to_its_end() -> None:
    data = tar(FEATURE, pad=True)
    ended = False

    def watched() -> Iterator[bytes]:
        nonlocal ended
        yield from pieces(data, 1000)
        ended = True  # a registry's stream checks the digest here

    assert layer_difference(LOCAL, watched()) is None
    assert ended


def test_a_layer_over_the_limit_is_not_read_whole() -> None:
    data = tar(FEATURE)
    with pytest.raises(OverLimit):
        layer_difference(LOCAL, pieces(data, 512), limit=len(data) - 1)
    bomb = gzip.compress(tar([Item("./zeros", b"\0" * 5_000_000)]))
    assert len(bomb) < 50_000
    with pytest.raises(OverLimit, match="as a tar archive"):
        layer_difference(LOCAL, [bomb], limit=1_000_000)


def test_metadata_is_compared_as_json() -> None:
    ours = '{"id":"tool","version":"1.0.0","options":{"a":{"type":"boolean","default":true}}}'
    spaced = '{ "version": "1.0.0", "id": "tool", "options": {"a": {"default": true, "type": "boolean"}} }'
    assert metadata_difference(ours, spaced) is None
    assert metadata_difference(ours, spaced.replace("true", "1")) == "metadata field 'options' differs"
    assert metadata_difference(ours, spaced.replace('"id": "tool", ', "")) == (
        "metadata field 'id' is not in the registry's version"
    )
    assert (
        metadata_difference('{"id":"t"}', '{"id":"t","x":1}')
        == "metadata field 'x' is only in the registry's version"
    )
    assert "no dev.containers.metadata annotation" in str(metadata_difference(ours, None))
    assert "not JSON" in str(metadata_difference(ours, "{nope"))


@pytest.mark.parametrize(
    ("a", "b", "same"),
    [(1, 1.0, True), (True, 1, False), (0, False, False), ([1, "x"], [1, "x"], True), ({"a": None}, {}, False)],
)
def test_json_equality_is_javascripts(a: object, b: object, same: bool) -> None:
    assert same_json(a, b) is same
