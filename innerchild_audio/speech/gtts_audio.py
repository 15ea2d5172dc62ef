"""Decoding gTTS's MP3 with ffmpeg, its tempo changed without changing pitch."""

from __future__ import annotations

from typing import Final

import numpy as np

from innerchild_audio.audio_io import run_ffmpeg
from innerchild_audio.errors import SpeechError

GTTS_SAMPLE_RATE: Final = 24000
DECODE_TIMEOUT_S: Final = 120.0


def atempo_chain(rate: float) -> str:
    """ffmpeg filters changing tempo by `rate` without changing pitch (atempo takes 0.5..2)."""
    if rate <= 0:
        raise SpeechError(f"rate must be positive, got {rate}")
    parts: list[str] = []
    remaining = rate
    while remaining > 2.0:
        parts.append("atempo=2.0")
        remaining /= 2.0
    while remaining < 0.5:
        parts.append("atempo=0.5")
        remaining /= 0.5
    if abs(remaining - 1.0) > 1e-9 or not parts:
        parts.append(f"atempo={remaining:.6f}")
    return ",".join(parts)


def decode_mp3(
    data: bytes, *, rate: float = 1.0, sample_rate: int = GTTS_SAMPLE_RATE
) -> np.ndarray:
    """Float32 mono samples of MP3 `data`, tempo changed by `rate`, at `sample_rate`."""
    if not data:
        raise SpeechError("no audio to decode")
    arguments = ["-f", "mp3", "-i", "pipe:0"]
    if abs(rate - 1.0) > 1e-9:
        arguments += ["-af", atempo_chain(rate)]
    arguments += ["-f", "f32le", "-acodec", "pcm_f32le", "-ac", "1", "-ar", str(sample_rate),
                  "pipe:1"]
    out = run_ffmpeg(arguments, input_bytes=data, timeout_s=DECODE_TIMEOUT_S,
                     what="the speech audio", error_type=SpeechError)
    samples = np.frombuffer(out, dtype="<f4").astype(np.float32)
    if samples.size == 0:
        raise SpeechError("the speech audio decoded to nothing")
    return np.clip(samples, -1.0, 1.0)
