"""The engine interface every TTS engine implements, and the clip it returns."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

import numpy as np

from innerchild_audio.model import Voice


@dataclass(frozen=True, eq=False)
class Clip:
    """Mono speech: float32 samples in [-1, 1] at `sample_rate`."""

    samples: np.ndarray
    sample_rate: int

    @property
    def duration_ms(self) -> int:
        return round(len(self.samples) * 1000 / self.sample_rate)


class Engine(Protocol):
    name: str  # "gtts" | "piper"

    def synthesize(self, text: str, voice: Voice) -> Clip: ...

    def cache_identity(self, voice: Voice) -> dict[str, object]:
        """Everything besides the text that changes the audio (for the cache key)."""
        ...
