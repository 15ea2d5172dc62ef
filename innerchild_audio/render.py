"""Rendering: a script to a finished session, and a whole library to its sessions.

    render_script(path, out_dir=Path("output"))   -> RenderResult
    build_library(Path("meditations"))            -> BuildResult (unchanged sessions skipped)

The order is the pipeline's: load -> lay out -> synthesize -> timeline -> mix ->
master -> export. Mixing, mastering and encoding run block by block, side by
side, so the session is never in memory whole. A session is skipped by
`build_library` when its inputs hash (script, parts, assets, resolved options,
project version) equals the one in the manifest already on disk and every file
the manifest names is there.
"""

from __future__ import annotations

import logging
import sys
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Final, TextIO

import yaml

from innerchild_audio import __version__
from innerchild_audio.digests import file_sha256
from innerchild_audio.errors import InnerChildError, Problem, ScriptError, UsageError
from innerchild_audio.export import ExportMeta, export_session
from innerchild_audio.export import manifest as manifests
from innerchild_audio.export.mp3 import (
    MP3_SAMPLE_RATE,
    check_bitrate,
    default_bitrate_kbps,
    overshoot_allowance_db,
)
from innerchild_audio.library import find_scripts
from innerchild_audio.model import (
    GENERATED_SOUNDS,
    Background,
    BackgroundChange,
    Breathe,
    Say,
    Script,
    Step,
    Voice,
)
from innerchild_audio.plan import build_timeline, lay_out
from innerchild_audio.script import load_script
from innerchild_audio.timeline import Timeline
from innerchild_audio.units import format_duration

log = logging.getLogger(__name__)

DEFAULT_OUT_DIR: Final = Path("output")
DEFAULT_LIBRARY: Final = Path("meditations")
DEFAULT_ALBUM: Final = "Inner Child Audio"
PODCAST_FILE: Final = "podcast.yaml"
TRUE_PEAK_DBTP: Final = -1.0  # the ceiling the decoded MP3 must respect
AUDIO_SUFFIXES: Final = (".wav", ".mp3", ".flac", ".ogg", ".m4a", ".aac", ".opus")


@dataclass(frozen=True)
class RenderOptions:
    """Everything besides the script's files that decides what a render produces."""

    engine: str | None = None  # None: each voice's own engine (auto|gtts|piper)
    length_ms: int | None = None  # None: the script's `length:`
    vars: Mapping[str, str] = field(default_factory=dict)
    background: str | None = None  # a generated sound, a file, "none", or None: the script's
    stereo: bool = False
    bitrate_kbps: int | None = None  # None: 96 mono, 128 stereo
    warnings: bool = True
    asset_dirs: tuple[Path, ...] = ()  # folders outside the library sounds may come from

    @property
    def channels(self) -> int:
        return 2 if self.stereo else 1

    @property
    def bitrate(self) -> int:
        return self.bitrate_kbps or default_bitrate_kbps(self.channels)


@dataclass(frozen=True)
class RenderResult:
    script_path: Path
    slug: str
    mp3_path: Path
    manifest_path: Path
    files: tuple[Path, ...]
    duration_ms: int
    loudness_lufs: float
    true_peak_dbtp: float
    engine: str
    gain_db: float  # the mastering gain (before limiting)
    timeline: Timeline
    speech_cached: int = 0
    speech_synthesized: int = 0

    def summary(self) -> str:
        """One line: path, duration, integrated loudness."""
        return (f"{self.mp3_path}  {format_duration(self.duration_ms)}  "
                f"{self.loudness_lufs:.1f} LUFS")


@dataclass(frozen=True)
class Skipped:
    script_path: Path
    mp3_path: Path

    def summary(self) -> str:
        return f"unchanged: {self.mp3_path}"


@dataclass(frozen=True)
class Failed:
    script_path: Path
    error: InnerChildError

    def summary(self) -> str:
        return str(self.error)


Outcome = RenderResult | Skipped | Failed


@dataclass
class BuildResult:
    rendered: list[RenderResult] = field(default_factory=list)
    unchanged: list[Skipped] = field(default_factory=list)
    failed: list[Failed] = field(default_factory=list)

    @property
    def exit_status(self) -> int:
        return max((int(f.error.exit_status) for f in self.failed), default=0)


# --- preparing: options, inputs, hash ------------------------------------------

@dataclass(frozen=True)
class Prepared:
    script: Script  # with the background override applied
    options: RenderOptions
    album: str
    fallback_cover: Path | None
    inputs: dict[str, str]  # path relative to the library -> sha256
    inputs_hash: str
    recorded_options: dict[str, Any]


def _check_options(options: RenderOptions) -> None:
    if options.bitrate_kbps is not None:
        try:
            check_bitrate(options.bitrate_kbps)
        except ValueError as error:
            raise UsageError(str(error)) from None
    if options.length_ms is not None and options.length_ms <= 0:
        raise UsageError(f"--length must be longer than 0s, got {options.length_ms} ms")


def _resolve_background(value: str | None) -> str | None:
    """A generated sound's name, "none", or an existing sound file's absolute path."""
    if value is None:
        return None
    name = value.strip()
    if name.lower() == "none" or name in GENERATED_SOUNDS:
        return name.lower() if name.lower() == "none" else name
    path = Path(name).expanduser().resolve()
    if not path.is_file():
        choices = ", ".join(GENERATED_SOUNDS)
        raise UsageError(f"--background {value}: no such file; use a sound file, one of "
                         f"{choices}, or none")
    if path.suffix.lower() not in AUDIO_SUFFIXES:
        raise UsageError(f"--background {value}: not a sound file this tool reads "
                         f"({', '.join(AUDIO_SUFFIXES)})")
    return str(path)


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


def read_podcast(library_root: Path) -> tuple[str, Path | None, Path | None]:
    """The podcast's title (the ID3 album), its cover and the file they came from."""
    path = library_root / PODCAST_FILE
    if not path.is_file():
        return DEFAULT_ALBUM, None, None
    try:
        document = yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        line, column = (mark.line + 1, mark.column + 1) if mark else (1, 1)
        raise ScriptError([Problem(path, line, column, f"not valid YAML: {error}")]) from None
    except (OSError, UnicodeDecodeError) as error:
        raise ScriptError([Problem(path, 1, 1, f"cannot read {path.name}: {error}")]) from None
    if not isinstance(document, dict):
        return DEFAULT_ALBUM, None, path
    title = document.get("title")
    album = title.strip() if isinstance(title, str) and title.strip() else DEFAULT_ALBUM
    cover = document.get("cover")
    cover_path = (path.parent / cover).resolve() if isinstance(cover, str) else None
    if cover_path is not None and not cover_path.is_file():
        cover_path = None  # publish reports it; a render just goes without
    return album, cover_path, path


def _voices(script: Script) -> list[Voice]:
    found = {script.voice: None}
    for step in script.steps:
        if isinstance(step, (Say, Breathe)):
            found[step.voice] = None
    return list(found)


def _model_files(script: Script) -> list[Path]:
    """Piper models given as paths (bundled names are covered by the project version)."""
    files = []
    for voice in _voices(script):
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


def prepare(path: Path, options: RenderOptions) -> Prepared:
    """Load the script and work out everything its render depends on (no audio work)."""
    _check_options(options)
    background = _resolve_background(options.background)
    script = load_script(path, vars=dict(options.vars), asset_dirs=options.asset_dirs)
    root = script.path.parent
    album, fallback_cover, _ = read_podcast(root)
    script = apply_background(script, background)
    files = [*script.files, *script.assets, *_model_files(script)]
    if background not in (None, "none", *GENERATED_SOUNDS):
        files.append(Path(background))  # type: ignore[arg-type]
    if script.cover is None and fallback_cover is not None:
        files.append(fallback_cover)
    inputs = {_relative(f, root): file_sha256(f) for f in dict.fromkeys(files)}
    recorded = {
        "engine": options.engine,  # as asked; the manifest's "engine" is the one that spoke
        "voices": [_voice_dict(v) for v in _voices(script)],
        "length_ms": options.length_ms if options.length_ms is not None else script.length_ms,
        "vars": dict(sorted(options.vars.items())),
        "background": background,
        "stereo": options.stereo,
        "bitrate_kbps": options.bitrate,
        "warnings": options.warnings,
        "album": album,
    }
    digest = manifests.inputs_digest(inputs, recorded, f"innerchild-audio {__version__}")
    return Prepared(script, options, album, fallback_cover, inputs, digest, recorded)


def _voice_dict(voice: Voice) -> dict[str, Any]:
    return {"engine": voice.engine, "lang": voice.lang, "tld": voice.tld, "model": voice.model,
            "rate": voice.rate, "sentence_pause_ms": voice.sentence_pause_ms,
            "paragraph_pause_ms": voice.paragraph_pause_ms}


def is_unchanged(prepared: Prepared, out_dir: Path) -> bool:
    """Whether the render on disk came from exactly these inputs and is complete."""
    existing = manifests.read_manifest(out_dir / manifests.manifest_name(prepared.script.slug))
    return (existing is not None and existing.get("inputs_hash") == prepared.inputs_hash
            and manifests.outputs_present(existing, out_dir))


# --- rendering -------------------------------------------------------------------

class _Status:
    """A line per stage on stderr, when asked (the CLI asks when stderr is a terminal)."""

    def __init__(self, enabled: bool, slug: str, stream: TextIO | None = None) -> None:
        self.enabled = enabled
        self.slug = slug
        self.stream = stream or sys.stderr

    def __call__(self, message: str) -> None:
        log.info("%s: %s", self.slug, message)
        if self.enabled:
            print(f"{self.slug}: {message}", file=self.stream, flush=True)


def render_prepared(prepared: Prepared, *, out_dir: Path, jobs: int | None = None,
                    cache_dir: Path | None = None, progress: bool = False) -> RenderResult:
    # Imported here: scipy and the engines load only when something is rendered.
    from innerchild_audio import speech
    from innerchild_audio.master import MP3_HEADROOM_DB, master_stream
    from innerchild_audio.mix import Mixer

    script, options = prepared.script, prepared.options
    status = _Status(progress, script.slug)
    layout = lay_out(script, warnings=options.warnings)
    requests = layout.requests()
    status(f"speech: {len(requests)} sentences")
    spoken = speech.synthesize_all(requests, engine=options.engine, jobs=jobs,
                                   cache_dir=cache_dir, progress=progress)
    target_ms = options.length_ms if options.length_ms is not None else script.length_ms
    timeline = build_timeline(layout, {r: c.duration_ms for r, c in spoken.clips.items()},
                              target_ms)
    # The session is never held whole: it is mixed once to measure its loudness,
    # then mixed again, mastered and encoded block by block.
    mixer = Mixer(timeline, spoken.clips, sample_rate=MP3_SAMPLE_RATE, channels=options.channels)
    status(f"mixing {format_duration(timeline.total_ms)} to measure it")
    # Aim under the limit by what MP3 coding adds (master keeps its own small margin too).
    allowance_db = overshoot_allowance_db(options.bitrate, options.channels) - MP3_HEADROOM_DB
    mastered = master_stream(mixer, true_peak_dbtp=TRUE_PEAK_DBTP - allowance_db)
    status(f"mixing, mastering and encoding MP3 ({options.bitrate} kbps "
           f"{'stereo' if options.stereo else 'mono'})")
    exported = export_session(
        mastered, MP3_SAMPLE_RATE, script=script, timeline=timeline, out_dir=out_dir,
        bitrate_kbps=options.bitrate,
        meta=ExportMeta(
            album=prepared.album, engine=spoken.engine, voice=dict(spoken.voice_info),
            loudness_lufs=None, true_peak_dbtp=None,  # measured while encoding
            inputs_hash=prepared.inputs_hash, inputs=prepared.inputs,
            options=prepared.recorded_options, fallback_cover=prepared.fallback_cover,
        ),
    )
    assert mastered.loudness_lufs is not None and mastered.true_peak_dbtp is not None  # encoded
    return RenderResult(
        script_path=script.path, slug=script.slug, mp3_path=exported.mp3_path,
        manifest_path=exported.manifest_path, files=tuple(exported.paths()),
        duration_ms=timeline.total_ms, loudness_lufs=mastered.loudness_lufs,
        true_peak_dbtp=mastered.true_peak_dbtp, engine=spoken.engine, gain_db=mastered.gain_db,
        timeline=timeline, speech_cached=spoken.cached,
        speech_synthesized=spoken.synthesized,
    )


def render_script(
    path: Path | str,
    *,
    out_dir: Path = DEFAULT_OUT_DIR,
    engine: str | None = None,
    length_ms: int | None = None,
    vars: Mapping[str, str] | None = None,
    background: str | None = None,
    stereo: bool = False,
    bitrate_kbps: int | None = None,
    jobs: int | None = None,
    cache_dir: Path | None = None,
    warnings: bool = True,
    progress: bool = False,
    asset_dirs: Iterable[Path] = (),
) -> RenderResult:
    """Render one script into `out_dir`: MP3, transcripts, chapters JSON, manifest.

    Raises ScriptError or UsageError for invalid input, SpeechError or RenderError
    when synthesis or the audio work fails; nothing half-written is left behind.
    """
    options = RenderOptions(engine=engine, length_ms=length_ms, vars=dict(vars or {}),
                            background=background, stereo=stereo, bitrate_kbps=bitrate_kbps,
                            warnings=warnings, asset_dirs=tuple(asset_dirs))
    prepared = prepare(Path(path), options)
    return render_prepared(prepared, out_dir=Path(out_dir), jobs=jobs, cache_dir=cache_dir,
                           progress=progress)


def build_library(
    folder: Path | str = DEFAULT_LIBRARY,
    *,
    out_dir: Path = DEFAULT_OUT_DIR,
    engine: str | None = None,
    length_ms: int | None = None,
    vars: Mapping[str, str] | None = None,
    background: str | None = None,
    stereo: bool = False,
    bitrate_kbps: int | None = None,
    jobs: int | None = None,
    cache_dir: Path | None = None,
    warnings: bool = True,
    progress: bool = False,
    force: bool = False,
    on_outcome: Callable[[Outcome], None] | None = None,
    asset_dirs: Iterable[Path] = (),
) -> BuildResult:
    """Render every script of a library folder, skipping the unchanged (unless `force`).

    One script's failure does not stop the others: it is recorded in `failed`.
    `on_outcome` hears about each session as soon as it is done.
    """
    options = RenderOptions(engine=engine, length_ms=length_ms, vars=dict(vars or {}),
                            background=background, stereo=stereo, bitrate_kbps=bitrate_kbps,
                            warnings=warnings, asset_dirs=tuple(asset_dirs))
    _check_options(options)
    out_dir = Path(out_dir)
    result = BuildResult()
    slugs: dict[str, Path] = {}

    def record(outcome: Outcome) -> None:
        if isinstance(outcome, RenderResult):
            result.rendered.append(outcome)
        elif isinstance(outcome, Skipped):
            result.unchanged.append(outcome)
        else:
            result.failed.append(outcome)
        if on_outcome is not None:
            on_outcome(outcome)

    for path in find_scripts(Path(folder)):
        try:
            prepared = prepare(path, options)
            slug = prepared.script.slug
            if slug in slugs:
                raise UsageError(f"{path}: slug '{slug}' is also used by {slugs[slug]}; "
                                 "give one of them its own 'slug:'")
            slugs[slug] = path
            if not force and is_unchanged(prepared, out_dir):
                record(Skipped(path, out_dir / f"{slug}.mp3"))
                continue
            record(render_prepared(prepared, out_dir=out_dir, jobs=jobs, cache_dir=cache_dir,
                                   progress=progress))
        except InnerChildError as error:
            record(Failed(path, error))
    return result


__all__ = [
    "BuildResult", "Failed", "Outcome", "Prepared", "RenderOptions", "RenderResult", "Skipped",
    "apply_background", "build_library", "is_unchanged", "prepare", "read_podcast",
    "render_prepared", "render_script",
]
