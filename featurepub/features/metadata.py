"""Read devcontainer-feature.json, devcontainer-template.json and devcontainer.json: JSON with comments and
trailing commas (JSONC), as the reference CLI does."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

from featurepub.errors import Problem
from featurepub.localfiles import UnreadableFile, read_small_file

MAX_METADATA_BYTES = 1024 * 1024
# Real metadata nests fewer than 10 levels; deeper documents only serve to exhaust the parser's or
# the serialiser's stack, so they are refused with a clear line instead.
MAX_DEPTH = 64

# JSONC tokens: a string, a comment (an unclosed one runs to the end, kept so that it fails), one of
# `,` `]` `}`, or a run of anything else. Every alternative matches in one forward pass, so no text
# makes it backtrack: the metadata is untrusted, and a nested-quantifier pattern would hang on
# `, //, //, ...`.
_JSONC_TOKEN = re.compile(r'"(?:[^"\\]|\\.)*"?|//[^\n]*|/\*(?:[^*]|\*(?!/))*(?:\*/)?|[,\]}]|[^"/,\]}]+|/')
_NOT_NEWLINE = re.compile(r"[^\n]")


class MetadataSyntaxError(ValueError):
    """The text is not JSON(C), or nests deeper than MAX_DEPTH."""


def strip_jsonc(text: str) -> str:
    """The JSON left when comments and trailing commas are blanked out. Blanks keep their length
    (newlines kept), so the C parser's line and column numbers still point into the file as written."""
    out: list[str] = []
    pending: int | None = None  # where a comma sits that only whitespace and comments follow so far
    for match in _JSONC_TOKEN.finditer(text):
        token = match.group(0)
        if token[:2] == "//" or (token[:2] == "/*" and len(token) >= 4 and token.endswith("*/")):
            out.append(_NOT_NEWLINE.sub(" ", token))
            continue
        if token[:2] == "/*":  # never closed: left as written, for the parser to refuse
            pending = None
            out.append(token)
            continue
        if token == ",":
            pending = len(out)
        elif token in ("]", "}"):
            if pending is not None:
                out[pending] = " "  # a trailing comma
            pending = None
        elif not token.isspace():
            pending = None
        out.append(token)
    return "".join(out)


def code_mask(text: str) -> str:
    """`text` with every string and comment blanked to spaces (same length): what is left is the
    document's structure, where a search cannot be fooled by quoted or commented-out text."""
    return "".join(
        " " * len(token) if token[:1] == '"' or token[:2] in ("//", "/*") else token
        for token in (match.group(0) for match in _JSONC_TOKEN.finditer(text))
    )


def nesting_depth(value: Any) -> int:
    """How many objects and arrays deep `value` goes (without recursing, whatever the depth)."""
    deepest = 0
    stack = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, (dict, list)):
            deepest = max(deepest, depth)
            stack.extend((child, depth + 1) for child in (item.values() if isinstance(item, dict) else item))
    return deepest


def _too_deep() -> MetadataSyntaxError:
    return MetadataSyntaxError(f"nests objects and arrays more than {MAX_DEPTH} levels deep")


def loads_jsonc(text: str) -> Any:
    """Parse JSON that may have comments and trailing commas; raises ValueError (MetadataSyntaxError
    for nesting over MAX_DEPTH). Duplicate keys: the last one wins, as in JavaScript."""
    try:
        # The C parser does the work either way: plain JSON as it is, JSONC once blanked.
        try:
            value = json.loads(text)
        except ValueError:
            value = json.loads(strip_jsonc(text))
    except RecursionError:
        raise _too_deep() from None
    if nesting_depth(value) > MAX_DEPTH:
        raise _too_deep()
    return value


def parse_metadata(path: Path, owner: str = "feature") -> tuple[dict[str, Any] | None, list[Problem]]:
    """Parse one metadata file (or any JSONC object file) of a `owner`; on failure return None and the reason."""
    try:
        raw = read_small_file(path, MAX_METADATA_BYTES)
    except FileNotFoundError:
        return None, [Problem(path, f"missing: every {owner} needs a {path.name}")]
    except UnreadableFile as exc:
        return None, [Problem(path, exc.reason)]
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        return None, [Problem(path, f"is not UTF-8 (byte {exc.start})")]
    try:
        data = loads_jsonc(text)
    except MetadataSyntaxError as exc:
        return None, [Problem(path, str(exc))]
    except ValueError as exc:
        return None, [Problem(path, f"is not valid JSON: {exc}")]
    if not isinstance(data, dict):
        return None, [Problem(path, f"must hold a JSON object, not {type(data).__name__}")]
    return data, []
