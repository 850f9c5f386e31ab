"""featurepub.schemas: the shipped schema is the spec's, the quick conformance check agrees with jsonschema,
and schema findings are short lines that say where and what."""

from __future__ import annotations

import hashlib
from importlib import resources
from pathlib import Path
from typing import Any

import jsonschema
import pytest
from hypothesis import event, given, settings
from hypothesis import strategies as st

from featurepub.errors import Tier
from featurepub.schemas import FEATURE_SCHEMA, load_schema, schema_problems
from featurepub.schemas.conform import conforms

SPEC_SCHEMA_SHA256 = "671fcd80cbb3510793412746b35505d12b6a4b8e68d38a01960e440aa5af32eb"
PATH = Path("devcontainer-feature.json")


def _jsonschema_valid(document: Any) -> bool:
    return jsonschema.Draft7Validator(load_schema(FEATURE_SCHEMA)).is_valid(document)


def test_the_shipped_schema_is_the_specs_byte_for_byte_with_its_licence() -> None:
    package = resources.files("featurepub.schemas")
    data = package.joinpath(FEATURE_SCHEMA).read_bytes()
    assert hashlib.sha256(data).hexdigest() == SPEC_SCHEMA_SHA256
    jsonschema.Draft7Validator.check_schema(load_schema(FEATURE_SCHEMA))
    assert "MIT License" in package.joinpath("LICENSE").read_text(encoding="utf-8")
    assert SPEC_SCHEMA_SHA256 in package.joinpath("README.md").read_text(encoding="utf-8")


SCALARS = (
    st.none()
    | st.booleans()
    | st.integers(-3, 3)
    | st.floats(allow_nan=False)
    | st.sampled_from(["", "string", "boolean", "bind", "volume", "x"])
)
WILD = st.recursive(
    SCALARS,
    lambda children: (
        st.lists(children, max_size=3) | st.dictionaries(st.sampled_from(["a", "b", "type"]), children)
    ),
    max_leaves=8,
)
STRINGS = st.lists(st.sampled_from(["a", "b"]), max_size=2)


BOOLEAN_OPTION = st.fixed_dictionaries(
    {"type": st.just("boolean"), "default": st.booleans()}, optional={"description": st.just("d")}
)
STRING_OPTION = st.fixed_dictionaries(
    {"type": st.just("string"), "default": st.sampled_from(["", "a", "latest"])},
    optional={"description": st.just("d"), "enum": STRINGS, "proposals": STRINGS},
)
MOUNT = st.fixed_dictionaries(
    {"type": st.sampled_from(["bind", "volume"]), "target": st.just("/t")}, optional={"source": st.just("s")}
)
VALID_LOOKING = st.fixed_dictionaries(
    {"id": st.just("feat"), "version": st.just("1.0.0")},
    optional={
        "name": st.just("Feat"),
        "options": st.dictionaries(
            st.sampled_from(["o", "p ", "q.r"]), BOOLEAN_OPTION | STRING_OPTION, max_size=3
        ),
        "mounts": st.lists(MOUNT, max_size=2),
        "installsAfter": st.lists(st.just("ghcr.io/a/b/c"), max_size=2),
        "dependsOn": st.dictionaries(st.just("ghcr.io/a/b/c"), WILD, max_size=1),
        "containerEnv": st.dictionaries(st.just("A"), st.just("1"), max_size=1),
        "deprecated": st.booleans(),
        "onCreateCommand": st.just("echo") | STRINGS | st.dictionaries(st.just("a"), st.just("b") | STRINGS),
        "customizations": st.dictionaries(st.just("vscode"), WILD),
    },
)


def _paths(value: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    found = [prefix]
    if isinstance(value, dict):
        for key, item in value.items():
            found += _paths(item, (*prefix, key))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            found += _paths(item, (*prefix, index))
    return found


@st.composite
def _mutated(draw: st.DrawFn) -> dict[str, Any]:
    """A valid-looking feature with one value replaced, one key dropped or one key added somewhere."""
    document: dict[str, Any] = draw(VALID_LOOKING)
    containers = [p for p in _paths(document) if p]
    where = draw(st.sampled_from(containers)) if containers else ("id",)
    parent: Any = document
    for part in where[:-1]:
        parent = parent[part]
    action = draw(st.sampled_from(["replace", "drop", "add"]))
    if action == "replace" or not isinstance(parent, dict):
        parent[where[-1]] = draw(WILD)
    elif action == "drop":
        del parent[where[-1]]
    else:
        parent[draw(st.sampled_from(["extra", "enum", "proposals", "type", "default"]))] = draw(WILD)
    return document


FEATURE = VALID_LOOKING | _mutated()


@settings(max_examples=600, deadline=None)
@given(FEATURE)
def test_quick_check_agrees_with_jsonschema(document: dict[str, Any]) -> None:
    expected = _jsonschema_valid(document)
    event(f"schema-valid: {expected}")
    assert conforms(document, load_schema(FEATURE_SCHEMA)) is expected
    assert (schema_problems(document, PATH) == []) is expected


@pytest.mark.parametrize(
    ("schema", "document", "verdict"),
    [
        ({"type": "integer"}, 1.0, True),
        ({"type": "integer"}, True, False),
        ({"const": 1}, True, False),
        ({"const": 1}, 1.0, True),
        ({"enum": [[1, "a"]]}, [1, "a"], True),
        ({"minLength": 1}, "", None),  # a keyword it does not know: jsonschema decides
        ({"patternProperties": {"x": {}}, "additionalProperties": False}, {"y": 1}, None),
        ({"$ref": "https://example.com/other.json"}, {}, None),
    ],
)
def test_quick_check_answers_only_what_it_knows(
    schema: dict[str, Any], document: Any, verdict: bool | None
) -> None:
    assert conforms(document, schema) is verdict


def test_findings_are_short_and_say_where() -> None:
    document = {
        "id": "feat",
        "version": "1.0.0",
        "name": "N",
        "options": {"o": {"type": "string", "default": "x" * 500, "enum": "a"}},
        "mounts": [{"type": "tmpfs", "target": "/t"}],
        "settings": {},
    }
    found = schema_problems(document, PATH)
    assert [(p.field, p.message) for p in found] == [
        ("", "unknown property 'settings'"),
        ("mounts[0].type", 'mounts[0].type: must be one of "bind", "volume", not a string ("tmpfs")'),
        ("options.o.enum", 'options.o.enum: must be an array, not a string ("a")'),
    ]
    assert all(p.tier is Tier.SCHEMA and p.path == PATH and "--no-schema-validation" in p.why for p in found)
    long_default = schema_problems({**document, "options": {"o": {"type": "boolean", "default": "x" * 500}}}, PATH)
    assert all(len(p.message) < 300 for p in long_default)
