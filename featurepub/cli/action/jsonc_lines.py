"""Which line of a JSON-with-comments file holds a field such as `options.version.default`.

Validation names the offending field (featurepub.validation.field_path); a workflow annotation
wants a line. The file is blanked of comments and trailing commas (same length, so offsets stay
those of the file as written) and walked once, noting where each key (or array item) starts.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from pathlib import Path

from featurepub.features.metadata import MAX_DEPTH, MAX_METADATA_BYTES, strip_jsonc

_SPACE = re.compile(r"[ \t\r\n]*")
_DECODER = json.JSONDecoder()
# The C parser's own position, in the messages of a file that does not parse.
_SYNTAX_LINE = re.compile(r"\bline (\d+) column \d+")


@dataclass
class _Node:
    offset: int  # where its key starts (an object member), or the value itself (an array item, the root)
    members: dict[str, _Node] = field(default_factory=dict)
    items: list[_Node] = field(default_factory=list)


class _Unparsable(Exception):
    pass


def _skip(text: str, at: int) -> int:
    match = _SPACE.match(text, at)
    return match.end() if match else at


def _expect(text: str, at: int, char: str) -> int:
    if text[at : at + 1] != char:
        raise _Unparsable
    return at + 1


def _value(text: str, at: int, offset: int, depth: int) -> tuple[_Node, int]:
    """The value starting at `at` (no leading space), as a node placed at `offset`; and where it ends."""
    if depth > MAX_DEPTH:
        raise _Unparsable
    node = _Node(offset)
    opener = text[at : at + 1]
    if opener == "{":
        at = _skip(text, at + 1)
        while text[at : at + 1] != "}":
            key_at = at
            try:
                key, at = _DECODER.raw_decode(text, at)
            except ValueError:
                raise _Unparsable from None
            if not isinstance(key, str):
                raise _Unparsable
            at = _skip(text, _expect(text, _skip(text, at), ":"))
            node.members[key], at = _value(text, at, key_at, depth + 1)  # a repeated key: the last wins
            at = _skip(text, at)
            if text[at : at + 1] == ",":
                at = _skip(text, at + 1)
        return node, at + 1
    if opener == "[":
        at = _skip(text, at + 1)
        while text[at : at + 1] != "]":
            item, at = _value(text, at, at, depth + 1)
            node.items.append(item)
            at = _skip(text, at)
            if text[at : at + 1] == ",":
                at = _skip(text, at + 1)
        return node, at + 1
    try:
        _, end = _DECODER.raw_decode(text, at)
    except ValueError:
        raise _Unparsable from None
    return node, end


def _resolve(root: _Node, path: str) -> _Node:
    """The node `path` names, or the deepest one on the way there (a missing key: its object)."""
    node, rest = root, path
    while rest:
        if rest.startswith("["):
            close = rest.find("]")
            index = rest[1:close] if close > 0 else ""
            if not index.isdigit() or int(index) >= len(node.items):
                return node
            node, rest = node.items[int(index)], rest[close + 1 :]
            continue
        rest = rest.removeprefix(".")
        # Keys may hold dots themselves (dependsOn."ghcr.io/..."): take the longest key that fits.
        fitting = [key for key in node.members if rest == key or rest.startswith((f"{key}.", f"{key}["))]
        if not fitting:
            return node
        key = max(fitting, key=len)
        node, rest = node.members[key], rest[len(key) :]
    return node


def line_of(text: str, path: str) -> int | None:
    """The 1-based line of `path` in the JSONC `text` (of its nearest enclosing object when the field is
    missing); None when the text does not parse."""
    blanked = strip_jsonc(text.removeprefix("\ufeff"))
    start = _skip(blanked, 0)
    try:
        root, _ = _value(blanked, start, start, 0)
    except (_Unparsable, RecursionError):
        return None
    offset = _resolve(root, path).offset
    return blanked.count("\n", 0, offset) + 1


def problem_line(file: Path, field: str, message: str) -> int | None:
    """The line an annotation for a validation problem points at: the field's, or where the parser
    stopped for a file that is not JSON; None for other files and problems."""
    syntax = _SYNTAX_LINE.search(message)
    if syntax and "JSON" in message:
        return int(syntax.group(1))
    if not field:
        return None
    try:
        if not file.is_file() or file.stat().st_size > MAX_METADATA_BYTES:
            return None
        text = file.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):
        return None
    return line_of(text, field)
