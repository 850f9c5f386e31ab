"""Reproducible feature layers: a tar whose bytes depend only on the folder's content.

Entries are sorted, prefixed `./`, owned by 0:0 with no user names, stamped with one
fixed mtime (SOURCE_DATE_EPOCH when set) and given normalised modes that keep only
the executable bit. File contents stream from disk, so a folder of any size packs in
constant memory; the digest is computed as the archive is written.
"""

from __future__ import annotations

import io
import os
import stat
import tarfile
from dataclasses import dataclass, replace
from pathlib import Path, PurePosixPath
from typing import TYPE_CHECKING

from featurepub.errors import FeatureError, Problem
from featurepub.features.model import METADATA_FILE, Feature
from featurepub.oci import mediatypes
from featurepub.oci.descriptor import Blob, Descriptor
from featurepub.oci.digest import HashingWriter
from featurepub.oci.jsjson import js_dumps

if TYPE_CHECKING:
    import pathspec

IGNORE_FILE = ".featureignore"
ALWAYS_EXCLUDED = {".git", IGNORE_FILE}
# 1980-01-01T00:00:00Z: the earliest time zip and most tools take without complaint.
DEFAULT_MTIME = 315532800
MAX_FILE_BYTES = 8 * 1024**3


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


def _ignore_spec(root: Path, problems: list[Problem]) -> pathspec.GitIgnoreSpec | None:
    ignore = root / IGNORE_FILE
    if not ignore.is_file():
        return None
    import pathspec  # only features with an ignore file pay for its import

    try:
        with ignore.open(encoding="utf-8") as handle:
            return pathspec.GitIgnoreSpec.from_lines(handle)
    except (OSError, UnicodeDecodeError, ValueError) as exc:
        problems.append(Problem(ignore, f"cannot be used: {exc}"))
        return None


def scan(root: Path) -> tuple[list[Entry], list[Problem]]:
    """List what the archive of `root` will hold, in archive order, and what stops it."""
    entries: list[Entry] = []
    problems: list[Problem] = []
    spec = _ignore_spec(root, problems)
    real_root = root.resolve()
    _walk(root, PurePosixPath(), spec, real_root, entries, problems)
    return entries, problems


def _walk(
    directory: Path,
    relative: PurePosixPath,
    spec: pathspec.GitIgnoreSpec | None,
    real_root: Path,
    entries: list[Entry],
    problems: list[Problem],
) -> None:
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
        if child.name == ".git" or (child.name in ALWAYS_EXCLUDED and relative == PurePosixPath()):
            continue
        name = relative / child.name
        is_dir = child.is_dir(follow_symlinks=False)
        if spec is not None and spec.match_file(f"{name}/" if is_dir else str(name)):
            continue
        try:
            info = child.stat(follow_symlinks=False)
        except OSError as exc:
            problems.append(Problem(path, f"cannot be read: {exc.strerror or exc}"))
            continue
        if stat.S_ISLNK(info.st_mode):
            target = os.readlink(path)
            why = _symlink_problem(path, target, real_root)
            if why:
                problems.append(Problem(path, why))
            else:
                entries.append(Entry(str(name), path, "symlink", link_target=target))
        elif stat.S_ISDIR(info.st_mode):
            entries.append(Entry(str(name), path, "dir"))
            _walk(path, name, spec, real_root, entries, problems)
        elif stat.S_ISREG(info.st_mode):
            if info.st_size > MAX_FILE_BYTES:
                problems.append(Problem(path, f"is {info.st_size} bytes, over the {MAX_FILE_BYTES} byte limit"))
            elif not os.access(path, os.R_OK):
                problems.append(Problem(path, "is not readable: fix its permissions"))
            else:
                executable = bool(info.st_mode & 0o111)
                entries.append(Entry(str(name), path, "file", executable, info.st_size))
        else:
            problems.append(Problem(path, "is not a regular file, folder or symlink; it cannot be packaged"))


def _symlink_problem(path: Path, target: str, real_root: Path) -> str | None:
    if os.path.isabs(target):
        return f"symlink to the absolute path {target!r}: use a relative link inside the feature"
    # Both the link as written and where it finally leads (through other links) must stay inside.
    lexical = Path(os.path.normpath(path.parent.resolve() / target))
    for where in (lexical, path.resolve()):
        try:
            where.relative_to(real_root)
        except ValueError:
            return f"symlink {target!r} points outside the feature folder"
    return None


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


def write_archive(entries: list[Entry], out: Path, *, mtime: int) -> tuple[str, int]:
    """Write the tar of `entries` to `out`; return its digest and size."""
    with out.open("wb") as sink:
        writer = HashingWriter(sink)
        with tarfile.open(fileobj=writer, mode="w|", format=tarfile.PAX_FORMAT) as tar:  # type: ignore[call-overload]
            root = tarfile.TarInfo("./")
            root.type, root.mode, root.mtime = tarfile.DIRTYPE, 0o755, mtime
            root.uname = root.gname = ""
            tar.addfile(root)
            for entry in entries:
                info = _tarinfo(entry, mtime)
                if entry.kind != "file":
                    tar.addfile(info)
                    continue
                if entry.content is not None:
                    tar.addfile(info, io.BytesIO(entry.content))
                    continue
                try:
                    with entry.path.open("rb") as handle:
                        tar.addfile(info, handle)
                except OSError as exc:  # includes a file that shrank while being read
                    raise FeatureError([Problem(entry.path, f"cannot be read: {exc.strerror or exc}")]) from exc
    return writer.digest, writer.size


def package_layer(
    root: Path,
    archive_name: str,
    out_dir: Path,
    *,
    mtime: int | None = None,
    replacements: dict[str, bytes] | None = None,
) -> Blob:
    """Package the folder `root` as `out_dir/archive_name` and describe it as a feature layer.

    `replacements` maps archive paths of existing files to the bytes stored in their place.
    """
    entries, problems = scan(root)
    if problems:
        raise FeatureError(problems)
    for name, content in (replacements or {}).items():
        entries = [replace(e, content=content, size=len(content)) if e.name == name else e for e in entries]
    out_dir.mkdir(parents=True, exist_ok=True)
    out = out_dir / archive_name
    digest, size = write_archive(entries, out, mtime=source_date_epoch() if mtime is None else mtime)
    descriptor = Descriptor(mediatypes.FEATURE_LAYER, digest, size, {mediatypes.ANNOTATION_TITLE: archive_name})
    return Blob.from_file(descriptor, out)


def package_feature(feature: Feature, out_dir: Path) -> Blob:
    """The feature's layer. With legacy ids the reference CLI stores the metadata rewritten with
    `currentId` (4-space JSON); featurepub does the same so both read alike."""
    replacements = {}
    if feature.legacy_ids:
        replacements[METADATA_FILE] = js_dumps(feature.published_metadata, indent=4).encode("utf-8")
    return package_layer(feature.directory, feature.archive_name, out_dir, replacements=replacements)
