"""The two kinds of job a worker runs: speak some sentences, render one session.

Both are plain functions of plain data, so a local worker process or a Dask
worker on another machine runs them alike. A worker keeps its own speech cache
(`cache_dir`, None: the worker's default folder) and its engines for its life,
so a voice is loaded once per worker, not once per job.
"""

from __future__ import annotations

import functools
import shutil
import tempfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from innerchild_audio.errors import ExitStatus, InnerChildError
from innerchild_audio.model import Breathe, Say, Script, Voice
from innerchild_audio.options import RenderOptions
from innerchild_audio.scale.bundle import Bundle
from innerchild_audio.timeline import Timeline


@dataclass(frozen=True)
class ClipData:
    """A clip as it travels: its cache entry and raw float32 samples."""

    engine: str
    key: str
    samples: bytes
    sample_rate: int


@dataclass(frozen=True)
class SpeechJob:
    engine: str  # resolved: gtts | piper
    voice: Voice
    texts: tuple[str, ...]
    cache_dir: str | None = None
    voices_dir: str | None = None
    threads: int | None = None  # ONNX threads for this worker (None: onnxruntime's choice)
    return_clips: bool = True  # False when the caller reads the same cache folder


@dataclass(frozen=True)
class SpeechDone:
    clips: tuple[ClipData, ...]
    synthesized: int  # sentences this worker's cache did not have
    model_calls: int  # synthesis calls on a model (voice loads not counted)
    voices_loaded: int


@dataclass(frozen=True)
class SessionJob:
    options: RenderOptions
    slug: str  # the output name
    inputs: Mapping[str, str]  # the caller's view of the inputs, for the manifest
    inputs_hash: str
    recorded_options: Mapping[str, Any]
    cache_dir: str | None = None
    voices_dir: str | None = None
    auto: str | None = None  # the engine `auto` chose for the whole run (said once, by the caller)


@dataclass(frozen=True)
class SessionDone:
    files: tuple[tuple[str, bytes], ...]  # file name -> content, the manifest last
    duration_ms: int
    loudness_lufs: float
    true_peak_dbtp: float
    engine: str
    gain_db: float
    timeline: Timeline
    speech_cached: int
    speech_synthesized: int


@dataclass(frozen=True)
class JobError:
    """A library error raised in a worker, returned as data (its class may not unpickle)."""

    message: str
    cli_message: str
    exit_status: int = int(ExitStatus.FAILURE)


class RemoteError(InnerChildError):
    """A library error that happened in a worker, worded as it was there."""

    def __init__(self, error: JobError):
        super().__init__(error.message)
        self.exit_status = ExitStatus(error.exit_status)
        self._cli = error.cli_message

    def __reduce__(self):  # type: ignore[override]
        return (RemoteError, (JobError(str(self), self._cli, int(self.exit_status)),))

    def cli_message(self) -> str:
        return self._cli


def job_error(error: InnerChildError) -> JobError:
    return JobError(str(error), error.cli_message(), int(error.exit_status))


@functools.lru_cache(maxsize=4)
def _engines(voices_dir: str | None, threads: int | None) -> Mapping[str, Any]:
    """This worker's engines; Piper held to `threads` so the workers share the cores."""
    from innerchild_audio.speech.piper_engine import PiperEngine
    from innerchild_audio.speech.synth import default_engines

    voices = Path(voices_dir) if voices_dir else None
    return {**default_engines(voices), "piper": PiperEngine(voices_dir=voices, threads=threads)}


def speak(job: SpeechJob) -> SpeechDone | JobError:
    """Synthesize `job.texts` (or take them from this worker's cache)."""
    import numpy as np

    from innerchild_audio.speech import synthesize_all
    from innerchild_audio.speech.cache import cache_key
    from innerchild_audio.timeline import SpeechRequest

    engines = _engines(job.voices_dir, job.threads)
    loaded_before = sum(int(getattr(e, "voices_loaded", 0)) for e in engines.values())
    requests = [SpeechRequest(text, job.voice) for text in job.texts]
    try:
        cache_dir = Path(job.cache_dir) if job.cache_dir else None
        spoken = synthesize_all(requests, engine=job.engine, jobs=1, cache_dir=cache_dir,
                                engines=engines)
    except InnerChildError as error:
        return job_error(error)
    loaded = sum(int(getattr(e, "voices_loaded", 0)) for e in engines.values()) - loaded_before
    clips: tuple[ClipData, ...] = ()
    if job.return_clips:
        identity = engines[job.engine].cache_identity(job.voice)
        clips = tuple(
            ClipData(job.engine, cache_key(job.engine, identity, r.text),
                     np.asarray(spoken.clips[r].samples, dtype=np.float32).tobytes(),
                     spoken.clips[r].sample_rate)
            for r in requests)
    return SpeechDone(clips, spoken.synthesized, spoken.model_calls, loaded)


ClipPack = Sequence[ClipData] | SpeechDone


def _fill_cache(cache_dir: str | None, packs: Sequence[ClipPack]) -> None:
    """Store the clips that came with the job in this worker's cache (they win over its own)."""
    import numpy as np

    from innerchild_audio.speech import Clip, ClipCache, resolve_cache_dir

    cache = ClipCache(resolve_cache_dir(cache_dir))
    for pack in packs:
        for clip in (pack.clips if isinstance(pack, SpeechDone) else pack):
            cache.put(clip.engine, clip.key,
                      Clip(np.frombuffer(clip.samples, dtype=np.float32), clip.sample_rate))


def _without_auto(script: Script, auto: str | None, slug: str) -> Script:
    """The script under its output name, its `auto` voices speaking with the run's choice."""
    if auto is None:
        return replace(script, slug=slug)

    def resolved(voice: Voice) -> Voice:
        return replace(voice, engine=auto) if voice.engine == "auto" else voice

    steps = tuple(replace(s, voice=resolved(s.voice)) if isinstance(s, (Say, Breathe)) else s
                  for s in script.steps)
    return replace(script, slug=slug, voice=resolved(script.voice), steps=steps)


def render_session(job: SessionJob, bundle: Bundle, *packs: ClipPack) -> SessionDone | JobError:
    """Render one session in a folder of its own; its files come back as bytes.

    `bundle` is the script and its files (shared by the rows of a batch);
    `packs` are clips for this session (from speech jobs or the caller's cache),
    none when the worker reads the caller's cache folder itself.
    """
    from innerchild_audio.inputs import prepare
    from innerchild_audio.options import RunSettings
    from innerchild_audio.render import render_prepared

    work = Path(tempfile.mkdtemp(prefix="innerchild-job-"))
    try:
        _fill_cache(job.cache_dir, packs)
        script_path = bundle.unpack(work / "src")
        options = job.options
        if bundle.background is not None:
            options = replace(options, background=str(work / "src" / bundle.background))
        if job.auto is not None and options.engine == "auto":
            options = replace(options, engine=job.auto)
        prepared = prepare(script_path, options)
        prepared = replace(prepared, script=_without_auto(prepared.script, job.auto, job.slug),
                           inputs=dict(job.inputs), inputs_hash=job.inputs_hash,
                           recorded_options=dict(job.recorded_options))
        settings = RunSettings(out_dir=work / "out", jobs=1,
                               cache_dir=Path(job.cache_dir) if job.cache_dir else None,
                               voices_dir=Path(job.voices_dir) if job.voices_dir else None)
        result = render_prepared(prepared, settings)
        return SessionDone(
            files=tuple((path.name, path.read_bytes()) for path in result.files),
            duration_ms=result.duration_ms, loudness_lufs=result.loudness_lufs,
            true_peak_dbtp=result.true_peak_dbtp, engine=result.engine, gain_db=result.gain_db,
            timeline=result.timeline, speech_cached=result.speech_cached,
            speech_synthesized=result.speech_synthesized)
    except InnerChildError as error:
        return job_error(error)
    finally:
        shutil.rmtree(work, ignore_errors=True)


def warm_up() -> int:
    """Import what jobs need, so the first job's clock does not include it."""
    import os

    import innerchild_audio.render  # noqa: F401
    import innerchild_audio.speech  # noqa: F401

    return os.getpid()


__all__ = ["ClipData", "JobError", "RemoteError", "SessionDone", "SessionJob", "SpeechDone",
           "SpeechJob", "render_session", "speak", "warm_up"]
