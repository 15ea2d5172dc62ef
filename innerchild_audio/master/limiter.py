"""True-peak limiting: a look-ahead gain computer over a stream of blocks.

The gain computer: every frame whose true peak passes the ceiling needs a
reduction (dB) that brings it under; the reduction is held over the
look-ahead and averaged over it (so it ramps in before the peak and is
complete at it), then released at RELEASE_DB_PER_S. Every step only raises
the reduction, so each frame gets at least what it needs. `StreamLimiter`
applies it to a stream of blocks, and
`LimitingForecast` predicts from a few statistics gathered beforehand how
much loudness it will cost at a given gain.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Iterator
from typing import Final

import numpy as np
from scipy.ndimage import maximum_filter1d, uniform_filter1d

from innerchild_audio.master.meter import (
    TRUE_PEAK_BOUND,
    LoudnessMeter,
    gated_loudness,
    upsampled_peaks,
)

LOOKAHEAD_MS: Final = 5.0  # gain reduction ramps in over this before a peak
RELEASE_DB_PER_S: Final = 40.0  # and recovers at this rate after it
LIMIT_MARGIN_DB: Final = 0.05  # reduce a touch more than measured: the gain itself moves
STREAM_STAGES: Final = 3  # each stage limits what the one before left over the ceiling
PEAK_CONTEXT: Final = 32  # input frames either side that a frame's true peak depends on
EDGE: Final = 16  # a frame's true peak depends on samples at most this far away
FORECAST_SEGMENT_FRAMES: Final = 64
FORECAST_CHUNK_SEGMENTS: Final = 1 << 16  # the forecast's gain computer runs this far at a time
# Streams are limited in blocks this long; a block's true peak is measured only when
# its sample peak says it could pass the ceiling (short blocks: few measured in vain).
LIMIT_BLOCK_FRAMES: Final = 512


def lookahead_frames(sample_rate: int) -> int:
    return max(1, round(LOOKAHEAD_MS * sample_rate / 1000))


def _reduction(needs: np.ndarray, ahead: int, release: float, prev: float = 0.0) -> np.ndarray:
    """Gain reduction (dB) for frames [ahead - 1, len(needs) - ahead + 1) of `needs`.

    `needs` holds each frame's needed reduction (0 where none); the result for
    a frame depends on the needs up to ahead - 1 frames either side, and on
    `prev`, the reduction at the frame before the first one.
    """
    # hold: max over the trailing look-ahead window [k - ahead + 1, k]
    held = maximum_filter1d(needs, ahead, mode="constant", origin=(ahead - 1) // 2)
    # ramp: mean over the leading window [k, k + ahead - 1]
    ramped = uniform_filter1d(held, ahead, mode="constant", origin=-(ahead // 2))
    ramped = ramped[ahead - 1: len(needs) - ahead + 1]
    steps = np.arange(1, len(ramped) + 1) * release
    released = np.maximum.accumulate(ramped + steps) - steps
    return np.maximum(released, prev - steps)


# --- streaming ----------------------------------------------------------------------

class _Stage:
    """One look-ahead limiter over a mono stream, delayed by a block or two.

    Blocks come in and go out in whole LIMIT_BLOCK_FRAMES blocks (the last may
    be shorter) with what is known of each such block, shaped (blocks, 2): its
    true peak (NaN where unknown: then either its bound proves it under the
    ceiling or an earlier stage changed the block) and its bound, the sample
    peak around it (NaN until measured; limiting only lowers samples, so it
    stays a bound). True peaks are measured only where they could pass the
    ceiling.
    """

    def __init__(self, ceiling: float, sample_rate: int):
        self._ceiling = ceiling
        self._ahead = lookahead_frames(sample_rate)
        self._release = RELEASE_DB_PER_S / sample_rate
        self._input = np.zeros(0, dtype=np.float32)  # input frames from _base on
        self._base = 0
        self._known = np.zeros((0, 2))  # true peaks and bounds of the blocks from _pos on
        self._pos = 0  # the first frame not yet handed on
        self._scanned = 0  # the peaks over the ceiling before this frame are known
        self._over = np.zeros(0, dtype=np.int64)  # those peaks' frames and needed reductions
        self._need = np.zeros(0)
        self._prev = 0.0  # the reduction at frame _pos - 1
        self._stale_head = False  # frames just before _pos changed after their peaks were known
        self.limited_frames = 0

    def push(self, block: np.ndarray, known: np.ndarray, *, final: bool = False
             ) -> tuple[np.ndarray, np.ndarray]:
        """Take the next frames and what is known of their blocks; hand on the
        frames that are done (limited) and what is known of theirs."""
        self._input = np.concatenate([self._input, block])
        self._known = np.concatenate([self._known, known])
        end = self._base + len(self._input)
        scan_to = end if final else (end - PEAK_CONTEXT) // LIMIT_BLOCK_FRAMES * LIMIT_BLOCK_FRAMES
        if scan_to > self._scanned:
            self._scan(self._scanned, scan_to)
            self._scanned = scan_to
        done = end if final else (
            (self._scanned - self._ahead) // LIMIT_BLOCK_FRAMES * LIMIT_BLOCK_FRAMES)
        if done <= self._pos:
            return np.zeros(0, dtype=np.float32), np.zeros((0, 2))
        return self._hand_on(done)

    def _scan(self, start: int, stop: int) -> None:
        """Find the frames in [start, stop) whose true peak passes the ceiling."""
        first = (start - self._pos) // LIMIT_BLOCK_FRAMES
        count = -(-(stop - start) // LIMIT_BLOCK_FRAMES)
        known = self._known[first: first + count]  # a view: filled in here
        _measure_bounds(known, self._input, start - self._base, stop - self._base)
        peaks, bounds = known[:, 0], known[:, 1]
        suspect = np.where(np.isnan(peaks), bounds * TRUE_PEAK_BOUND, peaks) > self._ceiling
        if not suspect.any():
            return
        blocks = np.nonzero(suspect)[0]
        at, tp = _true_peaks(self._input, self._base, _runs(blocks, start, stop))
        # the measured blocks' true peaks, known now
        starts = np.searchsorted(at, start + blocks * LIMIT_BLOCK_FRAMES)
        peaks[blocks] = np.maximum.reduceat(tp, starts)
        over = np.nonzero(tp > self._ceiling)[0]
        if len(over):
            self._over = np.concatenate([self._over, at[over]])
            self._need = np.concatenate(
                [self._need, 20.0 * np.log10(tp[over] / self._ceiling) + LIMIT_MARGIN_DB])
            self.limited_frames += len(over)

    def _hand_on(self, done: int) -> tuple[np.ndarray, np.ndarray]:
        """Limit frames [_pos, done) and hand them on with their blocks' true peaks."""
        pos, ahead = self._pos, self._ahead
        out = self._input[pos - self._base: done - self._base].copy()
        known = self._known[: -(-(done - pos) // LIMIT_BLOCK_FRAMES)].copy()
        peaks = known[:, 0]  # a view
        if self._stale_head:  # the frames just before it changed
            peaks[0] = np.nan
        # where each peak's reduction reaches: ramp, hold, and release to nothing
        spans = [(o - ahead + 1, o + ahead + math.ceil(n / self._release) + 2)
                 for o, n in zip(self._over.tolist(), self._need.tolist(), strict=True)
                 if o - ahead + 1 < done + EDGE]
        if self._prev > 0:
            spans.append((pos, pos + math.ceil(self._prev / self._release) + 1))
        last = 0.0
        self._stale_head = False
        for lo, hi in _merged(spans):
            # blocks whose true peaks depend on frames that change here are no longer known
            a, b = max(lo - EDGE, pos), min(hi + EDGE, done)
            if a < b:
                peaks[(a - pos) // LIMIT_BLOCK_FRAMES: (b - pos - 1) // LIMIT_BLOCK_FRAMES + 1] = (
                    np.nan)
            self._stale_head = self._stale_head or hi + EDGE > done
            lo, hi = max(lo, pos), min(hi, done)
            if lo >= hi:
                continue
            # the needs of frames [lo - ahead + 1, hi + ahead - 1)
            needs = np.zeros(hi - lo + 2 * ahead - 2)
            inside = (self._over >= lo - ahead + 1) & (self._over < hi + ahead - 1)
            needs[self._over[inside] - lo + ahead - 1] = self._need[inside]
            reduction = _reduction(needs, ahead, self._release, self._prev if lo == pos else 0.0)
            out[lo - pos: hi - pos] *= np.power(10.0, -reduction / 20.0).astype(np.float32)
            last = float(reduction[-1]) if hi == done else 0.0
        self._prev = last
        keep = self._over >= done - ahead + 1
        self._over, self._need = self._over[keep], self._need[keep]
        self._known = self._known[len(known):]
        new_base = max(done - PEAK_CONTEXT, 0)
        self._input = self._input[new_base - self._base:]
        self._base = new_base
        self._pos = done
        return out, known


class _PeakTracker:
    """The exact true peak of a stream, upsampling only blocks that could raise it."""

    def __init__(self) -> None:
        self.peak = 0.0
        self._input = np.zeros(0, dtype=np.float32)
        self._base = 0
        self._known = np.zeros((0, 2))  # as a stage hands them on
        self._pos = 0  # blocks before this frame are counted

    def push(self, block: np.ndarray, known: np.ndarray, *, final: bool = False) -> None:
        self._input = np.concatenate([self._input, block])
        self._known = np.concatenate([self._known, known])
        end = self._base + len(self._input)
        stop = end if final else (end - PEAK_CONTEXT) // LIMIT_BLOCK_FRAMES * LIMIT_BLOCK_FRAMES
        if stop <= self._pos:
            return
        count = -(-(stop - self._pos) // LIMIT_BLOCK_FRAMES)
        known = self._known[:count]
        _measure_bounds(known, self._input, self._pos - self._base, stop - self._base)
        peaks, bounds = known[:, 0], known[:, 1]
        # a true peak is at least the sample peak, and at most its bound
        floor = max(self.peak, float(peaks[~np.isnan(peaks)].max(initial=0.0)),
                    _sample_peak(self._input[self._pos - self._base: stop - self._base]))
        unknown = np.isnan(peaks) & (bounds * TRUE_PEAK_BOUND > floor)
        if unknown.any():
            _, tp = _true_peaks(self._input, self._base,
                                _runs(np.nonzero(unknown)[0], self._pos, stop))
            floor = max(floor, float(tp.max()))
        self.peak = floor
        self._known = self._known[count:]
        new_base = max(stop - PEAK_CONTEXT, 0)
        self._input = self._input[new_base - self._base:]
        self._base = new_base
        self._pos = stop


class StreamLimiter:
    """A chain of look-ahead true-peak limiters over a mono stream, and the true
    peak of what comes out.

    Feed blocks whose lengths are whole multiples of LIMIT_BLOCK_FRAMES (the
    last may be shorter) to `push`, then call `finish`; each hands back the
    limited frames that are ready, in order, delayed by a few blocks. The
    stages after the first only look where the one before changed the gain.
    """

    def __init__(self, ceiling: float, sample_rate: int, stages: int = STREAM_STAGES):
        self.ceiling = ceiling
        self._stages = [_Stage(ceiling, sample_rate) for _ in range(stages)]
        self._tracker = _PeakTracker()

    def push(self, block: np.ndarray) -> np.ndarray:
        """The next frames in; the limited frames that are ready out (maybe none)."""
        return self._run(block, final=False)

    def finish(self) -> np.ndarray:
        """The rest of the limited frames, once every frame has been pushed."""
        return self._run(np.zeros(0, dtype=np.float32), final=True)

    def _run(self, block: np.ndarray, *, final: bool) -> np.ndarray:
        known = np.full((-(-len(block) // LIMIT_BLOCK_FRAMES), 2), np.nan)
        for stage in self._stages:
            block, known = stage.push(block, known, final=final)
        self._tracker.push(block, known, final=final)
        return block

    @property
    def true_peak(self) -> float:
        """The largest true peak handed out so far (linear)."""
        return self._tracker.peak

    @property
    def limited_frames(self) -> int:
        """Frames found over the ceiling, by all stages."""
        return sum(stage.limited_frames for stage in self._stages)


def _measure_bounds(known: np.ndarray, signal: np.ndarray, start: int, stop: int) -> None:
    """Fill in the bounds (column 1) of `known`, the blocks of signal[start:stop],
    where they are not measured yet."""
    missing = np.isnan(known[:, 1])
    if missing.any():
        known[missing, 1] = _block_bounds(signal, start, stop)[missing]


def _block_bounds(signal: np.ndarray, start: int, stop: int) -> np.ndarray:
    """The sample peak around each LIMIT_BLOCK_FRAMES block of signal[start:stop]
    (`start` on a block edge), widened by EDGE frames each side: what the
    block's true peak can depend on."""
    peaks = _block_maxima(np.abs(signal[start:stop]))
    edges = start + np.arange(len(peaks) + 1) * LIMIT_BLOCK_FRAMES
    edges[-1] = stop
    around = np.clip(edges[:, np.newaxis] + np.arange(-EDGE, EDGE), 0, len(signal) - 1)
    near = np.abs(signal[around]).max(axis=1)  # the frames either side of each edge
    return np.maximum(peaks, np.maximum(near[:-1], near[1:]))


def _block_maxima(values: np.ndarray) -> np.ndarray:
    """The largest value of each LIMIT_BLOCK_FRAMES block (the last may be shorter)."""
    whole = len(values) // LIMIT_BLOCK_FRAMES
    maxima = np.empty(-(-len(values) // LIMIT_BLOCK_FRAMES))
    if whole:
        maxima[:whole] = values[: whole * LIMIT_BLOCK_FRAMES].reshape(whole, -1).max(axis=1)
    if whole < len(maxima):
        maxima[whole] = values[whole * LIMIT_BLOCK_FRAMES:].max()
    return maxima


def _sample_peak(samples: np.ndarray) -> float:
    return float(np.abs(samples).max()) if len(samples) else 0.0


def _true_peaks(signal: np.ndarray, base: int, stretches: list[tuple[int, int]]
                ) -> tuple[np.ndarray, np.ndarray]:
    """The frames of the stretches (absolute, in order) and their true peaks;
    `signal` holds the frames from `base` on, with context around the stretches."""
    found = upsampled_peaks(signal[:, np.newaxis], [(a - base, b - base) for a, b in stretches])
    at = np.concatenate([np.arange(a, b) for a, b in stretches])
    return at, np.concatenate(found).astype(np.float64)


def _runs(blocks: np.ndarray, start: int, stop: int) -> list[tuple[int, int]]:
    """Frame stretches covering runs of consecutive block indices (from `start`)."""
    breaks = np.nonzero(np.diff(blocks) != 1)[0] + 1
    return [(start + int(run[0]) * LIMIT_BLOCK_FRAMES,
             min(stop, start + (int(run[-1]) + 1) * LIMIT_BLOCK_FRAMES))
            for run in np.split(blocks, breaks)]


def _merged(spans: list[tuple[int, int]]) -> Iterator[tuple[int, int]]:
    """Overlapping or touching spans joined, in order."""
    current: tuple[int, int] | None = None
    for lo, hi in sorted(spans):
        if current is not None and lo <= current[1]:
            current = (current[0], max(current[1], hi))
            continue
        if current is not None:
            yield current
        current = (lo, hi)
    if current is not None:
        yield current


# --- forecasting the cost of limiting -----------------------------------------------

class LimitingForecast:
    """What limiting at a given gain will leave of the loudness, from statistics
    of the unmastered mix: each short segment's sample peak and K-weighted energy.

    The gain computer runs at segment resolution on the sample peaks (true
    peaks of speech at 44.1 kHz sit within a fraction of a dB of them), and
    each gating block keeps the share of its energy that the reduction leaves.
    Held against the limiter itself on the library's sessions it is within a
    hundredth of a LU. Only stretches with peaks over the ceiling are worked
    on, a chunk at a time: memory stays small whatever the length.
    """

    def __init__(self, sample_rate: int, ceiling: float):
        self._rate = sample_rate
        self._ceiling = ceiling
        self._parts: list[tuple[np.ndarray, np.ndarray]] = []
        self._peaks = np.zeros(0, dtype=np.float32)
        self._energy = np.zeros(0, dtype=np.float32)

    def add(self, block: np.ndarray, energy: np.ndarray) -> None:
        """The next block (starting on a segment edge) and its segments' K-weighted energy."""
        whole = len(block) // FORECAST_SEGMENT_FRAMES * FORECAST_SEGMENT_FRAMES
        peaks = np.abs(block[:whole]).reshape(-1, FORECAST_SEGMENT_FRAMES).max(axis=1)
        if whole < len(block):
            peaks = np.append(peaks, _sample_peak(block[whole:]))
        self._parts.append((peaks.astype(np.float32), energy.astype(np.float32)))

    def loudness(self, gain_db: float, meter: LoudnessMeter) -> float:
        """Integrated loudness after `gain_db` and limiting; `meter` measured the
        same mix, unmastered."""
        if self._parts:
            self._peaks = np.concatenate([self._peaks, *(p for p, _ in self._parts)])
            self._energy = np.concatenate([self._energy, *(e for _, e in self._parts)])
            self._parts = []
        gain = 10.0 ** (gain_db / 20.0)
        lower, upper = meter.bounds
        # the gating blocks' edges in segments, and the energy limiting takes before each
        marks, where = np.unique(np.concatenate([lower // FORECAST_SEGMENT_FRAMES,
                                                 -(-upper // FORECAST_SEGMENT_FRAMES)]),
                                 return_inverse=True)
        before = _prefix_at(marks, ((start, self._energy[start: start + FORECAST_CHUNK_SEGMENTS])
                                    for start in range(0, len(self._energy),
                                                       FORECAST_CHUNK_SEGMENTS)))
        lost = _prefix_at(marks, self._taken(gain))
        total = np.diff(before[where].reshape(2, -1), axis=0)[0]
        taken = np.diff(lost[where].reshape(2, -1), axis=0)[0]
        share = np.divide(total - taken, total, out=np.ones(len(total)), where=total > 0)
        return gated_loudness(meter.energy() * (gain * gain) * share, meter.weights)

    def _taken(self, gain: float) -> Iterator[tuple[int, np.ndarray]]:
        """The K-weighted energy limiting takes per segment (before the gain), for each
        chunk of segments where it takes any: (first segment, energies)."""
        threshold = self._ceiling / gain
        ahead = max(1, round(lookahead_frames(self._rate) / FORECAST_SEGMENT_FRAMES))
        release = RELEASE_DB_PER_S / self._rate * FORECAST_SEGMENT_FRAMES
        n = len(self._peaks)
        prev = 0.0  # the reduction at the segment before the chunk
        for start in range(0, n, FORECAST_CHUNK_SEGMENTS):
            stop = min(start + FORECAST_CHUNK_SEGMENTS, n)
            lo, hi = max(start - ahead + 1, 0), min(stop + ahead - 1, n)
            peaks = self._peaks[lo:hi].astype(np.float64)
            over = peaks > threshold
            if prev <= 0 and not over.any():
                continue
            needs = np.zeros(stop - start + 2 * ahead - 2)
            needs[lo - (start - ahead + 1): hi - (start - ahead + 1)][over] = (
                20.0 * np.log10(peaks[over] / threshold) + LIMIT_MARGIN_DB)
            reduction = _reduction(needs, ahead, release, prev)
            prev = float(reduction[-1])
            energy = self._energy[start:stop].astype(np.float64)
            yield start, energy * (1.0 - np.power(10.0, -reduction / 10.0))


def _prefix_at(marks: np.ndarray, chunks: Iterable[tuple[int, np.ndarray]]) -> np.ndarray:
    """Sums of the values before each mark (sorted segment indices), the values coming
    in chunks (first segment, values) in order; segments in no chunk count 0."""
    sums = np.zeros(len(marks))
    for start, values in chunks:
        total = np.cumsum(values, dtype=np.float64)
        stop = start + len(values)
        inside = (marks > start) & (marks <= stop)
        sums[inside] += total[marks[inside] - start - 1]
        sums[marks > stop] += total[-1] if len(total) else 0.0
    return sums
