"""Gain curves: clip-edge fades, crossfades and decibel conversion.

Fades are raised-cosine (S-shaped, no corner at either end) and start or end
on an exact zero, so a clip never begins or stops with a step.
"""

from __future__ import annotations

import functools
import math

import numpy as np


def db_to_gain(db: float) -> float:
    return 10.0 ** (db / 20.0)


def gain_to_db(gain: float) -> float:
    return 20.0 * math.log10(gain) if gain > 0 else -math.inf


def ms_to_frames(ms: float, sample_rate: int) -> int:
    """The frame at `ms` (or a length in frames): one rounding rule everywhere."""
    return round(ms * sample_rate / 1000)


@functools.lru_cache(maxsize=64)
def _cosine_rise(frames: int) -> np.ndarray:
    curve = (0.5 - 0.5 * np.cos(np.pi * np.arange(frames) / frames)).astype(np.float32)
    curve.setflags(write=False)
    return curve


@functools.lru_cache(maxsize=64)
def _sine_rise(frames: int) -> np.ndarray:
    curve = np.sin(0.5 * np.pi * np.arange(frames) / frames).astype(np.float32)
    curve.setflags(write=False)
    return curve


def rise(frames: int, *, equal_power: bool = False) -> np.ndarray:
    """A 0 -> 1 curve of `frames` samples; its first sample is exactly 0.

    Equal power (a quarter sine, paired with its mirror image) keeps the summed
    power of two uncorrelated signals constant through a crossfade.
    """
    if frames <= 0:
        return np.zeros(0, dtype=np.float32)
    return _sine_rise(frames) if equal_power else _cosine_rise(frames)


def fall(frames: int, *, equal_power: bool = False) -> np.ndarray:
    """A 1 -> 0 curve.

    Raised-cosine: the mirror of `rise`, so its last sample is exactly 0.
    Equal power: a quarter cosine over the same frames as `rise`, so
    rise**2 + fall**2 == 1 sample by sample (its last sample is about pi/(2*frames)).
    """
    if frames <= 0:
        return np.zeros(0, dtype=np.float32)
    if equal_power:
        return _cosine_fall_ep(frames)
    return rise(frames)[::-1]


@functools.lru_cache(maxsize=64)
def _cosine_fall_ep(frames: int) -> np.ndarray:
    curve = np.cos(0.5 * np.pi * np.arange(frames) / frames).astype(np.float32)
    curve.setflags(write=False)
    return curve


def fade_edges(samples: np.ndarray, fade_in: int, fade_out: int) -> np.ndarray:
    """Fade the first `fade_in` and last `fade_out` samples in place; returns `samples`."""
    n = len(samples)
    fade_in = min(fade_in, n)
    fade_out = min(fade_out, n)
    if fade_in:
        samples[:fade_in] *= rise(fade_in)
    if fade_out:
        samples[n - fade_out:] *= fall(fade_out)
    return samples
