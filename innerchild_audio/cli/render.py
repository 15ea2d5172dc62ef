"""`innerchild render` and `innerchild build`: scripts to finished sessions."""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import click

from innerchild_audio.cli.app import (
    assets_dir_option,
    length_option,
    main,
    parse_length,
    parse_vars,
    translate_errors,
    var_option,
)
from innerchild_audio.errors import UsageError
from innerchild_audio.library import find_scripts
from innerchild_audio.model import ENGINES
from innerchild_audio.render import (
    DEFAULT_LIBRARY,
    DEFAULT_OUT_DIR,
    Failed,
    Outcome,
    RenderResult,
    build_library,
    render_script,
)

F = TypeVar("F", bound=Callable[..., Any])


def _render_options(func: F) -> F:
    """The options `render` and `build` share."""
    decorators = [
        click.option("-o", "--out-dir", type=click.Path(file_okay=False, path_type=Path),
                     default=DEFAULT_OUT_DIR, show_default=True, help="Where sessions land."),
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



def _progress() -> bool:
    return sys.stderr.isatty()


@main.command()
@click.argument("files", nargs=-1, required=True, type=click.Path(path_type=Path))
@_render_options
@translate_errors
def render(files: tuple[Path, ...], out_dir: Path, engine: str | None, length: str | None,
           vars_: tuple[str, ...], asset_dirs: tuple[Path, ...], background: str | None,
           stereo: bool, bitrate: int | None, jobs: int | None, cache_dir: Path | None,
           warnings: bool) -> None:
    """Render scripts to MP3 sessions with tags, chapters, transcripts and a manifest.

    Prints one line per session: the MP3's path, its duration and its loudness.
    """
    scripts = [script for path in files for script in find_scripts(path)]
    if not scripts:
        raise UsageError(f"no scripts in {', '.join(str(f) for f in files)}")
    variables, length_ms = parse_vars(vars_), parse_length(length)
    for script in scripts:
        result = render_script(script, out_dir=out_dir, engine=engine, length_ms=length_ms,
                               vars=variables, background=background, stereo=stereo,
                               bitrate_kbps=bitrate, jobs=jobs, cache_dir=cache_dir,
                               warnings=warnings, progress=_progress(),
                               asset_dirs=asset_dirs)
        click.echo(result.summary())


@main.command()
@click.argument("folder", required=False, default=DEFAULT_LIBRARY,
                type=click.Path(file_okay=False, path_type=Path))
@_render_options
@click.option("--force", is_flag=True, help="Render every script, changed or not.")
@translate_errors
def build(folder: Path, out_dir: Path, engine: str | None, length: str | None,
          vars_: tuple[str, ...], asset_dirs: tuple[Path, ...], background: str | None,
          stereo: bool, bitrate: int | None, jobs: int | None, cache_dir: Path | None,
          warnings: bool, force: bool) -> None:
    """Render every script of the library, skipping sessions whose inputs are unchanged.

    Inputs are the script, its parts and assets, the options, the engine and the
    voice. A script that fails is reported and the others still render.
    """

    def report(outcome: Outcome) -> None:
        click.echo(outcome.summary(), err=isinstance(outcome, Failed))

    result = build_library(folder, out_dir=out_dir, engine=engine, length_ms=parse_length(length),
                           vars=parse_vars(vars_), background=background, stereo=stereo,
                           bitrate_kbps=bitrate, jobs=jobs, cache_dir=cache_dir,
                           warnings=warnings, progress=_progress(), force=force,
                           on_outcome=report, asset_dirs=asset_dirs)
    total = len(result.rendered) + len(result.unchanged) + len(result.failed)
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
