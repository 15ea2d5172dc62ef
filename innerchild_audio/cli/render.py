"""`innerchild render` and `innerchild build`: scripts to finished sessions."""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import click

from innerchild_audio.build import Failed, Outcome, build_library
from innerchild_audio.cli.app import (
    main,
    output_folder,
    render_options_from,
    session_options,
    translate_errors,
)
from innerchild_audio.cli.progress import TerminalProgress
from innerchild_audio.errors import UsageError
from innerchild_audio.library import find_scripts
from innerchild_audio.options import DEFAULT_LIBRARY, DEFAULT_OUT_DIR, RenderOptions, RunSettings
from innerchild_audio.render import RenderResult, render_script
from innerchild_audio.scale.executor import SCHEDULER_ENV, scheduler_address

F = TypeVar("F", bound=Callable[..., Any])


def _render_options(func: F) -> F:
    """The options `render`, `build` and `batch` share: where sessions land, and the rest."""
    func = session_options(func)
    return click.option("-o", "--output", "--out-dir", "out_dir",
                        type=click.Path(file_okay=False), callback=output_folder,
                        default=str(DEFAULT_OUT_DIR), show_default=True,
                        help="Where sessions land.")(func)


scheduler_option = click.option(
    "--scheduler", metavar="tcp://HOST:8786", envvar=SCHEDULER_ENV,
    help="Render on this Dask cluster (default: $INNERCHILD_SCHEDULER, else worker "
         "processes here, --jobs of them).")



def _options_and_settings(engine: str | None, length: str | None, vars_: tuple[str, ...],
                          background: str | None, stereo: bool, bitrate: int | None,
                          warnings: bool, out_dir: Path, jobs: int | None,
                          cache_dir: Path | None, asset_dirs: tuple[Path, ...] = (),
                          scheduler: str | None = None,
                          ) -> tuple[RenderOptions, RunSettings]:
    options = render_options_from(engine, length, vars_, asset_dirs, background, stereo,
                                  bitrate, warnings)
    settings = RunSettings(out_dir=out_dir, jobs=jobs, cache_dir=cache_dir,
                           scheduler=scheduler_address(scheduler), progress=TerminalProgress())
    return options, settings


@main.command()
@click.argument("files", nargs=-1, required=True, type=click.Path(path_type=Path))
@_render_options
@click.option("--picture", is_flag=True,
              help="Also draw each session's timeline and level into OUT_DIR/SLUG.png.")
@translate_errors
def render(files: tuple[Path, ...], out_dir: Path, engine: str | None, length: str | None,
           vars_: tuple[str, ...], asset_dirs: tuple[Path, ...], background: str | None,
           stereo: bool, bitrate: int | None, jobs: int | None, cache_dir: Path | None,
           warnings: bool, picture: bool) -> None:
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
                                              bitrate, warnings, out_dir, jobs, cache_dir,
                                              asset_dirs)
    for script in scripts:
        result = render_script(script, options, settings)
        click.echo(result.summary())
        if picture:
            from innerchild_audio.picture import picture_of_render

            click.echo(picture_of_render(result, out_dir / f"{result.slug}.png").summary())


@main.command()
@click.argument("folder", required=False, default=DEFAULT_LIBRARY,
                type=click.Path(file_okay=False, path_type=Path))
@_render_options
@click.option("--force", is_flag=True, help="Render every script, changed or not.")
@scheduler_option
@translate_errors
def build(folder: Path, out_dir: Path, engine: str | None, length: str | None,
          vars_: tuple[str, ...], asset_dirs: tuple[Path, ...], background: str | None,
          stereo: bool, bitrate: int | None, jobs: int | None, cache_dir: Path | None,
          warnings: bool, force: bool, scheduler: str | None) -> None:
    """Render every script of the library, skipping sessions whose inputs are unchanged.

    Inputs are the script, its parts and assets, the options, the engine and the
    voice. A script that fails is reported and the others still render. The
    sessions' shared sentences are synthesized once, and sessions render side by
    side on --jobs worker processes, or on a Dask cluster (--scheduler).

    \b
    Examples:
      innerchild build
      innerchild build meditations --engine piper --force
      innerchild build --scheduler tcp://10.0.0.5:8786
    """

    def report(outcome: Outcome) -> None:
        click.echo(outcome.summary(), err=isinstance(outcome, Failed))

    options, settings = _options_and_settings(engine, length, vars_, background, stereo,
                                              bitrate, warnings, out_dir, jobs, cache_dir,
                                              asset_dirs, scheduler)
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
