"""`innerchild` commands on scripts: check, plan, schema."""

from __future__ import annotations

import json
import sys
from pathlib import Path

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
from innerchild_audio.errors import ExitStatus
from innerchild_audio.library import check_paths
from innerchild_audio.plan import plan_script
from innerchild_audio.plan_report import format_plan, plan_json
from innerchild_audio.schema import schema_text
from innerchild_audio.script import load_script
from innerchild_audio.units import format_duration


@main.command()
@click.argument("paths", nargs=-1, required=True, type=click.Path(path_type=Path))
@var_option
@assets_dir_option
@translate_errors
def check(paths: tuple[Path, ...], vars_: tuple[str, ...], asset_dirs: tuple[Path, ...]) -> None:
    """Validate scripts (files or folders); exit 2 if any is invalid.

    Every problem is reported with FILE:LINE:COL and what to do about it. Each
    sound is decoded a little and each cover's image header read.

    \b
    Examples:
      innerchild check meditations/
      innerchild check meditations/a-safe-place.yaml --var name=Sam
    """
    results = check_paths(paths, vars=parse_vars(vars_), asset_dirs=asset_dirs)
    for result in results:
        if result.ok and result.timeline is not None:
            t = result.timeline
            click.echo(f"ok  {result.path}  ({format_duration(t.min_total_ms)} to "
                       f"{format_duration(t.max_total_ms)})")
        else:
            click.echo(str(result.error), err=True)
    bad = sum(not r.ok for r in results)
    if bad:
        click.echo(f"{bad} of {len(results)} scripts invalid", err=True)
        sys.exit(ExitStatus.INVALID)


@main.command()
@click.argument("file", type=click.Path(path_type=Path, exists=True, dir_okay=False))
@length_option
@var_option
@assets_dir_option
@click.option("--warnings/--no-warnings", default=True, show_default=True,
              help="Speak the content warning at the start.")
@click.option("--json", "as_json", is_flag=True, help="Print the plan as JSON.")
@click.option("--picture", type=click.Path(dir_okay=False, path_type=Path),
              help="Also draw the planned timeline into this .png or .svg.")
@click.option("--width", type=int, default=1080, show_default=True, metavar="PX",
              help="The picture's width in pixels.")
@translate_errors
def plan(file: Path, length: str | None, vars_: tuple[str, ...], asset_dirs: tuple[Path, ...],
         warnings: bool, as_json: bool, picture: Path | None, width: int) -> None:
    """Lay out a session without synthesizing speech: steps, chapters, total.

    Speech durations are estimated; the reachable length range is shown.
    --picture draws the timeline (.png or .svg).

    \b
    Examples:
      innerchild plan meditations/a-safe-place.yaml --length 10m
      innerchild plan meditations/a-safe-place.yaml --json > plan.json
      innerchild plan meditations/a-safe-place.yaml --picture plan.png
    """
    script = load_script(file, vars=parse_vars(vars_), asset_dirs=asset_dirs)
    timeline = plan_script(script, target_ms=parse_length(length), warnings=warnings)
    if as_json:
        click.echo(json.dumps(plan_json(script.title, file, timeline), indent=2))
    else:
        click.echo(format_plan(script.title, file, timeline))
    if picture is not None:
        from innerchild_audio.picture import draw_timeline

        drawn = draw_timeline(timeline, script.title, picture, width_px=width, estimated=True)
        click.echo(drawn.summary(), err=as_json)


@main.command()
def schema() -> None:
    """Print the JSON Schema of the script format (for editors).

    \b
    Example:
      innerchild schema > innerchild.schema.json
    """
    click.echo(schema_text())
