"""Property: no metadata, however malformed, makes validation raise; it only reports problems."""

from __future__ import annotations

from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st

from featurepub.errors import Problem
from featurepub.features.validate import validate_metadata

JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=12),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=8), children, max_size=4),
    max_leaves=20,
)
KEYS = st.sampled_from(
    ["id", "version", "name", "options", "dependsOn", "installsAfter", "legacyIds", "deprecated", "containerEnv"]
)
METADATA = st.dictionaries(KEYS | st.text(max_size=6), JSON, max_size=9)


@settings(max_examples=400, deadline=None)
@given(METADATA)
def test_validation_never_raises(metadata: dict[str, object]) -> None:
    path = Path("/nonexistent/feature")
    problems = validate_metadata(metadata, path, path / "devcontainer-feature.json", expected_id="feature")
    assert all(isinstance(p, Problem) and p.message for p in problems)
    # install.sh is missing in this folder, so there is always at least that problem.
    assert any(p.path.name == "install.sh" for p in problems)


@settings(max_examples=200, deadline=None)
@given(st.dictionaries(st.text(max_size=8), JSON, max_size=4))
def test_options_of_any_shape_are_checked_without_raising(options: dict[str, object]) -> None:
    path = Path("/nonexistent/feature")
    metadata = {"id": "feature", "version": "1.0.0", "name": "F", "options": options}
    problems = validate_metadata(metadata, path, path / "devcontainer-feature.json", expected_id="feature")
    assert all(isinstance(p, Problem) for p in problems)
