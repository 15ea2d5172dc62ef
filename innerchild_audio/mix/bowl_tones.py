"""Synthesized cues: the singing bowl and the breathing tones.

Both are made with numpy from a few sine partials, so they need no asset files
and sound the same on every machine.
"""

from __future__ import annotations

import functools
from typing import Final

import numpy as np

from innerchild_audio.mix.fades import db_to_gain, fade_edges, ms_to_frames
from innerchild_audio.timeline import BELL_RING_MS, TONE_LEVEL_DB

BELL_PEAK_DB: Final = -12.0  # peak of one strike, dBFS; a bell file is scaled to the same peak
BOWL_FUNDAMENTAL_HZ: Final = 246.0
# (frequency ratio, amplitude, decay time constant in s, beat in Hz): a bowl's partials
# are inharmonic (near 1 : 2.7 : 5.2 : 8.6); each sounds as a slightly detuned pair,
# and higher partials die away sooner.
BOWL_PARTIALS: Final = (
    (1.00, 1.00, 1.50, 0.9),
    (2.74, 0.55, 0.95, 1.7),
    (5.22, 0.28, 0.55, 2.6),
    (8.61, 0.14, 0.32, 3.3),
)
BOWL_ATTACK_MS: Final = 15  # soft mallet
BOWL_TAIL_FADE_MS: Final = 1000  # the last of the ring goes smoothly to exact zero

TONE_LOW_HZ: Final = 196.0  # G3
TONE_HIGH_HZ: Final = 293.7  # D4, a fifth above
TONE_FADE_MS: Final = 400
SOUND_EDGE_FADE_MS: Final = 10  # file clips (sounds, bell files)
CUT_FADE_MS: Final = 50  # where a ringing sound is cut short at its event's end


@functools.lru_cache(maxsize=4)
def bowl_strike(sample_rate: int) -> np.ndarray:
    """One strike of the singing bowl, BELL_RING_MS long, peaking at BELL_PEAK_DB.

    Read-only (cached): copy before changing it.
    """
    frames = ms_to_frames(BELL_RING_MS, sample_rate)
    t = np.arange(frames) / sample_rate
    out = np.zeros(frames)
    for ratio, amplitude, decay_s, beat_hz in BOWL_PARTIALS:
        freq = BOWL_FUNDAMENTAL_HZ * ratio
        envelope = amplitude * np.exp(-t / decay_s)
        # two components beat_hz apart: the slow wavering of a real bowl
        pair = 0.6 * np.sin(2 * np.pi * freq * t) + 0.4 * np.sin(2 * np.pi * (freq + beat_hz) * t)
        out += envelope * pair
    fade_edges(out, ms_to_frames(BOWL_ATTACK_MS, sample_rate),
               ms_to_frames(BOWL_TAIL_FADE_MS, sample_rate))
    out *= db_to_gain(BELL_PEAK_DB) / np.max(np.abs(out))
    strike = out.astype(np.float32)
    strike.setflags(write=False)
    return strike


def scaled_to_bell_peak(samples: np.ndarray) -> np.ndarray:
    """A bell sound file's samples at the synthesized bowl's peak level (a new array)."""
    peak = float(np.max(np.abs(samples))) if len(samples) else 0.0
    if peak == 0.0:
        return np.array(samples, dtype=np.float32)
    return (samples * np.float32(db_to_gain(BELL_PEAK_DB) / peak)).astype(np.float32)


@functools.lru_cache(maxsize=16)
def breath_tone(frames: int, sample_rate: int, *, rising: bool) -> np.ndarray:
    """A soft sine gliding up a fifth (in-breath) or down (out-breath) over `frames`.

    Peaks at TONE_LEVEL_DB with slow fades, so it swells and recedes like a breath.
    Read-only (cached: breathing repeats the same phases).
    """
    if frames <= 0:
        return np.zeros(0, dtype=np.float32)
    start, end = (TONE_LOW_HZ, TONE_HIGH_HZ) if rising else (TONE_HIGH_HZ, TONE_LOW_HZ)
    duration_s = frames / sample_rate
    t = np.arange(frames) / sample_rate
    # exponential glide f(t) = start * r**(t/T); its phase is the integral of 2*pi*f
    ratio = end / start
    log_ratio = np.log(ratio)
    phase = 2 * np.pi * start * duration_s / log_ratio * (np.power(ratio, t / duration_s) - 1)
    tone = (db_to_gain(TONE_LEVEL_DB) * np.sin(phase)).astype(np.float32)
    fade = min(ms_to_frames(TONE_FADE_MS, sample_rate), frames // 3)
    fade_edges(tone, fade, fade)
    tone.setflags(write=False)
    return tone
