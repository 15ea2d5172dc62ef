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


@pytest.mark.parametrize(("name", "command"), COMMANDS, ids=[n for n, _ in COMMANDS])
def test_command_help_shows_an_example(name, command):
    if isinstance(command, click.Group):
        return  # a group's subcommands carry the examples
    result = CliRunner().invoke(main, [*name.split(), "--help"])
    assert "Example" in result.output, f"`innerchild {name} --help` shows no example"
    assert f"innerchild {name}" in result.output.split("Example", 1)[1]


def test_the_command_list_shows_whole_summaries_and_the_exit_codes():
    result = CliRunner().invoke(main, ["--help"], terminal_width=100)
    assert "..." not in result.output.split("Commands:", 1)[1]
    assert "Exit codes: 0 ok, 1" in result.output and "2 invalid input" in result.output


def test_the_cli_reference_page_is_up_to_date():
    from innerchild_audio.cli.reference import cli_reference

    page = REPO / "docs" / "cli.md"
    assert page.is_file(), "docs/cli.md is missing: run python scripts/cli_reference.py"
    assert page.read_text(encoding="utf-8") == cli_reference(), (
        "docs/cli.md is out of date: run python scripts/cli_reference.py")
