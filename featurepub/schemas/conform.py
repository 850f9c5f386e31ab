"""A quick yes for documents that conform to a draft-07 schema, without importing jsonschema.

Importing jsonschema costs about 0.1 s (referencing, attrs, every bundled metaschema), a quarter of a
whole publish of one feature; almost every document conforms. `conforms` interprets the keywords the
shipped schemas use and answers True only when the document certainly conforms. Any other answer
(False, or None for a keyword it does not know) hands the document to jsonschema, which has the last
word and writes the messages. tests/unit/test_schema_conform.py checks both agree.
"""

from __future__ import annotations

from typing import Any

# Keywords that describe and never constrain.
_ANNOTATIONS = frozenset(
    {"$schema", "$id", "$comment", "title", "description", "examples", "default", "definitions"}
)
_TYPES: dict[str, Any] = {
    "object": lambda v: isinstance(v, dict),
    "array": lambda v: isinstance(v, list),
    "string": lambda v: isinstance(v, str),
    "boolean": lambda v: isinstance(v, bool),
    "null": lambda v: v is None,
    "number": lambda v: isinstance(v, (int, float)) and not isinstance(v, bool),
    "integer": lambda v: (
        (isinstance(v, int) and not isinstance(v, bool)) or (isinstance(v, float) and v.is_integer())
    ),
}


class _Unknown(Exception):
    """The schema uses something this interpreter does not know: ask jsonschema."""


def conforms(document: Any, schema: dict[str, Any]) -> bool | None:
    """True when `document` conforms to `schema`, False when it does not, None when unsure."""
    try:
        return _valid(document, schema, schema)
    except (_Unknown, RecursionError):
        return None


def _equal(a: Any, b: Any) -> bool:
    # JSON equality: true is not 1, 1 is 1.0.
    if isinstance(a, bool) or isinstance(b, bool):
        return type(a) is type(b) and a == b
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(_equal(a[k], b[k]) for k in a)
    if isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b) and all(_equal(x, y) for x, y in zip(a, b, strict=True))
    return bool(a == b)


def _resolve(ref: str, root: dict[str, Any]) -> Any:
    if not ref.startswith("#/"):
        raise _Unknown(ref)
    node: Any = root
    for escaped in ref[2:].split("/"):
        part = escaped.replace("~1", "/").replace("~0", "~")
        if not isinstance(node, dict) or part not in node:
            raise _Unknown(ref)
        node = node[part]
    return node


def _valid(value: Any, schema: Any, root: dict[str, Any]) -> bool:
    if schema is True:
        return True
    if schema is False:
        return False
    if not isinstance(schema, dict):
        raise _Unknown(schema)
    if "$ref" in schema:  # draft-07: a $ref's siblings are ignored
        return _valid(value, _resolve(schema["$ref"], root), root)
    for keyword, rule in schema.items():
        if keyword in _ANNOTATIONS:
            continue
        check = _KEYWORDS.get(keyword)
        if check is None:
            raise _Unknown(keyword)
        if not check(value, rule, schema, root):
            return False
    return True


def _type(value: Any, rule: Any, schema: dict[str, Any], root: dict[str, Any]) -> bool:
    names = [rule] if isinstance(rule, str) else rule
    if not isinstance(names, list) or any(name not in _TYPES for name in names):
        raise _Unknown(rule)
    return any(_TYPES[name](value) for name in names)


def _properties(value: Any, rule: Any, schema: dict[str, Any], root: dict[str, Any]) -> bool:
    if not isinstance(value, dict):
        return True
    return all(_valid(value[name], sub, root) for name, sub in rule.items() if name in value)


def _additional(value: Any, rule: Any, schema: dict[str, Any], root: dict[str, Any]) -> bool:
    if not isinstance(value, dict):
        return True
    if "patternProperties" in schema:
        raise _Unknown("patternProperties")
    known = schema.get("properties", {})
    return all(_valid(item, rule, root) for name, item in value.items() if name not in known)


def _items(value: Any, rule: Any, schema: dict[str, Any], root: dict[str, Any]) -> bool:
    if not isinstance(value, list):
        return True
    if not isinstance(rule, (dict, bool)):
        raise _Unknown("items as a list")
    return all(_valid(item, rule, root) for item in value)


def _required(value: Any, rule: Any, schema: dict[str, Any], root: dict[str, Any]) -> bool:
    return not isinstance(value, dict) or all(name in value for name in rule)


def _any_of(value: Any, rule: Any, schema: dict[str, Any], root: dict[str, Any]) -> bool:
    return any(_valid(value, sub, root) for sub in rule)


def _one_of(value: Any, rule: Any, schema: dict[str, Any], root: dict[str, Any]) -> bool:
    return sum(1 for sub in rule if _valid(value, sub, root)) == 1


def _const(value: Any, rule: Any, schema: dict[str, Any], root: dict[str, Any]) -> bool:
    return _equal(value, rule)


def _enum(value: Any, rule: Any, schema: dict[str, Any], root: dict[str, Any]) -> bool:
    return any(_equal(value, option) for option in rule)


_KEYWORDS = {
    "type": _type,
    "properties": _properties,
    "additionalProperties": _additional,
    "items": _items,
    "required": _required,
    "anyOf": _any_of,
    "oneOf": _one_of,
    "const": _const,
    "enum": _enum,
}
