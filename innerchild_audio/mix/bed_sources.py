"""Background sources: endless streams at unit RMS, read block by block.

Generated noises are made as they are read (seeded, so a render is repeatable,
and never held whole in memory); the drone and bed files are loops. Every
source is normalised to an RMS of 1.0: the bed sets the level.
"""

from __future__ import annotations

import functools
import math
import zlib
from typing import Final, Protocol

import numpy as np
from scipy.signal import butter, lfilter

from innerchild_audio.audio_io import decode
from innerchild_audio.errors import RenderError
from innerchild_audio.mix.fades import fall, ms_to_frames, rise
from innerchild_audio.model import GENERATED_SOUNDS

BROWN_LEAK_HZ: Final = 15.0  # the integrator leaks below this, so brown noise cannot drift
BROWN_HIGHPASS_HZ: Final = 30.0  # and rumble under this is taken out
# 1/f ("pink") approximation: three poles and zeros, within about 0.5 dB of a 3 dB per
# octave slope across the audible range (a published textbook design).
PINK_B: Final = (0.049922035, -0.095993537, 0.050612699, -0.004408786)
PINK_A: Final = (1.0, -2.494956002, 2.017265875, -0.522189400)
UNIFORM_SCALE: Final = np.sqrt(3.0) / 32768.0  # uniform int16 noise to unit variance

DRONE_PERIOD_S: Final = 60  # every frequency below is a multiple of 1/60 Hz: a seamless loop
# (frequency Hz, amplitude): a low A with its octave and fifth, each doubled a
# fraction of a hertz apart so the drone slowly beats and breathes.
DRONE_PARTIALS: Final = (
    (55.0, 0.55), (110.0, 1.0), (110.25, 0.35), (165.0, 0.45), (164.8, 0.15),
    (220.0, 0.22), (220.5, 0.08), (330.0, 0.08),
)
DRONE_SWELL_HZ: Final = (1 / 20, 1 / 30)  # slow amplitude movement, also on the 1/60 grid
DRONE_CHUNK_FRAMES: Final = 1 << 16

LOOP_CROSSFADE_MS: Final = 2000  # where a bed file's end runs into its start


class Source(Protocol):
    def read(self, frames: int) -> np.ndarray:
        """The next `frames` samples, float32, a new array the caller may change."""
        ...


def stable_seed(*parts: object) -> int:
    """A seed that is the same on every run and machine (unlike hash())."""
    return zlib.crc32("\x1f".join(str(p) for p in parts).encode("utf-8"))


class NoiseSource:
    """White, pink or brown noise, filtered as it is generated (filter state carried)."""

    def __init__(self, kind: str, sample_rate: int, seed: int):
        self._bits = np.random.SFC64(seed)
        self._b, self._a, self._scale = _noise_filter(kind, sample_rate)
        self._zi = np.zeros(len(self._a) - 1, dtype=np.float32) if self._a is not None else None

    def read(self, frames: int) -> np.ndarray:
        words = self._bits.random_raw((frames + 3) // 4)  # four int16 samples per draw
        block = words.view(np.int16)[:frames].astype(np.float32)
        if self._a is not None:
            block, self._zi = lfilter(self._b, self._a, block, zi=self._zi)
        block *= self._scale
        return block


@functools.lru_cache(maxsize=8)
def _noise_filter(kind: str, sample_rate: int
                  ) -> tuple[np.ndarray | None, np.ndarray | None, np.float32]:
    """Filter coefficients (float32: fast, and ample for noise) and the unit-RMS scale."""
    if kind == "white-noise":
        return None, None, np.float32(UNIFORM_SCALE)
    if kind == "pink-noise":
        b, a = np.array(PINK_B), np.array(PINK_A)
    elif kind == "brown-noise":
        leak = np.exp(-2 * np.pi * BROWN_LEAK_HZ / sample_rate)
        hb, ha = butter(2, BROWN_HIGHPASS_HZ, "highpass", fs=sample_rate)
        b, a = np.convolve(hb, [1.0]), np.convolve(ha, [1.0, -leak])
    else:
        raise RenderError(f"unknown generated sound {kind!r}")
    # white noise of unit variance through the filter has variance sum(h**2)
    impulse = np.zeros(sample_rate * 2)
    impulse[0] = 1.0
    noise_gain = float(np.sqrt(np.sum(lfilter(b, a, impulse) ** 2)))
    scale = np.float32(UNIFORM_SCALE / noise_gain)
    return b.astype(np.float32), a.astype(np.float32), scale


class LoopSource:
    """Sample p of the stream is head[p] while p < len(head), else loop[p % len(loop)].

    So `head` stands in for the loop's first samples on the first pass only.
    """

    def __init__(self, head: np.ndarray, loop: np.ndarray, gain: float = 1.0):
        """Every sample read is multiplied by `gain` (so a long file is not copied to scale it)."""
        if len(loop) == 0:
            raise RenderError("a looping bed needs at least one sample")
        self._head = head
        self._loop = loop
        self._gain = np.float32(gain)
        self._position = 0

    def read(self, frames: int) -> np.ndarray:
        out = np.empty(frames, dtype=np.float32)
        done = 0
        while done < frames:
            pos = self._position
            if pos < len(self._head):
                chunk = self._head[pos: pos + frames - done]
            else:
                offset = pos % len(self._loop)
                chunk = self._loop[offset: offset + frames - done]
            out[done: done + len(chunk)] = chunk
            done += len(chunk)
            self._position += len(chunk)
        if self._gain != 1:
            out *= self._gain
        return out


@functools.lru_cache(maxsize=2)
def drone_loop(sample_rate: int) -> np.ndarray:
    """One DRONE_PERIOD_S period of the drone at unit RMS (read-only, cached)."""
    frames = DRONE_PERIOD_S * sample_rate
    loop = np.empty(frames, dtype=np.float32)
    energy = 0.0
    for start in range(0, frames, DRONE_CHUNK_FRAMES):  # small float64 temporaries
        t = np.arange(start, min(start + DRONE_CHUNK_FRAMES, frames)) / sample_rate
        out = np.zeros(len(t))
        for i, (freq, amplitude) in enumerate(DRONE_PARTIALS):
            swell_hz = DRONE_SWELL_HZ[i % len(DRONE_SWELL_HZ)]
            swell = 1.0 + 0.3 * np.sin(2 * np.pi * swell_hz * t + i)
            out += amplitude * swell * np.sin(2 * np.pi * freq * t + 0.7 * i)
        energy += float(np.dot(out, out))
        loop[start: start + len(t)] = out
    loop *= np.float32(1.0 / np.sqrt(energy / frames))
    loop.setflags(write=False)
    return loop


def file_source(path: str, sample_rate: int, frames_needed: int) -> LoopSource:
    """A bed file at unit RMS; looped with an equal-power crossfade when it is too short.

    The loop is the file minus its last `xf` samples, with those samples faded
    over its first `xf`: the end runs into the start with no gap and no step.
    The first pass plays the file's own start.
    """
    # a file longer than the bed plays is read only as far as it plays
    samples = decode(path, sample_rate, limit_ms=math.ceil(frames_needed * 1000 / sample_rate) + 1)
    rms = float(np.sqrt(np.mean(np.square(samples, dtype=np.float64))))
    if rms < 1e-6:  # below -120 dBFS: nothing to normalise
        raise RenderError(f"{path}: the background file is silent")
    if len(samples) >= frames_needed:  # plays once: scaled as it is read
        return LoopSource(samples, samples, 1.0 / rms)
    unit = samples * np.float32(1.0 / rms)
    xf = min(ms_to_frames(LOOP_CROSSFADE_MS, sample_rate), len(unit) // 4)
    period = len(unit) - xf
    loop = unit[:period].copy()
    if xf:
        loop[:xf] = unit[:xf] * rise(xf, equal_power=True) + unit[period:] * fall(
            xf, equal_power=True)
    return LoopSource(unit[:xf], loop)


def open_source(sound: str, sample_rate: int, seed: int, frames_needed: int) -> Source:
    """The stream for a Background's `sound`: a generated name or a file path."""
    if sound == "drone":
        return LoopSource(np.zeros(0, dtype=np.float32), drone_loop(sample_rate))
    if sound in GENERATED_SOUNDS:
        return NoiseSource(sound, sample_rate, seed)
    return file_source(sound, sample_rate, frames_needed)
