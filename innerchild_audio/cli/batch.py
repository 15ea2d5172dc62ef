"""`innerchild batch SCRIPT ROWS`: one script rendered for many listeners."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from innerchild_audio.cli.app import main, translate_errors
from innerchild_audio.cli.render import _options_and_settings, _render_options, scheduler_option
from innerchild_audio.scale.batch import RowOutcome, run_batch


@main.command()
@click.argument("script", type=click.Path(dir_okay=False, path_type=Path))
@click.argument("rows", type=click.Path(dir_okay=False, path_type=Path))
@_render_options
@click.option("--force", is_flag=True, help="Render every row, up to date or not.")
@scheduler_option
@click.option("--summary", "summary_stem", metavar="NAME",
              help="Summary file names in the output folder: NAME.csv and NAME.json "
                   "(default: the script's slug and -batch).")
@translate_errors
def batch(script: Path, rows: Path, out_dir: Path, engine: str | None, length: str | None,
          vars_: tuple[str, ...], asset_dirs: tuple[Path, ...], background: str | None,
          stereo: bool, bitrate: int | None, jobs: int | None, cache_dir: Path | None,
          warnings: bool, force: bool, scheduler: str | None,
          summary_stem: str | None) -> None:
    """Render SCRIPT once per row of ROWS (CSV with a header row, or JSON Lines).

    Each column sets a script variable (e.g. name), except length, voice
    (ENGINE or ENGINE:MODEL, e.g. piper:joe), background and output (the
    session's name; default the script's slug and a slug of the row). The
    options here are every row's defaults. Every row is checked before anything
    renders; a row that fails while rendering is reported and the others go on
    (exit 1); rows whose outputs are up to date are skipped. A summary with each
    row's status, files, duration and loudness is written beside the sessions.

    \b
    Examples:
      innerchild batch meditations/a-letter-to-your-younger-self.yaml class.csv -o output/class
      innerchild batch meditations/a-safe-place.yaml rows.jsonl --scheduler tcp://10.0.0.5:8786
    """
    def report(outcome: RowOutcome) -> None:
        click.echo(outcome.summary(), err=outcome.status == "failed")

    options, settings = _options_and_settings(engine, length, vars_, background, stereo,
                                              bitrate, warnings, out_dir, jobs, cache_dir,
                                              asset_dirs, scheduler)
    result = run_batch(script, rows, options, settings, force=force,
                       summary_stem=summary_stem, on_outcome=report)
    click.echo(f"rendered {result.count('rendered')}, unchanged {result.count('unchanged')}, "
               f"failed {result.count('failed')}; summary "
               f"{', '.join(str(p) for p in result.summary_paths)}")
    if result.exit_status:
        sys.exit(result.exit_status)


__all__ = ["batch"]
