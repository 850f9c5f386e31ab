"""The command -> module map that lets a run load only the module of the command it names."""

from __future__ import annotations

import typer.main

from featurepub.cli.app import COMMAND_MODULES, build_app


def _commands(app: typer.Typer) -> set[str]:
    group = typer.main.get_command(app)
    return set(getattr(group, "commands", {}))


def test_every_command_is_mapped_to_the_module_that_registers_it() -> None:
    assert _commands(build_app()) == set(COMMAND_MODULES)
    for command, module in COMMAND_MODULES.items():
        registered = _commands(build_app(command))
        assert command in registered, (command, module)
        siblings = {name for name, owner in COMMAND_MODULES.items() if owner == module}
        assert registered == siblings, command


def test_an_unknown_or_missing_command_gets_the_whole_app() -> None:
    assert _commands(build_app("no-such-command")) == set(COMMAND_MODULES)
    assert _commands(build_app("--help")) == set(COMMAND_MODULES)
