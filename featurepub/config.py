"""featurepub.toml (or `[tool.featurepub]` in pyproject.toml) -> typed settings.

```toml
[registries."registry.example.com"]   # a host, host:port, or a pattern such as "*.corp.example"
profile = "ecr"                        # start from a built-in profile (else the host's own)
chunk_size = "8MiB"                    # then change any field of it
requests_in_flight = 4                 # small requests out at once; uploads_in_flight: blob bodies
```

Every problem names the file and the key path (`registries -> ghcr.io -> chunk_size`) and
raises ConfigError; unknown keys are errors, so a typo never goes unnoticed.
"""

from __future__ import annotations

import importlib
import os
import sys
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from fnmatch import fnmatchcase
from pathlib import Path
from typing import Any

from featurepub.errors import ConfigError
from featurepub.localfiles import UnreadableFile, read_small_file
from featurepub.registry.profiles import (
    OVERRIDABLE,
    STRATEGIES,
    ErrorHint,
    Profile,
    get_profile,
    parse_size,
    problems,
    profile_for_host,
)

CONFIG_FILE = "featurepub.toml"
PYPROJECT = "pyproject.toml"
MAX_CONFIG_BYTES = 1024 * 1024

_SIZES = ("chunk_size", "chunk_min")
_OPTIONAL_SIZES = ("chunk_max",)  # 0 = no limit
_BOOLS = ("single_post", "mount", "empty_blobs", "repository_must_exist", "immutable_tags")
_LISTS = ("strategies", "token_keys")
_TOP_KEYS = ("registries",)
# Config files written for earlier featurepub name one limit, `concurrency` (features at once): it sets both.
_LEGACY_CONCURRENCY = "concurrency"
_IN_FLIGHT = ("requests_in_flight", "uploads_in_flight")


@dataclass(frozen=True)
class RegistrySettings:
    """One `[registries."<host>"]` table: a base profile and field overrides, already typed."""

    pattern: str
    where: str  # "featurepub.toml: registries -> ghcr.io", for messages
    profile: str | None = None
    overrides: Mapping[str, Any] = field(default_factory=dict)

    def matches(self, registry: str) -> bool:
        host = registry.lower()
        return host == self.pattern or fnmatchcase(host, self.pattern)


@dataclass(frozen=True)
class Config:
    path: Path | None = None
    registries: tuple[RegistrySettings, ...] = ()

    def settings_for(self, registry: str) -> RegistrySettings | None:
        """The table for `registry`: an exact host first, else the first pattern that matches."""
        host = registry.lower()
        exact = next((s for s in self.registries if s.pattern == host), None)
        return exact or next((s for s in self.registries if s.matches(host)), None)


def _read(path: Path) -> bytes:
    # A FIFO or a device named as the config would block or never end: refused before it is opened.
    try:
        return read_small_file(path, MAX_CONFIG_BYTES)
    except FileNotFoundError:
        raise ConfigError(f"{path}: the config file does not exist") from None
    except UnreadableFile as exc:
        raise ConfigError(f"{path}: the config file {exc.reason}") from None


def _toml(path: Path) -> dict[str, Any]:
    module: Any = importlib.import_module("tomllib" if sys.version_info >= (3, 11) else "tomli")
    try:
        text = _read(path).decode("utf-8")
    except UnicodeDecodeError:
        raise ConfigError(f"{path}: not UTF-8 text") from None
    try:
        data: dict[str, Any] = module.loads(text)
    except module.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: invalid TOML: {exc}") from None
    return data


def _mentions_featurepub(path: Path) -> bool:
    """Whether a pyproject.toml can hold a featurepub table; most never name it, and are not parsed."""
    try:
        return b"featurepub" in read_small_file(path, MAX_CONFIG_BYTES)
    except (OSError, UnreadableFile):
        return True  # parsing it reports the problem


def find_config(directory: Path) -> Path | None:
    """featurepub.toml in `directory`, else its pyproject.toml when that has `[tool.featurepub]`."""
    candidate = directory / CONFIG_FILE
    if os.path.lexists(candidate):  # whatever it is: reading it says what is wrong with it
        return candidate
    pyproject = directory / PYPROJECT
    if os.path.lexists(pyproject) and _mentions_featurepub(pyproject):
        tool = _toml(pyproject).get("tool")
        if isinstance(tool, dict) and "featurepub" in tool:
            return pyproject
    return None


def load_config(path: str | Path) -> Config:
    """Read and check a featurepub.toml, or the `[tool.featurepub]` table of a pyproject.toml."""
    path = Path(path)
    data = _toml(path)
    keys: list[str] = []
    if path.name == PYPROJECT:
        tool = data.get("tool")
        section = tool.get("featurepub") if isinstance(tool, dict) else None
        data = section if isinstance(section, dict) else {}
        keys = ["tool", "featurepub"]
    return parse_config(data, path=path, keys=keys)


def parse_config(data: Mapping[str, Any], *, path: Path | None = None, keys: list[str] | None = None) -> Config:
    prefix = list(keys or [])

    def where(*more: str) -> str:
        trail = " -> ".join([*prefix, *more])
        return f"{path.name if path else 'config'}: {trail}" if trail else str(path or "config")

    for key in data:
        if key not in _TOP_KEYS:
            raise ConfigError(f"{where(key)}: unknown key", hint=f"known keys here: {', '.join(_TOP_KEYS)}")
    registries = data.get("registries", {})
    if not isinstance(registries, dict):
        raise ConfigError(f"{where('registries')}: expected a table of registry hosts")
    found = []
    for pattern, table in registries.items():
        if not isinstance(table, dict):
            raise ConfigError(f"{where('registries', pattern)}: expected a table")
        found.append(_registry(pattern.lower(), table, lambda *k, p=pattern: where("registries", p, *k)))
    return Config(path, tuple(found))


def _registry(pattern: str, table: Mapping[str, Any], where: Callable[..., str]) -> RegistrySettings:
    profile: str | None = None
    overrides: dict[str, Any] = {}
    for key, value in table.items():
        if key == "profile":
            if not isinstance(value, str):
                raise ConfigError(f"{where(key)}: expected a profile name")
            try:
                profile = get_profile(value).name
            except ConfigError as exc:
                raise ConfigError(f"{where(key)}: {exc.message}", hint=exc.hint) from None
        elif key in OVERRIDABLE:
            overrides[key] = _value(key, value, where(key))
        elif key == _LEGACY_CONCURRENCY:
            limit = _value("requests_in_flight", value, where(key))
            for name in _IN_FLIGHT:
                overrides.setdefault(name, limit)
        else:
            raise ConfigError(
                f"{where(key)}: unknown key", hint=f"known keys: profile, {', '.join(sorted(OVERRIDABLE))}"
            )
    return RegistrySettings(pattern, where(), profile, overrides)


def _value(key: str, value: Any, where: str) -> Any:
    """One field's TOML value as the Profile field's type; ConfigError naming `where` otherwise."""
    if key in _SIZES or key in _OPTIONAL_SIZES:
        size = _size(value, where)
        return None if key in _OPTIONAL_SIZES and size == 0 else size
    if key in _BOOLS:
        if not isinstance(value, bool):
            raise ConfigError(f"{where}: expected true or false, got {value!r}")
        return value
    if key in _LISTS:
        if isinstance(value, str):
            value = [value]
        if not isinstance(value, list) or not all(isinstance(v, str) and v for v in value):
            raise ConfigError(f"{where}: expected a list of names, got {value!r}")
        if key == "strategies":
            for item in value:
                if item not in STRATEGIES:
                    raise ConfigError(
                        f"{where}: unknown strategy {item!r}", hint=f"one of: {', '.join(STRATEGIES)}"
                    )
        return tuple(value)
    if key == "upload":
        if value not in STRATEGIES:
            raise ConfigError(f"{where}: unknown strategy {value!r}", hint=f"one of: {', '.join(STRATEGIES)}")
        return value
    if key == "max_depth" or key in _IN_FLIGHT:
        if isinstance(value, bool) or not isinstance(value, int) or value < 0:
            raise ConfigError(f"{where}: expected a whole number, got {value!r}")
        if key == "max_depth":
            return value or None  # 0 = no limit
        return value
    if key == "notes":
        if not isinstance(value, str):
            raise ConfigError(f"{where}: expected text")
        return value
    if key == "hints":
        if not isinstance(value, dict) or not all(isinstance(v, str) for v in value.values()):
            raise ConfigError(f"{where}: expected a table of error code (or HTTP status) = hint text")
        return tuple(_hint(match, text) for match, text in value.items())
    raise ConfigError(f"{where}: unknown key")  # pragma: no cover - OVERRIDABLE is covered above


def _hint(match: str, text: str) -> ErrorHint:
    if match.isdecimal():
        return ErrorHint(text, statuses=frozenset({int(match)}))
    return ErrorHint(text, codes=frozenset({match.upper()}))


def _size(value: Any, where: str) -> int:
    if isinstance(value, bool):
        raise ConfigError(f"{where}: expected a size such as 5MiB, got {value!r}")
    if isinstance(value, int):
        if value < 0:
            raise ConfigError(f"{where}: a size cannot be negative")
        return value
    if isinstance(value, str):
        try:
            return parse_size(value)
        except ValueError as exc:
            raise ConfigError(f"{where}: {exc}") from None
    raise ConfigError(f"{where}: expected a size such as 5MiB, got {value!r}")


def select_profile(registry: str, *, name: str | None = None, config: Config | None = None) -> Profile:
    """The profile for `registry`: `name` (--profile), else the config's `profile` for the host,
    else the one whose host patterns match; then the config's overrides for the host, checked."""
    settings = config.settings_for(registry) if config else None
    if name is not None:
        base = get_profile(name)
    elif settings is not None and settings.profile is not None:
        base = get_profile(settings.profile)
    else:
        base = profile_for_host(registry)
    if settings is None:
        return base
    overrides = dict(settings.overrides)
    if "hints" in overrides:  # hints from the config come first, the profile's own stay
        overrides["hints"] = (*overrides["hints"], *base.hints)
    profile = base.with_changes(**overrides)
    found = problems(profile)
    if found:
        key, message = found[0]
        raise ConfigError(
            f"{settings.where} -> {key}: {message}",
            hint=f"profile {base.name} for {registry}; change the setting in {settings.where.split(':')[0]}",
        )
    return profile
