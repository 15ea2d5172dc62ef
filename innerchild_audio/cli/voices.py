"""`innerchild voices` and `innerchild say`: the voices there are, and hearing one."""

from __future__ import annotations

from pathlib import Path

import click

from innerchild_audio.cli.app import main, translate_errors
from innerchild_audio.speech.voices import list_voices

voices_dir_option = click.option(
    "--voices-dir", type=click.Path(file_okay=False, path_type=Path),
    envvar="INNERCHILD_VOICES_DIR",
    help="Folder of extra voices (default: $INNERCHILD_VOICES_DIR, else the user data folder).",
)


@main.command()
@voices_dir_option
@translate_errors
def voices(voices_dir: Path | None) -> None:
    """List the offline voices usable here: engine, name, language, sex, where from.

    Online, gTTS speaks too (engine gtts, its accent set by the voice's tld).
    Use a listed voice as voice: {engine: hibari, model: heart} in a script, or as
    offline_voice: hibari:heart for `auto` when Google does not answer.

    \b
    Example:
      innerchild voices
    """
    click.echo(f"{'voice':<16} {'language':<9} {'sex':<7} from")
    for found in list_voices(voices_dir):
        click.echo(f"{found.engine + ':' + found.name:<16} {found.language or '?':<9} "
                   f"{found.sex or '?':<7} {found.where}")


@main.command()
@click.argument("text")
@click.option("--voice", "voice", default="hibari:heart", show_default=True,
              metavar="ENGINE:NAME", help="e.g. hibari:heart, piper:joe or gtts.")
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path),
              default=Path("sample.mp3"), show_default=True, help="The MP3 to write.")
@click.option("--rate", type=click.FloatRange(0.5, 2.0), help="Tempo factor (default 0.9).")
@click.option("--phrase-pause", metavar="DURATION",
              help="Silence at commas and dashes (default 350ms; 0 for none).")
@click.option("--cache-dir", type=click.Path(file_okay=False, path_type=Path),
              envvar="INNERCHILD_CACHE_DIR", help="Speech cache folder.")
@translate_errors
def say(text: str, voice: str, output: Path, rate: float | None, phrase_pause: str | None,
        cache_dir: Path | None) -> None:
    """Speak TEXT with one voice into a short MP3, paced as in a session.

    The same phrase pauses, pace and lead-in and tail as a session, with no bed:
    an audition of a voice before a script names it.

    \b
    Examples:
      innerchild say "You are safe here." --voice hibari:heart -o sample.mp3
      innerchild say "Breathe in, and let go." --voice piper:joe --rate 0.8
    """
    from innerchild_audio.audition import audition

    click.echo(str(audition(text, voice, output, rate=rate, phrase_pause=phrase_pause,
                            cache_dir=cache_dir)))
