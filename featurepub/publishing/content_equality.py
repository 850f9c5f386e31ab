"""Whether a version in the registry holds the same content as the one packed here, whoever packed it.

The reference CLI's layers are not reproducible (real mtimes, owners, traversal order), so a version
it published never has the digest of featurepub's re-pack of the same folder, and layers an older
featurepub padded to 10 KiB differ in bytes too. What consumers use is the same, though: the
`dev.containers.metadata` annotation (read as JSON) and the files of the layer: their paths, bytes
and executable bit, and the folders they sit in. Modification times, owners, entry order, padding and
gzip (readers detect it) are how a tool packs, not what it packs, and are not compared.

Nothing here knows what kind of artifact it looks at: it compares a local layer's entries with a
remote layer's entries, and two metadata annotations. The remote layer is read as a stream and
compared as it arrives, so the first difference stops the download; file contents are compared by
their sha256, hashed piece by piece on both sides, so memory stays flat whatever the layer's size. A
layer over the bound (as stored, or once inflated) is not read: the caller treats it as different.
"""

from __future__ import annotations

import hashlib
import tarfile
import threading
import zlib
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import IO, Any, cast

from featurepub.errors import ContentError
from featurepub.oci import mediatypes
from featurepub.oci.descriptor import Blob
from featurepub.oci.digest import read_chunks
from featurepub.oci.document import load_json, parse_document
from featurepub.oci.manifest import Manifest
from featurepub.targets.base import Target

DEFAULT_COMPARE_LIMIT = 64 * 1024 * 1024
_PIECE = 1024 * 1024
_GZIP_MAGIC = b"\x1f\x8b"
# Feature metadata nests at most 64 levels (validation refuses deeper); annotations are read to there.
_MAX_METADATA_DEPTH = 64
# Files at the layer's root that no consumer reads: `devcontainer templates apply` leaves README.md and
# NOTES.md out, and installing a feature runs install.sh with neither. `featurepub docs`, like the
# reference action's generate-docs, rewrites README.md after publishing, so without this every version
# not bumped since would read as changed on the next run.
DOCUMENTATION = frozenset({"README.md", "NOTES.md"})


class OverLimit(Exception):
    """The layer is bigger than the comparison reads."""


@dataclass(frozen=True)
class Member:
    """What an archive entry holds, as consumers see it once extracted."""

    kind: str  # "file", "dir", "symlink", or "other" (a device, a FIFO: nothing a feature holds)
    executable: bool = False
    size: int = 0
    sha256: str = ""
    link_target: str = ""


# --- metadata -------------------------------------------------------------------------------------


def same_json(a: Any, b: Any) -> bool:
    """Equal as JSON values: `true` is not `1`, but `1` and `1.0` are one number (as in JavaScript)."""
    if isinstance(a, bool) or isinstance(b, bool):
        return isinstance(a, bool) and isinstance(b, bool) and a == b
    if isinstance(a, (int, float)) and isinstance(b, (int, float)):
        return a == b
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(same_json(a[k], b[k]) for k in a)
    if isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b) and all(same_json(x, y) for x, y in zip(a, b, strict=True))
    return type(a) is type(b) and bool(a == b)


def metadata_difference(ours: str, theirs: str | None) -> str | None:
    """None when the two `dev.containers.metadata` annotations are the same JSON; else what differs,
    naming the first field (in our order, then theirs)."""
    if theirs is None:
        return "the registry's manifest has no dev.containers.metadata annotation"
    try:
        remote = load_json(theirs, "the registry's metadata annotation", max_depth=_MAX_METADATA_DEPTH)
    except ContentError as exc:
        return exc.message
    local = load_json(ours, "the metadata", max_depth=_MAX_METADATA_DEPTH)
    if same_json(local, remote):
        return None
    if not isinstance(local, dict) or not isinstance(remote, dict):
        return "the metadata differs"
    for key in [*local, *(k for k in remote if k not in local)]:
        if key not in remote:
            return f"metadata field {key!r} is not in the registry's version"
        if key not in local:
            return f"metadata field {key!r} is only in the registry's version"
        if not same_json(local[key], remote[key]):
            return f"metadata field {key!r} differs"
    return "the metadata differs"  # unreachable: unequal objects differ in some key


# --- layers ----------------------------------------------------------------------------------------


class _TarStream:
    """A tar archive read from pieces of bytes, inflated when it is gzip (what readers detect), with
    at most `limit` bytes taken as stored and `limit` bytes once inflated."""

    def __init__(self, pieces: Iterable[bytes], limit: int) -> None:
        self._pieces = iter(pieces)
        self._limit = limit
        self._stored = 0
        self._inflated = 0
        self._buffer = bytearray()
        self._inflater: Any = None  # zlib.decompressobj for gzip, decided by the first two bytes
        self._pending = b""  # stored bytes not yet inflated
        self._started = False
        self._ended = False

    def _next_stored(self) -> bytes:
        for piece in self._pieces:
            if piece:
                self._stored += len(piece)
                if self._stored > self._limit:
                    raise OverLimit(f"over {self._limit} bytes as stored")
                return piece
        return b""

    def _fill(self) -> bool:
        """Add to the buffer; False at the end of the stream."""
        if not self._started:
            self._started = True
            first = self._next_stored()
            while 0 < len(first) < len(_GZIP_MAGIC) and (more := self._next_stored()):
                first += more
            if first.startswith(_GZIP_MAGIC):
                self._inflater = zlib.decompressobj(16 + zlib.MAX_WBITS)
                self._pending = first
            else:
                self._add(first)
                return bool(first)
        if self._inflater is None:
            piece = self._next_stored()
            self._add(piece)
            return bool(piece)
        return self._inflate()

    def _inflate(self) -> bool:
        while True:
            if not self._pending:
                self._pending = self._next_stored()
                if not self._pending:
                    return False
            if self._inflater.eof:  # another gzip member follows (concatenated gzip is one stream)
                self._inflater = zlib.decompressobj(16 + zlib.MAX_WBITS)
            out = self._inflater.decompress(self._pending, _PIECE)
            self._pending = self._inflater.unconsumed_tail or self._inflater.unused_data
            if out:
                self._add(out)
                return True

    def _add(self, data: bytes) -> None:
        self._inflated += len(data)
        if self._inflated > self._limit:
            raise OverLimit(f"over {self._limit} bytes as a tar archive")
        self._buffer += data

    def read(self, size: int = -1) -> bytes:
        while (size < 0 or len(self._buffer) < size) and not self._ended:
            if not self._fill():
                self._ended = True
        if size < 0:
            size = len(self._buffer)
        out = bytes(self._buffer[:size])
        del self._buffer[:size]
        return out

    def drain(self) -> None:
        """Read to the end (past the end-of-archive blocks), so the source checks its digest. What
        follows the archive is not content: bytes that do not inflate (zeros after the last gzip
        member) are passed over as stored."""
        try:
            while self.read(_PIECE):
                pass
        except zlib.error:
            while self._next_stored():
                pass


def _entry_name(raw: str) -> str:
    """`./bin/hello`, `bin/hello` and `./bin/` name one thing; `./` (the root) is ''."""
    name = raw
    while name.startswith("./"):
        name = name[2:]
    name = name.rstrip("/")
    return "" if name == "." else name


def _members(archive: tarfile.TarFile) -> Iterator[tuple[str, Member]]:
    """Each entry once, its content hashed piece by piece as the stream passes it."""
    seen: dict[str, Member] = {}
    while (info := archive.next()) is not None:
        cast(Any, archive).members.clear()  # a stream is read once: keep no TarInfo per entry
        name = _entry_name(info.name)
        if not name:
            continue
        if name in seen:
            raise ContentError(f"{name!r} appears twice in the archive")
        if info.isreg():
            member = _file_member(archive, info)
        elif info.islnk():  # a hard link holds what the entry it names holds
            linked = seen.get(_entry_name(info.linkname))
            if linked is None or linked.kind != "file":
                raise ContentError(f"{name!r} is a hard link to {info.linkname!r}, which it does not hold")
            member = Member("file", bool(info.mode & 0o111), linked.size, linked.sha256)
        elif info.isdir():
            member = Member("dir")
        elif info.issym():
            member = Member("symlink", link_target=info.linkname)
        else:
            member = Member("other")
        seen[name] = member
        yield name, member


def _file_member(archive: tarfile.TarFile, info: tarfile.TarInfo) -> Member:
    hasher = hashlib.sha256()
    content = archive.extractfile(info)
    if content is not None:
        for piece in iter(lambda: content.read(_PIECE), b""):
            hasher.update(piece)
    return Member("file", bool(info.mode & 0o111), info.size, hasher.hexdigest())


def _parents(name: str) -> Iterator[str]:
    parts = name.split("/")
    for n in range(1, len(parts)):
        yield "/".join(parts[:n])


def _open(stream: _TarStream) -> tarfile.TarFile:
    return tarfile.open(fileobj=cast("IO[bytes]", stream), mode="r|")


def index_layer(pieces: Iterable[bytes], limit: int = DEFAULT_COMPARE_LIMIT) -> dict[str, Member]:
    """Every entry of a layer (tar, or tar.gz), folders implied by paths included. Raises OverLimit,
    or ContentError when it is not an archive that can be read."""
    stream = _TarStream(pieces, limit)
    index: dict[str, Member] = {}
    try:
        with _open(stream) as archive:
            for name, member in _members(archive):
                index[name] = member
    except (tarfile.TarError, EOFError, zlib.error, UnicodeError, ValueError) as exc:
        raise ContentError(f"not a tar archive that can be read ({exc})") from None
    for name in list(index):
        for parent in _parents(name):
            index.setdefault(parent, Member("dir"))
    return index


def _describe(name: str, ours: Member | None, theirs: Member | None) -> str:
    if theirs is None:
        return f"{name} is not in the registry's version"
    if ours is None:
        return f"{name} is only in the registry's version"
    if ours.kind != theirs.kind:
        return f"{name} is a {theirs.kind} in the registry's version, a {ours.kind} here"
    if ours.kind == "symlink":
        return f"{name} links to {theirs.link_target!r} in the registry's version, to {ours.link_target!r} here"
    if ours.size != theirs.size or ours.sha256 != theirs.sha256:
        return f"{name} differs"
    return f"{name} is {'' if theirs.executable else 'not '}executable in the registry's version"


def _same(ours: Member, theirs: Member) -> bool:
    if ours.kind != theirs.kind:
        return False
    if ours.kind == "file":
        return (ours.sha256, ours.size, ours.executable) == (theirs.sha256, theirs.size, theirs.executable)
    return ours.link_target == theirs.link_target


def layer_difference(
    local: dict[str, Member],
    remote: Iterable[bytes],
    limit: int = DEFAULT_COMPARE_LIMIT,
    *,
    documentation: list[str] | None = None,
) -> str | None:
    """None when the remote layer holds exactly the entries of `local` (from `index_layer`); else the
    first difference, naming the file. Reads the remote layer only as far as its first difference;
    when it is the same, reads it to its end. Raises OverLimit when it is bigger than `limit`.
    With a `documentation` list, differences in DOCUMENTATION files are added to it instead."""
    stream = _TarStream(remote, limit)
    seen: set[str] = set()

    def counts(name: str, why: str) -> bool:
        if documentation is not None and name in DOCUMENTATION:
            documentation.append(why)
            return False
        return True

    try:
        with _open(stream) as archive:
            for name, member in _members(archive):
                ours = local.get(name)
                seen.add(name)
                seen.update(_parents(name))
                same = ours is not None and _same(ours, member)
                if not same and counts(name, why := _describe(name, ours, member)):
                    return why
    except (tarfile.TarError, EOFError, zlib.error, UnicodeError, ValueError) as exc:
        return f"the registry's layer is not a tar archive that can be read ({exc})"
    for name in sorted(name for name in local if name not in seen):
        if counts(name, why := _describe(name, local[name], None)):
            return why
    stream.drain()
    return None


# --- a version in the registry against the one packed here ----------------------------------------


@dataclass(frozen=True)
class Comparison:
    """What the registry's version is, against this run's: `difference` is None when the content is
    the same (then `manifest` is the registry's, to tag with)."""

    manifest: Manifest | None
    difference: str | None
    # How files no consumer reads (DOCUMENTATION) differ, when everything else is the same.
    documentation: tuple[str, ...] = ()

    @property
    def same(self) -> bool:
        return self.manifest is not None and self.difference is None


def _size(count: int) -> str:
    return f"{count / (1024 * 1024):.1f} MiB" if count >= 1024 * 1024 else f"{count} bytes"


def _over(what: str, limit: int) -> str:
    return (
        f"{what} is over the {_size(limit)} compare limit, so its content was not compared "
        "(--compare-limit raises it)"
    )


class LayerVerdicts:
    """Layer comparisons already made in a run (a feature's legacy ids usually share one layer)."""

    def __init__(self) -> None:
        self._known: dict[tuple[str, str], tuple[str | None, tuple[str, ...]]] = {}
        self._lock = threading.Lock()

    def get(self, ours: str, theirs: str) -> tuple[str | None, tuple[str, ...]] | None:
        with self._lock:
            return self._known.get((ours, theirs))

    def put(self, ours: str, theirs: str, verdict: tuple[str | None, tuple[str, ...]]) -> None:
        with self._lock:
            self._known[(ours, theirs)] = verdict


def compare_version(
    target: Target,
    repository: str,
    existing: str,
    ours: Manifest,
    layer: Blob,
    *,
    limit: int = DEFAULT_COMPARE_LIMIT,
    verdicts: LayerVerdicts | None = None,
) -> Comparison:
    """Compare the manifest `existing` in `repository` with this run's (`ours`, whose layer is `layer`):
    its metadata annotation, then its one layer, streamed. Registry errors propagate."""
    manifest = target.read_manifest(repository, existing)
    if manifest is None:
        return Comparison(None, f"its manifest {existing} could not be read")
    try:
        theirs = parse_document(manifest.data, manifest.media_type, "the registry's manifest")
    except ContentError as exc:
        return Comparison(manifest, exc.message)
    if theirs.is_index:
        return Comparison(manifest, "it is an index, not a Dev Container artifact")
    if theirs.config is None or theirs.config.media_type != mediatypes.DEVCONTAINERS_CONFIG:
        kind = theirs.config.media_type if theirs.config else "missing"
        return Comparison(manifest, f"its config media type is {kind}, which the reference CLI does not read")
    if len(theirs.layers) != 1:
        return Comparison(manifest, f"it has {len(theirs.layers)} layers, not 1")
    own = parse_document(ours.data, ours.media_type)
    different = metadata_difference(
        own.annotations.get(mediatypes.ANNOTATION_METADATA, "null"),
        theirs.annotations.get(mediatypes.ANNOTATION_METADATA),
    )
    if different is not None:
        return Comparison(manifest, different)
    remote = theirs.layers[0]
    if remote.digest == layer.digest:
        return Comparison(manifest, None)
    verdicts = verdicts or LayerVerdicts()
    verdict = verdicts.get(layer.digest, remote.digest)
    if verdict is None:
        documentation: list[str] = []
        difference = _layer_difference(target, repository, layer, remote.digest, remote.size, limit, documentation)
        verdict = (difference, tuple(documentation))
        verdicts.put(layer.digest, remote.digest, verdict)
    return Comparison(manifest, *verdict)


def _layer_difference(
    target: Target, repository: str, layer: Blob, digest: str, size: int, limit: int, documentation: list[str]
) -> str | None:
    if size > limit:
        return _over(f"the registry's layer ({_size(size)})", limit)
    try:
        with layer.open() as handle:
            local = index_layer(read_chunks(handle), limit)
    except OverLimit:
        return _over(f"the layer packed here ({_size(layer.size)})", limit)
    try:
        with target.stream_blob(repository, digest, limit) as pieces:
            if pieces is None:
                return f"its layer {digest} is not in the registry"
            return layer_difference(local, pieces, limit, documentation=documentation)
    except OverLimit:
        return _over("the registry's layer", limit)
