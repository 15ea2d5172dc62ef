"""Assembling a session from its timeline, block by block.

A `Mixer` makes the session front to back in blocks of any size: each block
is zeroed, then the bed, the speech and the cues that overlap it are added
in place (no appends, no overlays). Each event stays inside [start, start +
duration) of the timeline, so a pause window holds nothing but the bed, and
every clip edge is faded so nothing clicks. The samples do not depend on the
block size: an event across a block boundary is added piece by piece, and
the bed keeps a block grid of its own. `mix_session` is the same mixer
filling one session-length buffer.
"""

from __future__ import annotations

import logging
from collections import Counter, deque
from collections.abc import Generator, Mapping
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Final

import numpy as np

from innerchild_audio.audio_io import decode, resample
from innerchild_audio.errors import RenderError, UsageError
from innerchild_audio.mix.bed import BedStream, DuckEnvelope
from innerchild_audio.mix.bowl_tones import (
    CUT_FADE_MS,
    SOUND_EDGE_FADE_MS,
    bowl_strike,
    breath_tone,
    scaled_to_bell_peak,
)
from innerchild_audio.mix.fades import db_to_gain, fade_edges, ms_to_frames
from innerchild_audio.mix.levels import NOMINAL_SPEECH_DB, speech_gains_db
from innerchild_audio.model import Voice
from innerchild_audio.speech.base import Clip
from innerchild_audio.timeline import (
    BellEvent,
    BreathEvent,
    SilenceEvent,
    SoundEvent,
    SpeechEvent,
    SpeechRequest,
    Timeline,
    ToneEvent,
)

log = logging.getLogger(__name__)

SPEECH_EDGE_FADE_MS: Final = 5
DURATION_TOLERANCE_MS: Final = 1  # clip durations are rounded to the ms by both sides
MIN_SAMPLE_RATE: Final = 8000
MAX_SAMPLE_RATE: Final = 192000
MIX_BLOCK_FRAMES: Final = 1 << 18  # about 6 s at 44.1 kHz


def mix_session(timeline: Timeline, clips: Mapping[SpeechRequest, Clip], *,
                sample_rate: int = 44100, channels: int = 1) -> np.ndarray:
    """The session's audio, float32 shaped (frames, channels).

    frames == round(timeline.total_ms * sample_rate / 1000). Speech is levelled
    to NOMINAL_SPEECH_DB active RMS; the bed sits `volume_db` below that and
    ducks `duck_db` further under speech. Levels are left unmastered (peaks may
    exceed full scale only in pathological mixes; `master` sets the final level).
    Stereo carries the mono mix on both channels.

    Raises RenderError when a clip is missing or does not fit its event, or an
    audio file cannot be decoded; UsageError for an unsupported rate or layout.
    """
    mixer = Mixer(timeline, clips, sample_rate=sample_rate, channels=channels)
    out = np.zeros((mixer.frames, channels), dtype=np.float32)
    mono = out[:, 0]  # mixed here; stereo copies it across at the end
    with mixer.session() as session:
        for start in range(0, mixer.frames, MIX_BLOCK_FRAMES):
            session.add_into(mono[start: start + MIX_BLOCK_FRAMES], start)
    if channels == 2:
        out[:, 1] = mono
    return out


class Mixer:
    """A timeline and its clips, ready to be mixed as often as needed, block by block.

    Everything that can fail on the inputs (rates, layout, missing or
    mismatched clips, unknown events) fails here, before any audio is made.
    The mix is mono; `channels` says how many channels carry it. `voice_gains`
    is for a timeline cut from a session: the voices levelled as over the whole
    (by default they are levelled over the speech this timeline holds).
    """

    def __init__(self, timeline: Timeline, clips: Mapping[SpeechRequest, Clip], *,
                 sample_rate: int = 44100, channels: int = 1,
                 voice_gains: Mapping[Voice, float] | None = None):
        if not isinstance(sample_rate, int) or not (
                MIN_SAMPLE_RATE <= sample_rate <= MAX_SAMPLE_RATE):
            raise UsageError(f"sample rate must be {MIN_SAMPLE_RATE} to {MAX_SAMPLE_RATE} Hz, "
                             f"got {sample_rate!r}")
        if channels not in (1, 2):
            raise UsageError(f"channels must be 1 (mono) or 2 (stereo), got {channels!r}")
        self.sample_rate = sample_rate
        self.channels = channels
        self.timeline = timeline
        self.frames = ms_to_frames(timeline.total_ms, sample_rate)
        self._speech = timeline.speech
        _check_clips(self._speech, clips)
        for event in timeline.events:
            if not isinstance(event, (SpeechEvent, SilenceEvent, BreathEvent, BellEvent,
                                      ToneEvent, SoundEvent)):
                raise RenderError(f"cannot mix an event of type {type(event).__name__}")
        self._clips = clips
        self._voice_gains = (dict(voice_gains) if voice_gains is not None
                             else speech_gains_db(clips, (e.request for e in self._speech)))
        self._duck = DuckEnvelope.from_speech(self._speech, sample_rate) if timeline.beds else None
        self._bell_files: dict[str, np.ndarray] = {}

    def blocks(self, block_frames: int = MIX_BLOCK_FRAMES) -> Generator[np.ndarray, None, None]:
        """The mono mix, front to back, in new float32 arrays of `block_frames` frames
        (the last one shorter). Each call mixes the session anew."""
        if block_frames <= 0:
            raise ValueError(f"block_frames must be positive, got {block_frames}")
        with self.session() as session:
            for start in range(0, self.frames, block_frames):
                block = np.zeros(min(block_frames, self.frames - start), dtype=np.float32)
                session.add_into(block, start)
                yield block

    def session(self) -> _MixPass:
        """One pass over the session (a context manager: it owns a worker thread)."""
        return _MixPass(self, self._clips, self._voice_gains, self._duck, self._bell_files)


class _MixPass:
    """The state of one front-to-back mix: bed sources, speech being prepared, cues."""

    def __init__(self, mixer: Mixer, clips: Mapping[SpeechRequest, Clip],
                 voice_gains: Mapping[Voice, float], duck: DuckEnvelope | None,
                 bell_files: dict[str, np.ndarray]):
        rate = mixer.sample_rate
        timeline = mixer.timeline
        # speech is resampled on a second core while this one renders the bed
        self._pool = ThreadPoolExecutor(max_workers=1)
        self._bed = (BedStream(timeline.beds, duck, mixer.frames, rate, NOMINAL_SPEECH_DB)
                     if duck is not None else None)
        self._speech = _SpeechTrack(timeline.speech, clips, voice_gains, rate, mixer.frames,
                                    self._pool)
        self._cues = _CueTrack(timeline.events, rate, mixer.frames, bell_files)
        self._position = 0

    def __enter__(self) -> _MixPass:
        return self

    def __exit__(self, *exc: object) -> None:
        self._pool.shutdown(wait=True, cancel_futures=True)

    def add_into(self, out: np.ndarray, start: int) -> None:
        """Add frames [start, start + len(out)) of the mix into `out` (zeros, mono).

        Stretches must follow each other without gaps or overlaps.
        """
        if start != self._position:
            raise ValueError(f"the mix is made in order: expected frame {self._position}, "
                             f"got {start}")
        stop = start + len(out)
        self._speech.prepare_until(stop)  # on the worker, while the bed is made here
        if self._bed is not None:
            self._bed.add_into(out, start)
        self._speech.add_into(out, start)
        self._cues.add_into(out, start)
        self._position = stop


def _add_overlap(out: np.ndarray, out_start: int, samples: np.ndarray, at: int) -> None:
    """Add the part of `samples` (placed at frame `at`) that falls inside `out`."""
    a = max(at, out_start)
    b = min(at + len(samples), out_start + len(out))
    if a < b:
        out[a - out_start: b - out_start] += samples[a - at: b - at]


def _check_clips(speech: tuple[SpeechEvent, ...], clips: Mapping[SpeechRequest, Clip]) -> None:
    for event in speech:
        clip = clips.get(event.request)
        if clip is None:
            raise RenderError(f"{event.source}: no speech clip for {event.request.text!r}")
        if abs(clip.duration_ms - event.duration_ms) > DURATION_TOLERANCE_MS:
            raise RenderError(
                f"{event.source}: the clip for {event.request.text!r} lasts {clip.duration_ms} ms "
                f"but the timeline gives it {event.duration_ms} ms; build the timeline from "
                "the synthesized clip durations")


class _SpeechTrack:
    """Speech events in timeline order, each clip prepared on a worker thread.

    Clips are prepared for the block being made and the next one, at most
    AHEAD ahead, so memory stays small; a sentence used more than once is
    prepared once.
    """

    AHEAD: Final = 8

    def __init__(self, speech: tuple[SpeechEvent, ...], clips: Mapping[SpeechRequest, Clip],
                 voice_gains: Mapping[Voice, float], sample_rate: int, frames: int,
                 pool: ThreadPoolExecutor):
        self._events = [(ms_to_frames(e.start_ms, sample_rate),
                         min(ms_to_frames(e.start_ms + e.duration_ms, sample_rate), frames), e)
                        for e in speech]
        self._next = 0  # the first event not yet submitted
        self._clips = clips
        self._gains = voice_gains
        self._rate = sample_rate
        self._pool = pool
        self._uses = Counter(e.request for e in speech)
        self._shared: dict[SpeechRequest, Future[np.ndarray]] = {}
        # events submitted and not yet finished: [start, stop, future, samples or None]
        self._pending: deque[list] = deque()
        self._fade = ms_to_frames(SPEECH_EDGE_FADE_MS, sample_rate)
        self._lookahead = 0

    def prepare_until(self, stop: int) -> None:
        """Submit the events that start before `stop` and, within AHEAD, the next block's."""
        horizon = stop + max(stop - self._lookahead, 0)
        self._lookahead = stop
        while self._next < len(self._events):
            start, end, event = self._events[self._next]
            if start >= stop and (start >= horizon or len(self._pending) >= self.AHEAD):
                break
            self._next += 1
            if start >= end:
                continue  # nothing of it sounds
            future = self._shared.get(event.request)
            if future is None:
                clip = self._clips[event.request]
                future = self._pool.submit(_prepare_speech, clip,
                                           self._gains[event.request.voice], self._rate)
                if self._uses[event.request] > 1:
                    self._shared[event.request] = future
            self._pending.append([start, end, future, None])

    def add_into(self, out: np.ndarray, out_start: int) -> None:
        out_stop = out_start + len(out)
        for entry in self._pending:
            start, end, future, samples = entry
            if start >= out_stop:
                break
            if samples is None:
                samples = entry[3] = _cut(future.result(), end - start, self._fade)
            _add_overlap(out, out_start, samples, start)
        while self._pending and self._pending[0][1] <= out_stop:
            self._pending.popleft()


class _CueTrack:
    """Bells, breathing tones and sound files: each made when the mix reaches it."""

    def __init__(self, events: tuple, sample_rate: int, frames: int,
                 bell_files: dict[str, np.ndarray]):
        self._events = []
        for event in events:
            if isinstance(event, (SpeechEvent, SilenceEvent, BreathEvent)):
                continue  # speech has its own track; silences and breaths add nothing
            start = ms_to_frames(event.start_ms, sample_rate)
            stop = min(ms_to_frames(event.start_ms + event.duration_ms, sample_rate), frames)
            if start < stop:
                self._events.append((start, stop, event))
        self._next = 0
        self._rate = sample_rate
        self._bell_files = bell_files
        self._active: list[tuple[int, list[tuple[int, np.ndarray]]]] = []  # stop, pieces

    def add_into(self, out: np.ndarray, out_start: int) -> None:
        out_stop = out_start + len(out)
        while self._next < len(self._events) and self._events[self._next][0] < out_stop:
            start, stop, event = self._events[self._next]
            self._active.append((stop, self._pieces(event, start, stop)))
            self._next += 1
        for _, pieces in self._active:  # in timeline order, as they were added
            for at, samples in pieces:
                _add_overlap(out, out_start, samples, at)
        self._active = [a for a in self._active if a[0] > out_stop]

    def _pieces(self, event: BellEvent | ToneEvent | SoundEvent, start: int, stop: int
                ) -> list[tuple[int, np.ndarray]]:
        """What the event adds: (frame, samples) pieces, all inside [start, stop)."""
        rate = self._rate
        if isinstance(event, BellEvent):
            strike = self._strike(event)
            cut = ms_to_frames(CUT_FADE_MS, rate)
            pieces = []
            for k in range(event.strikes):
                at = ms_to_frames(event.start_ms + k * event.gap_ms, rate)
                if at < stop:
                    pieces.append((at, _cut(strike, stop - at, cut)))
            return pieces
        if isinstance(event, ToneEvent):
            return [(start, breath_tone(stop - start, rate, rising=event.rising))]
        decoded = decode(event.file, rate, limit_ms=event.duration_ms + 1)
        samples = decoded[: stop - start] * np.float32(db_to_gain(event.gain_db))
        edge = ms_to_frames(SOUND_EDGE_FADE_MS, rate)
        return [(start, fade_edges(samples, edge, edge))]

    def _strike(self, event: BellEvent) -> np.ndarray:
        if event.sound is None:
            return bowl_strike(self._rate)
        key = str(event.sound)
        if key not in self._bell_files:
            strike = scaled_to_bell_peak(decode(event.sound, self._rate))
            edge = ms_to_frames(SOUND_EDGE_FADE_MS, self._rate)
            self._bell_files[key] = fade_edges(strike, edge, edge)
        return self._bell_files[key]


def _prepare_speech(clip: Clip, gain_db: float, sample_rate: int) -> np.ndarray:
    """The clip at the session rate and the voice's level, its edges faded (a new array)."""
    original = np.asarray(clip.samples, dtype=np.float32)
    samples = resample(original, clip.sample_rate, sample_rate)
    gain = np.float32(db_to_gain(gain_db))
    if samples is original or gain != 1:  # never fade the caller's clip in place
        samples = samples * gain
    fade = ms_to_frames(SPEECH_EDGE_FADE_MS, sample_rate)
    return fade_edges(samples, fade, fade)


def _cut(samples: np.ndarray, room: int, cut_fade: int) -> np.ndarray:
    """`samples` cut to `room` frames; a cut end gets a fade of `cut_fade` frames (a copy)."""
    if len(samples) <= room:
        return samples
    return fade_edges(samples[:max(room, 0)].copy(), 0, cut_fade)
