"""featurepub.toml / [tool.featurepub]: typed per-host overrides, errors that name the key path."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from featurepub.config import Config, find_config, load_config, parse_config, select_profile
from featurepub.errors import ConfigError, Diagnostic, RegistryContext, RegistryError
from featurepub.registry.profiles import CHUNKED, MiB, explain


def write(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


def test_a_private_ecr_behind_a_custom_domain(tmp_path: Path) -> None:
    config = load_config(
        write(
            tmp_path / "featurepub.toml",
            '[registries."registry.example.com"]\nprofile = "ecr"\nupload = "chunked"\nchunk_size = "8MiB"\n',
        )
    )
    profile = select_profile("registry.example.com", config=config)
    assert (profile.name, profile.upload, profile.chunk_size, profile.chunk_min) == (
        "ecr",
        CHUNKED,
        8 * MiB,
        5 * MiB,
    )
    assert select_profile("other.example.com", config=config).name == "generic"


def test_precedence_option_then_config_then_host(tmp_path: Path) -> None:
    config = parse_config({"registries": {"ghcr.io": {"profile": "artifactory", "requests_in_flight": 2}}})
    assert select_profile("ghcr.io").name == "ghcr"
    assert select_profile("ghcr.io", config=config).name == "artifactory"
    chosen = select_profile("ghcr.io", name="zot", config=config)
    assert (chosen.name, chosen.requests_in_flight) == ("zot", 2)  # the option picks the base; overrides apply


def test_host_patterns_and_exact_hosts(tmp_path: Path) -> None:
    config = parse_config(
        {
            "registries": {
                "*.corp.example": {"profile": "harbor"},
                "special.corp.example": {"profile": "nexus"},
                "localhost:5000": {"mount": False},
            }
        }
    )
    assert select_profile("a.corp.example", config=config).name == "harbor"
    assert select_profile("special.corp.example", config=config).name == "nexus"
    local = select_profile("localhost:5000", config=config)
    assert (local.name, local.mount) == ("generic", False)


def test_concurrency_of_older_config_files_sets_both_limits_unless_one_is_given() -> None:
    older = parse_config({"registries": {"r.example": {"concurrency": 1}}})
    profile = select_profile("r.example", config=older)
    assert (profile.requests_in_flight, profile.uploads_in_flight) == (1, 1)
    for table in ({"requests_in_flight": 6, "concurrency": 2}, {"concurrency": 2, "requests_in_flight": 6}):
        both = select_profile("r.example", config=parse_config({"registries": {"r.example": table}}))
        assert (both.requests_in_flight, both.uploads_in_flight) == (6, 2)  # the new name wins
    with pytest.raises(ConfigError, match=r"registries -> r.example -> requests_in_flight: must be at least 1"):
        select_profile("r.example", config=parse_config({"registries": {"r.example": {"requests_in_flight": 0}}}))


def test_every_field_can_be_set(tmp_path: Path) -> None:
    text = """
[tool.featurepub.registries."r.example"]
upload = "single"
strategies = ["monolithic", "single"]
chunk_size = 1048576
chunk_min = "0"
chunk_max = 0
single_post = true
mount = false
empty_blobs = false
token_keys = ["token"]
repository_must_exist = true
immutable_tags = true
max_depth = 2
requests_in_flight = 3
uploads_in_flight = 1
notes = "ours"
hints = { NAME_UNKNOWN = "ask the platform team", 403 = "ask for push rights" }
"""
    profile = select_profile("r.example", config=load_config(write(tmp_path / "pyproject.toml", text)))
    assert profile.upload == "single" and profile.strategies == ("monolithic", "single")
    assert (profile.chunk_size, profile.chunk_min, profile.chunk_max) == (MiB, 0, None)
    assert profile.single_post and not profile.mount and not profile.empty_blobs
    assert profile.token_keys == ("token",)
    assert profile.repository_must_exist and profile.immutable_tags
    assert (profile.max_depth, profile.notes) == (2, "ours")
    assert (profile.requests_in_flight, profile.uploads_in_flight) == (3, 1)
    error = RegistryError(
        "HTTP 404",
        context=RegistryContext("r.example", "ns/tool", "push"),
        status=404,
        diagnostics=[Diagnostic("NAME_UNKNOWN")],
    )
    assert explain(error, profile).hint == "ask the platform team"


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ('[registries."ghcr.io"]\nchunk_min = "x"\n', "registries -> ghcr.io -> chunk_min: expected a size"),
        ('[registries."ghcr.io"]\nchunk_sise = "4MiB"\n', "registries -> ghcr.io -> chunk_sise: unknown key"),
        (
            '[registries."ghcr.io"]\nprofile = "nope"\n',
            "registries -> ghcr.io -> profile: unknown registry profile",
        ),
        ('[registries."ghcr.io"]\nupload = "fast"\n', "registries -> ghcr.io -> upload: unknown strategy 'fast'"),
        ('[registries."ghcr.io"]\nmount = "yes"\n', "registries -> ghcr.io -> mount: expected true or false"),
        ('[registries."ghcr.io"]\nstrategies = [1]\n', "registries -> ghcr.io -> strategies: expected a list"),
        ('[registries."ghcr.io"]\nconcurrency = -1\n', "registries -> ghcr.io -> concurrency: expected a whole"),
        ('[registries."ghcr.io"]\nchunk_size = -1\n', "registries -> ghcr.io -> chunk_size: a size cannot be"),
        ('[registries."ghcr.io"]\nhints = "x"\n', "registries -> ghcr.io -> hints: expected a table"),
        ("registries = 3\n", "registries: expected a table"),
        ('[registries]\n"ghcr.io" = 3\n', "registries -> ghcr.io: expected a table"),
        ("namespace = 'x'\n", "featurepub.toml: namespace: unknown key"),
        ("[registries\n", "invalid TOML"),
    ],
)
def test_config_errors_name_the_key_path(tmp_path: Path, text: str, message: str) -> None:
    with pytest.raises(ConfigError, match=message.replace("(", r"\(")) as caught:
        load_config(write(tmp_path / "featurepub.toml", text))
    assert "featurepub.toml" in caught.value.message


def test_pyproject_errors_name_the_tool_table(tmp_path: Path) -> None:
    path = write(tmp_path / "pyproject.toml", '[tool.featurepub.registries."ghcr.io"]\nchunk_min = true\n')
    with pytest.raises(
        ConfigError, match=r"pyproject.toml: tool -> featurepub -> registries -> ghcr.io -> chunk_min"
    ):
        load_config(path)


def test_overrides_that_break_the_registrys_rules_name_the_rule(tmp_path: Path) -> None:
    config = load_config(
        write(tmp_path / "featurepub.toml", '[registries."r.example"]\nupload = "chunked"\nchunk_size = "1MiB"\n')
    )
    with pytest.raises(ConfigError) as caught:
        select_profile("r.example", name="ecr", config=config)
    assert caught.value.message == (
        "featurepub.toml: registries -> r.example -> chunk_size: 1 MiB is below the minimum of 5 MiB: "
        "AWS ECR refuses chunks under 5 MiB except the last"
    )
    single = parse_config({"registries": {"r.example": {"profile": "ecr", "upload": "single"}}})
    with pytest.raises(ConfigError, match="AWS ECR does not take single uploads"):
        select_profile("r.example", config=single)


def test_unreadable_config(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="the config file does not exist"):
        load_config(tmp_path / "missing.toml")
    (tmp_path / "bad.toml").write_bytes(b"\xff\xfe")
    with pytest.raises(ConfigError, match="not UTF-8"):
        load_config(tmp_path / "bad.toml")


def test_config_that_is_no_regular_file_is_refused_before_it_is_opened(tmp_path: Path) -> None:
    os.mkfifo(tmp_path / "fifo.toml")  # opening it for reading would wait for a writer forever
    with pytest.raises(ConfigError, match=r"fifo.toml: the config file is a named pipe \(FIFO\), not a regular"):
        load_config(tmp_path / "fifo.toml")
    (tmp_path / "zero.toml").symlink_to("/dev/zero")  # would never end
    with pytest.raises(ConfigError, match="the config file is a character device"):
        load_config(tmp_path / "zero.toml")
    (tmp_path / "loop.toml").symlink_to("loop.toml")
    with pytest.raises(ConfigError, match="the config file is a symlink loop"):
        load_config(tmp_path / "loop.toml")
    (tmp_path / "huge.toml").write_bytes(b"#" * (1024 * 1024 + 1))
    with pytest.raises(ConfigError, match="over the limit of 1048576 bytes"):
        load_config(tmp_path / "huge.toml")
    os.mkfifo(tmp_path / "featurepub.toml")
    assert find_config(tmp_path) == tmp_path / "featurepub.toml"  # found, so that loading it says what is wrong


def test_find_config(tmp_path: Path) -> None:
    assert find_config(tmp_path) is None
    write(tmp_path / "pyproject.toml", '[project]\nname = "x"\n')
    assert find_config(tmp_path) is None  # a pyproject without [tool.featurepub] is not a config
    write(tmp_path / "pyproject.toml", '[project]\nname = "x"\n[tool.featurepub]\n')
    assert find_config(tmp_path) == tmp_path / "pyproject.toml"
    assert load_config(tmp_path / "pyproject.toml") == Config(tmp_path / "pyproject.toml", ())
    write(tmp_path / "featurepub.toml", "")
    assert find_config(tmp_path) == tmp_path / "featurepub.toml"
