"""Loudness and true peak per ITU-R BS.1770-4, measured in blocks.

Integrated loudness uses pyloudnorm's K-weighting filters and reproduces its
gating exactly (same 400 ms blocks at 75 % overlap, same -70 LUFS absolute and
-10 LU relative gates; tests compare the two), but filters the signal in
blocks as they arrive and keeps only running sums at the gating block edges:
no copy of a whole session. True peak is the largest magnitude of the signal upsampled 4x (scipy's
resample_poly with its default filter, computed as the filter's three in-between
phases beside the samples themselves). `TRUE_PEAK_BOUND` bounds it from the
sample peak, so the limiter upsamples only blocks that could pass its ceiling.
"""

from __future__ import annotations

import math
import os
from typing import Final

import numpy as np
from pyloudnorm.iirfilter import IIRfilter
from scipy.signal import firwin, sosfilt, upfirdn

GATE_BLOCK_S: Final = 0.400
GATE_OVERLAP: Final = 0.75
ABSOLUTE_GATE_LUFS: Final = -70.0
RELATIVE_GATE_LU: Final = -10.0
CHANNEL_WEIGHTS: Final = (1.0, 1.0, 1.0, 1.41, 1.41)  # L, R, C, Ls, Rs
FILTER_CHUNK_FRAMES: Final = 1 << 19
PREROLL_S: Final = 0.5  # the K-filter forgets its start state long before this

OVERSAMPLING: Final = 4
PEAK_BLOCK_FRAMES: Final = 4096
PEAK_TASK_FRAMES: Final = 1 << 18
_PEAK_MARGIN: Final = 32  # input frames of context on each side of an upsampled stretch
# resample_poly's own default design for up=4 (81 taps, Kaiser beta 5), fixed here so
# the bound below describes exactly the filter in use.
_TP_FILTER: Final = firwin(2 * 10 * OVERSAMPLING + 1, 1.0 / OVERSAMPLING, window=("kaiser", 5.0))
# resample_poly's output at phase p (1..3) of each frame, as a plain FIR filter: the taps
# and the delay that put its output on the frame. Phase 0 is the frame itself times the
# centre tap (its other taps are zeros of the sinc). Filtering three phases costs less
# than upsampling all four.
_TP_PHASES: Final = tuple(
    (OVERSAMPLING * _TP_FILTER[(len(_TP_FILTER) // 2 + p) % OVERSAMPLING:: OVERSAMPLING],
     (len(_TP_FILTER) // 2 + p) // OVERSAMPLING)
    for p in range(1, OVERSAMPLING))
_TP_CENTRE: Final = float(OVERSAMPLING * _TP_FILTER[len(_TP_FILTER) // 2])  # about 1.0006
# No upsampled value exceeds the largest input magnitude nearby times the largest
# sum of |coefficients| of one polyphase branch (about 2.24, +7 dB).
TRUE_PEAK_BOUND: Final = float(max(np.abs(OVERSAMPLING * _TP_FILTER[p::OVERSAMPLING]).sum()
                                   for p in range(OVERSAMPLING)))


def _workers() -> int:
    return max(1, min(2, os.cpu_count() or 1))


def as_frames(audio: np.ndarray) -> np.ndarray:
    """A (frames, channels) view of mono (frames,) or multichannel audio."""
    return audio[:, np.newaxis] if audio.ndim == 1 else audio


# --- loudness -----------------------------------------------------------------------

def _k_weighting(sample_rate: int) -> np.ndarray:
    """pyloudnorm's K-weighting (high shelf, then high pass) as second-order sections."""
    shelf = IIRfilter(4.0, 1 / np.sqrt(2), 1500.0, sample_rate, "high_shelf")
    high_pass = IIRfilter(0.0, 0.5, 38.0, sample_rate, "high_pass")
    return np.array([np.concatenate([f.b, f.a]) for f in (shelf, high_pass)])


def gating_blocks(frames: int, sample_rate: int) -> tuple[np.ndarray, np.ndarray, float]:
    """The gating blocks of a signal of `frames` frames: first frames, end frames
    (exclusive), and 1 / the frames in a full block."""
    block = GATE_BLOCK_S * sample_rate
    if frames >= block:
        step = 1.0 - GATE_OVERLAP
        duration = frames / sample_rate
        count = int(np.round((duration - GATE_BLOCK_S) / (GATE_BLOCK_S * step))) + 1
        j = np.arange(count)
        # the same float expressions as pyloudnorm, so the same integer bounds
        lower = (GATE_BLOCK_S * (j * step) * sample_rate).astype(np.int64)
        upper = np.minimum((GATE_BLOCK_S * (j * step + 1) * sample_rate).astype(np.int64),
                           frames)
        return lower, upper, 1.0 / (GATE_BLOCK_S * sample_rate)
    lower = np.zeros(1 if frames else 0, dtype=np.int64)
    return lower, np.full(len(lower), frames, dtype=np.int64), 1.0 / frames if frames else 0.0


def _channel_weights(channels: int, weights: tuple[float, ...] | None) -> np.ndarray:
    found = np.array(weights if weights is not None else CHANNEL_WEIGHTS[:channels])
    if len(found) != channels:
        raise ValueError(f"{len(found)} weights for {channels} channels")
    return found


class LoudnessMeter:
    """Integrated loudness of a signal that arrives in blocks, front to back.

    BS.1770's K-weighting, gating blocks and gates (as pyloudnorm), with the
    filter state carried from block to block, so the result does not depend
    on how the signal is cut; only running sums at the gating block edges are
    kept. The total length must be known at the start (the gating blocks
    depend on it).
    """

    def __init__(self, sample_rate: int, frames: int, channels: int = 1,
                 weights: tuple[float, ...] | None = None):
        self.sample_rate = sample_rate
        self.frames = frames
        self._sos = _k_weighting(sample_rate)
        self._weights = _channel_weights(channels, weights)
        self._lower, self._upper, self._norm = gating_blocks(frames, sample_rate)
        self._marks = np.unique(np.concatenate([self._lower, self._upper]))
        self._prefix = np.zeros((channels, len(self._marks)))  # sums over [0, mark)
        self._total = np.zeros(channels)
        self._zi = np.zeros((channels, self._sos.shape[0], 2))
        self._done = int(np.searchsorted(self._marks, 0, side="right"))  # marks filled
        self.position = 0  # frames measured so far

    def add(self, block: np.ndarray, *, segment_frames: int = 0) -> np.ndarray:
        """Measure the next frames, shaped (n,) or (n, channels).

        With `segment_frames`, returns the K-weighted energy (sum of squares,
        channels weighted) of each stretch of that many frames, counted from the
        block's start (the last may be shorter); otherwise an empty array.
        """
        frames = as_frames(block)
        n = len(frames)
        if self.position + n > self.frames:
            raise ValueError(f"more than the {self.frames} frames announced")
        segments = np.zeros(-(-n // segment_frames) if segment_frames else 0)
        if n == 0:
            return segments
        end = self.position + n
        k = int(np.searchsorted(self._marks, end, side="right"))
        # sums between the gating block edges inside (position, end]: a few running totals
        edges = np.concatenate([[0], self._marks[self._done:k] - self.position])
        edges = edges[edges < n]
        cuts = np.arange(0, n, segment_frames) if segment_frames else None
        for channel in range(frames.shape[1]):
            y, self._zi[channel] = sosfilt(self._sos, frames[:, channel].astype(np.float64),
                                           zi=self._zi[channel])
            y *= y
            pieces = np.add.reduceat(y, edges)  # [edge, next edge) and the rest of the block
            running = self._total[channel] + np.cumsum(pieces)
            self._prefix[channel, self._done:k] = running[: k - self._done]
            self._total[channel] = running[-1]
            if cuts is not None:
                segments += self._weights[channel] * np.add.reduceat(y, cuts)
        self._done = k
        self.position = end
        return segments

    def energy(self) -> np.ndarray:
        """The mean square of every gating block, shaped (channels, blocks)."""
        if self.position != self.frames:
            raise ValueError(f"measured {self.position} of {self.frames} frames")
        lo = np.searchsorted(self._marks, self._lower)
        hi = np.searchsorted(self._marks, self._upper)
        return self._norm * (self._prefix[:, hi] - self._prefix[:, lo])

    @property
    def weights(self) -> np.ndarray:
        return self._weights

    @property
    def bounds(self) -> tuple[np.ndarray, np.ndarray]:
        """The gating blocks' first frames and end frames (exclusive)."""
        return self._lower, self._upper

    def loudness(self) -> float:
        """Integrated loudness, LUFS (-inf for silence); once every frame is measured."""
        return gated_loudness(self.energy(), self._weights)


def gated_loudness(energy: np.ndarray, weights: np.ndarray) -> float:
    """BS.1770 gating over per-block mean squares shaped (channels, blocks)."""
    if energy.shape[1] == 0:
        return -math.inf
    with np.errstate(divide="ignore"):
        block_lufs = -0.691 + 10.0 * np.log10(weights @ energy)
    above = block_lufs >= ABSOLUTE_GATE_LUFS
    if not above.any():
        return -math.inf
    relative = -0.691 + 10.0 * math.log10(float(weights @ energy[:, above].mean(axis=1)))
    relative += RELATIVE_GATE_LU
    kept = (block_lufs > relative) & (block_lufs > ABSOLUTE_GATE_LUFS)
    if not kept.any():
        return -math.inf
    mean = float(weights @ energy[:, kept].mean(axis=1))
    return -0.691 + 10.0 * math.log10(mean) if mean > 0 else -math.inf


# --- true peak ----------------------------------------------------------------------

def upsampled_peaks(frames: np.ndarray, stretches: list[tuple[int, int]]
                     ) -> list[np.ndarray]:
    """Per input frame of each stretch [start, stop): the largest |value| of the 4x
    upsampled signal from that frame up to the next, over all channels.

    The stretches, each with real context on both sides, are upsampled in one
    call: the filter reaches 10 input frames, so inside a stretch no value
    depends on its neighbours in the batch. (Only a stretch at the very start
    or end of the audio lacks context there, and it is first or last in the
    batch, where zeros stand in as they do for the whole signal.)
    """
    n = len(frames)
    pieces, offsets, position = [], [], 0
    for start, stop in stretches:
        lo, hi = max(0, start - _PEAK_MARGIN), min(n, stop + _PEAK_MARGIN)
        pieces.append(frames[lo:hi])
        offsets.append(position + start - lo)
        position += hi - lo
    batch = np.concatenate(pieces) if len(pieces) > 1 else pieces[0]
    peaks = np.abs(batch).max(axis=1)  # the zero phase: the samples themselves, scaled
    peaks *= peaks.dtype.type(_TP_CENTRE)
    for channel in range(batch.shape[1]):  # one contiguous channel at a time is fastest
        signal = np.ascontiguousarray(batch[:, channel])
        for taps, delay in _TP_PHASES:
            between = upfirdn(taps.astype(signal.dtype), signal)[delay: delay + len(signal)]
            np.maximum(peaks, np.abs(between, out=between), out=peaks)
    return [peaks[o: o + stop - start] for o, (start, stop) in zip(offsets, stretches,
                                                                    strict=True)]


def integrated_loudness(audio: np.ndarray, sample_rate: int) -> float:
    """Integrated loudness of float audio, (frames,) or (frames, channels), in LUFS.

    Shorter audio than one gating block (pyloudnorm refuses it) is measured as
    a single block spanning the whole signal.
    """
    frames = as_frames(audio)
    meter = LoudnessMeter(sample_rate, len(frames), frames.shape[1])
    for start in range(0, len(frames), FILTER_CHUNK_FRAMES):
        meter.add(frames[start: start + FILTER_CHUNK_FRAMES])
    return meter.loudness()


def true_peak(audio: np.ndarray) -> float:
    """Largest magnitude of the 4x upsampled signal (linear; 1.0 is 0 dBTP)."""
    frames = as_frames(audio)
    stretches = [(a, min(a + PEAK_TASK_FRAMES, len(frames)))
                 for a in range(0, len(frames), PEAK_TASK_FRAMES)]
    return max((float(p.max()) for p in upsampled_peaks(frames, stretches) if len(p)),
               default=0.0) if stretches else 0.0


def true_peak_dbtp(audio: np.ndarray) -> float:
    peak = true_peak(audio)
    return 20.0 * math.log10(peak) if peak > 0 else -math.inf
