"""`innerchild cache info` and `innerchild cache clear`: the speech clip cache."""

from __future__ import annotations

from pathlib import Path

import click

from innerchild_audio.cli.app import main, translate_errors
from innerchild_audio.speech import cache_info, clear_cache

cache_dir_option = click.option(
    "--cache-dir",
    type=click.Path(file_okay=False, path_type=Path),
    envvar="INNERCHILD_CACHE_DIR",
    help="Speech cache folder (default: $INNERCHILD_CACHE_DIR, else the user cache folder).",
)


def _size(count: int) -> str:
    if count < 1024:
        return f"{count} B"
    value = float(count)
    for unit in ("KiB", "MiB", "GiB"):
        value /= 1024
        if value < 1024 or unit == "GiB":
            break
    return f"{value:.1f} {unit}"


@main.group()
def cache() -> None:
    """Inspect or empty the cache of synthesized speech clips."""


@cache.command("info")
@cache_dir_option
@translate_errors
def info_command(cache_dir: Path | None) -> None:
    """Show where the cache is, how many clips it holds and their size.

    \b
    Example:
      innerchild cache info
    """
    found = cache_info(cache_dir)
    click.echo(f"folder:  {found.path}")
    click.echo(f"clips:   {found.entries}")
    click.echo(f"size:    {_size(found.bytes)}")
    for engine, count in found.by_engine.items():
        click.echo(f"  {engine}: {count}")


@cache.command("clear")
@cache_dir_option
@click.option("--engine", type=click.Choice(["gtts", "piper", "hibari"]),
              help="Only this engine's clips.")
@translate_errors
def clear_command(cache_dir: Path | None, engine: str | None) -> None:
    """Remove cached clips (they are made again when next needed).

    \b
    Examples:
      innerchild cache clear
      innerchild cache clear --engine gtts
    """
    removed = clear_cache(cache_dir, engine)
    click.echo(f"removed {removed.entries} clips ({_size(removed.bytes)}) from {removed.path}")
