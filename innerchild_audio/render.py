"""Rendering one script: load -> lay out -> synthesize -> timeline -> mix -> master -> export.

    render_script(path, RenderOptions(), RunSettings())   -> RenderResult

Mixing, mastering and encoding run block by block, side by side, so the
session is never in memory whole. Building a whole library lives in `build`.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from innerchild_audio.audio_io import MP3_SAMPLE_RATE
from innerchild_audio.export import ExportMeta, export_session
from innerchild_audio.export.mp3 import overshoot_allowance_db
from innerchild_audio.inputs import Prepared, prepare
from innerchild_audio.options import RenderOptions, RunSettings
from innerchild_audio.plan import Layout, build_timeline, lay_out
from innerchild_audio.timeline import Timeline
from innerchild_audio.units import format_duration

if TYPE_CHECKING:
    from pydub import AudioSegment

    from innerchild_audio.master import MasteredStream
    from innerchild_audio.speech import SpeechResult

log = logging.getLogger(__name__)


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


def synthesize(prepared: Prepared, settings: RunSettings) -> tuple[Layout, SpeechResult]:
    """The layout of a prepared script and its speech, from the cache or the engines."""
    # Imported here: scipy and the engines load only when something is rendered.
    from innerchild_audio import speech

    script, options = prepared.script, prepared.options
    layout = lay_out(script, warnings=options.warnings)
    requests = layout.requests()
    settings.report(script.slug, "speech", f"{len(requests)} sentences", total=len(requests))

    def on_speech(message: str, done: int, total: int, eta_s: float | None) -> None:
        settings.report(script.slug, "speech", message, done=done, total=total, eta_s=eta_s)

    spoken = speech.synthesize_all(requests, engine=options.engine, jobs=settings.jobs,
                                   cache_dir=settings.cache_dir, voices_dir=settings.voices_dir,
                                   progress=on_speech)
    return layout, spoken


@dataclass(frozen=True)
class _Mastered:
    stream: MasteredStream
    timeline: Timeline
    spoken: SpeechResult


def _mastered(prepared: Prepared, settings: RunSettings) -> _Mastered:
    """Speech, timeline, and the session measured and ready to be made again, mastered."""
    from innerchild_audio.master import master_stream
    from innerchild_audio.mix import Mixer

    script, options = prepared.script, prepared.options
    layout, spoken = synthesize(prepared, settings)
    timeline = build_timeline(layout, {r: c.duration_ms for r, c in spoken.clips.items()},
                              prepared.target_ms)
    # The session is never held whole: it is mixed once to measure its loudness,
    # then mixed again, mastered and encoded block by block.
    mixer = Mixer(timeline, spoken.clips, sample_rate=MP3_SAMPLE_RATE, channels=options.channels)
    settings.report(script.slug, "mix", f"mixing {format_duration(timeline.total_ms)} to "
                                         "measure it")
    stream = master_stream(
        mixer, headroom_db=overshoot_allowance_db(options.bitrate, options.channels))
    return _Mastered(stream, timeline, spoken)


def render_prepared(prepared: Prepared, settings: RunSettings) -> RenderResult:
    """Render a prepared script into `settings.out_dir`."""
    script, options = prepared.script, prepared.options
    made = _mastered(prepared, settings)
    settings.report(script.slug, "encode",
                    f"mixing, mastering and encoding MP3 ({options.bitrate} kbps "
                    f"{'stereo' if options.stereo else 'mono'})")
    exported = export_session(
        made.stream, script=script, timeline=made.timeline, out_dir=settings.out_dir,
        bitrate_kbps=options.bitrate,
        meta=ExportMeta(
            album=prepared.album, engine=made.spoken.engine, voice=dict(made.spoken.voice_info),
            inputs_hash=prepared.inputs_hash, inputs=prepared.inputs,
            options=prepared.recorded_options, fallback_cover=prepared.fallback_cover,
        ),
    )
    return RenderResult(
        script_path=script.path, slug=script.slug, mp3_path=exported.mp3_path,
        manifest_path=exported.manifest_path, files=tuple(exported.paths()),
        duration_ms=made.timeline.total_ms, loudness_lufs=exported.loudness_lufs,
        true_peak_dbtp=exported.true_peak_dbtp, engine=made.spoken.engine,
        gain_db=made.stream.gain_db, timeline=made.timeline, speech_cached=made.spoken.cached,
        speech_synthesized=made.spoken.synthesized,
    )


@dataclass(frozen=True, eq=False)
class SessionAudio:
    """A mastered session held in memory: the audio as pydub holds it, and its timeline."""

    audio: AudioSegment
    timeline: Timeline
    loudness_lufs: float
    true_peak_dbtp: float
    engine: str


def session_audio(path: Path | str, options: RenderOptions | None = None,
                  settings: RunSettings | None = None) -> SessionAudio:
    """The mastered session as a `pydub.AudioSegment` (16-bit, 44.1 kHz), written nowhere.

    The same audio a render encodes to MP3, with its timeline (speech, chapters,
    pauses); `settings.out_dir` is not used.
    """
    import numpy as np

    from innerchild_audio.audio_io import to_segment

    settings = settings or RunSettings()
    made = _mastered(prepare(Path(path), options or RenderOptions()), settings)
    frames = np.concatenate(list(made.stream.blocks()))
    assert made.stream.loudness_lufs is not None and made.stream.true_peak_dbtp is not None
    return SessionAudio(to_segment(frames, made.stream.sample_rate), made.timeline,
                        made.stream.loudness_lufs, made.stream.true_peak_dbtp, made.spoken.engine)


def render_script(path: Path | str, options: RenderOptions | None = None,
                  settings: RunSettings | None = None) -> RenderResult:
    """Render one script: MP3, transcripts, chapters JSON and manifest in `settings.out_dir`.

    Raises ScriptError or UsageError for invalid input, SpeechError or RenderError
    when synthesis or the audio work fails; nothing half-written is left behind.
    """
    prepared = prepare(Path(path), options or RenderOptions())
    return render_prepared(prepared, settings or RunSettings())


__all__ = ["RenderResult", "SessionAudio", "render_prepared", "render_script", "session_audio",
           "synthesize"]
