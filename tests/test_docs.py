"""Every command has help text and is documented in the README."""

from __future__ import annotations

import click
import pytest
from click.testing import CliRunner
from conftest import REPO

from innerchild_audio.cli import main


def _commands(group: click.Group, prefix: str = "") -> list[tuple[str, click.Command]]:
    found = []
    for name, command in sorted(group.commands.items()):
        full = f"{prefix}{name}"
        found.append((full, command))
        if isinstance(command, click.Group):
            found += _commands(command, full + " ")
    return found


COMMANDS = _commands(main)


def test_there_are_commands():
    assert {"check", "plan", "schema"} <= {name for name, _ in COMMANDS}


@pytest.mark.parametrize(("name", "command"), COMMANDS, ids=[n for n, _ in COMMANDS])
def test_command_has_help_and_is_in_the_readme(name, command):
    assert (command.help or "").strip(), f"{name} has no help text"
    result = CliRunner().invoke(main, [*name.split(), "--help"])
    assert result.exit_code == 0 and "Usage:" in result.output
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    assert f"innerchild {name}" in readme, f"`innerchild {name}` is not in the README"
