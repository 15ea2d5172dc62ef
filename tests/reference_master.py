"""Whole-array mastering: the reference the streaming master is checked against.

The package masters only block by block (`innerchild_audio.master.master_stream`).
These are the straightforward whole-array versions of the same steps (a gain to
the loudness target, then a look-ahead true-peak limiter, measured on the whole
signal), kept here so tests can check the stream against them.
"""

from __future__ import annotations

import logging
import math
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Final

import numpy as np
from scipy.signal import sosfilt

from innerchild_audio.errors import RenderError
from innerchild_audio.master import (
    DEFAULT_TRUE_PEAK_DBTP,
    LOUDNESS_TOLERANCE_LU,
    default_target_lufs,
)
from innerchild_audio.master import limiter as limiter_module
from innerchild_audio.master.limiter import (
    RELEASE_DB_PER_S,
    _reduction,
    lookahead_frames,
)
from innerchild_audio.master.meter import (
    FILTER_CHUNK_FRAMES,
    PEAK_BLOCK_FRAMES,
    PEAK_TASK_FRAMES,
    PREROLL_S,
    TRUE_PEAK_BOUND,
    _channel_weights,
    _k_weighting,
    _workers,
    as_frames,
    gated_loudness,
    gating_blocks,
    upsampled_peaks,
)

log = logging.getLogger(__name__)

MP3_HEADROOM_DB: Final = 0.3
MAKEUP_PASSES: Final = 2  # limiting costs a little loudness: made up at most twice
MAX_PASSES: Final = 6  # each pass limits what the previous one left over the ceiling
_CHECK_FRAMES: Final = 1 << 20


class LoudnessBlocks:
    """The K-weighted mean square of every gating block, per channel.

    Shorter audio than one gating block (pyloudnorm refuses it) is measured as
    a single block spanning the whole signal.
    """

    def __init__(self, audio: np.ndarray, sample_rate: int,
                 weights: tuple[float, ...] | None = None):
        """`weights` overrides the BS.1770 channel weights (e.g. (2.0,) measures one
        channel of a dual-mono pair as the pair)."""
        frames = as_frames(audio)
        self.sample_rate = sample_rate
        self._sos = _k_weighting(sample_rate)
        n, channels = frames.shape
        self._n = n
        self._lower, self._upper, self._norm = gating_blocks(n, sample_rate)
        self._weights = _channel_weights(channels, weights)
        self.energy = np.zeros((channels, len(self._lower)))
        self._measure(frames, np.arange(len(self._lower)))

    def _measure(self, frames: np.ndarray, blocks: np.ndarray) -> None:
        """Fill `energy` for the given (sorted) block indices from `frames`."""
        if len(blocks) == 0:
            return
        lo, hi = self._lower[blocks], self._upper[blocks]
        marks = np.unique(np.concatenate([lo, hi]))  # prefix sums are needed at these frames
        start, stop = int(marks[0]), int(marks[-1])
        # a long stretch is cut in parts so two cores share the filtering
        parts = _workers() if stop - start > 4 * FILTER_CHUNK_FRAMES else 1
        cuts = [start + (stop - start) * k // parts for k in range(parts + 1)]
        preroll = round(PREROLL_S * self.sample_rate)

        def run(task: tuple[int, int]) -> tuple[np.ndarray, float]:
            channel, part = task
            a, b = cuts[part], cuts[part + 1]
            inside = marks[(marks > a) & (marks <= b)]
            return _prefix_sums(frames[:, channel], self._sos, a, b, inside, preroll)

        tasks = [(c, k) for c in range(frames.shape[1]) for k in range(parts)]
        if len(tasks) > 1:
            with ThreadPoolExecutor(min(len(tasks), 4)) as pool:
                results = list(pool.map(run, tasks))
        else:
            results = [run(tasks[0])]
        lo_at, hi_at = np.searchsorted(marks, lo), np.searchsorted(marks, hi)
        for channel in range(frames.shape[1]):
            prefix = np.zeros(len(marks))  # sums over [start, mark)
            base = 0.0
            for part in range(parts):
                sums, total = results[channel * parts + part]
                a, b = cuts[part], cuts[part + 1]
                prefix[(marks > a) & (marks <= b)] = base + sums
                base += total
            self.energy[channel, blocks] = self._norm * (prefix[hi_at] - prefix[lo_at])

    def scale(self, gain: float) -> None:
        """The whole signal was multiplied by `gain`."""
        self.energy *= gain * gain

    def update(self, audio: np.ndarray, start: int, stop: int) -> None:
        """Frames [start, stop) changed: measure the blocks that overlap them again."""
        blocks = np.nonzero((self._upper > start) & (self._lower < stop))[0]
        self._measure(as_frames(audio), blocks)

    def loudness(self) -> float:
        """Integrated loudness, LUFS (-inf for silence)."""
        return gated_loudness(self.energy, self._weights)


def _prefix_sums(signal: np.ndarray, sos: np.ndarray, start: int, stop: int,
                 marks: np.ndarray, preroll: int) -> tuple[np.ndarray, float]:
    """Sums of the K-weighted squares over [start, m) for each m in `marks` (all in
    (start, stop]), and over all of [start, stop). Filtering starts `preroll`
    frames early, so the filter has settled as if it had run from the beginning."""
    out = np.zeros(len(marks))
    zi = np.zeros((sos.shape[0], 2))
    lead = max(0, start - preroll)
    if lead < start:
        _, zi = sosfilt(sos, signal[lead:start].astype(np.float64), zi=zi)
    total = 0.0
    done = 0
    for a in range(start, stop, FILTER_CHUNK_FRAMES):
        b = min(a + FILTER_CHUNK_FRAMES, stop)
        y, zi = sosfilt(sos, signal[a:b].astype(np.float64), zi=zi)
        y *= y
        cumulative = np.cumsum(y, out=y)
        k = int(np.searchsorted(marks, b, side="right"))
        out[done:k] = total + cumulative[marks[done:k] - a - 1]
        done = k
        total += float(cumulative[-1])
    return out, total




def identical_channels(audio: np.ndarray) -> bool:
    """True when every channel holds the same samples (dual mono), checked in chunks."""
    frames = as_frames(audio)
    if frames.shape[1] < 2:
        return False
    for a in range(0, len(frames), FILTER_CHUNK_FRAMES):
        chunk = frames[a: a + FILTER_CHUNK_FRAMES]
        if not all(np.array_equal(chunk[:, 0], chunk[:, c]) for c in range(1, chunk.shape[1])):
            return False
    return True




class PeakMap:
    """Sample peaks of fixed blocks, and true peaks where they were needed."""

    def __init__(self, audio: np.ndarray):
        self._frames = as_frames(audio)
        n = len(self._frames)
        self._count = -(-n // PEAK_BLOCK_FRAMES)
        self._sample = np.zeros(self._count)
        self._true = np.full(self._count, np.nan)
        self._refresh_blocks(0, self._count)

    def _refresh_blocks(self, first: int, last: int) -> None:
        n = len(self._frames)
        whole = min(last, n // PEAK_BLOCK_FRAMES)  # blocks [first, whole) are complete
        step = FILTER_CHUNK_FRAMES // PEAK_BLOCK_FRAMES  # a chunk at a time: small temporaries
        for a in range(first, whole, step):
            b = min(a + step, whole)
            region = self._frames[a * PEAK_BLOCK_FRAMES: b * PEAK_BLOCK_FRAMES].reshape(b - a, -1)
            self._sample[a:b] = np.maximum(region.max(axis=1), -region.min(axis=1))
        for k in range(max(first, whole), last):
            block = self._frames[k * PEAK_BLOCK_FRAMES: (k + 1) * PEAK_BLOCK_FRAMES]
            self._sample[k] = max(float(block.max()), -float(block.min())) if block.size else 0
        self._true[first:last] = np.nan

    def refresh(self, start: int, stop: int) -> None:
        """Frames [start, stop) changed."""
        self._refresh_blocks(start // PEAK_BLOCK_FRAMES, -(-stop // PEAK_BLOCK_FRAMES))

    def scale(self, gain: float) -> None:
        self._sample *= abs(gain)
        self._true *= abs(gain)

    @property
    def sample_peak(self) -> float:
        return float(self._sample.max()) if self._count else 0.0

    def _evaluate(self, blocks: np.ndarray, threshold: float | None = None
                  ) -> tuple[np.ndarray, np.ndarray]:
        """True peaks of `blocks`; with a threshold, also the frames above it."""
        n = len(self._frames)
        batches: list[list[tuple[int, int]]] = []
        size = PEAK_TASK_FRAMES  # frames in the last batch; start a new one at once
        if len(blocks):
            # runs of contiguous blocks, gathered into batches of about PEAK_TASK_FRAMES
            breaks = np.nonzero(np.diff(blocks) != 1)[0] + 1
            for run in np.split(blocks, breaks):
                a = int(run[0]) * PEAK_BLOCK_FRAMES
                b = min(n, (int(run[-1]) + 1) * PEAK_BLOCK_FRAMES)
                for s in range(a, b, PEAK_TASK_FRAMES):
                    stretch = (s, min(s + PEAK_TASK_FRAMES, b))
                    if size + stretch[1] - s > PEAK_TASK_FRAMES:
                        batches.append([])
                        size = 0
                    batches[-1].append(stretch)
                    size += stretch[1] - s

        def run_batch(batch: list[tuple[int, int]]
                      ) -> list[tuple[int, np.ndarray, np.ndarray, np.ndarray]]:
            """Per stretch: its start, block maxima, and frames over the threshold."""
            found = []
            for (a, _), peaks in zip(batch, upsampled_peaks(self._frames, batch), strict=True):
                count = -(-len(peaks) // PEAK_BLOCK_FRAMES)
                maxima = np.array([peaks[k * PEAK_BLOCK_FRAMES: (k + 1) * PEAK_BLOCK_FRAMES].max()
                                   for k in range(count)], dtype=np.float64)
                idx = (np.nonzero(peaks > threshold)[0] if threshold is not None
                       else np.zeros(0, np.int64))
                found.append((a, maxima, idx + a, peaks[idx].astype(np.float64)))
            return found

        if len(batches) > 1:
            with ThreadPoolExecutor(_workers()) as pool:
                results = [r for rs in pool.map(run_batch, batches) for r in rs]
        else:
            results = [r for batch in batches for r in run_batch(batch)]
        for a, maxima, _, _ in results:
            first = a // PEAK_BLOCK_FRAMES  # stretches start on block boundaries
            self._true[first: first + len(maxima)] = maxima
        over_frames = [r[2] for r in results if len(r[2])]
        over_values = [r[3] for r in results if len(r[3])]
        if not over_frames:
            return np.zeros(0, np.int64), np.zeros(0)
        order = np.argsort(np.concatenate(over_frames), kind="stable")
        return np.concatenate(over_frames)[order], np.concatenate(over_values)[order]

    def over(self, threshold: float) -> tuple[np.ndarray, np.ndarray]:
        """Frames whose true peak exceeds `threshold` (sorted), and those peaks."""
        known = ~np.isnan(self._true)
        candidates = np.nonzero(np.where(known, self._true, self._sample * TRUE_PEAK_BOUND)
                                > threshold)[0]
        return self._evaluate(candidates, threshold)

    def true_peak(self) -> float:
        """The exact true peak (linear), upsampling only blocks that could hold it.

        The 4x filter passes every input sample through (its zero phase is a
        single tap, a hair over 1), so the largest sample peak is a floor under
        the true peak; only blocks whose bound rises above that floor can hold it.
        """
        if self._count == 0:
            return 0.0
        floor = float(self._sample.max())
        unknown = np.nonzero(np.isnan(self._true) & (self._sample * TRUE_PEAK_BOUND > floor))[0]
        self._evaluate(unknown)
        known = self._true[~np.isnan(self._true)]
        return max(floor, float(known.max())) if len(known) else floor


def true_peak(audio: np.ndarray) -> float:
    """Largest magnitude of the 4x upsampled signal (linear; 1.0 is 0 dBTP)."""
    return PeakMap(audio).true_peak()


def true_peak_dbtp(audio: np.ndarray) -> float:
    peak = true_peak(audio)
    return 20.0 * math.log10(peak) if peak > 0 else -math.inf


def limit(frames: np.ndarray, over: np.ndarray, peaks: np.ndarray, ceiling: float,
          sample_rate: int) -> list[tuple[int, int]]:
    """Lower the gain around each frame in `over` (sorted) so its true peak
    (`peaks`) meets `ceiling`; returns the stretches of frames it changed."""
    n = len(frames)
    ahead = lookahead_frames(sample_rate)
    release = RELEASE_DB_PER_S / sample_rate  # dB per frame
    margin = limiter_module.LIMIT_MARGIN_DB  # read at call time: tests patch it
    need = 20.0 * np.log10(peaks / ceiling) + margin
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


@dataclass(frozen=True, eq=False)
class MasterResult:
    audio: np.ndarray  # float32, the shape it came in
    loudness_lufs: float  # integrated, after limiting (-inf for silence)
    true_peak_dbtp: float  # 4x oversampled, after limiting
    gain_db: float  # the overall gain applied (before limiting)




def master(audio: np.ndarray, sample_rate: int, *, target_lufs: float | None = None,
           true_peak_dbtp: float = DEFAULT_TRUE_PEAK_DBTP,
           in_place: bool = False) -> MasterResult:
    """Bring `audio` to `target_lufs` with its true peak at most `true_peak_dbtp`.

    `audio` is float, shaped (frames,) or (frames, channels) with 1 or 2
    channels. Silence (loudness -inf) is left at gain 0. Audio shorter than
    one 400 ms gating block is measured as a single block. With `in_place`
    a float32 array is scaled where it lies (no second copy of the session).
    """
    if not isinstance(audio, np.ndarray) or audio.ndim not in (1, 2) or (
            audio.ndim == 2 and audio.shape[1] not in (1, 2)):
        raise RenderError("master needs float audio shaped (frames,) or (frames, 1 or 2)")
    if not np.issubdtype(audio.dtype, np.floating):
        raise RenderError(f"master needs float samples, got {audio.dtype}")
    if sample_rate <= 0:
        raise RenderError(f"invalid sample rate {sample_rate}")
    if in_place and audio.dtype == np.float32 and audio.flags.writeable:
        work = audio
    else:
        work = np.array(audio, dtype=np.float32)
    frames = as_frames(work)
    for start in range(0, len(frames), _CHECK_FRAMES):
        if not np.isfinite(frames[start: start + _CHECK_FRAMES]).all():
            raise RenderError(f"the mix holds NaN or infinity near frame {start}")
    channels = frames.shape[1]
    target = default_target_lufs(channels) if target_lufs is None else float(target_lufs)
    ceiling = 10.0 ** ((true_peak_dbtp - MP3_HEADROOM_DB) / 20.0)

    # dual mono (what the mixer makes for stereo): measure one channel, weighted as two;
    # every gain below applies to all channels alike, so they stay identical
    if identical_channels(frames):
        measured = frames[:, :1]
        loudness = LoudnessBlocks(measured, sample_rate, weights=(2.0,))
    else:
        measured = frames
        loudness = LoudnessBlocks(measured, sample_rate)
    peaks = PeakMap(measured)
    initial = loudness.loudness()
    gain_db = 0.0 if math.isinf(initial) else target - initial
    log.debug("measured %.2f LUFS; gain %+.2f dB to %.1f LUFS", initial, gain_db, target)
    _apply_gain(frames, gain_db, loudness, peaks)

    for attempt in range(MAX_PASSES):
        if peaks.true_peak() <= ceiling:  # measures each block once, cached for `over`
            break
        over, values = peaks.over(ceiling)
        if len(over) == 0:
            break
        for start, stop in limit(frames, over, values, ceiling, sample_rate):
            loudness.update(measured, start, stop)
            peaks.refresh(start, stop)
        log.debug("limited %d frames over the %.2f dBTP ceiling", len(over),
                  20 * math.log10(ceiling))
        shortfall = target - loudness.loudness()
        if attempt < MAKEUP_PASSES and not math.isinf(shortfall) and (
                shortfall > LOUDNESS_TOLERANCE_LU):
            _apply_gain(frames, shortfall, loudness, peaks)  # make up what limiting took
            gain_db += shortfall

    final_peak = peaks.true_peak()
    final = loudness.loudness()
    peak_db = 20.0 * math.log10(final_peak) if final_peak > 0 else -math.inf
    if final_peak > ceiling * 1.0001:
        raise RenderError(f"could not bring the true peak under {true_peak_dbtp} dBTP "
                          f"(still {peak_db:.2f} dBTP)")
    if not math.isinf(final) and abs(final - target) > 0.5:
        log.warning("loudness %.2f LUFS misses the %.1f LUFS target: the mix is too peaky "
                    "to reach it under %.1f dBTP", final, target, true_peak_dbtp)
    return MasterResult(work, final, peak_db, gain_db)


def _apply_gain(frames: np.ndarray, gain_db: float, loudness: LoudnessBlocks,
                peaks: PeakMap) -> None:
    if gain_db == 0.0:
        return
    gain = 10.0 ** (gain_db / 20.0)
    frames *= np.float32(gain)
    loudness.scale(gain)
    peaks.scale(gain)
