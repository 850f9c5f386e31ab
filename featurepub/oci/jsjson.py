"""JSON written the way JavaScript's JSON.stringify writes it.

The reference CLI serialises feature metadata with JSON.stringify, and consumers compare
what they read with what that would give. Python's json module differs on numbers
(1.0, 1e21, integers past 2**53), on integer-like object keys (JavaScript lists them
first, in numeric order) and on lone surrogates (JavaScript escapes them).
"""

from __future__ import annotations

import math
import re
from decimal import Decimal
from typing import Any

_ESCAPES = {'"': '\\"', "\\": "\\\\", "\b": "\\b", "\f": "\\f", "\n": "\\n", "\r": "\\r", "\t": "\\t"}
_NEEDS_ESCAPE = re.compile('["\\\\\x00-\x1f\ud800-\udfff]')
_ARRAY_INDEX = re.compile(r"0|[1-9][0-9]*")
_MAX_SAFE = 2**53


def _string(value: str) -> str:
    def escape(match: re.Match[str]) -> str:
        char = match.group(0)
        return _ESCAPES.get(char) or f"\\u{ord(char):04x}"

    return '"' + _NEEDS_ESCAPE.sub(escape, value) + '"'


def _number(value: float) -> str:
    """ECMAScript Number::toString for a finite double."""
    if value == 0:
        return "0"
    sign = "-" if value < 0 else ""
    # repr gives the shortest digits that round-trip, as ECMAScript requires.
    _, digits_tuple, exponent = Decimal(repr(abs(value))).normalize().as_tuple()
    digits = "".join(map(str, digits_tuple))
    k = len(digits)
    n = k + int(exponent)
    if k <= n <= 21:
        text = digits + "0" * (n - k)
    elif 0 < n <= 21:
        text = f"{digits[:n]}.{digits[n:]}"
    elif -6 < n <= 0:
        text = "0." + "0" * -n + digits
    else:
        mantissa = digits[0] + (f".{digits[1:]}" if k > 1 else "")
        text = f"{mantissa}e{'+' if n - 1 >= 0 else '-'}{abs(n - 1)}"
    return sign + text


def _is_array_index(key: str) -> bool:
    return _ARRAY_INDEX.fullmatch(key) is not None and int(key) < 2**32 - 1


def _ordered_keys(obj: dict[str, Any]) -> list[str]:
    indexes = sorted((k for k in obj if _is_array_index(k)), key=int)
    return indexes + [k for k in obj if not _is_array_index(k)]


def js_dumps(value: Any, indent: int | None = None) -> str:
    """JSON.stringify(value, null, indent); non-finite numbers raise ValueError."""
    return _encode(value, indent, "")


def _encode(value: Any, indent: int | None, current: str) -> str:
    if value is None:
        return "null"
    if value is True:
        return "true"
    if value is False:
        return "false"
    if isinstance(value, str):
        return _string(value)
    if isinstance(value, int):
        return str(value) if abs(value) < _MAX_SAFE else _number(float(value))
    if isinstance(value, float):
        if not math.isfinite(value):
            raise ValueError(f"{value} has no JSON form")
        return _number(value)
    inner = current + " " * indent if indent else current
    open_sep = f"\n{inner}" if indent else ""
    close_sep = f"\n{current}" if indent else ""
    joiner = f",\n{inner}" if indent else ","
    if isinstance(value, dict):
        if not value:
            return "{}"
        colon = ": " if indent else ":"
        items = [f"{_string(str(k))}{colon}{_encode(value[k], indent, inner)}" for k in _ordered_keys(value)]
        return "{" + open_sep + joiner.join(items) + close_sep + "}"
    if isinstance(value, (list, tuple)):
        if not value:
            return "[]"
        return "[" + open_sep + joiner.join(_encode(v, indent, inner) for v in value) + close_sep + "]"
    raise TypeError(f"cannot serialise {type(value).__name__} as JSON")
