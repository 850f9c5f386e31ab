"""Template validation: each rule in its tier, the derived schema switched off by schema_validation=False,
and the kind told from the metadata file's name (never both kinds in one folder)."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pytest

from featurepub.errors import FeatureError, Problem, Tier
from featurepub.features.collection import load_collection
from featurepub.features.packaging import validate_path
from featurepub.kinds import FEATURE, TEMPLATE
from tests.unit.featuretree import write_feature
from tests.unit.templatetree import CONFIG, TEMPLATE_METADATA, minimal_template, write_template

E, S, W = Tier.ERROR, Tier.SCHEMA, Tier.WARNING


def findings(path: Path, *, schema_validation: bool = True) -> list[Problem]:
    result = validate_path(path, schema_validation=schema_validation)
    assert result.kind is TEMPLATE
    return [*result.problems, *result.warnings]


def _option(**option: Any) -> dict[str, Any]:
    """A template whose one option `o` is `option`, used in its devcontainer.json."""
    return minimal_template("t", options={"o": option})


_USES_O = {"image": "debian:${templateOption:o}"}

# (case, metadata, devcontainer.json, other files, tier, a fragment of the one line it gives)
CASES: list[tuple[str, dict[str, Any] | str, dict[str, Any] | str | None, dict[str, str], Tier, str]] = [
    # what the reference CLI refuses, or what breaks consumers
    ("no id", {"version": "1.0.0", "name": "n"}, None, {}, E, "'id' is required"),
    ("id not the folder", minimal_template("other"), None, {}, E, "does not match its folder name 't'"),
    ("no version", {"id": "t", "name": "n"}, None, {}, E, "'version' is required"),
    ("v prefix", minimal_template("t", version="v1.0.0"), None, {}, E, "leading 'v'"),
    ("build metadata", minimal_template("t", version="1.0.0+b"), None, {}, E, "build metadata"),
    ("no name", {"id": "t", "version": "1.0.0", "name": ""}, None, {}, E, "'name' is required"),
    ("metadata not JSON", "{oops", None, {}, E, "is not valid JSON"),
    (
        "no devcontainer.json",
        minimal_template("t"),
        "",
        {},
        E,
        "every template needs a .devcontainer/devcontainer",
    ),
    ("devcontainer.json not JSON", minimal_template("t"), "{oops", {}, E, "is not valid JSON"),
    ("no way to build", minimal_template("t"), {"name": "x"}, {}, E, "has none of 'image'"),
    # what the derived schema refuses
    ("option type number", _option(type="number", default="1"), _USES_O, {}, S, "options.o.type"),
    ("option without type", _option(default="1"), _USES_O, {}, S, "'type' is required"),
    ("proposals not strings", _option(type="string", proposals=[1]), _USES_O, {}, S, "options.o.proposals[0]"),
    ("default a number", _option(type="string", default=1), _USES_O, {}, S, "options.o.default"),
    (
        "enum and proposals",
        _option(type="string", enum=["a"], proposals=["a"], default="a"),
        _USES_O,
        {},
        S,
        "both",
    ),
    ("optionalPaths a string", minimal_template("t", optionalPaths="x/*"), None, {}, S, "optionalPaths"),
    ("optional path a number", minimal_template("t", optionalPaths=[1]), None, {}, S, "optionalPaths[0]"),
    ("platforms a string", minimal_template("t", platforms="Any"), None, {}, S, "platforms"),
    ("description a list", minimal_template("t", description=["x"]), None, {}, S, "description"),
    # lint
    ("unknown property", minimal_template("t", categories=["x"]), None, {}, W, "unknown property 'categories'"),
    ("computed property", minimal_template("t", fileCount=3), None, {}, W, "'fileCount' is computed"),
    ("blank name", minimal_template("t", name=" "), None, {}, W, "'name' is blank"),
    ("option id with a dash", minimal_template("t", options={"a-b": {"type": "string"}}), None, {}, W, "never"),
    ("empty proposals", _option(type="string", proposals=[], default="a"), _USES_O, {}, W, "'proposals' is empty"),
    ("default not in enum", _option(type="string", enum=["a"], default="b"), _USES_O, {}, W, "not one of"),
    ("boolean default false", _option(type="boolean", default=False), _USES_O, {}, W, "substituted as nothing"),
    ("boolean default other", _option(type="boolean", default="yes"), _USES_O, {}, W, "default 'yes'"),
    ("string default boolean", _option(type="string", default=True), _USES_O, {}, W, "boolean default"),
    ("option used nowhere", _option(type="string", default="a"), None, {}, W, "used in no file"),
    ("undeclared option", minimal_template("t"), _USES_O, {}, W, "${templateOption:o}, which is no option"),
    ("optional path nowhere", minimal_template("t", optionalPaths=["docs/*"]), None, {}, W, "matches nothing"),
    ("optional file nowhere", minimal_template("t", optionalPaths=["./x.md"]), None, {"x.md": "x"}, W, "no file"),
    ("optional folder", minimal_template("t", optionalPaths=["docs"]), None, {"docs/a": "a"}, W, "'docs/*'"),
]


@pytest.mark.parametrize(
    ("metadata", "config", "files", "tier", "fragment"), [c[1:] for c in CASES], ids=[c[0] for c in CASES]
)
def test_each_finding_is_reported_once_in_its_tier(
    tmp_path: Path,
    metadata: dict[str, Any] | str,
    config: dict[str, Any] | str | None,
    files: dict[str, str],
    tier: Tier,
    fragment: str,
) -> None:
    write_template(tmp_path / "src", "t", metadata, config=config, files=files)
    found = findings(tmp_path / "src")
    assert len(found) == 1, [str(p) for p in found]
    (problem,) = found
    assert fragment in str(problem), str(problem)
    assert problem.tier is tier
    if tier is not E:
        assert problem.why, "a warning and a schema finding say why they matter"


def test_schema_findings_block_unless_schema_validation_is_off(tmp_path: Path) -> None:
    write_template(tmp_path / "src", "t", _option(type="number", default="1"), config=_USES_O)
    with pytest.raises(FeatureError) as info:
        load_collection(tmp_path / "src")
    assert info.value.message == "1 problem found in the templates"
    lenient = load_collection(tmp_path / "src", schema_validation=False)
    assert [p.tier for p in lenient.warnings] == [S]
    assert lenient.features[0].published_metadata["options"] == {"o": {"type": "number", "default": "1"}}


def test_the_sample_templates_are_clean(tmp_path: Path) -> None:
    result = validate_path(Path(__file__).resolve().parents[2] / "sample-templates")
    assert result.ok and result.warnings == (), [str(p) for p in (*result.problems, *result.warnings)]
    assert result.kind is TEMPLATE
    assert sorted(t.id for t in result.features) == ["debian-basic", "node-postgres", "python-app", "static-site"]
    assert json.loads(json.dumps(result.to_json()))["kind"] == "template"
    assert set(result.to_json()["templates"]) == {t.id for t in result.features}


def test_real_templates_shapes_are_accepted(tmp_path: Path) -> None:
    # devcontainers/templates: boolean options with "true"/"false" strings, proposals, optional .github/*.
    metadata = {
        "id": "t",
        "version": "2.3.2",
        "name": "Docker outside of Docker Compose",
        "description": "Access your host's Docker install from inside a container.",
        "documentationURL": "https://github.com/devcontainers/templates/tree/main/src/t",
        "publisher": "Dev Container Spec Maintainers",
        "licenseURL": "https://github.com/devcontainers/templates/blob/main/LICENSE",
        "options": {
            "installZsh": {"type": "boolean", "description": "Install ZSH?", "default": "true"},
            "dockerVersion": {"type": "string", "proposals": ["latest", "20.10"], "default": "latest"},
        },
        "platforms": ["Any"],
        "optionalPaths": [".github/*"],
    }
    config = {
        "dockerComposeFile": "docker-compose.yml",
        "features": {
            "ghcr.io/devcontainers/features/common-utils:2": {"installZsh": "${templateOption:installZsh}"}
        },
    }
    files = {
        ".github/dependabot.yml": "v: 2",
        ".devcontainer/docker-compose.yml": "x: ${templateOption:dockerVersion}",
    }
    write_template(tmp_path / "src", "t", metadata, config=config, files=files)
    assert findings(tmp_path / "src") == []


def test_every_problem_of_a_template_at_once(tmp_path: Path) -> None:
    write_template(tmp_path / "src", "a", minimal_template("b"), config="")
    write_template(tmp_path / "src", "c", {"id": "c", "version": "1", "name": "n"})
    problems = validate_path(tmp_path / "src").problems
    assert {(p.path.parent.name, p.path.name) for p in problems} == {
        ("a", TEMPLATE_METADATA),
        (".devcontainer", "devcontainer.json"),
        ("c", TEMPLATE_METADATA),
    }
    assert len(problems) == 3


# --- which kind, and never both ------------------------------------------------------------------------------


def test_a_collection_of_features_and_templates_is_refused_naming_both(tmp_path: Path) -> None:
    write_feature(tmp_path / "src", "feat")
    write_template(tmp_path / "src", "tmpl")
    with pytest.raises(FeatureError) as info:
        load_collection(tmp_path)
    (problem,) = info.value.problems
    assert problem.path == tmp_path / "src"
    assert "features (feat)" in problem.message and "templates (tmpl)" in problem.message
    assert info.value.exit_code == 2
    assert validate_path(tmp_path).problems == (problem,)


def test_a_folder_with_both_metadata_files_is_refused(tmp_path: Path) -> None:
    folder = write_template(tmp_path, "t")
    (folder / "devcontainer-feature.json").write_text(json.dumps(minimal_template("t")), encoding="utf-8")
    with pytest.raises(FeatureError) as info:
        load_collection(folder)
    assert "devcontainer-feature.json and devcontainer-template.json" in info.value.problems[0].message


def test_the_kind_comes_from_the_metadata_files_name(tmp_path: Path) -> None:
    write_template(tmp_path / "templates" / "src", "t")
    write_feature(tmp_path / "features" / "src", "f")
    assert load_collection(tmp_path / "templates").kind is TEMPLATE
    assert load_collection(tmp_path / "features").kind is FEATURE
    assert load_collection(tmp_path / "templates" / "src" / "t").single is True
    # A folder that holds neither file is reported as missing the kind's metadata.
    (tmp_path / "templates" / "src" / "stray").mkdir()
    with pytest.raises(FeatureError) as info:
        load_collection(tmp_path / "templates")
    assert [str(p.path.name) for p in info.value.problems] == [TEMPLATE_METADATA]
    assert "every template needs a devcontainer-template.json" in info.value.problems[0].message


def test_a_single_template_needs_no_id_equal_to_its_folder(tmp_path: Path) -> None:
    folder = write_template(tmp_path, "checkout", minimal_template("real-id"))
    assert [t.id for t in load_collection(folder).features] == ["real-id"]
    assert (folder / CONFIG).is_file()


@pytest.mark.parametrize("kind", ["fifo", "dangling link", "folder"])
def test_a_devcontainer_json_that_is_no_file_says_what_it_is(tmp_path: Path, kind: str) -> None:
    folder = write_template(tmp_path, "t", config="")
    config = folder / CONFIG
    config.parent.mkdir()
    if kind == "fifo":
        os.mkfifo(config)
    elif kind == "dangling link":
        config.symlink_to("nowhere.json")
    else:
        config.mkdir()
    (problem,) = [p for p in findings(folder) if p.tier is E and p.path == config]
    assert {"fifo": "named pipe", "dangling link": "does not exist", "folder": "is a folder"}[
        kind
    ] in problem.message
