"""JSON schemas shipped as package data, and the findings of checking a document against one.

`devContainerFeature.schema.json` is the Dev Containers spec's schema for devcontainer-feature.json
(source and licence in README.md and LICENSE beside it). jsonschema says what is wrong with a
document; it is imported only when a document does not plainly conform (featurepub.schemas.conform),
so commands and documents that need no message never pay for its import.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Iterator, Sequence
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING, Any

from featurepub.errors import Problem, Tier
from featurepub.schemas.conform import conforms
from featurepub.validation import field_path

if TYPE_CHECKING:
    from jsonschema.exceptions import ValidationError
    from jsonschema.protocols import Validator

FEATURE_SCHEMA = "devContainerFeature.schema.json"
SCHEMA_WHY = "the spec's JSON schema refuses it; --no-schema-validation publishes it anyway"
_MAX_TEXT = 200

_JSON_TYPES = (
    (bool, "a boolean"),
    (str, "a string"),
    ((int, float), "a number"),
    (list, "an array"),
    (dict, "an object"),
    (type(None), "null"),
)


@functools.cache
def load_schema(name: str) -> dict[str, Any]:
    text = resources.files(__package__).joinpath(name).read_text(encoding="utf-8")
    schema: dict[str, Any] = json.loads(text)
    return schema


@functools.cache
def _validator(name: str) -> Validator:
    from jsonschema.validators import validator_for

    schema = load_schema(name)
    validator: Validator = validator_for(schema)(schema)
    return validator


def schema_problems(
    document: Any, path: Path, *, schema: str = FEATURE_SCHEMA, why: str = SCHEMA_WHY
) -> list[Problem]:
    """What `schema` refuses in `document`, one SCHEMA-tier problem per mistake, in field order."""
    if conforms(document, load_schema(schema)) is True:
        return []  # jsonschema is only needed (and imported) to say what is wrong
    found: list[tuple[str, str]] = []
    for error in _validator(schema).iter_errors(document):
        found.extend(_leaves(error))
    problems = [Problem(path, text, Tier.SCHEMA, why, field) for field, text in sorted(found)]
    return list(dict.fromkeys(problems))


def _leaves(error: ValidationError) -> Iterator[tuple[str, str]]:
    """(field, message) for each mistake behind `error`. For anyOf/oneOf, the branch the document
    meant: branches whose `const` discriminator (an option's "type") fails are set aside, then the
    one with fewest errors is taken."""
    where = list(error.absolute_path)
    if error.validator in ("anyOf", "oneOf") and error.context:
        branches: dict[Any, list[ValidationError]] = {}
        for sub in error.context:
            branches.setdefault(sub.relative_schema_path[0], []).append(sub)
        meant = [errors for errors in branches.values() if not any(e.validator == "const" for e in errors)]
        if meant:
            for sub in min(meant, key=len):
                yield from _leaves(sub)
            return
        consts = [e for e in error.context if e.validator == "const"]
        if len({tuple(e.absolute_path) for e in consts}) == 1:
            allowed = ", ".join(json.dumps(v) for v in dict.fromkeys(e.validator_value for e in consts))
            yield _leaf(
                list(consts[0].absolute_path), f"must be one of {allowed}, not {_show(consts[0].instance)}"
            )
            return
    if error.validator == "required" and isinstance(error.instance, dict):
        # One finding per missing property, on that property's field, so a rule that already
        # reports it (e.g. the version) covers it.
        required: Any = error.validator_value
        for name in required:
            if name not in error.instance:
                parent = field_path(where)
                yield (
                    field_path([*where, name]),
                    f"{parent}: {name!r} is required" if parent else f"{name!r} is required",
                )
        return
    yield _leaf(where, _describe(error))


def _leaf(parts: list[str | int], what: str) -> tuple[str, str]:
    where = field_path(parts)
    return where, f"{where}: {what}" if where else what


def _describe(error: ValidationError) -> str:
    value: Any = error.validator_value
    if error.validator == "type":
        wanted = [value] if isinstance(value, str) else list(value)
        names = " or ".join(_type_name(t) for t in wanted)
        return f"must be {names}, not {_show(error.instance)}"
    if error.validator == "additionalProperties" and isinstance(error.instance, dict):
        known = error.schema.get("properties", {}) if isinstance(error.schema, dict) else {}
        extra = [name for name in error.instance if name not in known]
        return f"unknown propert{'y' if len(extra) == 1 else 'ies'} {', '.join(repr(e) for e in extra)}"
    if error.validator == "const":
        return f"must be {json.dumps(value)}, not {_show(error.instance)}"
    if error.validator == "enum" and isinstance(value, Sequence):
        return f"must be one of {', '.join(json.dumps(v) for v in value)}, not {_show(error.instance)}"
    return _clip(error.message)


def _type_name(name: str) -> str:
    return {"array": "an array", "object": "an object", "integer": "an integer", "null": "null"}.get(
        name, f"a {name}"
    )


def _show(value: Any) -> str:
    """A short description of a JSON value: its type, and the value itself when it is small."""
    kind = next((name for types, name in _JSON_TYPES if isinstance(value, types)), type(value).__name__)
    if isinstance(value, (dict, list)) and value:
        return kind
    return f"{kind} ({_clip(json.dumps(value, ensure_ascii=False, default=str))})"


def _clip(text: str) -> str:
    return text if len(text) <= _MAX_TEXT else text[: _MAX_TEXT - 3] + "..."
