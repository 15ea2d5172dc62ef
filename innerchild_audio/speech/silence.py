"""Finding speech and pauses in decoded PCM: where a clip's voice starts and ends, and the
quiet stretches inside it. Every engine's clips are trimmed and measured with these."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Final

import numpy as np

FRAME_MS: Final = 10
SILENCE_BELOW_PEAK_DB: Final = 40.0  # quieter than the loudest 10 ms by this much is a pause
EDGE_PAD_MS: Final = 40  # silence kept at each end of a trimmed clip
MIN_SENTENCE_GAP_MS: Final = 100  # shortest pause we accept as a sentence boundary


def _frame_levels_db(samples: np.ndarray, sample_rate: int) -> tuple[np.ndarray, int]:
    frame = max(1, sample_rate * FRAME_MS // 1000)
    count = len(samples) // frame
    if count == 0:
        return np.zeros(0), frame
    frames = samples[: count * frame].reshape(count, frame).astype(np.float64)
    rms = np.sqrt(np.mean(frames**2, axis=1))
    return 20 * np.log10(np.maximum(rms, 1e-10)), frame


def _silent_frames(samples: np.ndarray, sample_rate: int) -> tuple[np.ndarray, int]:
    levels, frame = _frame_levels_db(samples, sample_rate)
    if levels.size == 0:
        return np.zeros(0, dtype=bool), frame
    return levels < float(levels.max()) - SILENCE_BELOW_PEAK_DB, frame


def voiced_span(samples: np.ndarray, sample_rate: int, *, pad_ms: int = 0) -> tuple[int, int]:
    """(start, stop) sample indices around the sound, widened by `pad_ms` each side."""
    silent, frame = _silent_frames(samples, sample_rate)
    voiced = np.flatnonzero(~silent)
    if voiced.size == 0:
        return 0, len(samples)
    pad = sample_rate * pad_ms // 1000
    start = max(0, int(voiced[0]) * frame - pad)
    stop = min(len(samples), (int(voiced[-1]) + 1) * frame + pad)
    return start, stop


def trim_silence(samples: np.ndarray, sample_rate: int, *, pad_ms: int = EDGE_PAD_MS) -> np.ndarray:
    """`samples` without leading and trailing silence beyond `pad_ms`; all-silent stays whole."""
    start, stop = voiced_span(samples, sample_rate, pad_ms=pad_ms)
    return samples[start:stop]


def pauses(samples: np.ndarray, sample_rate: int, *, min_ms: int) -> list[tuple[int, int]]:
    """Inner silent runs of at least `min_ms`, as (start, stop) sample indices."""
    silent, frame = _silent_frames(samples, sample_rate)
    runs: list[tuple[int, int]] = []
    start: int | None = None
    for index, quiet in enumerate(np.append(silent, False)):
        if quiet and start is None:
            start = index
        elif not quiet and start is not None:
            if start > 0 and index < len(silent) and (index - start) * FRAME_MS >= min_ms:
                runs.append((start * frame, index * frame))
            start = None
    return runs


def split_at_pauses(
    samples: np.ndarray, sample_rate: int, weights: Sequence[int]
) -> list[np.ndarray] | None:
    """Cut one recording of several sentences into one piece per sentence.

    `weights` are the sentences' lengths in characters; boundary j is expected
    where the characters before it would end if speech ran evenly. The boundaries
    take pauses in order, each near its expected point, preferring long pauses
    and small misses (a dynamic programme over the pauses found). None when some
    boundary has no pause of at least MIN_SENTENCE_GAP_MS near it: the caller
    then asks sentence by sentence.
    """
    if len(weights) == 1:
        return [samples]
    runs = pauses(samples, sample_rate, min_ms=MIN_SENTENCE_GAP_MS)
    lead, stop_voiced = voiced_span(samples, sample_rate)
    span = stop_voiced - lead
    total = float(sum(weights))
    window = 0.25 * span + 0.4 * sample_rate
    expected = [lead + span * sum(weights[: j + 1]) / total for j in range(len(weights) - 1)]
    mids = [(start + stop) / 2 for start, stop in runs]

    def cost(j: int, i: int) -> float:
        miss = abs(mids[i] - expected[j])
        if miss > window:
            return float("inf")
        return (miss - (runs[i][1] - runs[i][0])) / sample_rate

    # best[j][i]: lowest cost with boundary j on pause i; back[j][i]: pause of boundary j-1
    inf = float("inf")
    best = [[inf] * len(runs) for _ in expected]
    back = [[-1] * len(runs) for _ in expected]
    for i in range(len(runs)):
        best[0][i] = cost(0, i)
    for j in range(1, len(expected)):
        low, low_at = inf, -1
        for i in range(len(runs)):
            if i > 0 and best[j - 1][i - 1] < low:
                low, low_at = best[j - 1][i - 1], i - 1
            best[j][i] = low + cost(j, i)
            back[j][i] = low_at
    last = min(range(len(runs)), key=lambda i: best[-1][i], default=-1)
    if last < 0 or best[-1][last] == inf:
        return None
    chosen = [last]
    for j in range(len(expected) - 1, 0, -1):
        chosen.append(back[j][chosen[-1]])
    cuts = [int(mids[i]) for i in reversed(chosen)]
    edges = [0, *cuts, len(samples)]
    return [samples[a:b] for a, b in zip(edges, edges[1:], strict=False)]
