"""Property: no metadata, however malformed, makes validation raise; it only reports problems. And
whatever passes with schema validation off (only ERROR-tier problems block) can be published:
the model, the docs and the annotation take any shape the schema would have refused."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from featurepub.errors import Problem, Tier
from featurepub.features.docs import render_readme
from featurepub.features.model import Feature
from featurepub.features.validate import check_metadata
from featurepub.oci.manifest import canonical_json

JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=12),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=8), children, max_size=4),
    max_leaves=20,
)
KEYS = st.sampled_from(
    ["id", "version", "name", "options", "dependsOn", "installsAfter", "legacyIds", "deprecated", "containerEnv"]
)
METADATA = st.dictionaries(KEYS | st.text(max_size=6), JSON, max_size=9)
PATH = Path("/nonexistent/feature/devcontainer-feature.json")


def _publishable(metadata: dict[str, Any], problems: list[Problem]) -> None:
    if any(p.tier is Tier.ERROR for p in problems):
        return
    feature = Feature(PATH.parent, metadata)
    assert isinstance(feature.depends_on, dict)
    assert all(isinstance(x, str) for x in feature.installs_after + feature.legacy_ids)
    render_readme(feature, registry="ghcr.io", namespace="o/f")
    canonical_json(feature.published_metadata)


@settings(max_examples=400, deadline=None)
@given(METADATA)
def test_validation_never_raises(metadata: dict[str, Any]) -> None:
    problems = check_metadata(metadata, PATH, expected_id="feature")
    assert all(isinstance(p, Problem) and p.message and p.path == PATH for p in problems)
    assert all(p.why for p in problems if p.tier is Tier.WARNING)
    _publishable(metadata, problems)


@settings(max_examples=300, deadline=None)
@given(st.dictionaries(st.text(max_size=8), JSON, max_size=4), JSON, JSON)
def test_options_and_dependencies_of_any_shape_are_checked_without_raising(
    options: dict[str, Any], depends_on: Any, installs_after: Any
) -> None:
    metadata = {
        "id": "feature",
        "version": "1.0.0",
        "name": "F",
        "options": options,
        "dependsOn": depends_on,
        "installsAfter": installs_after,
    }
    problems = check_metadata(metadata, PATH, expected_id="feature")
    assert all(isinstance(p, Problem) for p in problems)
    _publishable(metadata, problems)
