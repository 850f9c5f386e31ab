"""featurepub.features: load_collection + validate report every problem, each tied to its file."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pytest

from featurepub.errors import FeatureError, Problem, Tier
from featurepub.features.collection import find_artifact_dirs, load_collection
from featurepub.features.metadata import loads_jsonc, strip_jsonc
from featurepub.features.validate import check_metadata, version_problem
from featurepub.kinds import FEATURE

from .featuretree import INSTALL, METADATA, findings_of, load, minimal_metadata, problems_of, write_feature

SAMPLES = Path(__file__).resolve().parents[2] / "sample-features"


@pytest.fixture
def src(tmp_path: Path) -> Path:
    folder = tmp_path / "collection" / "src"
    folder.mkdir(parents=True)
    return folder


def _only(problems: list[Problem]) -> Problem:
    assert len(problems) == 1, [str(p) for p in problems]
    return problems[0]


# --- what loads ------------------------------------------------------------------------------------------


def test_minimal_feature_loads(src: Path) -> None:
    write_feature(src, "hello")
    collection = load(src.parent)
    assert [f.id for f in collection.features] == ["hello"]
    feature = collection.features[0]
    assert feature.version == "1.0.0"
    assert feature.directory == src / "hello"
    assert feature.metadata_path == src / "hello" / METADATA
    assert collection.single is False


def test_jsonc_with_comments_and_trailing_commas_loads(src: Path) -> None:
    text = """
    // a line comment
    {
        /* a block
           comment */
        "id": "jsonc", // trailing comment
        "version": "1.2.3",
        "name": "JSONC",
        "keywords": ["a", "b",],
        "options": {
            "flag": {"type": "boolean", "default": true,},
        },
    }
    """
    write_feature(src, "jsonc", text)
    feature = load(src).features[0]
    assert feature.metadata["keywords"] == ["a", "b"]
    assert feature.metadata["options"]["flag"]["default"] is True
    # file order is kept
    assert list(feature.metadata) == ["id", "version", "name", "keywords", "options"]


@pytest.mark.parametrize(
    "hostile",
    [", //" * 100_000, "/*" * 200_000, "[1," * 100_000, '"\\' * 200_000, "," + " " * 500_000 + "]"],
    ids=["comma-comments", "unclosed-comments", "open-arrays", "unclosed-string", "spaced-comma"],
)
def test_jsonc_stripping_takes_one_pass_whatever_the_text(hostile: str) -> None:
    # A nested-quantifier pattern took minutes on 4 KB of ", //" (catastrophic backtracking); the
    # tokenizer reads each character once, so even these 400-800 KB texts strip at once.
    stripped = strip_jsonc(hostile)
    assert len(stripped) == len(hostile)  # blanks keep positions for the parser's line and column
    assert "//" not in stripped


def test_jsonc_keeps_comment_markers_inside_strings() -> None:
    text = '{"url": "https://x/*y*/", "a": [1, /* c */ 2, ], // end\n "b": "//, ]", }'
    assert loads_jsonc(text) == {"url": "https://x/*y*/", "a": [1, 2], "b": "//, ]"}


def test_utf8_bom_is_accepted(src: Path) -> None:
    write_feature(src, "bom", b"\xef\xbb\xbf" + json.dumps(minimal_metadata("bom")).encode())
    assert load(src).features[0].id == "bom"


def test_features_are_in_id_order_and_hidden_folders_skipped(src: Path) -> None:
    for feature_id in ["zeta", "alpha", "mid"]:
        write_feature(src, feature_id)
    (src / ".github").mkdir()
    (src / "README.md").write_text("not a feature\n")
    assert [f.id for f in load(src).features] == ["alpha", "mid", "zeta"]


def test_full_valid_metadata_loads(src: Path) -> None:
    metadata = minimal_metadata(
        "full",
        options={
            "flag": {"type": "boolean", "default": False},
            "flavour": {"type": "string", "enum": ["a", "b"], "default": "a"},
            "free": {"type": "string", "proposals": ["x"], "default": "anything"},
        },
        dependsOn={"ghcr.io/owner/features/other:1": {}, "localhost:5000/ns/dep": {"flag": True}},
        installsAfter=["ghcr.io/owner/features/base"],
        legacyIds=["old-full", "older_full"],
        deprecated=False,
        containerEnv={"A": "1"},
    )
    write_feature(src, "full", metadata)
    feature = load(src).features[0]
    assert feature.legacy_ids == ["old-full", "older_full"]
    assert feature.installs_after == ["ghcr.io/owner/features/base"]
    assert set(feature.depends_on) == {"ghcr.io/owner/features/other:1", "localhost:5000/ns/dep"}


# --- one finding per kind, each in its tier --------------------------------------------------------------

E, S, W = Tier.ERROR, Tier.SCHEMA, Tier.WARNING


def _without(key: str) -> dict[str, Any]:
    metadata = minimal_metadata("feat")
    del metadata[key]
    return metadata


def _option(**option: Any) -> dict[str, Any]:
    return minimal_metadata("feat", options={"o": option})


FINDING_CASES: list[tuple[str, dict[str, Any] | str, Tier, str]] = [
    # always errors: publishing fails or consumers break
    ("missing id", _without("id"), E, "'id' is required"),
    ("missing version", _without("version"), E, "'version' is required"),
    ("missing name", _without("name"), E, "'name' is required"),
    ("empty name", minimal_metadata("feat", name=""), E, "'name' is required"),
    ("id not a string", {**minimal_metadata("feat"), "id": 7}, E, "'id' is required"),
    ("id differs from folder", minimal_metadata("other"), E, "does not match its folder name 'feat'"),
    ("version with leading v", minimal_metadata("feat", version="v1.0.0"), E, "leading 'v': use '1.0.0'"),
    ("version with build", minimal_metadata("feat", version="1.0.0+build.5"), E, "build metadata"),
    ("version not semver", minimal_metadata("feat", version="1.0"), E, "not strict semver"),
    ("version not a string", minimal_metadata("feat", version=1), E, "non-empty string"),
    ("version too long for a tag", minimal_metadata("feat", version="1.0.0-" + "a" * 200), E, "at most 128"),
    ("dependsOn not an object", minimal_metadata("feat", dependsOn=["ghcr.io/a/b"]), E, "must be an object"),
    ("dependsOn empty key", minimal_metadata("feat", dependsOn={"": {}}), E, "is not a feature id"),
    ("dependsOn unknown short id", minimal_metadata("feat", dependsOn={"nope": {}}), E, "'nope' is not a feature"),
    ("installsAfter not a list", minimal_metadata("feat", installsAfter="ghcr.io/a/b"), E, "must be a list"),
    ("installsAfter empty id", minimal_metadata("feat", installsAfter=[""]), E, "'' is not a feature id"),
    ("installsAfter not a string", minimal_metadata("feat", installsAfter=[3]), E, "3 is not a feature id"),
    ("installsAfter unknown short id", minimal_metadata("feat", installsAfter=["nope"]), E, "short ids"),
    (
        "legacyIds not a list",
        minimal_metadata("feat", legacyIds="old"),
        E,
        "'legacyIds' must be a list of strings",
    ),
    ("legacyIds not strings", minimal_metadata("feat", legacyIds=[1]), E, "'legacyIds' must be a list of strings"),
    ("legacyIds invalid", minimal_metadata("feat", legacyIds=["Old_Feat"]), E, "not a valid OCI repository name"),
    ("legacyIds double dash", minimal_metadata("feat", legacyIds=["old--feat"]), E, "Dev Containers CLI"),
    ("NaN value", '{"id": "feat", "version": "1.0.0", "name": "n", "customizations": {"y": NaN}}', E, ".y is nan"),
    (
        "Infinity",
        '{"id": "feat", "version": "1.0.0", "name": "n", "customizations": {"l": [-Infinity]}}',
        E,
        "-inf",
    ),
    (
        "huge number",
        '{"id": "feat", "version": "1.0.0", "name": "n", "customizations": {"n": 1e999}}',
        E,
        "n is inf",
    ),
    ("malformed JSON", '{"id": "feat", "version": ', E, "is not valid JSON"),
    ("non-object JSON", '["feat"]', E, "must hold a JSON object, not list"),
    ("JSON null", "null", E, "must hold a JSON object"),
    ("empty file", "", E, "is not valid JSON"),
    ("unterminated comment", '{"id": "feat", "version": "1.0.0", "name": "n"} /* open', E, "is not valid JSON"),
    # what the spec's JSON schema refuses
    ("option type", _option(type="number", default=1), S, 'options.o.type: must be one of "boolean", "string"'),
    ("option type list", _option(type=[], default=""), S, 'options.o.type: must be one of "boolean", "string"'),
    ("option default wrong type", _option(type="boolean", default="true"), S, "must be a boolean, not a string"),
    ("string option boolean default", _option(type="string", default=False), S, "must be a string, not a boolean"),
    ("option without default", _option(type="string"), S, "options.o: 'default' is required"),
    ("enum on boolean", _option(type="boolean", default=True, enum=[True]), S, "unknown property 'enum'"),
    (
        "enum and proposals",
        _option(type="string", default="a", enum=["a"], proposals=["a"]),
        S,
        "unknown property",
    ),
    ("proposals not strings", _option(type="string", default="a", proposals=["a", 1]), S, "proposals[1]"),
    ("options not an object", minimal_metadata("feat", options=["o"]), S, "options: must be an object"),
    ("option not an object", minimal_metadata("feat", options={"o": "string"}), S, "options.o: must be an object"),
    ("name not a string", minimal_metadata("feat", name=5), S, "name: must be a string"),
    ("unknown property", minimal_metadata("feat", extensions=["x"]), S, "unknown property 'extensions'"),
    ("deprecated not bool", minimal_metadata("feat", deprecated="yes"), S, "deprecated: must be a boolean"),
    (
        "containerEnv values",
        minimal_metadata("feat", containerEnv={"A": 1}),
        S,
        "containerEnv.A: must be a string",
    ),
    ("mount as a string", minimal_metadata("feat", mounts=["source=a,target=/b"]), S, "mounts[0]: must be an"),
    # lint: warnings only
    ("blank name", minimal_metadata("feat", name="   "), W, "'name' is blank"),
    ("empty proposals", _option(type="string", default="", proposals=[]), W, "'proposals' is empty"),
    ("empty enum", _option(type="string", default="", enum=[]), W, "'enum' is empty"),
    ("default not in enum", _option(type="string", default="c", enum=["a", "b"]), W, "not one of its enum"),
    (
        "option id with a dot",
        minimal_metadata("feat", options={"o.x": {"type": "string", "default": ""}}),
        W,
        "O_X",
    ),
    (
        "option id trailing space",
        minimal_metadata("feat", options={"v ": {"type": "string", "default": ""}}),
        W,
        "V_",
    ),
    (
        "installsAfter short id",
        minimal_metadata("feat", installsAfter=["azure-cli"]),
        W,
        "'azure-cli' is a short id",
    ),
    ("dependsOn short id", minimal_metadata("feat", dependsOn={"common": {}}), W, "features/common-utils:1"),
    ("dependsOn string value", minimal_metadata("feat", dependsOn={"ghcr.io/a/b/c": "1"}), W, "the string '1'"),
    ("dependsOn boolean value", minimal_metadata("feat", dependsOn={"ghcr.io/a/b/c": True}), W, "value is bool"),
    ("dependsOn without registry", minimal_metadata("feat", dependsOn={"owner/feature": {}}), W, "no registry"),
    ("installsAfter pinned", minimal_metadata("feat", installsAfter=["ghcr.io/a/b/c:1"]), W, "names a version"),
    ("installsAfter local path", minimal_metadata("feat", installsAfter=["./other"]), W, "local path"),
    ("legacyIds duplicated", minimal_metadata("feat", legacyIds=["old", "old"]), W, "'old' is listed twice"),
    ("legacyIds equal id", minimal_metadata("feat", legacyIds=["feat"]), W, "the feature's own id"),
]


@pytest.mark.parametrize(
    ("metadata", "tier", "fragment"), [c[1:] for c in FINDING_CASES], ids=[c[0] for c in FINDING_CASES]
)
def test_each_finding_is_reported_once_on_the_metadata_file_in_its_tier(
    src: Path, metadata: dict[str, Any] | str, tier: Tier, fragment: str
) -> None:
    write_feature(src, "feat", metadata)
    found = _only(findings_of(src))
    assert found.path == src / "feat" / METADATA
    assert fragment in str(found), str(found)
    assert found.tier is tier
    assert str(found) == f"{found.path}: {found.message}" + (f" ({found.why})" if found.why else "")
    if tier is Tier.WARNING:
        assert found.why, "a warning says why it matters"
        assert load(src).warnings == (found,)
    elif tier is Tier.SCHEMA:
        assert problems_of(src) == [found]
        assert load(src, schema_validation=False).warnings == (found,)
    else:
        assert problems_of(src) == problems_of(src, schema_validation=False) == [found]


def test_dependency_references_resolvable_by_consumers_are_fine(src: Path) -> None:
    metadata = minimal_metadata(
        "feat",
        dependsOn={
            "ghcr.io/Owner/Features/other:1": {},  # consumers lowercase a reference before parsing it
            "localhost:5000/ns/dep@sha256:" + "a" * 64: {"flag": True},
            "https://example.com/devcontainer-feature-x.tgz": {},
        },
        installsAfter=["ghcr.io/devcontainers/features/common-utils"],
    )
    write_feature(src, "feat", metadata)
    assert findings_of(src) == []


def test_colliding_option_variables_are_a_warning(src: Path) -> None:
    options = {
        "node-version": {"type": "string", "default": ""},
        "node_version": {"type": "string", "default": ""},
    }
    write_feature(src, "feat", minimal_metadata("feat", options=options))
    (found,) = load(src).warnings
    assert "both become the variable NODE_VERSION" in found.message


def test_schema_errors_name_the_branch_the_option_meant(src: Path) -> None:
    # The reference publishes this shape (seen in real history): a boolean option with a string default
    # and proposals. The schema's anyOf says "not valid under any"; the findings say what to fix.
    option = {"type": "boolean", "default": "latest", "proposals": ["latest"]}
    write_feature(src, "feat", minimal_metadata("feat", options={"version": option}))
    messages = [p.message for p in problems_of(src)]
    assert messages == [
        "options.version: unknown property 'proposals'",
        'options.version.default: must be a boolean, not a string ("latest")',
    ]
    assert [p.field for p in problems_of(src)] == ["options.version", "options.version.default"]
    assert load(src, schema_validation=False).warnings[0].tier is Tier.SCHEMA


def test_an_error_and_the_schema_do_not_report_one_mistake_twice(src: Path) -> None:
    write_feature(src, "feat", {"id": "feat", "name": "n", "installsAfter": "x", "legacyIds": "y"})
    found = findings_of(src)
    assert [(p.tier, p.field) for p in found] == [(E, "version"), (E, "installsAfter"), (E, "legacyIds")]


def test_metadata_is_never_rewritten_by_validation(src: Path) -> None:
    text = (
        '{"id": "feat", "version": "1.0.0", "name": " x ",\n'
        '  "options": {"o ": {"type": "string", "default": "a", "proposals": []}}}'
    )
    folder = write_feature(src, "feat", text)
    collection = load(src)
    assert (folder / METADATA).read_text() == text
    assert collection.features[0].metadata == json.loads(text)


def test_id_not_a_valid_oci_component(src: Path) -> None:
    write_feature(src, "My_Feature", minimal_metadata("My_Feature"))
    problem = _only(problems_of(src))
    assert problem.path == src / "My_Feature" / METADATA
    assert "not a valid OCI repository name component" in problem.message


def test_non_utf8_metadata(src: Path) -> None:
    write_feature(src, "feat", b'{"id": "feat", "name": "\xff"}')
    problem = _only(problems_of(src))
    assert problem.path == src / "feat" / METADATA
    assert "not UTF-8 (byte 24)" in problem.message


def test_missing_metadata_file(src: Path) -> None:
    (src / "feat").mkdir()
    (src / "feat" / INSTALL).write_text("#!/bin/sh\n")
    problem = _only(problems_of(src))
    assert problem.path == src / "feat" / METADATA
    assert "missing" in problem.message


def test_missing_install_script(src: Path) -> None:
    write_feature(src, "feat", install=False)
    problem = _only(problems_of(src))
    assert problem.path == src / "feat" / INSTALL
    assert "install.sh" in problem.message


def test_install_script_that_is_a_folder(src: Path) -> None:
    folder = write_feature(src, "feat", install=False)
    (folder / INSTALL).mkdir()
    assert _only(problems_of(src)).path == folder / INSTALL


def test_oversized_metadata(src: Path) -> None:
    padding = " " * (1024 * 1024)
    write_feature(src, "feat", json.dumps(minimal_metadata("feat")) + padding)
    problem = _only(problems_of(src))
    assert "over the limit of 1048576 bytes" in problem.message


# --- duplicates across features --------------------------------------------------------------------------


def test_legacy_id_claimed_by_another_feature(src: Path) -> None:
    write_feature(src, "alpha", minimal_metadata("alpha", legacyIds=["beta"]))
    write_feature(src, "beta")
    problem = _only(problems_of(src))
    assert problem.path == src / "beta" / METADATA
    assert "'beta' is also claimed by" in problem.message
    assert str(src / "alpha" / METADATA) in problem.message


def test_same_legacy_id_in_two_features(src: Path) -> None:
    write_feature(src, "alpha", minimal_metadata("alpha", legacyIds=["old"]))
    write_feature(src, "beta", minimal_metadata("beta", legacyIds=["old"]))
    problem = _only(problems_of(src))
    assert problem.path == src / "beta" / METADATA
    assert "'old' is also claimed" in problem.message


# --- file tree problems ----------------------------------------------------------------------------------


def test_symlink_escaping_the_folder(src: Path) -> None:
    folder = write_feature(src, "feat")
    (src / "secret.txt").write_text("secret\n")
    (folder / "escape").symlink_to("../secret.txt")
    problem = _only(problems_of(src))
    assert problem.path == folder / "escape"
    assert "points outside its feature or template folder" in problem.message


def test_absolute_symlink(src: Path) -> None:
    folder = write_feature(src, "feat")
    (folder / "abs").symlink_to(folder / INSTALL)  # absolute even though it points inside
    problem = _only(problems_of(src))
    assert problem.path == folder / "abs"
    assert "absolute path" in problem.message


def test_symlink_in_a_subfolder_escaping(src: Path) -> None:
    folder = write_feature(src, "feat", files={"lib/a.sh": b"echo\n"})
    (folder / "lib" / "up").symlink_to("../../feat-other")
    assert _only(problems_of(src)).path == folder / "lib" / "up"


def test_internal_symlinks_are_fine(src: Path) -> None:
    folder = write_feature(src, "feat", files={"lib/a.sh": b"echo\n"})
    (folder / "lib" / "b.sh").symlink_to("a.sh")
    (folder / "lib" / "root").symlink_to("..")
    (folder / "dangling").symlink_to("does-not-exist")
    assert load(src).features[0].id == "feat"


def test_symlink_chain_escaping_the_folder(src: Path) -> None:
    folder = write_feature(src, "feat")
    (src / "secret").write_text("secret\n")
    (folder / "d").symlink_to(".")
    (folder / "e").symlink_to("d/../secret")
    assert (folder / "e").resolve() == (src / "secret").resolve()  # it really escapes
    problems = problems_of(src)
    assert [p.path for p in problems] == [folder / "e"]


def test_non_utf8_file_name(src: Path) -> None:
    folder = write_feature(src, "feat")
    bad = os.fsencode(folder) + b"/bad\xff.txt"
    with open(bad, "wb") as handle:
        handle.write(b"x")
    problem = _only(problems_of(src))
    assert os.fsencode(problem.path) == bad
    assert "not valid UTF-8" in problem.message


def test_fifo_cannot_be_packaged(src: Path) -> None:
    folder = write_feature(src, "feat")
    os.mkfifo(folder / "pipe")
    problem = _only(problems_of(src))
    assert problem.path == folder / "pipe"
    assert problem.message == "is a named pipe (FIFO): only files, folders and symlinks are packaged"


def test_ignored_fifo_is_not_a_problem(src: Path) -> None:
    folder = write_feature(src, "feat", files={".featureignore": b"pipe\n"})
    os.mkfifo(folder / "pipe")
    assert load(src).features[0].id == "feat"


def test_fifo_inside_git_is_ignored(src: Path) -> None:
    folder = write_feature(src, "feat", files={".git/HEAD": b"ref: refs/heads/main\n"})
    os.mkfifo(folder / ".git" / "pipe")
    assert load(src).features[0].id == "feat"


# --- all problems at once --------------------------------------------------------------------------------


def test_every_problem_of_every_feature_is_reported_at_once(src: Path) -> None:
    write_feature(src, "aaa", minimal_metadata("aaa", version="v1"))
    write_feature(src, "bbb", '{"id": "bbb",')
    write_feature(src, "ccc")  # valid
    ddd = write_feature(src, "ddd", minimal_metadata("wrong", options={"o": {"type": "int"}}), install=False)
    write_feature(
        src, "eee", minimal_metadata("eee", options={"o": {"type": "string", "default": "", "enum": []}})
    )
    os.mkfifo(ddd / "pipe")
    problems = problems_of(src)
    by_path: dict[Path, list[str]] = {}
    for problem in problems:
        by_path.setdefault(problem.path, []).append(problem.message)
    assert set(by_path) == {
        src / "aaa" / METADATA,
        src / "bbb" / METADATA,
        src / "ddd" / METADATA,
        src / "ddd" / INSTALL,
        src / "ddd" / "pipe",
    }
    assert len(by_path[src / "ddd" / METADATA]) == 2  # id mismatch and option type
    assert len(problems) == 6
    with pytest.raises(FeatureError) as info:
        load_collection(src)
    assert [w.path for w in info.value.warnings] == [src / "eee" / METADATA]  # the warnings come along


def test_feature_error_message_counts_problems(src: Path) -> None:
    write_feature(src, "aaa", minimal_metadata("aaa", version="x"))
    write_feature(src, "bbb", minimal_metadata("bbb", version="y"))
    with pytest.raises(FeatureError) as info:
        load_collection(src)
    assert info.value.message == "2 problems found in the features"
    assert info.value.exit_code == 2


def test_one_feature_with_many_problems(src: Path) -> None:
    write_feature(src, "feat", {"id": "Feat", "version": "01.0.0", "options": {"o": {"type": "boolean"}}})
    found = [(p.tier, p.message) for p in problems_of(src)]
    assert len(found) == 5, found  # invalid id, id mismatch, version, name; the schema: default
    assert [tier for tier, _ in found] == [E, E, E, E, S]


# --- where the features are ------------------------------------------------------------------------------


def test_single_feature_folder_does_not_need_id_equal_to_folder(tmp_path: Path) -> None:
    folder = write_feature(tmp_path, "checkout-name", minimal_metadata("real-id"))
    collection = load(folder)
    assert collection.single is True
    assert [f.id for f in collection.features] == ["real-id"]
    assert find_artifact_dirs(folder) == ([folder], True, FEATURE)


def test_single_feature_folder_is_still_validated(tmp_path: Path) -> None:
    folder = write_feature(tmp_path, "x", minimal_metadata("x", version="1"), install=False)
    assert {p.path.name for p in problems_of(folder)} == {METADATA, INSTALL}


def test_collection_as_parent_or_as_src(src: Path) -> None:
    write_feature(src, "one")
    write_feature(src, "two")
    from_parent = load(src.parent)
    from_src = load(src)
    assert [f.id for f in from_parent.features] == [f.id for f in from_src.features] == ["one", "two"]
    assert [f.directory for f in from_parent.features] == [src / "one", src / "two"]


def test_collection_without_src_uses_its_children(tmp_path: Path) -> None:
    write_feature(tmp_path / "features", "one")
    assert [f.id for f in load(tmp_path / "features").features] == ["one"]


def test_in_a_collection_id_must_match_folder(src: Path) -> None:
    write_feature(src, "folder", minimal_metadata("real-id"))
    assert "does not match its folder name" in _only(problems_of(src)).message


def test_path_that_does_not_exist(tmp_path: Path) -> None:
    problem = _only(problems_of(tmp_path / "nope"))
    assert problem.path == tmp_path / "nope"
    assert "does not exist" in problem.message


def test_path_that_is_a_file(tmp_path: Path) -> None:
    (tmp_path / "f").write_text("x")
    assert "is not a folder" in _only(problems_of(tmp_path / "f")).message


def test_empty_collection(src: Path) -> None:
    problem = _only(problems_of(src.parent))
    assert problem.path == src.parent
    assert "holds no features" in problem.message


def test_bundled_sample_features_validate() -> None:
    collection = load(SAMPLES)
    assert len(collection.features) == 5
    assert [f.id for f in collection.features] == sorted(f.id for f in collection.features)
    assert {f.id for f in collection.features} == {
        "common-utils",
        "deprecated-tool",
        "hello-cli",
        "node-tool",
        "shell-prompt",
    }
    assert load(SAMPLES / "src").features == collection.features


# --- validate_metadata and version_problem directly ------------------------------------------------------


@pytest.mark.parametrize(
    ("version", "ok"),
    [
        ("1.2.3", True),
        ("0.0.0", True),
        ("1.2.3-rc.1", True),
        ("1.2.3-alpha.beta.1", True),
        ("V1.2.3", False),
        ("1.2", False),
        ("01.2.3", False),
        ("1.2.3+b", False),
        ("1.2.3-rc.1+b", False),
        ("", False),
        (None, False),
        (1.2, False),
    ],
)
def test_version_problem(version: object, ok: bool) -> None:
    assert (version_problem(version) is None) is ok


def test_check_metadata_without_expected_id(tmp_path: Path) -> None:
    path = tmp_path / "f" / METADATA
    assert check_metadata(minimal_metadata("g"), path, expected_id=None) == []
    found = check_metadata(minimal_metadata("g"), path, expected_id="f")
    assert [(p.path, p.field) for p in found] == [(path, "id")]
