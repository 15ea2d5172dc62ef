"""The voice's level: the reference every other level in the mix hangs from.

Speech is brought to NOMINAL_SPEECH_DB: its active RMS (the RMS of the 20 ms
frames that carry sound, so pauses inside a clip do not count) is measured
over all clips of one voice, and one gain per voice moves it there. Gains
within a voice stay as the engine made them, so sentences keep their natural
rise and fall; voices from different engines end up level with each other.
The bed then sits at NOMINAL_SPEECH_DB + volume_db, whatever the engine.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from typing import Final

import numpy as np

from innerchild_audio.model import Voice
from innerchild_audio.speech.base import Clip
from innerchild_audio.timeline import SpeechRequest

NOMINAL_SPEECH_DB: Final = -20.0  # active RMS of the voice, dBFS
ACTIVE_FRAME_MS: Final = 20
ACTIVE_GATE_DB: Final = -50.0  # frames quieter than this are pauses, not voice
MAX_SPEECH_GAIN_DB: Final = 30.0  # a near-silent voice is not blown up without bound


def active_energy(samples: np.ndarray, sample_rate: int) -> tuple[float, int]:
    """Summed mean-square of the frames above the gate, and how many there were."""
    size = max(1, round(sample_rate * ACTIVE_FRAME_MS / 1000))
    count = len(samples) // size
    if count == 0:
        return 0.0, 0
    frames = np.asarray(samples[: count * size], dtype=np.float32).reshape(count, size)
    mean_square = np.einsum("ij,ij->i", frames, frames, dtype=np.float64) / size
    active = mean_square[mean_square >= 10.0 ** (ACTIVE_GATE_DB / 10)]
    return float(active.sum()), len(active)


def active_rms_db(clips: Iterable[Clip]) -> float | None:
    """Active RMS over all the clips, dBFS; None when none of them carries sound."""
    energy, count = 0.0, 0
    for clip in clips:
        e, n = active_energy(clip.samples, clip.sample_rate)
        energy += e
        count += n
    if count == 0 or energy <= 0:
        return None
    return 10.0 * math.log10(energy / count)


def speech_gains_db(clips: Mapping[SpeechRequest, Clip],
                    requests: Iterable[SpeechRequest]) -> dict[Voice, float]:
    """The gain that brings each voice's speech to NOMINAL_SPEECH_DB."""
    by_voice: dict[Voice, list[Clip]] = {}
    for request in dict.fromkeys(requests):
        clip = clips.get(request)
        if clip is not None:
            by_voice.setdefault(request.voice, []).append(clip)
    gains: dict[Voice, float] = {}
    for voice, voice_clips in by_voice.items():
        level = active_rms_db(voice_clips)
        gain = 0.0 if level is None else NOMINAL_SPEECH_DB - level
        gains[voice] = min(gain, MAX_SPEECH_GAIN_DB)
    return gains
