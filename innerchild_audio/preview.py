"""Previews: one part of a session, exactly as the whole session would play it there.

    preview_script(path, RenderOptions(), RunSettings(), chapter="Arriving")  -> PreviewResult
    preview_script(path, options, settings, from_ms=120_000, to_ms=210_000)

The part keeps the whole session's timing, bed, ducking and loudness gain; it
is not a snippet mastered on its own. What makes it quick:

- Only the speech near the part is synthesized. Every other sentence takes
  its cached clip's duration, or an estimate when it has none yet (the
  result counts those: the part may then move a little once they exist).
- The mastering gain comes from one pass over the whole mix, as a render's
  first pass measures it, without the second pass or encoding (at the MP3's
  own rate: at half of it the limiter's forecast, and so the gain, moved by
  up to 0.1 dB). Sentences not synthesized yet stand silent in that pass.
- Then only the part is mixed at the full rate (its voice levelled over the
  whole session's speech, as in the render), limited from a few seconds
  before it, and encoded. The bed is run up to it (so its samples are the
  session's) on a second core while the session is measured.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING, Final

import numpy as np

from innerchild_audio.atomic import Staging
from innerchild_audio.errors import UsageError
from innerchild_audio.inputs import prepare
from innerchild_audio.options import RenderOptions, RunSettings
from innerchild_audio.plan import build_timeline, estimate_speech_ms, lay_out
from innerchild_audio.speech.base import Clip
from innerchild_audio.timeline import SpeechRequest, Timeline
from innerchild_audio.units import format_duration

if TYPE_CHECKING:
    from innerchild_audio.model import Voice

log = logging.getLogger(__name__)

MARGIN_MS: Final = 3000  # speech, cues and the limiter this close to the part shape it
LOUDNESS_RATE: Final = 44100  # the measuring pass runs at the MP3's rate, as a render's does
MAX_ROUNDS: Final = 6  # synthesizing moves the part; it settles in a round or two
ALIGN_FRAMES: Final = 4096  # the limiter starts on the session's own block grid
PART_BLOCK_FRAMES: Final = 1 << 16  # small blocks: the encoder starts early
OUTPUT_SUFFIXES: Final = (".mp3", ".wav")


@dataclass(frozen=True)
class PreviewResult:
    path: Path
    start_ms: int
    end_ms: int
    session_ms: int
    chapter: str | None
    gain_db: float
    synthesized: int  # sentences made for this preview
    estimated: int  # sentences elsewhere whose durations are still estimates
    timeline: Timeline

    def summary(self) -> str:
        part = f"chapter '{self.chapter}', " if self.chapter else ""
        line = (f"{self.path}  {format_duration(self.end_ms - self.start_ms)}  {part}"
                f"starts at {clock(self.start_ms)} of {format_duration(self.session_ms)} "
                f"(to {clock(self.end_ms)})")
        if self.estimated:
            line += (f"; {self.estimated} sentence(s) elsewhere not synthesized yet: times "
                     "may shift a little in the full render")
        return line


def clock(ms: int) -> str:
    """`2:05.3`, `1:02:05.0`: where a moment is in the session."""
    tenths = round(ms / 100)
    minutes, seconds = divmod(tenths / 10, 60)
    hours, minutes = divmod(int(minutes), 60)
    text = f"{minutes}:{seconds:04.1f}"
    return f"{hours}:{minutes:02d}:{seconds:04.1f}" if hours else text


def part_range(timeline: Timeline, *, chapter: str | None = None, from_ms: int | None = None,
               to_ms: int | None = None) -> tuple[int, int, str | None]:
    """[start, end) of the part in the session, and the chapter's title when one was named."""
    total = timeline.total_ms
    if chapter is not None:
        if from_ms is not None or to_ms is not None:
            raise UsageError("give --chapter or --from/--to, not both")
        marks = sorted(timeline.chapters, key=lambda m: m.start_ms)
        wanted = chapter.strip().casefold()
        for i, mark in enumerate(marks):
            if mark.title.casefold() == wanted or (wanted.isdigit() and int(wanted) == i + 1):
                end = marks[i + 1].start_ms if i + 1 < len(marks) else total
                if end <= mark.start_ms:
                    raise UsageError(f"chapter '{mark.title}' is empty")
                return mark.start_ms, end, mark.title
        names = ", ".join(f"'{m.title}'" for m in marks) or "none"
        raise UsageError(f"no chapter '{chapter}'; the chapters are {names} (or their numbers)")
    if from_ms is None and to_ms is None:
        raise UsageError("say which part: --chapter NAME, or --from and/or --to")
    start = from_ms or 0
    end = total if to_ms is None else min(to_ms, total)
    if start >= total:
        raise UsageError(f"--from {format_duration(start)} is past the end of the session "
                         f"({format_duration(total)})")
    if end <= start:
        raise UsageError(f"--to must come after --from ({format_duration(end)} <= "
                         f"{format_duration(start)})")
    return start, end, None


def default_output(slug: str, out_dir: Path) -> Path:
    return out_dir / f"{slug}.preview.mp3"


def preview_script(path: Path | str, options: RenderOptions | None = None,
                   settings: RunSettings | None = None, *, chapter: str | None = None,
                   from_ms: int | None = None, to_ms: int | None = None,
                   out: Path | None = None) -> PreviewResult:
    """Render one part of a session (a chapter, or from/to) to `out` (.mp3 or .wav;
    default `{slug}.preview.mp3` in `settings.out_dir`).

    Raises ScriptError or UsageError for invalid input (an unknown chapter names
    the chapters there are), SpeechError or RenderError when the work fails.
    """
    from innerchild_audio import speech
    from innerchild_audio.mix.levels import speech_gains_db

    options = options or RenderOptions()
    settings = settings or RunSettings()
    prepared = prepare(Path(path), options)
    script = prepared.script
    out = Path(out) if out is not None else default_output(script.slug, settings.out_dir)
    if out.suffix.lower() not in OUTPUT_SUFFIXES:
        raise UsageError(f"{out}: a preview is written as .mp3 or .wav")
    layout = lay_out(script, warnings=options.warnings)
    target = prepared.target_ms
    clips = speech.cached_clips(layout.requests(), engine=options.engine,
                                cache_dir=settings.cache_dir, voices_dir=settings.voices_dir)
    synthesized = 0
    for round_ in range(MAX_ROUNDS + 1):
        timeline = build_timeline(layout, _durations(layout.requests(), clips), target)
        start, end, title = part_range(timeline, chapter=chapter, from_ms=from_ms, to_ms=to_ms)
        needed = [r for r in _near(timeline, start, end) if r not in clips]
        if not needed:
            break
        if round_ == MAX_ROUNDS - 1:  # still moving: make them all, and it holds still
            needed = [r for r in timeline.requests() if r not in clips]
        settings.report(script.slug, "speech", f"{len(needed)} sentences near the part",
                        total=len(needed))
        made = speech.synthesize_all(needed, engine=options.engine, jobs=settings.jobs,
                                     cache_dir=settings.cache_dir,
                                     voices_dir=settings.voices_dir)
        clips.update(made.clips)
        synthesized += made.synthesized
    estimated = sum(r not in clips for r in timeline.requests())
    settings.report(script.slug, "mix", f"measuring {format_duration(timeline.total_ms)}")
    # the voice is levelled over the whole session's speech, as the render levels it
    voice_gains = speech_gains_db(clips, timeline.requests())
    part = _PartMix(timeline, clips, voice_gains, options, start, end)
    # the bed is run up to the part on a second core while the session is measured
    with ThreadPoolExecutor(max_workers=1) as pool:
        run_up = pool.submit(part.run_up)
        gain_db, ceiling = _measured(timeline, clips, voice_gains, options)
        run_up.result()
    settings.report(script.slug, "encode", f"mixing {clock(start)} to {clock(end)}")
    _write(out, part.blocks(gain_db, ceiling), options)
    log.info("preview %s: %s to %s, gain %+.2f dB", out, clock(start), clock(end), gain_db)
    return PreviewResult(out, start, end, timeline.total_ms, title, gain_db, synthesized,
                         estimated, timeline)


def _durations(requests: list[SpeechRequest], clips: dict[SpeechRequest, Clip]
               ) -> dict[SpeechRequest, int]:
    return {r: clips[r].duration_ms if r in clips else estimate_speech_ms(r.text, r.voice.rate)
            for r in requests}


def _near(timeline: Timeline, start: int, end: int) -> list[SpeechRequest]:
    """Sentences that sound within MARGIN_MS of [start, end)."""
    return list(dict.fromkeys(
        e.request for e in timeline.speech
        if e.start_ms < end + MARGIN_MS and e.start_ms + e.duration_ms > start - MARGIN_MS))


def _stand_ins(timeline: Timeline, clips: dict[SpeechRequest, Clip], rate: int
               ) -> dict[SpeechRequest, Clip]:
    """Every clip the timeline needs: silence of the estimated length where none exists."""
    full = dict(clips)
    for event in timeline.speech:
        if event.request not in full:
            full[event.request] = Clip(np.zeros(round(event.duration_ms * rate / 1000),
                                                dtype=np.float32), rate)
    return full


def _measured(timeline: Timeline, clips: dict[SpeechRequest, Clip],
              voice_gains: Mapping[Voice, float], options: RenderOptions
              ) -> tuple[float, float]:
    """The whole session's mastering gain and limiter ceiling, as a render sets them,
    from a mix at LOUDNESS_RATE."""
    from innerchild_audio.export.mp3 import overshoot_allowance_db
    from innerchild_audio.master import master_stream
    from innerchild_audio.mix import Mixer

    mixer = Mixer(timeline, _stand_ins(timeline, clips, LOUDNESS_RATE),
                  sample_rate=LOUDNESS_RATE, channels=options.channels, voice_gains=voice_gains)
    stream = master_stream(
        mixer, headroom_db=overshoot_allowance_db(options.bitrate, options.channels))
    return stream.settle(), stream.ceiling  # a short session's gain as its render corrects it


def _part_timeline(timeline: Timeline, start: int, end: int) -> Timeline:
    """The session with only the events that sound near the part (beds and length kept)."""
    kept = tuple(e for e in timeline.events
                 if e.start_ms < end + MARGIN_MS and e.start_ms + e.duration_ms > start - MARGIN_MS)
    return replace(timeline, events=kept)


class _PartMix:
    """Frames [start, end) of the mastered session, made in two steps: `run_up` runs
    the mix (only the bed sounds there) up to a little before the part; `blocks`
    then limits and hands out the part, float32 blocks shaped (frames, channels),
    as they are asked for (so encoding runs beside)."""

    def __init__(self, timeline: Timeline, clips: dict[SpeechRequest, Clip],
                 voice_gains: Mapping[Voice, float], options: RenderOptions, start_ms: int,
                 end_ms: int):
        from innerchild_audio.audio_io import MP3_SAMPLE_RATE
        from innerchild_audio.mix import Mixer
        from innerchild_audio.mix.fades import ms_to_frames

        rate = MP3_SAMPLE_RATE
        part = _part_timeline(timeline, start_ms, end_ms)
        self._mixer = Mixer(part, {e.request: clips[e.request] for e in part.speech},
                            sample_rate=rate, channels=options.channels,
                            voice_gains=voice_gains)
        self._options = options
        self._rate = rate
        self._first = ms_to_frames(start_ms, rate)
        self._last = min(ms_to_frames(end_ms, rate), self._mixer.frames)
        self._lead = (ms_to_frames(max(start_ms - MARGIN_MS, 0), rate)
                      // ALIGN_FRAMES * ALIGN_FRAMES)
        self._stop = min(ms_to_frames(end_ms + MARGIN_MS, rate), self._mixer.frames)
        self._mix = self._mixer.blocks(PART_BLOCK_FRAMES)
        self._at = 0  # the frame the mixer hands out next
        self._leftover = np.zeros(0, dtype=np.float32)  # mixed from the lead on, not used yet

    def run_up(self) -> None:
        while self._at < self._lead:
            block = next(self._mix)
            self._at += len(block)
            if self._at > self._lead:
                self._leftover = block[len(block) - (self._at - self._lead):]

    def blocks(self, gain_db: float, ceiling: float) -> Iterator[np.ndarray]:
        from innerchild_audio.master.limiter import StreamLimiter

        self.run_up()
        limiter = StreamLimiter(ceiling, self._rate)
        gain = np.float32(10.0 ** (gain_db / 20.0))
        position = self._lead  # the frame the limiter hands out next

        def kept(done: np.ndarray) -> np.ndarray | None:
            nonlocal position
            a, b = max(position, self._first), min(position + len(done), self._last)
            position += len(done)
            if a >= b:
                return None
            piece = done[a - (position - len(done)): b - (position - len(done))]
            if self._options.channels == 1:
                return piece[:, np.newaxis].copy()
            return np.repeat(piece[:, np.newaxis], self._options.channels, axis=1)

        try:
            pending = self._leftover
            at = self._lead
            while at < self._stop:
                if not len(pending):
                    pending = next(self._mix)
                piece = pending[: self._stop - at] * gain
                at += len(piece)
                pending = pending[len(piece):]
                if (out := kept(limiter.push(piece))) is not None:
                    yield out
        finally:
            self._mix.close()
        if (out := kept(limiter.finish())) is not None:
            yield out


def _write(out: Path, blocks: Iterator[np.ndarray], options: RenderOptions) -> None:
    from innerchild_audio.audio_io import MP3_SAMPLE_RATE
    from innerchild_audio.export.mp3 import encode_blocks

    with Staging() as staging:
        temp = staging.temp_for(out)
        if out.suffix.lower() == ".wav":
            from scipy.io import wavfile

            wavfile.write(temp, MP3_SAMPLE_RATE, np.concatenate(list(blocks)))
        else:
            encode_blocks(blocks, MP3_SAMPLE_RATE, options.channels, temp,
                          bitrate_kbps=options.bitrate)
        staging.commit()
