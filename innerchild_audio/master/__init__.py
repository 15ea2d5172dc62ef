"""Mastering: one gain to the loudness target, then a true-peak limiter, block by block.

    master_stream(mixer, headroom_db=...)   -> MasteredStream    (two passes)

Loudness is integrated BS.1770 loudness (pyloudnorm's filters and gating, see
`master.meter`); the default target is -16 LUFS for stereo and -19 LUFS for mono.
True peak is measured 4x oversampled. The limiter is a look-ahead gain
computer: it finds every frame whose true peak would pass the ceiling, and
lowers the gain around it with a short ramp ahead and a smooth release after,
so peaks are rounded off rather than clipped. It works only where peaks are,
which in speech is a small part of the session.

The limiter's ceiling sits `headroom_db` under the requested true peak: MP3
encoding adds a little overshoot (`export.mp3.overshoot_allowance_db`), and
the decoded MP3 must still meet the limit.

The streaming master never holds the session: a first pass of the mixer
measures the loudness (and what limiting will cost, to make it up); a second
pass mixes again, applies the gain and a streaming limiter, and measures the
result as it goes out. A short session (up to SETTLE_MAX_S) is the exception:
its second pass is held in memory and run again with the gain corrected by what
the limiter really took, since there one peaky sentence can move the whole.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Generator, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import closing
from typing import Final, Protocol

import numpy as np

from innerchild_audio.audio_io import check_finite
from innerchild_audio.errors import RenderError
from innerchild_audio.master.limiter import (
    FORECAST_SEGMENT_FRAMES,
    LimitingForecast,
    StreamLimiter,
)
from innerchild_audio.master.meter import LoudnessMeter

log = logging.getLogger(__name__)

MONO_TARGET_LUFS: Final = -19.0
STEREO_TARGET_LUFS: Final = -16.0
DEFAULT_TRUE_PEAK_DBTP: Final = -1.0
LOUDNESS_TOLERANCE_LU: Final = 0.05  # make up lost loudness when limiting costs more
STREAM_BLOCK_FRAMES: Final = 1 << 18  # about 6 s at 44.1 kHz; whole limiter and forecast blocks
STREAM_MAKEUP_STEPS: Final = 4  # forecasts are cheap: make up until within the tolerance
SETTLE_MAX_S: Final = 180  # sessions up to this long are mastered in memory and corrected
SETTLE_STEPS: Final = 3  # passes of correction at most (limiting makes gain and loudness curve)


def default_target_lufs(channels: int) -> float:
    return STEREO_TARGET_LUFS if channels > 1 else MONO_TARGET_LUFS


# --- streaming ----------------------------------------------------------------------

class MonoMix(Protocol):
    """A mono mix that can be made again, front to back, block by block (`mix.Mixer`)."""

    sample_rate: int
    channels: int  # how many channels carry the mono mix
    frames: int

    def blocks(self, block_frames: int) -> Generator[np.ndarray, None, None]: ...


def master_stream(mix: MonoMix, *, target_lufs: float | None = None,
                  true_peak_dbtp: float = DEFAULT_TRUE_PEAK_DBTP,
                  headroom_db: float = 0.0) -> MasteredStream:
    """Measure `mix` (a first pass) and return it ready to be made again, mastered.

    The gain brings the integrated loudness to `target_lufs` (default by the
    channel count) and makes up what the limiter will take, as forecast from
    the first pass; every channel carries the mono mix, so one is measured,
    weighted as all of them. The limiter's ceiling is `true_peak_dbtp` less
    `headroom_db` (what encoding will add). Raises RenderError when the mix
    holds NaN or infinity.
    """
    if mix.channels not in (1, 2):
        raise RenderError(f"master needs 1 or 2 channels, got {mix.channels}")
    if mix.sample_rate <= 0:
        raise RenderError(f"invalid sample rate {mix.sample_rate}")
    target = default_target_lufs(mix.channels) if target_lufs is None else float(target_lufs)
    ceiling = 10.0 ** ((true_peak_dbtp - headroom_db) / 20.0)
    meter = _meter(mix)
    forecast = LimitingForecast(mix.sample_rate, ceiling)
    position = 0
    # K-weighting (which leaves the GIL) runs beside the mixing, a block behind
    with (ThreadPoolExecutor(max_workers=1) as pool,
          closing(mix.blocks(STREAM_BLOCK_FRAMES)) as blocks):
        waiting: tuple[np.ndarray, Future[np.ndarray]] | None = None
        for block in blocks:
            check_finite(block, "the mix", position)
            if waiting is not None:
                forecast.add(waiting[0], waiting[1].result())
            waiting = block, pool.submit(meter.add, block, segment_frames=FORECAST_SEGMENT_FRAMES)
            position += len(block)
        if waiting is not None:
            forecast.add(waiting[0], waiting[1].result())
    initial = meter.loudness()
    gain_db = 0.0 if math.isinf(initial) else target - initial
    for _ in range(STREAM_MAKEUP_STEPS):
        shortfall = target - forecast.loudness(gain_db, meter)
        if math.isinf(shortfall) or shortfall <= LOUDNESS_TOLERANCE_LU:
            break
        gain_db += shortfall  # make up what limiting will take
    log.debug("measured %.2f LUFS; gain %+.2f dB to %.1f LUFS", initial, gain_db, target)
    return MasteredStream(mix, gain_db=gain_db, target_lufs=target, ceiling=ceiling,
                          true_peak_limit_dbtp=true_peak_dbtp)


def _meter(mix: MonoMix) -> LoudnessMeter:
    # every channel carries the mono mix: one channel measured, weighted as all of them
    return LoudnessMeter(mix.sample_rate, mix.frames, 1, weights=(float(mix.channels),))


class MasteredStream:
    """A mix mastered as it is made: `blocks()` runs the second pass.

    Blocks are float32 shaped (frames, channels). The loudness and true peak
    of what came out are known once `blocks()` has run to its end (None
    before); it raises RenderError at its end if the true peak could not be
    brought under the ceiling.
    """

    def __init__(self, mix: MonoMix, *, gain_db: float, target_lufs: float, ceiling: float,
                 true_peak_limit_dbtp: float):
        self._mix = mix
        self.sample_rate = mix.sample_rate
        self.channels = mix.channels
        self.frames = mix.frames
        self.gain_db = gain_db  # before limiting
        self.target_lufs = target_lufs
        self.ceiling = ceiling
        self._limit_dbtp = true_peak_limit_dbtp
        self.loudness_lufs: float | None = None
        self.true_peak_dbtp: float | None = None
        self._held: list[np.ndarray] | None = None  # a short session, mastered by settle()
        self._last: tuple[StreamLimiter, LoudnessMeter] | None = None  # the latest pass's

    def settle(self) -> float:
        """Master a short session in memory and correct its gain by what the limiter
        really took; returns the gain. The forecast works on sample peaks, and in a
        session of a few sentences one peaky take can cost a tenth of a LU. Longer
        sessions (over SETTLE_MAX_S) stream as they are: there the forecast holds."""
        if self._held is not None or self.frames > SETTLE_MAX_S * self.sample_rate:
            return self.gain_db
        held = list(self._pass())
        for _ in range(SETTLE_STEPS):
            miss = self.target_lufs - self._measured().loudness()
            if not math.isfinite(miss) or abs(miss) <= LOUDNESS_TOLERANCE_LU:
                break
            self.gain_db += miss
            held = list(self._pass())
        self._held = held
        return self.gain_db

    def blocks(self) -> Iterator[np.ndarray]:
        self.settle()
        if self._held is not None:
            held, self._held = self._held, None
            yield from held
        else:
            yield from self._pass()
        self._finish()

    def _pass(self) -> Iterator[np.ndarray]:
        """One pass of the mix: gain, limiter and meter, laid out in channels."""
        gain = np.float32(10.0 ** (self.gain_db / 20.0))
        limiter, meter = StreamLimiter(self.ceiling, self.sample_rate), _meter(self._mix)
        self._last = limiter, meter
        with closing(self._mix.blocks(STREAM_BLOCK_FRAMES)) as blocks:
            for block in blocks:
                block *= gain
                done = limiter.push(block)
                if len(done):
                    meter.add(done)
                    yield self._laid_out(done)
        done = limiter.finish()
        if len(done):
            meter.add(done)
            yield self._laid_out(done)

    def _measured(self) -> LoudnessMeter:
        assert self._last is not None, "a pass runs before it is measured"
        return self._last[1]

    def _laid_out(self, mono: np.ndarray) -> np.ndarray:
        if self.channels == 1:
            return mono[:, np.newaxis]
        return np.repeat(mono[:, np.newaxis], self.channels, axis=1)

    def _finish(self) -> None:
        assert self._last is not None, "a pass runs before it is finished"
        limiter, meter = self._last
        peak = limiter.true_peak
        peak_db = 20.0 * math.log10(peak) if peak > 0 else -math.inf
        loudness = meter.loudness()
        log.debug("limited %d frames over the %.2f dBTP ceiling; %.2f LUFS, %.2f dBTP",
                  limiter.limited_frames, 20 * math.log10(self.ceiling), loudness, peak_db)
        if peak > self.ceiling * 1.0001:
            raise RenderError(f"could not bring the true peak under {self._limit_dbtp} dBTP "
                              f"(still {peak_db:.2f} dBTP)")
        if not math.isinf(loudness) and abs(loudness - self.target_lufs) > 0.5:
            log.warning("loudness %.2f LUFS misses the %.1f LUFS target: the mix is too peaky "
                        "to reach it under %.1f dBTP", loudness, self.target_lufs,
                        self._limit_dbtp)
        self.loudness_lufs = loudness
        self.true_peak_dbtp = peak_db
