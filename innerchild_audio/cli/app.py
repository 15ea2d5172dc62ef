"""The `innerchild` click group and the shared glue: error translation, shared options."""

from __future__ import annotations

import functools
import logging
import sys
from collections.abc import Callable
from typing import Any, Final, TypeVar

import click

from innerchild_audio import __version__
from innerchild_audio.errors import ExitStatus, InnerChildError, UsageError
from innerchild_audio.units import parse_duration_ms

F = TypeVar("F", bound=Callable[..., Any])


HELP_WIDTH: Final = 100


class Commands(click.Group):
    """A group whose command list shows each command's whole first sentence."""

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        rows = []
        for name in self.list_commands(ctx):
            command = self.get_command(ctx, name)
            if command is not None and not command.hidden:
                rows.append((name, command.get_short_help_str(limit=HELP_WIDTH * 2)))
        if rows:
            with formatter.section("Commands"):
                formatter.write_dl(rows)


EXIT_CODES: Final = """\b
Exit codes: 0 ok, 1 a failure while rendering or publishing, 2 invalid input
or usage (with a message naming the file, line and column), 130 interrupted."""


@click.group(cls=Commands, epilog=EXIT_CODES,
             context_settings={"help_option_names": ["-h", "--help"],
                               "max_content_width": HELP_WIDTH})
@click.version_option(__version__, prog_name="innerchild")
@click.option("-v", "--verbose", count=True, help="More log output (-vv for debug).")
def main(verbose: int) -> None:
    """Turn YAML meditation scripts into finished MP3 sessions and a podcast feed.

    \b
    Examples:
      innerchild check meditations/
      innerchild render meditations/meeting-your-child-self.yaml --engine piper
      innerchild build && innerchild publish --base-url https://example.org/calm
    """
    level = logging.WARNING - 10 * min(verbose, 2)
    detail = "%(levelname)s %(name)s: " if verbose else ""
    logging.basicConfig(level=level, format=detail + "%(message)s")


def translate_errors(func: F) -> F:
    """Turn library errors into a message on stderr and a documented exit code."""

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return func(*args, **kwargs)
        except InnerChildError as error:
            message = error.cli_message()
            click.echo(f"error: {message}" if "\n" not in message else message, err=True)
            sys.exit(int(error.exit_status))
        except KeyboardInterrupt:
            click.echo("interrupted; nothing half-written was left behind", err=True)
            sys.exit(130)

    return wrapper  # type: ignore[return-value]


def parse_vars(values: tuple[str, ...]) -> dict[str, str]:
    """`--var NAME=VALUE` pairs as a mapping; a malformed pair is a usage error."""
    result: dict[str, str] = {}
    for item in values:
        name, sep, value = item.partition("=")
        if not sep or not name.strip():
            raise click.BadParameter(f"expected NAME=VALUE, got {item!r}", param_hint="--var")
        result[name.strip()] = value
    return result


def parse_length(value: str | None) -> int | None:
    """`--length 10m` in milliseconds; a malformed one is a usage error."""
    if value is None:
        return None
    try:
        return parse_duration_ms(value)
    except ValueError as error:
        raise UsageError(f"--length: {error}") from None


var_option = click.option(
    "--var", "vars_", multiple=True, metavar="NAME=VALUE",
    help="Set a script variable, e.g. --var name=Sam (repeatable).",
)
length_option = click.option(
    "--length", metavar="DURATION", help="Target length, e.g. 10m; overrides the script's."
)

__all__ = ["main", "translate_errors", "parse_vars", "parse_length", "var_option",
           "length_option", "ExitStatus"]
