"""The `innerchild` click group and the shared glue: error translation, shared options."""

from __future__ import annotations

import functools
import logging
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any, Final, TypeVar

import click

from innerchild_audio import __version__
from innerchild_audio.entry import stopped_message
from innerchild_audio.errors import ExitStatus, InnerChildError, UsageError
from innerchild_audio.model import ENGINES
from innerchild_audio.options import RenderOptions
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
        except KeyboardInterrupt as error:
            message, status = stopped_message(error)
            click.echo(message, err=True)
            sys.exit(status)
        except OSError as error:  # the disk, a folder, a path the user gave: not a bug
            where = f"{error.filename}: " if error.filename else ""
            click.echo(f"error: {where}{error.strerror or error}; check that the disk has room "
                       "and the folder is writable", err=True)
            sys.exit(int(ExitStatus.FAILURE))

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


def output_folder(ctx: click.Context, param: click.Parameter, value: str | None) -> Path | None:
    """`-o DIR` as a Path; an empty name or "-" is refused (not silently the current folder)."""
    if value is None:
        return None
    if value.strip() in ("", "-"):
        raise click.BadParameter(f"{value!r} is not a folder; name the folder to write into")
    return Path(value)


var_option = click.option(
    "--var", "vars_", multiple=True, metavar="NAME=VALUE",
    help="Set a script variable, e.g. --var name=Sam (repeatable).",
)
assets_dir_option = click.option(
    "--assets-dir", "asset_dirs", multiple=True, metavar="DIR",
    type=click.Path(file_okay=False, exists=True, path_type=Path),
    help="A folder outside the library that sound and cover files may come from "
         "(repeatable).",
)
length_option = click.option(
    "--length", metavar="DURATION", help="Target length, e.g. 10m; overrides the script's."
)

def session_options(func: F) -> F:
    """What a render takes besides where it goes: shared by render, build, batch, preview
    and watch."""
    decorators = [
        click.option("--engine", type=click.Choice(ENGINES),
                     help="Voice engine for every sentence (default: each voice's own, auto)."),
        length_option,
        var_option,
        assets_dir_option,
        click.option("--background", metavar="SOUND|none",
                     help="Replace the bed: brown-noise, pink-noise, white-noise, drone, a "
                          "sound file, or none."),
        click.option("--stereo", is_flag=True, help="Stereo MP3 (default mono)."),
        click.option("--bitrate", type=int, metavar="KBPS",
                     help="MP3 CBR bitrate (default 96 mono, 128 stereo)."),
        click.option("--jobs", type=click.IntRange(min=1),
                     help="Parallel work: speech for render, worker processes for build "
                          "and batch (default: the CPU cores)."),
        click.option("--cache-dir", type=click.Path(file_okay=False, path_type=Path),
                     envvar="INNERCHILD_CACHE_DIR",
                     help="Speech cache folder (default: $INNERCHILD_CACHE_DIR, else the "
                          "user cache folder)."),
        click.option("--warnings/--no-warnings", default=True, show_default=True,
                     help="Speak the content warning at the start."),
    ]
    for decorator in reversed(decorators):
        func = decorator(func)
    return func


def render_options_from(engine: str | None, length: str | None, vars_: tuple[str, ...],
                        asset_dirs: tuple[Path, ...], background: str | None, stereo: bool,
                        bitrate: int | None, warnings: bool) -> RenderOptions:
    """`session_options`' values as the library's RenderOptions."""
    return RenderOptions(engine=engine, length_ms=parse_length(length), vars=parse_vars(vars_),
                         background=background, stereo=stereo, bitrate_kbps=bitrate,
                         warnings=warnings, asset_dirs=asset_dirs)


__all__ = ["main", "translate_errors", "parse_vars", "parse_length", "var_option",
           "assets_dir_option", "length_option", "ExitStatus", "output_folder",
           "render_options_from", "session_options"]
