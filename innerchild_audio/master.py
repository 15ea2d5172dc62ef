"""Mastering: one gain to the loudness target, then a true-peak limiter.

Loudness is integrated BS.1770 loudness (pyloudnorm's filters and gating, see
`mix.meter`); the default target is -16 LUFS for stereo and -19 LUFS for mono.
True peak is measured 4x oversampled. The limiter is a look-ahead gain
computer: it finds every frame whose true peak would pass the ceiling, and
lowers the gain around it with a short ramp ahead and a smooth release after,
so peaks are rounded off rather than clipped. It works only where peaks are,
which in speech is a small part of the session.

The ceiling sits MP3_HEADROOM_DB under the requested true peak: MP3 encoding
adds a little overshoot, and the decoded MP3 must still meet the limit.
"""

from __future__ import annotations

import logging
import math
from dataclasses import dataclass
from typing import Final

import numpy as np
from scipy.ndimage import maximum_filter1d, uniform_filter1d

from innerchild_audio.errors import RenderError
from innerchild_audio.mix.meter import LoudnessBlocks, PeakMap, as_frames, identical_channels

log = logging.getLogger(__name__)

MONO_TARGET_LUFS: Final = -19.0
STEREO_TARGET_LUFS: Final = -16.0
DEFAULT_TRUE_PEAK_DBTP: Final = -1.0
MP3_HEADROOM_DB: Final = 0.3
LOOKAHEAD_MS: Final = 5.0  # gain reduction ramps in over this before a peak
RELEASE_DB_PER_S: Final = 40.0  # and recovers at this rate after it
LIMIT_MARGIN_DB: Final = 0.05  # reduce a touch more than measured: the gain itself moves
LOUDNESS_TOLERANCE_LU: Final = 0.05  # make up lost loudness when limiting costs more
MAKEUP_PASSES: Final = 2  # limiting costs a little loudness: made up at most twice
MAX_PASSES: Final = 6  # each pass limits what the previous one left over the ceiling
_CHECK_FRAMES: Final = 1 << 20


@dataclass(frozen=True, eq=False)
class MasterResult:
    audio: np.ndarray  # float32, the shape it came in
    loudness_lufs: float  # integrated, after limiting (-inf for silence)
    true_peak_dbtp: float  # 4x oversampled, after limiting
    gain_db: float  # the overall gain applied (before limiting)


def default_target_lufs(channels: int) -> float:
    return STEREO_TARGET_LUFS if channels > 1 else MONO_TARGET_LUFS


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


def limit(frames: np.ndarray, over: np.ndarray, peaks: np.ndarray, ceiling: float,
          sample_rate: int) -> list[tuple[int, int]]:
    """Lower the gain around each frame in `over` (sorted) so its true peak
    (`peaks`) meets `ceiling`; returns the stretches of frames it changed.

    Per stretch: the reduction each frame needs (dB), held over the look-ahead
    and averaged over it (so it ramps in before the peak and is complete at it),
    then released at RELEASE_DB_PER_S. Every step only raises the reduction, so
    each frame gets at least what it needs.
    """
    n = len(frames)
    ahead = max(1, round(LOOKAHEAD_MS * sample_rate / 1000))
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
        reduction = np.zeros(hi - lo)
        reduction[over[i: j + 1] - lo] = need[i: j + 1]
        # hold: max over the trailing look-ahead window [k - ahead + 1, k]
        held = maximum_filter1d(reduction, ahead, mode="constant", origin=(ahead - 1) // 2)
        # ramp: mean over the leading window [k, k + ahead - 1]
        ramped = uniform_filter1d(held, ahead, mode="constant", origin=-(ahead // 2))
        steps = np.arange(hi - lo) * release
        released = np.maximum.accumulate(ramped + steps) - steps
        gain = np.power(10.0, -released / 20.0).astype(np.float32)
        a, b = max(lo, 0), min(hi, n)
        frames[a:b] *= gain[a - lo: b - lo, np.newaxis]
        changed.append((a, b))
    return changed
