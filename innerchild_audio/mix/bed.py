"""The background bed: looped or generated, faded, ducked under the voice.

Levels: the bed of a span sits at `reference_db + volume_db` RMS, where the
reference is the voice's level (see `levels.NOMINAL_SPEECH_DB`). Ducking is
a gain envelope computed from the timeline's speech events (never from the
audio): the bed goes down by `duck_db` while speech sounds, with smooth
ramps, and short gaps between sentences stay ducked so the bed does not pump.

Spans that meet (a mid-session change) crossfade over the later span's
fade-in: two different sounds with equal-power curves (they are unrelated,
so their powers add); the same sound continues as one stream whose level
glides to the new setting (a crossfade of a signal with itself).

Everything is rendered in blocks, on a grid of its own, into whatever stretch
of the mix is being made: no session-length bed, envelope or noise array
ever exists.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Final

import numpy as np

from innerchild_audio.mix.bed_sources import open_source, stable_seed
from innerchild_audio.mix.fades import db_to_gain, fall, ms_to_frames, rise
from innerchild_audio.timeline import BedSpan, SpeechEvent

log = logging.getLogger(__name__)

DUCK_ATTACK_MS: Final = 200  # the bed is fully down when the voice starts
DUCK_RELEASE_MS: Final = 400  # and back up this long after it stops
DUCK_MERGE_GAP_MS: Final = 1600  # speech gaps shorter than this stay ducked (sentence pauses)
MIN_BED_FADE_MS: Final = 20  # even a fade of 0 is this long: a bed never starts with a step
BED_BLOCK_FRAMES: Final = 1 << 17  # about 3 s per block at 44.1 kHz


class DuckEnvelope:
    """How present the voice is, 0 to 1, frame by frame, from the speech events."""

    def __init__(self, intervals: np.ndarray, attack: int, release: int):
        self._starts = intervals[:, 0].copy() if len(intervals) else np.zeros(0, np.int64)
        self._ends = intervals[:, 1].copy() if len(intervals) else np.zeros(0, np.int64)
        self._attack = attack
        self._release = release

    @classmethod
    def from_speech(cls, speech: Sequence[SpeechEvent], sample_rate: int) -> DuckEnvelope:
        spans = sorted((ms_to_frames(e.start_ms, sample_rate),
                        ms_to_frames(e.start_ms + e.duration_ms, sample_rate))
                       for e in speech if e.duration_ms > 0)
        gap = ms_to_frames(DUCK_MERGE_GAP_MS, sample_rate)
        merged: list[list[int]] = []
        for start, end in spans:
            if merged and start - merged[-1][1] < gap:
                merged[-1][1] = max(merged[-1][1], end)
            else:
                merged.append([start, end])
        return cls(np.array(merged, dtype=np.int64).reshape(-1, 2),
                   ms_to_frames(DUCK_ATTACK_MS, sample_rate),
                   ms_to_frames(DUCK_RELEASE_MS, sample_rate))

    @property
    def intervals(self) -> list[tuple[int, int]]:
        """Frames where the bed is fully ducked (merged speech), for inspection."""
        return list(zip(self._starts.tolist(), self._ends.tolist(), strict=True))

    def activity(self, start: int, stop: int) -> float | np.ndarray:
        """Voice presence over frames [start, stop): a float when constant there."""
        first = int(np.searchsorted(self._ends + self._release, start, side="right"))
        last = int(np.searchsorted(self._starts - self._attack, stop, side="left"))
        if first >= last:
            return 0.0
        if last - first == 1 and self._starts[first] <= start and stop <= self._ends[first]:
            return 1.0
        act = np.zeros(stop - start, dtype=np.float32)
        for s, e in zip(self._starts[first:last].tolist(), self._ends[first:last].tolist(),
                        strict=True):
            _max_into(act, start, s - self._attack, rise(self._attack))
            a, b = max(s, start) - start, min(e, stop) - start
            if a < b:
                act[a:b] = 1.0
            _max_into(act, start, e, fall(self._release))
        return act


def _max_into(target: np.ndarray, target_start: int, curve_start: int, curve: np.ndarray) -> None:
    """target = max(target, curve) where the curve (placed at curve_start) overlaps it."""
    a = max(curve_start, target_start)
    b = min(curve_start + len(curve), target_start + len(target))
    if a < b:
        view = target[a - target_start: b - target_start]
        np.maximum(view, curve[a - curve_start: b - curve_start], out=view)


@dataclass(frozen=True)
class _SpanPlan:
    """One span in frames: [start, stop) includes the crossfade into the next span."""

    sound: str
    start: int
    stop: int
    fade_in: int
    fade_in_equal_power: bool
    fade_out_start: int
    fade_out: int
    fade_out_equal_power: bool
    level: float  # linear RMS
    duck_db: float

    def weight(self, a: int, b: int) -> float | np.ndarray:
        """The span's fade weight over [a, b)."""
        if self.start + self.fade_in <= a and b <= self.fade_out_start:
            return 1.0
        w = np.zeros(b - a, dtype=np.float32)
        lo, hi = max(a, self.start), min(b, self.stop)
        if lo < hi:
            w[lo - a: hi - a] = 1.0
        _mul_into(w, a, self.start, rise(self.fade_in, equal_power=self.fade_in_equal_power))
        _mul_into(w, a, self.fade_out_start,
                  fall(self.fade_out, equal_power=self.fade_out_equal_power))
        return w


def _mul_into(target: np.ndarray, target_start: int, curve_start: int, curve: np.ndarray) -> None:
    a = max(curve_start, target_start)
    b = min(curve_start + len(curve), target_start + len(target))
    if a < b:
        target[a - target_start: b - target_start] *= curve[a - curve_start: b - curve_start]


def _plan_spans(beds: Sequence[BedSpan], total: int, sample_rate: int,
                reference_db: float) -> list[list[_SpanPlan]]:
    """Spans in frames, grouped into runs of one continuous sound."""
    spans = [b for b in sorted(beds, key=lambda b: b.start_ms) if b.end_ms > b.start_ms]
    bounds = [(min(ms_to_frames(b.start_ms, sample_rate), total),
               min(ms_to_frames(b.end_ms, sample_rate), total)) for b in spans]
    # fade lengths inside each span, shrunk together when the span is too short for both
    fades: list[tuple[int, int]] = []
    for i, span in enumerate(spans):
        length = bounds[i][1] - bounds[i][0]
        joined_after = i + 1 < len(spans) and spans[i + 1].start_ms == span.end_ms
        shortest = ms_to_frames(MIN_BED_FADE_MS, sample_rate)
        fi = max(ms_to_frames(span.background.fade_in_ms, sample_rate), shortest)
        fo = 0 if joined_after else max(ms_to_frames(span.background.fade_out_ms, sample_rate),
                                         shortest)
        if fi + fo > length:
            fi, fo = fi * length // (fi + fo), fo * length // (fi + fo)
        fades.append((fi, fo))
    runs: list[list[_SpanPlan]] = []
    for i, span in enumerate(spans):
        start, end = bounds[i]
        joined_before = i > 0 and spans[i - 1].end_ms == span.start_ms
        joined_after = i + 1 < len(spans) and spans[i + 1].start_ms == span.end_ms
        same_before = joined_before and spans[i - 1].background.sound == span.background.sound
        same_after = joined_after and spans[i + 1].background.sound == span.background.sound
        fi, fo = fades[i]
        if joined_after:
            fo = fades[i + 1][0]  # fade out over the next span's fade-in
            fo_start, stop = end, end + fo
        else:
            fo_start, stop = end - fo, end
        plan = _SpanPlan(
            sound=span.background.sound, start=start, stop=stop,
            fade_in=fi, fade_in_equal_power=joined_before and not same_before,
            fade_out_start=fo_start, fade_out=fo,
            fade_out_equal_power=joined_after and not same_after,
            level=db_to_gain(reference_db + span.background.volume_db),
            duck_db=span.background.duck_db,
        )
        if same_before:
            runs[-1].append(plan)
        else:
            runs.append([plan])
    return runs


class BedStream:
    """Every bed span, added into consecutive stretches of the mono mix on request.

    Each run of one sound is rendered on its own grid of BED_BLOCK_FRAMES
    blocks from the run's start, whatever stretches are asked for, so the
    samples never depend on how the session is cut into blocks. Only the
    current grid block of each run is held.
    """

    def __init__(self, beds: Sequence[BedSpan], duck: DuckEnvelope, total: int,
                 sample_rate: int, reference_db: float):
        self._duck = duck
        self._rate = sample_rate
        self._runs = _plan_spans(beds, total, sample_rate, reference_db)
        self._next = 0  # the first run not yet opened
        self._open: list[_RunStream] = []

    def add_into(self, out: np.ndarray, start: int) -> None:
        """Add the bed over frames [start, start + len(out)) into `out`.

        Calls must ask for stretches in order (each starting at or after the
        previous one's start); the sources are read once, front to back.
        """
        stop = start + len(out)
        while self._next < len(self._runs) and self._runs[self._next][0].start < stop:
            run = self._runs[self._next]
            self._open.append(_RunStream(run, self._next, self._duck, self._rate))
            self._next += 1
        for stream in self._open:  # in run order: the same sum, sample by sample, every time
            stream.add_into(out, start, stop)
        self._open = [s for s in self._open if s.stop > stop]


class _RunStream:
    """One run of spans (one continuous sound), read block by block from its start."""

    def __init__(self, run: list[_SpanPlan], index: int, duck: DuckEnvelope, sample_rate: int):
        self._run = run
        self._duck = duck
        self.start, self.stop, sound = run[0].start, run[-1].stop, run[0].sound
        log.debug("bed %s over frames %d-%d (%d spans)", sound, self.start, self.stop, len(run))
        self._source = open_source(sound, sample_rate, stable_seed(sound, index),
                                   self.stop - self.start)
        self._block_start = self.start  # grid block held in _block
        self._block = np.zeros(0, dtype=np.float32)

    def add_into(self, out: np.ndarray, out_start: int, out_stop: int) -> None:
        a = max(out_start, self.start)
        b = min(out_stop, self.stop)
        while a < b:
            if a >= self._block_start + len(self._block):
                self._read_next()
            offset = a - self._block_start
            n = min(b - a, len(self._block) - offset)
            out[a - out_start: a - out_start + n] += self._block[offset: offset + n]
            a += n

    def _read_next(self) -> None:
        a = self._block_start + len(self._block)
        b = min(a + BED_BLOCK_FRAMES, self.stop)
        block = self._source.read(b - a)
        block *= _run_gain(self._run, self._duck, a, b)
        self._block_start, self._block = a, block


def _run_gain(run: list[_SpanPlan], duck: DuckEnvelope, a: int, b: int) -> float | np.ndarray:
    activity = duck.activity(a, b)
    gain: float | np.ndarray = 0.0
    for plan in run:
        if plan.stop <= a or b <= plan.start:
            continue
        if isinstance(activity, np.ndarray):
            ducked: float | np.ndarray = np.power(
                np.float32(10.0), activity * np.float32(-plan.duck_db / 20.0))
        else:
            ducked = db_to_gain(-plan.duck_db * activity)
        gain = gain + plan.level * plan.weight(a, b) * ducked
    if isinstance(gain, np.ndarray):
        return gain.astype(np.float32, copy=False)
    return gain
