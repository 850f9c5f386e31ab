"""Reproducible layers for features and templates: a tar whose bytes depend only on the folder's content.

Entries are sorted, prefixed `./`, owned by 0:0 with no user names, stamped with one
fixed mtime (SOURCE_DATE_EPOCH when set) and given normalised modes that keep only
the executable bit. File contents stream from disk, so a folder of any size packs in
constant memory; the digest is computed as the archive is written. The archive ends right after
its end-of-archive marker (two zero blocks), as the reference CLI's node-tar writes it: Python's
tarfile would pad it to a 10 KiB record, which made small layers several times larger.
"""

from __future__ import annotations

import errno
import os
import stat
import tarfile
from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from pathlib import Path, PurePosixPath
from typing import TYPE_CHECKING, Protocol

from featurepub.errors import FeatureError, Problem, Tier
from featurepub.features.model import Feature
from featurepub.localfiles import UnreadableFile, kind_of, os_reason, read_small_file
from featurepub.oci import mediatypes
from featurepub.oci.descriptor import Blob, Descriptor
from featurepub.oci.digest import HashingWriter
from featurepub.oci.jsjson import js_dumps

if TYPE_CHECKING:
    import pathspec

IGNORE_FILE = ".featureignore"  # a feature's; each kind names its own (featurepub.kinds)
# 1980-01-01T00:00:00Z: the earliest time zip and most tools take without complaint.
DEFAULT_MTIME = 315532800
MAX_FILE_BYTES = 8 * 1024**3
MAX_IGNORE_BYTES = 1024 * 1024
BLOCK = tarfile.BLOCKSIZE
END_OF_ARCHIVE = b"\0" * (2 * BLOCK)
_OPEN_FLAGS = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_BINARY", 0)


class PackingProgress(Protocol):
    """Told how packing a layer goes: large folders take seconds to pack."""

    def started(self, total: int) -> None:
        """Packing starts; `total` is the bytes of file content the layer will hold."""

    def packed(self, size: int) -> None:
        """`size` more bytes of file content were written."""


@dataclass(frozen=True)
class Entry:
    """One archive member: its path inside the archive and on disk."""

    name: str  # posix, relative, no "./"
    path: Path
    kind: str  # "dir", "file" or "symlink"
    executable: bool = False
    size: int = 0
    link_target: str = ""
    content: bytes | None = None  # written instead of the file on disk


def source_date_epoch() -> int:
    value = os.environ.get("SOURCE_DATE_EPOCH", "").strip()
    if not value:
        return DEFAULT_MTIME
    try:
        epoch = int(value)
    except ValueError:
        raise FeatureError(
            [Problem(Path("SOURCE_DATE_EPOCH"), f"must be a whole number of seconds, not {value!r}")]
        ) from None
    return max(epoch, 0)


@dataclass
class Tree:
    """What the archive of a folder will hold, what stops it, and which top-level names the
    ignore file left out."""

    entries: list[Entry] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)
    excluded: set[str] = field(default_factory=set)

    @property
    def blocking(self) -> list[Problem]:
        return [p for p in self.problems if p.tier is Tier.ERROR]


def _ignore_spec(root: Path, ignore_file: str | None, problems: list[Problem]) -> pathspec.GitIgnoreSpec | None:
    if ignore_file is None:
        return None
    ignore = root / ignore_file
    if not os.path.lexists(ignore):
        return None
    try:
        text = read_small_file(ignore, MAX_IGNORE_BYTES).decode("utf-8")
    except UnreadableFile as exc:
        problems.append(Problem(ignore, exc.reason))
        return None
    except (OSError, UnicodeDecodeError) as exc:
        problems.append(Problem(ignore, f"cannot be used: {exc}"))
        return None
    import pathspec  # only features with an ignore file pay for its import

    try:
        return pathspec.GitIgnoreSpec.from_lines(text.splitlines())
    except ValueError as exc:
        problems.append(Problem(ignore, f"cannot be used: {exc}"))
        return None


def scan(root: Path, ignore_file: str | None = IGNORE_FILE) -> Tree:
    """List what the archive of `root` will hold, in archive order, and what stops it. `.git` is
    never packed; `ignore_file` (itself left out) names more to leave out, in gitignore syntax."""
    tree = Tree()
    spec = _ignore_spec(root, ignore_file, tree.problems)
    real_root = Path(os.path.realpath(root))
    excluded_at_root = {".git", ignore_file} if ignore_file else {".git"}
    _walk(root, PurePosixPath(), spec, real_root, tree, excluded_at_root)
    return tree


def _walk(
    directory: Path,
    relative: PurePosixPath,
    spec: pathspec.GitIgnoreSpec | None,
    real_root: Path,
    tree: Tree,
    excluded_at_root: set[str],
) -> None:
    problems = tree.problems
    try:
        children = sorted(os.scandir(directory), key=lambda e: os.fsencode(e.name))
    except OSError as exc:
        problems.append(Problem(directory, f"cannot be listed: {exc.strerror or exc}"))
        return
    for child in children:
        path = Path(child.path)
        try:
            child.name.encode("utf-8")
        except UnicodeEncodeError:
            problems.append(Problem(path, "file name is not valid UTF-8; rename it"))
            continue
        if child.name == ".git" or (child.name in excluded_at_root and relative == PurePosixPath()):
            continue
        name = relative / child.name
        is_dir = child.is_dir(follow_symlinks=False)
        if spec is not None and spec.match_file(f"{name}/" if is_dir else str(name)):
            if relative == PurePosixPath():
                tree.excluded.add(child.name)
            continue
        try:
            info = child.stat(follow_symlinks=False)
        except OSError as exc:
            problems.append(Problem(path, f"cannot be read: {exc.strerror or exc}"))
            continue
        if stat.S_ISLNK(info.st_mode):
            _symlink(path, str(name), real_root, tree)
        elif stat.S_ISDIR(info.st_mode):
            tree.entries.append(Entry(str(name), path, "dir"))
            _walk(path, name, spec, real_root, tree, excluded_at_root)
        elif stat.S_ISREG(info.st_mode):
            if info.st_size > MAX_FILE_BYTES:
                problems.append(Problem(path, f"is {info.st_size} bytes, over the {MAX_FILE_BYTES} byte limit"))
            elif not os.access(path, os.R_OK):
                problems.append(Problem(path, "is not readable: fix its permissions"))
            else:
                executable = bool(info.st_mode & 0o111)
                tree.entries.append(Entry(str(name), path, "file", executable, info.st_size))
        else:
            problems.append(
                Problem(path, f"is {kind_of(info.st_mode)}: only files, folders and symlinks are packaged")
            )


def _symlink(path: Path, name: str, real_root: Path, tree: Tree) -> None:
    try:
        target = os.readlink(path)
    except OSError as exc:
        tree.problems.append(Problem(path, f"cannot be read: {exc.strerror or exc}"))
        return
    if os.path.isabs(target):
        tree.problems.append(
            Problem(path, f"symlink to the absolute path {target!r}: use a relative link inside the folder")
        )
        return
    # Both the link as written and where it finally leads (through other links) must stay inside.
    # realpath never raises: on a loop it stops where the loop starts, which is inside the folder.
    lexical = Path(os.path.normpath(Path(os.path.realpath(path.parent)) / target))
    for where in (lexical, Path(os.path.realpath(path))):
        if not where.is_relative_to(real_root):
            outside = f"symlink {target!r} points outside its feature or template folder"
            tree.problems.append(Problem(path, outside))
            return
    tree.entries.append(Entry(name, path, "symlink", link_target=target))
    try:
        os.stat(path)
    except OSError as exc:
        # A link to nothing is packed as it is (extracting it works); it is most likely a mistake.
        what = (
            "is a symlink loop"
            if exc.errno == errno.ELOOP
            else f"is a symlink to {target!r}, which does not exist"
        )
        tree.problems.append(
            Problem(path, what, Tier.WARNING, "it is packed as a link that leads nowhere", field=name)
        )


def _tarinfo(entry: Entry, mtime: int) -> tarfile.TarInfo:
    info = tarfile.TarInfo(f"./{entry.name}" + ("/" if entry.kind == "dir" else ""))
    info.mtime = mtime
    info.uid = info.gid = 0
    info.uname = info.gname = ""
    if entry.kind == "dir":
        info.type = tarfile.DIRTYPE
        info.mode = 0o755
    elif entry.kind == "symlink":
        info.type = tarfile.SYMTYPE
        info.linkname = entry.link_target
        info.mode = 0o777
    else:
        info.size = entry.size
        info.mode = 0o755 if entry.executable else 0o644
    return info


def _file_chunks(entry: Entry) -> Iterator[bytes]:
    """The file's first `entry.size` bytes, read without blocking on a file swapped for a FIFO."""
    try:
        fd = os.open(entry.path, _OPEN_FLAGS)
    except OSError as exc:
        raise FeatureError([Problem(entry.path, os_reason(exc))]) from exc
    with os.fdopen(fd, "rb") as handle:
        mode = os.fstat(handle.fileno()).st_mode
        if not stat.S_ISREG(mode):
            raise FeatureError([Problem(entry.path, f"is {kind_of(mode)} now, not a regular file")])
        left = entry.size
        while left:
            try:
                chunk = handle.read(min(left, 1 << 20))
            except OSError as exc:
                raise FeatureError([Problem(entry.path, os_reason(exc))]) from exc
            if not chunk:
                raise FeatureError([Problem(entry.path, "shrank while it was being packed: package again")])
            left -= len(chunk)
            yield chunk


def _header(info: tarfile.TarInfo) -> bytes:
    """A plain ustar header where one can hold the entry: a long ASCII path split into the header's
    prefix and name fields, as node-tar (the reference CLI) writes it; otherwise a pax header first
    (a non-ASCII name, a link target over 100 characters), in UTF-8 on every machine."""
    if info.name.isascii() and info.linkname.isascii():
        try:
            return info.tobuf(tarfile.USTAR_FORMAT, "ascii", "strict")
        except ValueError:  # a path that no split fits, a link target or a size too long for ustar
            pass
    return info.tobuf(tarfile.PAX_FORMAT, "utf-8", "surrogateescape")


def _write_member(
    sink: HashingWriter,
    info: tarfile.TarInfo,
    chunks: Iterator[bytes] | None = None,
    progress: PackingProgress | None = None,
) -> None:
    # What tarfile.TarFile.addfile writes: header, data, zeros to a whole block.
    sink.write(_header(info))
    for chunk in chunks or ():
        sink.write(chunk)
        if progress is not None:
            progress.packed(len(chunk))
    if info.size % BLOCK:
        sink.write(b"\0" * (BLOCK - info.size % BLOCK))


def write_archive(
    entries: list[Entry], out: Path, *, mtime: int, progress: PackingProgress | None = None
) -> tuple[str, int]:
    """Write the tar of `entries` to `out`; return its digest and size."""
    try:
        sink = out.open("wb")
    except OSError as exc:
        raise FeatureError([Problem(out, f"cannot be written: {exc.strerror or exc}")]) from exc
    with sink:
        writer = HashingWriter(sink)
        root = tarfile.TarInfo("./")
        root.type, root.mode, root.mtime = tarfile.DIRTYPE, 0o755, mtime
        root.uname = root.gname = ""
        _write_member(writer, root)
        for entry in entries:
            info = _tarinfo(entry, mtime)
            if entry.kind != "file":
                _write_member(writer, info)
            elif entry.content is not None:
                _write_member(writer, info, iter((entry.content,)), progress)
            else:
                _write_member(writer, info, _file_chunks(entry), progress)
        writer.write(END_OF_ARCHIVE)
    return writer.digest, writer.size


def package_layer(
    root: Path,
    archive_name: str,
    out_dir: Path,
    *,
    mtime: int | None = None,
    replacements: dict[str, bytes] | None = None,
    ignore_file: str | None = IGNORE_FILE,
    progress: PackingProgress | None = None,
) -> Blob:
    """Package the folder `root` as `out_dir/archive_name` and describe it as a feature or template layer.

    `replacements` maps archive paths of existing files (or links to files) to the bytes stored in
    their place, as a regular file.
    """
    tree = scan(root, ignore_file)
    if tree.blocking:
        raise FeatureError(tree.blocking)
    entries = tree.entries
    for name, content in (replacements or {}).items():
        entries = [
            replace(e, kind="file", link_target="", content=content, size=len(content)) if e.name == name else e
            for e in entries
        ]
    out_dir.mkdir(parents=True, exist_ok=True)
    out = out_dir / archive_name
    if progress is not None:
        progress.started(sum(e.size for e in entries if e.kind == "file"))
    mtime = source_date_epoch() if mtime is None else mtime
    digest, size = write_archive(entries, out, mtime=mtime, progress=progress)
    descriptor = Descriptor(mediatypes.FEATURE_LAYER, digest, size, {mediatypes.ANNOTATION_TITLE: archive_name})
    return Blob.from_file(descriptor, out)


def package_feature(feature: Feature, out_dir: Path, progress: PackingProgress | None = None) -> Blob:
    """The layer of a feature or template. When consumers see other metadata than the file holds (a
    feature's `currentId`, a template's `type`, `files`, ...), the reference CLI stores it rewritten as
    4-space JSON; featurepub does the same so both read alike."""
    replacements = {}
    published = feature.published_metadata
    if published is not feature.metadata:
        replacements[feature.kind.metadata_file] = js_dumps(published, indent=4).encode("utf-8")
    return package_layer(
        feature.directory,
        feature.archive_name,
        out_dir,
        replacements=replacements,
        ignore_file=feature.kind.ignore_file,
        progress=progress,
    )
