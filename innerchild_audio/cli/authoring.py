"""Commands for writing a session: picture, preview, watch, new."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import click

from innerchild_audio.cli.app import (
    assets_dir_option,
    main,
    parse_length,
    render_options_from,
    session_options,
    translate_errors,
)
from innerchild_audio.cli.progress import TerminalProgress
from innerchild_audio.entry import Terminated
from innerchild_audio.errors import UsageError
from innerchild_audio.options import DEFAULT_LIBRARY, DEFAULT_OUT_DIR, RunSettings
from innerchild_audio.picture import DEFAULT_WIDTH_PX
from innerchild_audio.units import parse_duration_ms

F = TypeVar("F", bound=Callable[..., Any])

width_option = click.option(
    "--width", type=int, default=DEFAULT_WIDTH_PX, show_default=True, metavar="PX",
    help="Picture width in pixels; the height follows the session's length.")


def _part_options(func: F) -> F:
    decorators = [
        click.option("--chapter", metavar="NAME", help="The chapter to render (or its number)."),
        click.option("--from", "from_", metavar="TIME", help="Start of the part, e.g. 2m."),
        click.option("--to", metavar="TIME", help="End of the part, e.g. 3m30s."),
    ]
    for decorator in reversed(decorators):
        func = decorator(func)
    return func


def _file_and_folder(file_help: str, folder_help: str) -> Callable[[F], F]:
    """`-o/--output FILE` and `--out-dir DIR`, for commands that write one file or several."""
    def decorate(func: F) -> F:
        func = click.option("--out-dir", type=click.Path(file_okay=False, path_type=Path),
                            default=DEFAULT_OUT_DIR, show_default=True, help=folder_help)(func)
        return click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path),
                            help=file_help)(func)
    return decorate


def _time(value: str | None, name: str) -> int | None:
    if value is None:
        return None
    try:
        return parse_duration_ms(value)
    except ValueError as error:
        raise UsageError(f"--{name}: {error}") from None


@main.command()
@click.argument("session", type=click.Path(path_type=Path, exists=True, dir_okay=False))
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path),
              help="The picture, .png or .svg (default: beside the MP3, as .png).")
@click.option("--library", type=click.Path(file_okay=False, path_type=Path),
              help="Where the session's script is (default: meditations/).")
@assets_dir_option
@width_option
@translate_errors
def picture(session: Path, output: Path | None, library: Path | None,
            asset_dirs: tuple[Path, ...], width: int) -> None:
    """Draw a rendered session: its real timeline and its decoded level.

    Reads the manifest and transcript that `render` wrote beside the MP3, and the
    script (unchanged since the render) for its pauses, bells and breaths.

    \b
    Examples:
      innerchild picture output/meeting-your-child-self.mp3
      innerchild picture output/a-safe-place.mp3 -o a-safe-place.svg --width 1600
    """
    from innerchild_audio.picture import picture_of_session

    out = output or session.with_suffix(".png")
    click.echo(picture_of_session(session, out, library=library, asset_dirs=asset_dirs,
                                  width_px=width).summary())


@main.command()
@click.argument("file", type=click.Path(path_type=Path, exists=True, dir_okay=False))
@_part_options
@_file_and_folder("The preview, .mp3 or .wav (default: OUT_DIR/SLUG.preview.mp3).",
                  "Where the preview lands.")
@session_options
@translate_errors
def preview(file: Path, chapter: str | None, from_: str | None, to: str | None,
            output: Path | None, out_dir: Path, engine: str | None, length: str | None,
            vars_: tuple[str, ...], asset_dirs: tuple[Path, ...], background: str | None,
            stereo: bool, bitrate: int | None, jobs: int | None, cache_dir: Path | None,
            warnings: bool) -> None:
    """Render one part of a session as the whole session plays it there.

    Same timing, bed, ducking and loudness gain as the full render; only the speech
    near the part is synthesized. Prints the file and where the part starts.

    \b
    Examples:
      innerchild preview meditations/meeting-your-child-self.yaml --chapter "Saying hello"
      innerchild preview meditations/a-safe-place.yaml --from 2m --to 3m30s -o part.wav
    """
    from innerchild_audio.preview import preview_script

    options = render_options_from(engine, length, vars_, asset_dirs, background, stereo,
                                  bitrate, warnings)
    settings = RunSettings(out_dir=out_dir, jobs=jobs, cache_dir=cache_dir,
                           progress=TerminalProgress())
    result = preview_script(file, options, settings, chapter=chapter,
                            from_ms=_time(from_, "from"), to_ms=_time(to, "to"), out=output)
    click.echo(result.summary())


@main.command()
@click.argument("file", type=click.Path(path_type=Path, exists=True, dir_okay=False))
@_part_options
@_file_and_folder("With a part: the preview file (default: OUT_DIR/SLUG.preview.mp3).",
                  "Where renders land.")
@click.option("--debounce", type=click.IntRange(min=0), default=400, show_default=True,
              metavar="MS", help="Wait this long after the last save before rendering.")
@session_options
@translate_errors
def watch(file: Path, chapter: str | None, from_: str | None, to: str | None,
          output: Path | None, out_dir: Path, debounce: int, engine: str | None,
          length: str | None, vars_: tuple[str, ...], asset_dirs: tuple[Path, ...],
          background: str | None, stereo: bool, bitrate: int | None, jobs: int | None,
          cache_dir: Path | None, warnings: bool) -> None:
    """Render again each time the script, a part or a sound it uses is saved.

    Checks first; with --chapter or --from/--to it previews that part instead.
    Prints the new one-line summary, or the problems with FILE:LINE:COL. Ctrl-C
    stops it.

    \b
    Examples:
      innerchild watch meditations/a-safe-place.yaml --engine piper
      innerchild watch meditations/a-safe-place.yaml --chapter 2
    """
    from innerchild_audio.watch import Job, watch_script

    options = render_options_from(engine, length, vars_, asset_dirs, background, stereo,
                                  bitrate, warnings)
    settings = RunSettings(out_dir=out_dir, jobs=jobs, cache_dir=cache_dir)
    part = None
    if chapter is not None or from_ is not None or to is not None:
        part = {"chapter": chapter, "from_ms": _time(from_, "from"), "to_ms": _time(to, "to"),
                "out": output}
    job = Job(file, options, settings, part=part)
    try:
        watch_script(job, debounce_ms=debounce, echo=click.echo)
    except KeyboardInterrupt as error:  # Ctrl-C is how a watch ends; SIGTERM is not
        if isinstance(error, Terminated):
            raise
    click.echo("stopped watching")


@main.command()
@click.argument("title")
@click.option("--length", metavar="DURATION", default="10m", show_default=True,
              help="The session's target length.")
@click.option("--library", type=click.Path(file_okay=False, path_type=Path),
              default=DEFAULT_LIBRARY, show_default=True, help="The script library folder.")
@translate_errors
def new(title: str, length: str, library: Path) -> None:
    """Start a new script from the template: safety opening, chapters, closing.

    Writes LIBRARY/SLUG.yaml (and the opening and closing parts when the library
    lacks them); the script checks and renders as it stands.

    \b
    Examples:
      innerchild new "A Walk by the Sea"
      innerchild new "Evening Reset" --length 5m
    """
    from innerchild_audio.new_script import new_script

    length_ms = parse_length(length)
    assert length_ms is not None  # it has a default
    created = new_script(title, length_ms=length_ms, library=library)
    for path in created.parts:
        click.echo(f"wrote {path}")
    click.echo(f"wrote {created.path}")
