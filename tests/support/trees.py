"""What a folder holds, to compare two folders: paths, kinds, bytes or link targets, executable bits."""

from __future__ import annotations

import os
from pathlib import Path


def tree(root: Path) -> dict[str, tuple[str, bytes | str, bool]]:
    """Path -> (kind, content or link target, executable) for everything under `root`."""
    found: dict[str, tuple[str, bytes | str, bool]] = {}
    for path in sorted(root.rglob("*")):
        name = path.relative_to(root).as_posix()
        if path.is_symlink():
            found[name] = ("link", os.readlink(path), False)
        elif path.is_dir():
            found[name] = ("dir", "", False)
        else:
            found[name] = ("file", path.read_bytes(), os.access(path, os.X_OK))
    return found
