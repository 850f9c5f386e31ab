"""featurepub.features.archive: the layer's bytes depend only on the folder's content."""

from __future__ import annotations

import hashlib
import os
import shutil
import tarfile
from pathlib import Path

import pytest

from featurepub.errors import FeatureError
from featurepub.features.archive import DEFAULT_MTIME, package_layer, scan, source_date_epoch
from featurepub.oci import mediatypes

from .featuretree import problems_of, write_feature

SAMPLES = Path(__file__).resolve().parents[2] / "sample-features"

# A fixed tiny folder: (relative path, content, mode).
TINY = [
    ("devcontainer-feature.json", b'{"id": "tiny", "version": "1.0.0", "name": "Tiny"}\n', 0o644),
    ("install.sh", b"#!/bin/sh\necho tiny\n", 0o755),
    ("lib/util.sh", b"echo util\n", 0o644),
]
# sha256 of the tiny folder's layer with SOURCE_DATE_EPOCH unset. The layer is promised to be reproducible
# (same content -> same bytes -> same digest, across runs and machines): a re-publish of unchanged content is
# recognised by this digest. If this value changes, every published feature gets a new digest on its next
# publish, so treat a change here as a breaking change, not as a golden to refresh. It changed once, on
# purpose: layers end after the end-of-archive blocks instead of being padded to 10 KiB (issue 12, section 5);
# the previous golden, kept below, is these bytes with that padding.
TINY_GOLDEN_SHA256 = "8f8b939b06cdc7309ce865e058afade7a0cf6d7a2ce443479d453b5f9a7dd8c1"
TINY_PADDED_GOLDEN_SHA256 = "00e92d9e1700c0d445c2a613d871f857ae838d70646d9af160064b2eccc16b37"


def make_tiny(root: Path) -> Path:
    for name, content, mode in TINY:
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(content)
        path.chmod(mode)
    return root


def pack(root: Path, out_dir: Path, name: str = "layer.tar") -> bytes:
    blob = package_layer(root, name, out_dir)
    assert blob.path is not None
    data = blob.path.read_bytes()
    assert blob.digest == "sha256:" + hashlib.sha256(data).hexdigest()
    assert blob.size == len(data)
    return data


def members(data: bytes, tmp_path: Path) -> list[tarfile.TarInfo]:
    path = tmp_path / "read.tar"
    path.write_bytes(data)
    with tarfile.open(path) as tar:
        return tar.getmembers()


def raw_name(data: bytes, member: tarfile.TarInfo) -> str:
    assert not member.pax_headers, "plain ASCII names need no pax header"
    return data[member.offset : member.offset + 100].rstrip(b"\0").decode("ascii")


@pytest.fixture(autouse=True)
def _no_source_date_epoch(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("SOURCE_DATE_EPOCH", raising=False)


def test_golden_digest(tmp_path: Path) -> None:
    root = make_tiny(tmp_path / "tiny")
    data = pack(root, tmp_path / "out")
    assert hashlib.sha256(data).hexdigest() == TINY_GOLDEN_SHA256
    # Only the padding went: the members are the bytes earlier featurepub versions wrote.
    assert hashlib.sha256(data + b"\0" * (-len(data) % 10240)).hexdigest() == TINY_PADDED_GOLDEN_SHA256


def test_archive_ends_after_its_end_of_archive_blocks(tmp_path: Path) -> None:
    root = make_tiny(tmp_path / "tiny")
    data = pack(root, tmp_path / "out")
    # ./ ./devcontainer-feature.json ./install.sh ./lib/ ./lib/util.sh: 5 headers, 3 one-block files, 2 zero blocks
    assert len(data) == (5 + 3 + 2) * 512
    assert data.endswith(b"\0" * 1024)
    assert data[-1536:-1024] != b"\0" * 512  # the last file's block, not more padding


def test_blob_descriptor(tmp_path: Path) -> None:
    root = make_tiny(tmp_path / "tiny")
    blob = package_layer(root, "devcontainer-feature-tiny.tgz", tmp_path / "out" / "nested")
    assert blob.path == tmp_path / "out" / "nested" / "devcontainer-feature-tiny.tgz"
    assert blob.descriptor.media_type == mediatypes.FEATURE_LAYER == "application/vnd.devcontainers.layer.v1+tar"
    assert blob.descriptor.annotations == {mediatypes.ANNOTATION_TITLE: "devcontainer-feature-tiny.tgz"}
    with blob.open() as handle:
        header = handle.read(512)
    assert header[:3] == b"./\0"  # an uncompressed tar (no gzip magic), first entry ./
    assert header[257:262] == b"ustar"


def test_same_folder_twice_gives_identical_bytes(tmp_path: Path) -> None:
    root = make_tiny(tmp_path / "tiny")
    assert pack(root, tmp_path / "one") == pack(root, tmp_path / "two")


def test_copy_with_other_mtimes_and_modes_gives_identical_bytes(tmp_path: Path) -> None:
    original = make_tiny(tmp_path / "original")
    copy = tmp_path / "elsewhere" / "deeper" / "copy"
    shutil.copytree(original, copy)
    for path in [copy, *copy.rglob("*")]:
        os.utime(path, (1_000_000_000, 1_234_567_890))
    (copy / "devcontainer-feature.json").chmod(0o600)
    (copy / "lib" / "util.sh").chmod(0o640)
    (copy / "install.sh").chmod(0o700)  # still executable
    (copy / "lib").chmod(0o700)
    assert pack(original, tmp_path / "a") == pack(copy, tmp_path / "b")


def test_exec_bit_and_content_change_the_bytes(tmp_path: Path) -> None:
    root = make_tiny(tmp_path / "tiny")
    before = pack(root, tmp_path / "a")
    (root / "lib" / "util.sh").chmod(0o744)
    exec_changed = pack(root, tmp_path / "b")
    assert exec_changed != before
    (root / "lib" / "util.sh").chmod(0o644)
    assert pack(root, tmp_path / "c") == before
    (root / "lib" / "util.sh").write_bytes(b"echo UTIL\n")
    assert pack(root, tmp_path / "d") != before


def test_source_date_epoch(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    root = make_tiny(tmp_path / "tiny")
    default = pack(root, tmp_path / "a")
    assert {m.mtime for m in members(default, tmp_path)} == {DEFAULT_MTIME}
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1700000000")
    stamped = pack(root, tmp_path / "b")
    assert stamped != default
    assert {m.mtime for m in members(stamped, tmp_path)} == {1700000000}
    assert pack(root, tmp_path / "c") == stamped


@pytest.mark.parametrize(("value", "expected"), [("", DEFAULT_MTIME), (" 42 ", 42), ("-5", 0), ("0", 0)])
def test_source_date_epoch_values(monkeypatch: pytest.MonkeyPatch, value: str, expected: int) -> None:
    monkeypatch.setenv("SOURCE_DATE_EPOCH", value)
    assert source_date_epoch() == expected


def test_source_date_epoch_must_be_a_number(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "yesterday")
    with pytest.raises(FeatureError) as info:
        source_date_epoch()
    assert info.value.problems[0].path == Path("SOURCE_DATE_EPOCH")
    assert "'yesterday'" in info.value.problems[0].message


def test_entry_order_owners_and_modes(tmp_path: Path) -> None:
    root = make_tiny(tmp_path / "tiny")
    (root / "a").mkdir()
    (root / "a" / "b").write_bytes(b"b")
    (root / "a.txt").write_bytes(b"a")
    (root / "B").write_bytes(b"B")
    (root / "_x").write_bytes(b"_")
    (root / "lib" / "empty").mkdir()
    (root / "install.sh").chmod(0o700)
    (root / "B").chmod(0o777)  # group/other write bits are dropped too
    (root / "_x").chmod(0o400)
    data = pack(root, tmp_path / "out")
    found = members(data, tmp_path)
    # the names as written in the headers (tarfile drops a directory's trailing '/' when reading)
    raw_names = [raw_name(data, m) for m in found]
    # one folder at a time, each folder's children in byte order (as GNU tar --sort=name)
    assert raw_names == [
        "./",
        "./B",
        "./_x",
        "./a/",
        "./a/b",
        "./a.txt",
        "./devcontainer-feature.json",
        "./install.sh",
        "./lib/",
        "./lib/empty/",
        "./lib/util.sh",
    ]
    for member in found:
        assert (member.uid, member.gid, member.uname, member.gname) == (0, 0, "", ""), member.name
    modes = {m.name.rstrip("/"): m.mode for m in found}
    assert modes["./install.sh"] == 0o755
    assert modes["./B"] == 0o755
    assert modes["./_x"] == 0o644
    assert modes["./a.txt"] == 0o644
    assert modes["./lib"] == modes["./a"] == modes["./lib/empty"] == 0o755
    assert {m.mode for m in found} <= {0o644, 0o755}
    assert all(m.isdir() for m in found if m.name.rstrip("/") in {".", "./a", "./lib", "./lib/empty"})
    contents = {m.name: m.size for m in found if m.isfile()}
    assert contents["./a/b"] == 1
    assert contents["./install.sh"] == len(TINY[1][1])


def test_git_and_featureignore_are_excluded(tmp_path: Path) -> None:
    root = make_tiny(tmp_path / "tiny")
    files = {
        ".git/HEAD": b"ref\n",
        "lib/.git": b"gitdir: ../x\n",  # a submodule's .git file
        ".featureignore": b"# comment\n*.log\nscratch/\n/top-only.txt\n!keep.log\n",
        "debug.log": b"x",
        "keep.log": b"kept",
        "lib/deep.log": b"x",
        "scratch/notes.txt": b"x",
        "lib/scratch/notes.txt": b"x",
        "top-only.txt": b"x",
        "lib/top-only.txt": b"kept",
        ".hidden": b"kept",
    }
    for name, content in files.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_bytes(content)
    names = {m.name.rstrip("/") for m in members(pack(root, tmp_path / "out"), tmp_path)}
    assert names == {
        ".",
        "./devcontainer-feature.json",
        "./install.sh",
        "./lib",
        "./lib/util.sh",
        "./keep.log",
        "./lib/top-only.txt",
        "./.hidden",
    }


def test_sample_node_tool_leaves_scratch_out() -> None:
    tree = scan(SAMPLES / "src" / "node-tool")
    assert tree.problems == []
    names = [e.name for e in tree.entries]
    assert "devcontainer-feature.json" in names
    assert "install.sh" in names
    assert not any(n.startswith("scratch") or n == ".featureignore" for n in names)


def test_internal_symlink_kept_with_relative_target(tmp_path: Path) -> None:
    root = make_tiny(tmp_path / "tiny")
    (root / "lib" / "current.sh").symlink_to("util.sh")
    (root / "top").symlink_to("lib/util.sh")
    found = {m.name: m for m in members(pack(root, tmp_path / "out"), tmp_path)}
    assert found["./lib/current.sh"].issym()
    assert found["./lib/current.sh"].linkname == "util.sh"
    assert found["./top"].issym()
    assert found["./top"].linkname == "lib/util.sh"
    assert found["./top"].size == 0


def test_symlink_target_content_does_not_matter_only_the_link(tmp_path: Path) -> None:
    # A link is stored as a link: its bytes do not depend on what it points at.
    root = make_tiny(tmp_path / "tiny")
    (root / "link").symlink_to("lib/util.sh")
    before = members(pack(root, tmp_path / "a"), tmp_path)
    (root / "lib" / "util.sh").write_bytes(b"other\n")
    after = members(pack(root, tmp_path / "b"), tmp_path)
    link_before = next(m for m in before if m.name == "./link")
    link_after = next(m for m in after if m.name == "./link")
    assert link_before.get_info() == link_after.get_info()
    assert link_after.linkname == "lib/util.sh"


def test_package_refuses_a_folder_with_problems(tmp_path: Path) -> None:
    root = make_tiny(tmp_path / "tiny")
    (root / "out").symlink_to("/etc/passwd")
    with pytest.raises(FeatureError) as info:
        package_layer(root, "layer.tar", tmp_path / "out")
    assert [p.path for p in info.value.problems] == [root / "out"]
    assert not (tmp_path / "out" / "layer.tar").exists()


def test_non_ascii_names_are_packaged_in_utf8(tmp_path: Path) -> None:
    root = make_tiny(tmp_path / "tiny")
    (root / "héllo-✓.txt").write_bytes(b"x")
    names = [m.name for m in members(pack(root, tmp_path / "out"), tmp_path)]
    assert "./héllo-✓.txt" in names


def test_non_utf8_featureignore_is_a_problem(tmp_path: Path) -> None:
    src = tmp_path / "src"
    write_feature(src, "feat", files={".featureignore": b"\xff\n"})
    assert [p.path.name for p in problems_of(src)] == [".featureignore"]
