"""`innerchild` commands on scripts: check, plan, schema."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import click

from innerchild_audio.cli.app import (
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
@translate_errors
def check(paths: tuple[Path, ...], vars_: tuple[str, ...]) -> None:
    """Validate scripts (files or folders); exit 2 if any is invalid.

    Every problem is reported with FILE:LINE:COL and what to do about it.

    \b
    Examples:
      innerchild check meditations/
      innerchild check meditations/a-safe-place.yaml --var name=Sam
    """
    results = check_paths(paths, vars=parse_vars(vars_))
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
@click.option("--warnings/--no-warnings", default=True, show_default=True,
              help="Speak the content warning at the start.")
@click.option("--json", "as_json", is_flag=True, help="Print the plan as JSON.")
@translate_errors
def plan(file: Path, length: str | None, vars_: tuple[str, ...], warnings: bool,
         as_json: bool) -> None:
    """Lay out a session without synthesizing speech: steps, chapters, total.

    Speech durations are estimated; the reachable length range is shown.

    \b
    Examples:
      innerchild plan meditations/a-safe-place.yaml --length 10m
      innerchild plan meditations/a-safe-place.yaml --json > plan.json
    """
    script = load_script(file, vars=parse_vars(vars_))
    timeline = plan_script(script, target_ms=parse_length(length), warnings=warnings)
    if as_json:
        click.echo(json.dumps(plan_json(script.title, file, timeline), indent=2))
    else:
        click.echo(format_plan(script.title, file, timeline))


@main.command()
def schema() -> None:
    """Print the JSON Schema of the script format (for editors).

    \b
    Example:
      innerchild schema > innerchild.schema.json
    """
    click.echo(schema_text())
