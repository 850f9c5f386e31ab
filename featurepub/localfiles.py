"""Read small local files (metadata, config, ignore lists) without hanging and without reading unbounded.

Opening a FIFO for reading waits for a writer forever, and a link to /dev/zero never ends: the
file type is checked before the file is opened (and again on the open descriptor, in case the
path changed in between), the open never blocks, and at most `limit` bytes are read.
"""

from __future__ import annotations

import errno
import os
import stat
from pathlib import Path

_KINDS = (
    (stat.S_ISDIR, "a folder"),
    (stat.S_ISFIFO, "a named pipe (FIFO)"),
    (stat.S_ISCHR, "a character device"),
    (stat.S_ISBLK, "a block device"),
    (stat.S_ISSOCK, "a socket"),
)
_OPEN_FLAGS = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_NOCTTY", 0) | getattr(os, "O_BINARY", 0)


class UnreadableFile(Exception):
    """Why a file cannot be read, phrased to follow its path: "<path>: is a named pipe (FIFO), ..."."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def kind_of(mode: int) -> str:
    return next((name for test, name in _KINDS if test(mode)), "not a regular file")


def os_reason(exc: OSError) -> str:
    if exc.errno == errno.ELOOP:
        return "is a symlink loop: following it never reaches a file"
    if exc.errno == errno.ENAMETOOLONG:
        return "has a name too long for the file system"
    return f"cannot be read: {exc.strerror or exc}"


def _check(mode: int, size: int, limit: int) -> None:
    if not stat.S_ISREG(mode):
        raise UnreadableFile(f"is {kind_of(mode)}, not a regular file")
    if size > limit:
        raise UnreadableFile(f"is {size} bytes, over the limit of {limit} bytes")


def read_small_file(path: Path, limit: int) -> bytes:
    """The bytes of the regular file at `path` (links followed); FileNotFoundError when there is
    nothing there, UnreadableFile for anything else that is not a readable file of at most `limit` bytes."""
    try:
        info = os.stat(path)
    except FileNotFoundError:
        if os.path.islink(path):
            raise UnreadableFile("is a symlink to something that does not exist") from None
        raise
    except OSError as exc:
        raise UnreadableFile(os_reason(exc)) from None
    _check(info.st_mode, info.st_size, limit)
    try:
        fd = os.open(path, _OPEN_FLAGS)
    except OSError as exc:
        raise UnreadableFile(os_reason(exc)) from None
    try:
        info = os.fstat(fd)
        _check(info.st_mode, info.st_size, limit)
        chunks: list[bytes] = []
        left = limit + 1  # one more than allowed tells a file that grew since the check
        while left > 0:
            chunk = os.read(fd, min(left, 1 << 16))
            if not chunk:
                break
            chunks.append(chunk)
            left -= len(chunk)
    except OSError as exc:
        raise UnreadableFile(os_reason(exc)) from None
    finally:
        os.close(fd)
    data = b"".join(chunks)
    if len(data) > limit:
        raise UnreadableFile(f"is over the limit of {limit} bytes")
    return data
