"""A render's inputs: the script with its overrides applied, and one hash over everything.

The inputs hash covers the script, its parts and assets (by content), the
resolved options and the project version; `build` compares it with the one in
the manifest on disk to skip sessions that would come out the same.
"""

from __future__ import annotations

import hashlib
import tempfile
from dataclasses import asdict, dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final

from innerchild_audio import __version__
from innerchild_audio.atomic import atomic_write_bytes
from innerchild_audio.audio_io import is_segment, segment_digest, wav_bytes
from innerchild_audio.digests import file_sha256
from innerchild_audio.errors import UsageError
from innerchild_audio.export import manifest as manifests
from innerchild_audio.model import (
    ENGINES,
    GENERATED_SOUNDS,
    Background,
    BackgroundChange,
    Breathe,
    Say,
    Script,
    Step,
    Voice,
)
from innerchild_audio.options import RenderOptions
from innerchild_audio.publish.artwork import podcast_cover
from innerchild_audio.publish.channel import podcast_defaults
from innerchild_audio.script import load_script

if TYPE_CHECKING:
    from pydub import AudioSegment

    from innerchild_audio.export.tags import Cover

AUDIO_SUFFIXES: Final = (".wav", ".mp3", ".flac", ".ogg", ".m4a", ".aac", ".opus")


@dataclass(frozen=True)
class Prepared:
    """A loaded script ready to render, and what its render depends on."""

    script: Script  # with the background override applied
    options: RenderOptions
    album: str
    fallback_cover: Cover | None  # embedded when the script names no cover
    inputs: dict[str, str]  # path relative to the library -> sha256
    inputs_hash: str
    recorded_options: dict[str, Any]

    @property
    def target_ms(self) -> int | None:
        return self.options.target_ms(self.script)


def resolve_background(value: str | AudioSegment | None) -> str | None:
    """A generated sound's name, "none", or an existing sound file's absolute path
    (an AudioSegment is kept as a WAV file named by its content)."""
    if value is None:
        return None
    if is_segment(value):
        return str(segment_file(value))
    name = value.strip()
    if name.lower() == "none":
        return "none"
    if name in GENERATED_SOUNDS:
        return name
    path = Path(name).expanduser().resolve()
    if not path.is_file():
        choices = ", ".join(GENERATED_SOUNDS)
        raise UsageError(f"{value}: no such file; use a sound file, one of {choices}, or none",
                         option="background")
    if path.suffix.lower() not in AUDIO_SUFFIXES:
        raise UsageError(f"{value}: not a sound file this tool reads "
                         f"({', '.join(AUDIO_SUFFIXES)})", option="background")
    return str(path)


def segment_file(segment: AudioSegment) -> Path:
    """An AudioSegment as a WAV file in the temporary folder, named by its content, so it
    is a sound file like any other to everything downstream (the inputs hash included)."""
    folder = Path(tempfile.gettempdir()) / "innerchild-audio" / "segments"
    path = folder / f"{segment_digest(segment)}.wav"
    if not path.is_file():
        folder.mkdir(parents=True, exist_ok=True)
        atomic_write_bytes(path, wav_bytes(segment))
    return path


def apply_background(script: Script, sound: str | None) -> Script:
    """Replace the sound of every bed (levels and fades kept), or remove them all ("none")."""
    if sound is None:
        return script
    if sound == "none":
        steps: tuple[Step, ...] = tuple(
            s for s in script.steps if not isinstance(s, BackgroundChange))
        return replace(script, background=None, steps=steps)

    def swap(bed: Background | None) -> Background:
        return replace(bed, sound=sound) if bed is not None else Background(sound=sound)

    steps = tuple(
        replace(s, background=swap(s.background))
        if isinstance(s, BackgroundChange) and s.background is not None else s
        for s in script.steps
    )
    return replace(script, background=swap(script.background), steps=steps)


def parse_voice(value: str) -> tuple[str, str | None]:
    """"piper:joe" -> ("piper", "joe"); "gtts:com" names the accent; "piper" alone keeps models."""
    engine, _, model = value.strip().partition(":")
    if engine not in ENGINES:
        raise UsageError(f"{value!r}: the engine must be one of {', '.join(ENGINES)}, "
                         "as ENGINE or ENGINE:MODEL (e.g. piper:joe)", option="voice")
    return engine, model.strip() or None


def apply_voice(script: Script, value: str | None) -> Script:
    """Every voice of the script speaks with this engine (and model, or gTTS accent)."""
    if value is None:
        return script
    engine, model = parse_voice(value)

    def swap(voice: Voice) -> Voice:
        if model is None:
            return replace(voice, engine=engine)
        if engine == "gtts":
            return replace(voice, engine=engine, tld=model)
        return replace(voice, engine=engine, model=model)

    steps = tuple(replace(s, voice=swap(s.voice)) if isinstance(s, (Say, Breathe)) else s
                  for s in script.steps)
    return replace(script, voice=swap(script.voice), steps=steps)


def voices(script: Script) -> list[Voice]:
    """Every distinct voice the script speaks with, the script's own first."""
    found = {script.voice: None}
    for step in script.steps:
        if isinstance(step, (Say, Breathe)):
            found[step.voice] = None
    return list(found)


def _model_files(script: Script) -> list[Path]:
    """Piper models given as paths (bundled names are covered by the project version)."""
    files = []
    for voice in voices(script):
        if not voice.model.endswith(".onnx"):
            continue
        model = Path(voice.model).expanduser()
        model = model if model.is_absolute() else script.path.parent / model
        files += [p for p in (model, model.with_name(model.name + ".json")) if p.is_file()]
    return files


def _relative(path: Path, root: Path) -> str:
    try:
        return path.resolve().relative_to(root.resolve()).as_posix()
    except ValueError:
        return path.resolve().as_posix()


def _voice_dict(voice: Voice) -> dict[str, Any]:
    return asdict(voice)  # every field: phrase pause, pronounce, offline voice too


def prepare(path: Path, options: RenderOptions) -> Prepared:
    """Load the script and work out everything its render depends on (no audio work
    beyond opening its sounds and covers, so a bad file stops the render before speech)."""
    background = resolve_background(options.background)
    script = load_script(path, vars=dict(options.vars), asset_dirs=options.asset_dirs,
                         open_assets=True)
    root = script.path.parent
    podcast = podcast_defaults(root)
    script = apply_voice(apply_background(script, background), options.voice)
    files = [*script.files, *script.assets, *_model_files(script)]
    if background not in (None, "none", *GENERATED_SOUNDS):
        files.append(Path(background))  # type: ignore[arg-type]
    fallback = podcast_cover(podcast) if script.cover is None else None
    if fallback is not None and podcast.cover is not None:
        files.append(podcast.cover)  # a file of the library, hashed like the others
    inputs = {_relative(f, root): file_sha256(f) for f in dict.fromkeys(files)}
    recorded = {
        "engine": options.engine,  # as asked; the manifest's "engine" is the one that spoke
        "voices": [_voice_dict(v) for v in voices(script)],
        "length_ms": options.target_ms(script),
        "vars": dict(sorted(options.vars.items())),
        "background": background,
        "stereo": options.stereo,
        "bitrate_kbps": options.bitrate,
        "warnings": options.warnings,
        "album": podcast.album,
    }
    if fallback is not None and podcast.cover is None:  # the cover drawn for the podcast
        recorded["drawn_cover_sha256"] = hashlib.sha256(fallback.data).hexdigest()
    digest = manifests.inputs_digest(inputs, recorded, f"innerchild-audio {__version__}")
    return Prepared(script, options, podcast.album, fallback, inputs, digest, recorded)


def is_unchanged(prepared: Prepared, out_dir: Path) -> bool:
    """Whether the render on disk came from exactly these inputs and is complete."""
    existing = manifests.read_manifest(out_dir / manifests.manifest_name(prepared.script.slug))
    return (existing is not None and existing.get("inputs_hash") == prepared.inputs_hash
            and manifests.outputs_present(existing, out_dir))


__all__ = ["AUDIO_SUFFIXES", "Prepared", "apply_background", "apply_voice", "is_unchanged",
           "parse_voice", "prepare", "resolve_background", "voices"]
