"""The validation policy on the fixture set (tests/fixtures/validation): what `featurepub validate` says
about each real shape, and that its default verdicts agree with the spec's JSON schema."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import json5
import jsonschema
import pytest

from featurepub.schemas import FEATURE_SCHEMA, load_schema
from tests.support.publishing import featurepub

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "validation"
ACCEPTED = sorted(p.name for p in (FIXTURES / "accepted").iterdir())
SCHEMA_INVALID = sorted(p.name for p in (FIXTURES / "schema-invalid").iterdir())
ALWAYS_ERROR = sorted(p.name for p in (FIXTURES / "always-error").iterdir())
# The lint each accepted fixture reproduces (the fixture's whole reason to exist).
EXPECTED_WARNINGS = {
    "plain": [],
    "empty-proposals": ["option 'addressPool': 'proposals' is empty"],
    "dependson-string": ["the value is the string '9.0'"],
    "option-trailing-space": ["option id 'profileURL ' becomes the variable PROFILEURL_"],
    "installsafter-short-id": ["installsAfter[0]: 'azure-cli' is a short id"],
}


def _collection_of(tmp_path: Path, category: str, name: str) -> Path:
    """The fixture alone in a collection folder (`src/<name>/`), so its id is checked against its folder."""
    src = tmp_path / "collection" / "src"
    shutil.copytree(FIXTURES / category / name, src / name, symlinks=True)
    return src.parent


def _lines(stderr: str, prefix: str) -> list[str]:
    return [line for line in stderr.splitlines() if line.startswith(prefix)]


def _schema_valid(folder: Path) -> bool:
    # Independent of featurepub: another JSONC parser, jsonschema straight on the spec's schema.
    try:
        document = json5.loads((folder / "devcontainer-feature.json").read_text(encoding="utf-8"))
    except ValueError:
        return False
    return jsonschema.Draft7Validator(load_schema(FEATURE_SCHEMA)).is_valid(document)


def test_every_fixture_is_covered() -> None:
    assert set(EXPECTED_WARNINGS) == set(ACCEPTED)
    assert len(SCHEMA_INVALID) >= 4
    assert len(ALWAYS_ERROR) >= 10


@pytest.mark.parametrize("name", ACCEPTED)
def test_accepted_shapes_validate_with_their_warnings(tmp_path: Path, name: str) -> None:
    run = featurepub("validate", _collection_of(tmp_path, "accepted", name))
    assert run.code == 0, run.stderr
    warnings = _lines(run.stderr, "warning: ")
    assert len(warnings) == len(EXPECTED_WARNINGS[name]), warnings
    for line, fragment in zip(warnings, EXPECTED_WARNINGS[name], strict=True):
        assert fragment in line
        assert line.endswith(")"), "a warning ends with why it matters, in brackets"
    assert not _lines(run.stderr, "error: ")


@pytest.mark.parametrize("name", SCHEMA_INVALID)
def test_schema_invalid_shapes_are_refused_unless_schema_validation_is_off(tmp_path: Path, name: str) -> None:
    collection = _collection_of(tmp_path, "schema-invalid", name)
    strict = featurepub("validate", collection)
    assert strict.code == 2
    errors = _lines(strict.stderr, "error: ")[:-1]  # the last line counts them
    assert errors and all("the spec's JSON schema refuses it" in line for line in errors)
    lenient = featurepub("validate", collection, "--no-schema-validation")
    assert lenient.code == 0, lenient.stderr
    assert [line.replace("warning: ", "error: ", 1) for line in _lines(lenient.stderr, "warning: ")] == errors


@pytest.mark.parametrize("name", ALWAYS_ERROR)
def test_always_errors_are_refused_either_way(tmp_path: Path, name: str) -> None:
    collection = _collection_of(tmp_path, "always-error", name)
    for flags in ((), ("--no-schema-validation",)):
        run = featurepub("validate", collection, *flags)
        assert run.code == 2, run.stderr
        errors = _lines(run.stderr, "error: ")
        assert len(errors) == 2, errors  # the problem and the count
        assert f"/src/{name}/" in errors[0]
        assert "Traceback" not in run.stderr


def test_default_verdicts_agree_with_the_schema(tmp_path: Path) -> None:
    """Outside the ERROR tier, `validate` accepts exactly what the spec's schema accepts."""
    checked = 0
    for category in ("accepted", "schema-invalid"):
        for folder in sorted((FIXTURES / category).iterdir()):
            run = featurepub("validate", _collection_of(tmp_path / category, category, folder.name))
            assert (run.code == 0) is _schema_valid(folder), (folder, run.stderr)
            checked += 1
    # The ERROR tier refuses more than the schema does: these are schema-valid and still refused.
    schema_valid_errors = [name for name in ALWAYS_ERROR if _schema_valid(FIXTURES / "always-error" / name)]
    assert {"installsafter-empty", "missing-name", "version-v-prefix"} <= set(schema_valid_errors)
    assert checked == len(ACCEPTED) + len(SCHEMA_INVALID)


def test_validate_json_lists_every_problem_with_file_tier_and_message(tmp_path: Path) -> None:
    src = tmp_path / "collection" / "src"
    for category, name in (
        ("accepted", "empty-proposals"),
        ("schema-invalid", "boolean-default-latest"),
        ("always-error", "installsafter-empty"),
    ):
        shutil.copytree(FIXTURES / category / name, src / name)
    run = featurepub("validate", src.parent, "--json")
    assert run.code == 2
    report: dict[str, Any] = json.loads(run.stdout)
    assert report["ok"] is False
    found = {(Path(p["file"]).parent.name, p["tier"], p["severity"]) for p in report["problems"]}
    assert found == {
        ("empty-proposals", "warning", "warning"),
        ("boolean-default-latest", "schema", "error"),
        ("installsafter-empty", "error", "error"),
    }
    assert all(p["message"] and p["file"].endswith("devcontainer-feature.json") for p in report["problems"])
    lenient = json.loads(featurepub("validate", src.parent, "--json", "--no-schema-validation").stdout)
    assert {(p["tier"], p["severity"]) for p in lenient["problems"]} == {
        ("warning", "warning"),
        ("schema", "warning"),
        ("error", "error"),
    }


def test_package_takes_the_flag_and_prints_the_warnings(tmp_path: Path) -> None:
    collection = _collection_of(tmp_path, "schema-invalid", "boolean-default-latest")
    refused = featurepub("package", collection, "-o", tmp_path / "out")
    assert refused.code == 2
    assert not (tmp_path / "out").exists()
    done = featurepub("package", collection, "-o", tmp_path / "out", "--no-schema-validation")
    assert done.code == 0, done.stderr
    assert len(_lines(done.stderr, "warning: ")) == 2
    assert (tmp_path / "out" / "devcontainer-feature-boolean-default-latest.tgz").is_file()
