"""`featurepub profiles`: the registry profiles, what each one sets, and what a host gets."""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from featurepub.cli.common import fail

PROFILES_EXIT_CODES_HELP = "Exit codes: 0 shown; 2 invalid input: no such profile, an invalid host or config file."

if TYPE_CHECKING:
    from featurepub.registry.profiles import Profile


def _chunks(profile: Profile) -> str:
    from featurepub.registry.profiles import CHUNKED, format_size

    if not profile.allows(CHUNKED):
        return "-"
    limits = [f"min {format_size(profile.chunk_min)}"] if profile.chunk_min else []
    if profile.chunk_max is not None:
        limits.append(f"max {format_size(profile.chunk_max)}")
    return format_size(profile.chunk_size) + (f" ({', '.join(limits)})" if limits else "")


def _yes(value: bool) -> str:
    return "yes" if value else "no"


def _table(profiles: list[Profile]) -> list[str]:
    rows = [("PROFILE", "UPLOAD", "CHUNK SIZE", "1-POST", "MOUNT", "0-BYTE", "REPO FIRST", "HOSTS")]
    for p in profiles:
        rows.append(
            (
                p.name,
                p.upload,
                _chunks(p),
                _yes(p.single_post),
                _yes(p.mount),
                _yes(p.empty_blobs),
                _yes(p.repository_must_exist),
                ", ".join(p.hosts[:2]) + (", ..." if len(p.hosts) > 2 else "") if p.hosts else "-",
            )
        )
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]) - 1)]
    return [
        "  ".join([*(cell.ljust(w) for cell, w in zip(row, widths, strict=False)), row[-1]]).rstrip()
        for row in rows
    ]


def _details(profile: Profile, host: str | None) -> list[str]:
    from featurepub.registry.profiles import format_size

    lines = [f"{profile.name}: {profile.title}" + (f" (for {host})" if host else "")]
    settings = [
        ("hosts", ", ".join(profile.hosts) or "-"),
        ("upload", profile.upload),
        ("strategies", ", ".join(profile.strategies)),
        ("chunk_size", format_size(profile.chunk_size)),
        ("chunk_min", format_size(profile.chunk_min)),
        ("chunk_max", format_size(profile.chunk_max) if profile.chunk_max is not None else "no limit"),
        ("single_post", _yes(profile.single_post)),
        ("mount", _yes(profile.mount)),
        ("empty_blobs", _yes(profile.empty_blobs)),
        ("token_keys", ", ".join(profile.token_keys)),
        ("repository_must_exist", _yes(profile.repository_must_exist)),
        ("immutable_tags", _yes(profile.immutable_tags)),
        ("max_depth", str(profile.max_depth) if profile.max_depth is not None else "no limit"),
        ("requests_in_flight", str(profile.requests_in_flight)),
        ("uploads_in_flight", str(profile.uploads_in_flight)),
    ]
    if profile.notes:
        settings.append(("notes", profile.notes))
    width = max(len(key) for key, _ in settings)
    lines += [f"  {key.ljust(width)}  {value}" for key, value in settings]
    for hint in profile.hints:
        lines.append(f"  when {hint.describe()}: {hint.hint}")
    return lines


def profiles(
    name: Annotated[
        str | None, typer.Argument(metavar="NAME", help="Show one profile in full, with its error hints.")
    ] = None,
    host: Annotated[
        str | None,
        typer.Option(
            metavar="HOST", help="Show the profile this registry host gets, with the config file's overrides."
        ),
    ] = None,
    config: Annotated[
        Path | None,
        typer.Option(
            metavar="FILE",
            help="Config file; default: ./featurepub.toml, else [tool.featurepub] in ./pyproject.toml.",
        ),
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON instead of text.")] = False,
) -> None:
    """List the registry profiles: how each registry takes uploads and what it refuses.

    A profile is chosen by the registry's host; `publish --profile NAME` picks another, and a
    `[registries."<host>"]` table in featurepub.toml changes any field for one host.
    """
    from featurepub.config import find_config, load_config, select_profile
    from featurepub.errors import FeaturepubError
    from featurepub.reference import parse_registry
    from featurepub.registry.profiles import PROFILES, get_profile

    try:
        if host is not None:
            registry = parse_registry(host)
            path = config if config is not None else find_config(Path.cwd())
            chosen = [select_profile(registry, name=name, config=load_config(path) if path else None)]
        elif name is not None:
            chosen = [get_profile(name)]
        else:
            chosen = list(PROFILES.values())
    except FeaturepubError as exc:
        fail(exc)
    if as_json:
        data = [p.to_json() for p in chosen]
        print(json.dumps(data[0] if (name or host) else data, indent=2))
        return
    if name is None and host is None:
        print("\n".join(_table(chosen)))
        return
    print("\n".join(_details(chosen[0], registry if host is not None else None)))


def register(app: typer.Typer) -> None:
    app.command(epilog=PROFILES_EXIT_CODES_HELP)(profiles)
