"""Assembling a session from its timeline, in one pass into one buffer.

The buffer is allocated once at its final length; every event is added into
its own window of it in place (no appends, no overlays). Each event stays
inside [start, start + duration) of the timeline, so a pause window holds
nothing but the bed. Every clip edge is faded so nothing clicks.
"""

from __future__ import annotations

import logging
from collections import Counter, deque
from collections.abc import Mapping
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Final

import numpy as np

from innerchild_audio.errors import RenderError, UsageError
from innerchild_audio.mix.bed import DuckEnvelope, add_beds
from innerchild_audio.mix.decode import decode_file, resample
from innerchild_audio.mix.fades import db_to_gain, fade_edges, ms_to_frames
from innerchild_audio.mix.levels import NOMINAL_SPEECH_DB, speech_gains_db
from innerchild_audio.mix.sounds import (
    CUT_FADE_MS,
    SOUND_EDGE_FADE_MS,
    bowl_strike,
    breath_tone,
    scaled_to_bell_peak,
)
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
    if not isinstance(sample_rate, int) or not MIN_SAMPLE_RATE <= sample_rate <= MAX_SAMPLE_RATE:
        raise UsageError(f"sample rate must be {MIN_SAMPLE_RATE} to {MAX_SAMPLE_RATE} Hz, "
                         f"got {sample_rate!r}")
    if channels not in (1, 2):
        raise UsageError(f"channels must be 1 (mono) or 2 (stereo), got {channels!r}")
    speech = timeline.speech
    _check_clips(speech, clips)
    frames = ms_to_frames(timeline.total_ms, sample_rate)
    out = np.zeros((frames, channels), dtype=np.float32)
    mono = out[:, 0]  # mixed here; stereo copies it across at the end

    voice_gains = speech_gains_db(clips, (e.request for e in speech))
    with ThreadPoolExecutor(max_workers=1) as pool:
        # speech is resampled on a second core while this one renders the bed
        voices = _SpeechPlacer(mono, speech, clips, voice_gains, sample_rate, pool)
        if timeline.beds:
            duck = DuckEnvelope.from_speech(speech, sample_rate)
            add_beds(mono, timeline.beds, duck, sample_rate, NOMINAL_SPEECH_DB,
                     after_block=voices.place_ready)
        voices.place_all()

    bell_files: dict[str, np.ndarray] = {}
    for event in timeline.events:
        start = ms_to_frames(event.start_ms, sample_rate)
        stop = min(ms_to_frames(event.start_ms + event.duration_ms, sample_rate), frames)
        if start >= stop or isinstance(event, (SpeechEvent, SilenceEvent, BreathEvent)):
            continue  # speech is placed above; silences and breaths add nothing
        if isinstance(event, BellEvent):
            _add_bell(mono, event, start, stop, sample_rate, bell_files)
        elif isinstance(event, ToneEvent):
            mono[start:stop] += breath_tone(stop - start, sample_rate, rising=event.rising)
        elif isinstance(event, SoundEvent):
            _add_sound(mono, event, start, stop, sample_rate)
        else:
            raise RenderError(f"cannot mix an event of type {type(event).__name__}")

    if channels == 2:
        out[:, 1] = mono
    return out


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


class _SpeechPlacer:
    """Speech events placed in timeline order, each clip prepared on a worker thread.

    At most AHEAD clips wait prepared at a time, so memory stays small; a
    sentence used more than once is prepared once.
    """

    AHEAD: Final = 8

    def __init__(self, mono: np.ndarray, speech: tuple[SpeechEvent, ...],
                 clips: Mapping[SpeechRequest, Clip], voice_gains: Mapping[Voice, float],
                 sample_rate: int, pool: ThreadPoolExecutor):
        self._mono = mono
        self._events = iter(speech)
        self._clips = clips
        self._gains = voice_gains
        self._rate = sample_rate
        self._pool = pool
        self._uses = Counter(e.request for e in speech)
        self._shared: dict[SpeechRequest, Future[np.ndarray]] = {}
        self._waiting: deque[tuple[SpeechEvent, Future[np.ndarray]]] = deque()
        self._fade = ms_to_frames(SPEECH_EDGE_FADE_MS, sample_rate)
        self._frames = len(mono)
        self._top_up()

    def _top_up(self) -> None:
        while len(self._waiting) < self.AHEAD:
            event = next(self._events, None)
            if event is None:
                return
            future = self._shared.get(event.request)
            if future is None:
                clip = self._clips[event.request]
                future = self._pool.submit(_prepare_speech, clip,
                                           self._gains[event.request.voice], self._rate)
                if self._uses[event.request] > 1:
                    self._shared[event.request] = future
            self._waiting.append((event, future))

    def _place_next(self) -> None:
        event, future = self._waiting.popleft()
        start = ms_to_frames(event.start_ms, self._rate)
        stop = min(ms_to_frames(event.start_ms + event.duration_ms, self._rate), self._frames)
        if start < stop:
            _place(self._mono, future.result(), start, stop, self._fade)
        self._top_up()

    def place_ready(self) -> None:
        while self._waiting and self._waiting[0][1].done():
            self._place_next()

    def place_all(self) -> None:
        while self._waiting:
            self._place_next()


def _prepare_speech(clip: Clip, gain_db: float, sample_rate: int) -> np.ndarray:
    """The clip at the session rate and the voice's level, its edges faded (a new array)."""
    original = np.asarray(clip.samples, dtype=np.float32)
    samples = resample(original, clip.sample_rate, sample_rate)
    gain = np.float32(db_to_gain(gain_db))
    if samples is original or gain != 1:  # never fade the caller's clip in place
        samples = samples * gain
    fade = ms_to_frames(SPEECH_EDGE_FADE_MS, sample_rate)
    return fade_edges(samples, fade, fade)


def _place(mono: np.ndarray, samples: np.ndarray, start: int, stop: int, cut_fade: int) -> None:
    """Add `samples` at `start`, cut at `stop`; a cut end gets a fade of `cut_fade` frames."""
    n = min(len(samples), stop - start)
    if n <= 0:
        return
    if n < len(samples):
        samples = fade_edges(samples[:n].copy(), 0, cut_fade)
    mono[start: start + n] += samples


def _add_bell(mono: np.ndarray, event: BellEvent, start: int, stop: int, sample_rate: int,
              bell_files: dict[str, np.ndarray]) -> None:
    if event.sound is None:
        strike = bowl_strike(sample_rate)
    else:
        key = str(event.sound)
        if key not in bell_files:
            strike = scaled_to_bell_peak(decode_file(event.sound, sample_rate))
            edge = ms_to_frames(SOUND_EDGE_FADE_MS, sample_rate)
            bell_files[key] = fade_edges(strike, edge, edge)
        strike = bell_files[key]
    cut = ms_to_frames(CUT_FADE_MS, sample_rate)
    for k in range(event.strikes):
        at = ms_to_frames(event.start_ms + k * event.gap_ms, sample_rate)
        _place(mono, strike, at, stop, cut)


def _add_sound(mono: np.ndarray, event: SoundEvent, start: int, stop: int,
               sample_rate: int) -> None:
    decoded = decode_file(event.file, sample_rate)
    samples = decoded[: stop - start] * np.float32(db_to_gain(event.gain_db))
    edge = ms_to_frames(SOUND_EDGE_FADE_MS, sample_rate)
    _place(mono, fade_edges(samples, edge, edge), start, stop, edge)
