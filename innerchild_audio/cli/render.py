"""`innerchild render` and `innerchild build`: scripts to finished sessions."""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import click

from innerchild_audio.build import Failed, Outcome, build_library
from innerchild_audio.cli.app import (
    length_option,
    main,
    parse_length,
    parse_vars,
    translate_errors,
    var_option,
)
from innerchild_audio.cli.progress import TerminalProgress
from innerchild_audio.errors import UsageError
from innerchild_audio.library import find_scripts
from innerchild_audio.model import ENGINES
from innerchild_audio.options import DEFAULT_LIBRARY, DEFAULT_OUT_DIR, RenderOptions, RunSettings
from innerchild_audio.render import RenderResult, render_script

F = TypeVar("F", bound=Callable[..., Any])


def _render_options(func: F) -> F:
    """The options `render` and `build` share."""
    decorators = [
        click.option("-o", "--output", "--out-dir", "out_dir",
                     type=click.Path(file_okay=False, path_type=Path),
                     default=DEFAULT_OUT_DIR, show_default=True, help="Where sessions land."),
        click.option("--engine", type=click.Choice(ENGINES),
                     help="Voice engine for every sentence (default: each voice's own, auto)."),
        length_option,
        var_option,
        click.option("--background", metavar="SOUND|none",
                     help="Replace the bed: brown-noise, pink-noise, white-noise, drone, a "
                          "sound file, or none."),
        click.option("--stereo", is_flag=True, help="Stereo MP3 (default mono)."),
        click.option("--bitrate", type=int, metavar="KBPS",
                     help="MP3 CBR bitrate (default 96 mono, 128 stereo)."),
        click.option("--jobs", type=click.IntRange(min=1),
                     help="Parallel speech synthesis (default: the CPU cores)."),
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



def _options_and_settings(engine: str | None, length: str | None, vars_: tuple[str, ...],
                          background: str | None, stereo: bool, bitrate: int | None,
                          warnings: bool, out_dir: Path, jobs: int | None,
                          cache_dir: Path | None) -> tuple[RenderOptions, RunSettings]:
    options = RenderOptions(engine=engine, length_ms=parse_length(length),
                            vars=parse_vars(vars_), background=background, stereo=stereo,
                            bitrate_kbps=bitrate, warnings=warnings)
    settings = RunSettings(out_dir=out_dir, jobs=jobs, cache_dir=cache_dir,
                           progress=TerminalProgress())
    return options, settings


@main.command()
@click.argument("files", nargs=-1, required=True, type=click.Path(path_type=Path))
@_render_options
@translate_errors
def render(files: tuple[Path, ...], out_dir: Path, engine: str | None, length: str | None,
           vars_: tuple[str, ...], background: str | None, stereo: bool, bitrate: int | None,
           jobs: int | None, cache_dir: Path | None, warnings: bool) -> None:
    """Render scripts to MP3 sessions with tags, chapters, transcripts and a manifest.

    Prints one line per session: the MP3's path, its duration and its loudness.

    \b
    Examples:
      innerchild render meditations/a-safe-place.yaml
      innerchild render meditations/a-safe-place.yaml --engine piper --length 20m --var name=Sam
      innerchild render meditations/ -o output/stereo --stereo --background none
    """
    scripts = [script for path in files for script in find_scripts(path)]
    if not scripts:
        raise UsageError(f"no scripts in {', '.join(str(f) for f in files)}")
    options, settings = _options_and_settings(engine, length, vars_, background, stereo,
                                              bitrate, warnings, out_dir, jobs, cache_dir)
    for script in scripts:
        click.echo(render_script(script, options, settings).summary())


@main.command()
@click.argument("folder", required=False, default=DEFAULT_LIBRARY,
                type=click.Path(file_okay=False, path_type=Path))
@_render_options
@click.option("--force", is_flag=True, help="Render every script, changed or not.")
@translate_errors
def build(folder: Path, out_dir: Path, engine: str | None, length: str | None,
          vars_: tuple[str, ...], background: str | None, stereo: bool, bitrate: int | None,
          jobs: int | None, cache_dir: Path | None, warnings: bool, force: bool) -> None:
    """Render every script of the library, skipping sessions whose inputs are unchanged.

    Inputs are the script, its parts and assets, the options, the engine and the
    voice. A script that fails is reported and the others still render.

    \b
    Examples:
      innerchild build
      innerchild build meditations --engine piper --force
    """

    def report(outcome: Outcome) -> None:
        click.echo(outcome.summary(), err=isinstance(outcome, Failed))

    options, settings = _options_and_settings(engine, length, vars_, background, stereo,
                                              bitrate, warnings, out_dir, jobs, cache_dir)
    result = build_library(folder, options, settings, force=force, on_outcome=report)
    total = result.total
    if total == 0:
        raise UsageError(f"no scripts in {folder}")
    if not result.rendered and not result.failed:
        click.echo(f"nothing to render: all {total} sessions are up to date in {out_dir}")
    else:
        click.echo(f"rendered {len(result.rendered)}, unchanged {len(result.unchanged)}, "
                   f"failed {len(result.failed)}")
    if result.failed:
        sys.exit(result.exit_status)


__all__ = ["render", "build", "RenderResult"]
