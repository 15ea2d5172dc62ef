"""The CLI reference page (docs/cli.md), made from the commands' own --help texts."""

from __future__ import annotations

import click

from innerchild_audio.cli.app import HELP_WIDTH, main


def _walk(group: click.Group, prefix: list[str]) -> list[tuple[list[str], click.Command]]:
    found: list[tuple[list[str], click.Command]] = []
    ctx = click.Context(group, info_name=" ".join(prefix), **group.context_settings)
    for name in group.list_commands(ctx):
        command = group.get_command(ctx, name)
        if command is None or command.hidden:
            continue
        found.append(([*prefix, name], command))
        if isinstance(command, click.Group):
            found += _walk(command, [*prefix, name])
    return found


def cli_reference() -> str:
    """Markdown: every command's --help, in the order `innerchild --help` lists them."""
    settings = {**main.context_settings, "terminal_width": HELP_WIDTH,
                "max_content_width": HELP_WIDTH}
    root = click.Context(main, info_name="innerchild", **settings)
    parts = ["# innerchild command reference", "",
             "Made from each command's `--help` by `python scripts/cli_reference.py`; "
             "a test fails when it is out of date.", "",
             "## innerchild", "", "```text", main.get_help(root), "```", ""]
    contexts = {(): root}
    for path, command in _walk(main, []):
        parent = contexts.get(tuple(path[:-1]), root)
        ctx = click.Context(command, info_name=path[-1], parent=parent,
                            terminal_width=HELP_WIDTH, max_content_width=HELP_WIDTH)
        contexts[tuple(path)] = ctx
        parts += [f"## innerchild {' '.join(path)}", "", "```text", command.get_help(ctx),
                  "```", ""]
    return "\n".join(parts)


__all__ = ["cli_reference"]
