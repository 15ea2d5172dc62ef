"""True-peak limiting: a look-ahead gain computer, for a whole array or a stream.

The gain computer: every frame whose true peak passes the ceiling needs a
reduction (dB) that brings it under; the reduction is held over the
look-ahead and averaged over it (so it ramps in before the peak and is
complete at it), then released at RELEASE_DB_PER_S. Every step only raises
the reduction, so each frame gets at least what it needs. `limit` applies it
to a whole array, `StreamLimiter` to a stream of blocks, and
`LimitingForecast` predicts from a few statistics gathered beforehand how
much loudness it will cost at a given gain.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from typing import Final

import numpy as np
from scipy.ndimage import maximum_filter1d, uniform_filter1d

from innerchild_audio.mix.meter import (
    PEAK_BLOCK_FRAMES,
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


def limit(frames: np.ndarray, over: np.ndarray, peaks: np.ndarray, ceiling: float,
          sample_rate: int) -> list[tuple[int, int]]:
    """Lower the gain around each frame in `over` (sorted) so its true peak
    (`peaks`) meets `ceiling`; returns the stretches of frames it changed."""
    n = len(frames)
    ahead = lookahead_frames(sample_rate)
    release = RELEASE_DB_PER_S / sample_rate  # dB per frame
    need = 20.0 * np.log10(peaks / ceiling) + LIMIT_MARGIN_DB
    starts = over - ahead
    ends = over + ahead + np.ceil(need / release).astype(np.int64) + 2
    reach = np.maximum.accumulate(ends)
    first = np.concatenate([[0], np.nonzero(starts[1:] > reach[:-1])[0] + 1])
    last = np.concatenate([first[1:] - 1, [len(over) - 1]])
    changed: list[tuple[int, int]] = []
    for i, j in zip(first.tolist(), last.tolist(), strict=True):
        lo, hi = int(starts[i]), int(reach[j])  # may run past the ends of the audio
        needs = np.zeros(hi - lo + 2 * ahead - 2)
        needs[over[i: j + 1] - lo + ahead - 1] = need[i: j + 1]
        gain = np.power(10.0, -_reduction(needs, ahead, release) / 20.0).astype(np.float32)
        a, b = max(lo, 0), min(hi, n)
        frames[a:b] *= gain[a - lo: b - lo, np.newaxis]
        changed.append((a, b))
    return changed


# --- streaming ----------------------------------------------------------------------

class _Stage:
    """One look-ahead limiter over a mono stream, delayed by a block or two.

    Blocks come in and go out in whole PEAK_BLOCK_FRAMES blocks (the last may
    be shorter), each with the true peak of every such block where it is
    known (NaN where it is not: then either the sample peak proves it under
    the ceiling or an earlier stage changed the block). True peaks are
    measured only where they could pass the ceiling.
    """

    def __init__(self, ceiling: float, sample_rate: int):
        self._ceiling = ceiling
        self._ahead = lookahead_frames(sample_rate)
        self._release = RELEASE_DB_PER_S / sample_rate
        self._input = np.zeros(0, dtype=np.float32)  # input frames from _base on
        self._base = 0
        self._peaks = np.zeros(0)  # true peaks of the blocks from _pos on (NaN: unknown)
        self._pos = 0  # the first frame not yet handed on
        self._scanned = 0  # the peaks over the ceiling before this frame are known
        self._over = np.zeros(0, dtype=np.int64)  # those peaks' frames and needed reductions
        self._need = np.zeros(0)
        self._prev = 0.0  # the reduction at frame _pos - 1
        self._stale_head = False  # frames just before _pos changed after their peaks were known
        self.limited_frames = 0

    def push(self, block: np.ndarray, peaks: np.ndarray, *, final: bool = False
             ) -> tuple[np.ndarray, np.ndarray]:
        """Take the next frames and their blocks' known true peaks; hand on the
        frames that are done (limited) and theirs."""
        self._input = np.concatenate([self._input, block])
        self._peaks = np.concatenate([self._peaks, peaks])
        end = self._base + len(self._input)
        scan_to = end if final else (end - PEAK_CONTEXT) // PEAK_BLOCK_FRAMES * PEAK_BLOCK_FRAMES
        if scan_to > self._scanned:
            self._scan(self._scanned, scan_to)
            self._scanned = scan_to
        done = end if final else (
            (self._scanned - self._ahead) // PEAK_BLOCK_FRAMES * PEAK_BLOCK_FRAMES)
        if done <= self._pos:
            return np.zeros(0, dtype=np.float32), np.zeros(0)
        return self._hand_on(done)

    def _scan(self, start: int, stop: int) -> None:
        """Find the frames in [start, stop) whose true peak passes the ceiling."""
        first = (start - self._pos) // PEAK_BLOCK_FRAMES
        count = -(-(stop - start) // PEAK_BLOCK_FRAMES)
        known = self._peaks[first: first + count]
        bounds = _block_bounds(self._input, start - self._base, stop - self._base)
        suspect = np.where(np.isnan(known), bounds * TRUE_PEAK_BOUND, known) > self._ceiling
        if not suspect.any():
            return
        stretches = _runs(np.nonzero(suspect)[0], start, stop)
        frames = self._input[:, np.newaxis]
        found_over, found_need = [self._over], [self._need]
        for (a, b), tp in zip(stretches, upsampled_peaks(
                frames, [(a - self._base, b - self._base) for a, b in stretches]), strict=True):
            for k in range(a, b, PEAK_BLOCK_FRAMES):  # the blocks' true peaks, known now
                piece = tp[k - a: k - a + PEAK_BLOCK_FRAMES]
                self._peaks[(k - self._pos) // PEAK_BLOCK_FRAMES] = float(piece.max())
            over = np.nonzero(tp > self._ceiling)[0]
            if len(over):
                found_over.append(over + a)
                found_need.append(20.0 * np.log10(tp[over] / self._ceiling) + LIMIT_MARGIN_DB)
        self._over = np.concatenate(found_over)
        self._need = np.concatenate(found_need)
        self.limited_frames += len(self._over) - len(found_over[0])

    def _hand_on(self, done: int) -> tuple[np.ndarray, np.ndarray]:
        """Limit frames [_pos, done) and hand them on with their blocks' true peaks."""
        pos, ahead = self._pos, self._ahead
        out = self._input[pos - self._base: done - self._base].copy()
        peaks = self._peaks[: -(-(done - pos) // PEAK_BLOCK_FRAMES)].copy()
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
                peaks[(a - pos) // PEAK_BLOCK_FRAMES: (b - pos - 1) // PEAK_BLOCK_FRAMES + 1] = (
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
        self._peaks = self._peaks[len(peaks):]
        new_base = max(done - PEAK_CONTEXT, 0)
        self._input = self._input[new_base - self._base:]
        self._base = new_base
        self._pos = done
        return out, peaks


class _PeakTracker:
    """The exact true peak of a stream, upsampling only blocks that could raise it."""

    def __init__(self) -> None:
        self.peak = 0.0
        self._input = np.zeros(0, dtype=np.float32)
        self._base = 0
        self._peaks = np.zeros(0)
        self._pos = 0  # blocks before this frame are counted

    def push(self, block: np.ndarray, peaks: np.ndarray, *, final: bool = False) -> None:
        self._input = np.concatenate([self._input, block])
        self._peaks = np.concatenate([self._peaks, peaks])
        end = self._base + len(self._input)
        stop = end if final else (end - PEAK_CONTEXT) // PEAK_BLOCK_FRAMES * PEAK_BLOCK_FRAMES
        if stop <= self._pos:
            return
        count = -(-(stop - self._pos) // PEAK_BLOCK_FRAMES)
        known = self._peaks[:count]
        bounds = _block_bounds(self._input, self._pos - self._base, stop - self._base)
        # a true peak is at least the sample peak, and at most its bound
        floor = max(self.peak, float(known[~np.isnan(known)].max(initial=0.0)),
                    _sample_peak(self._input[self._pos - self._base: stop - self._base]))
        unknown = np.isnan(known) & (bounds * TRUE_PEAK_BOUND > floor)
        if unknown.any():
            stretches = _runs(np.nonzero(unknown)[0], self._pos, stop)
            found = upsampled_peaks(self._input[:, np.newaxis],
                                    [(a - self._base, b - self._base) for a, b in stretches])
            floor = max(floor, *(float(tp.max()) for tp in found))
        self.peak = floor
        self._peaks = self._peaks[count:]
        new_base = max(stop - PEAK_CONTEXT, 0)
        self._input = self._input[new_base - self._base:]
        self._base = new_base
        self._pos = stop


class StreamLimiter:
    """A chain of look-ahead true-peak limiters over a mono stream, and the true
    peak of what comes out.

    Feed blocks whose lengths are whole multiples of PEAK_BLOCK_FRAMES (the
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
        peaks = np.full(-(-len(block) // PEAK_BLOCK_FRAMES), np.nan)
        for stage in self._stages:
            block, peaks = stage.push(block, peaks, final=final)
        self._tracker.push(block, peaks, final=final)
        return block

    @property
    def true_peak(self) -> float:
        """The largest true peak handed out so far (linear)."""
        return self._tracker.peak

    @property
    def limited_frames(self) -> int:
        """Frames found over the ceiling, by all stages."""
        return sum(stage.limited_frames for stage in self._stages)


def _block_bounds(signal: np.ndarray, start: int, stop: int) -> np.ndarray:
    """The sample peak around each PEAK_BLOCK_FRAMES block of signal[start:stop]
    (`start` on a block edge), widened by EDGE frames each side: what the
    block's true peak can depend on."""
    n = stop - start
    whole = n // PEAK_BLOCK_FRAMES
    peaks = np.empty(-(-n // PEAK_BLOCK_FRAMES))
    if whole:
        region = np.abs(signal[start: start + whole * PEAK_BLOCK_FRAMES])
        peaks[:whole] = region.reshape(whole, PEAK_BLOCK_FRAMES).max(axis=1)
    if whole < len(peaks):
        peaks[whole] = _sample_peak(signal[start + whole * PEAK_BLOCK_FRAMES: stop])
    edges = start + np.arange(len(peaks) + 1) * PEAK_BLOCK_FRAMES
    edges[-1] = stop
    around = np.clip(edges[:, np.newaxis] + np.arange(-EDGE, EDGE), 0, len(signal) - 1)
    near = np.abs(signal[around]).max(axis=1)  # the frames either side of each edge
    return np.maximum(peaks, np.maximum(near[:-1], near[1:]))


def _sample_peak(samples: np.ndarray) -> float:
    return float(np.abs(samples).max()) if len(samples) else 0.0


def _runs(blocks: np.ndarray, start: int, stop: int) -> list[tuple[int, int]]:
    """Frame stretches covering runs of consecutive block indices (from `start`)."""
    breaks = np.nonzero(np.diff(blocks) != 1)[0] + 1
    return [(start + int(run[0]) * PEAK_BLOCK_FRAMES,
             min(stop, start + (int(run[-1]) + 1) * PEAK_BLOCK_FRAMES))
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
    hundredth of a LU.
    """

    def __init__(self, sample_rate: int, ceiling: float):
        self._rate = sample_rate
        self._ceiling = ceiling
        self._peaks: list[np.ndarray] = []
        self._energy: list[np.ndarray] = []

    def add(self, block: np.ndarray, energy: np.ndarray) -> None:
        """The next block (starting on a segment edge) and its segments' K-weighted energy."""
        whole = len(block) // FORECAST_SEGMENT_FRAMES * FORECAST_SEGMENT_FRAMES
        peaks = np.abs(block[:whole]).reshape(-1, FORECAST_SEGMENT_FRAMES).max(axis=1)
        if whole < len(block):
            peaks = np.append(peaks, _sample_peak(block[whole:]))
        self._peaks.append(peaks.astype(np.float32))
        self._energy.append(energy.astype(np.float32))

    def loudness(self, gain_db: float, meter: LoudnessMeter) -> float:
        """Integrated loudness after `gain_db` and limiting; `meter` measured the
        same mix, unmastered."""
        peaks = np.concatenate(self._peaks).astype(np.float64) if self._peaks else np.zeros(0)
        energy = np.concatenate(self._energy).astype(np.float64) if self._energy else peaks
        gain = 10.0 ** (gain_db / 20.0)
        with np.errstate(divide="ignore"):
            need = np.where(peaks * gain > self._ceiling,
                            20.0 * np.log10(peaks * gain / self._ceiling) + LIMIT_MARGIN_DB, 0.0)
        ahead = max(1, round(lookahead_frames(self._rate) / FORECAST_SEGMENT_FRAMES))
        release = RELEASE_DB_PER_S / self._rate * FORECAST_SEGMENT_FRAMES
        padded = np.concatenate([np.zeros(ahead - 1), need, np.zeros(ahead - 1)])
        kept = np.power(10.0, -_reduction(padded, ahead, release) / 10.0)  # energy share
        before = np.concatenate([[0.0], np.cumsum(energy)])
        after = np.concatenate([[0.0], np.cumsum(energy * kept)])
        lower, upper = meter.bounds
        lo = np.minimum(lower // FORECAST_SEGMENT_FRAMES, len(energy))
        hi = np.minimum(-(-upper // FORECAST_SEGMENT_FRAMES), len(energy))
        total = before[hi] - before[lo]
        share = np.divide(after[hi] - after[lo], total, out=np.ones(len(total)), where=total > 0)
        return gated_loudness(meter.energy() * (gain * gain) * share, meter.weights)
