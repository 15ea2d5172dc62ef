"""The engine interface every TTS engine implements, and the clip it returns."""

from __future__ import annotations

from collections.abc import Callable, Sequence
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


OnClip = Callable[[str, "Clip"], None]  # called with each text's clip as it is ready


class Engine(Protocol):
    name: str  # "gtts" | "piper"

    def synthesize(self, text: str, voice: Voice) -> Clip: ...

    def cache_identity(self, voice: Voice) -> dict[str, object]:
        """Everything besides the text that changes the audio (for the cache key)."""
        ...


class BatchEngine(Engine, Protocol):
    """An engine that takes many texts at once, to pack requests or work in parallel."""

    def synthesize_batch(
        self,
        texts: Sequence[str],
        voice: Voice,
        *,
        jobs: int | None,
        on_clip: Callable[[str, Clip], None],
    ) -> None:
        """Synthesize `texts`, calling `on_clip(text, clip)` as each clip is complete.

        `jobs` bounds the parallel work (None: the engine's own default).
        """
        ...

    def voice_info(self, voice: Voice) -> dict[str, object]:
        """What identifies the voice, for the render's manifest."""
        ...


class BatchEngineBase:
    """What batch engines share: one text is a batch of one; the voice info is the cache key."""

    name: str

    def cache_identity(self, voice: Voice) -> dict[str, object]:
        raise NotImplementedError

    def synthesize_batch(self, texts: Sequence[str], voice: Voice, *, jobs: int | None,
                         on_clip: Callable[[str, Clip], None]) -> None:
        raise NotImplementedError

    def synthesize(self, text: str, voice: Voice) -> Clip:
        clips: dict[str, Clip] = {}
        self.synthesize_batch([text], voice, jobs=1, on_clip=clips.__setitem__)
        return clips[text]

    def voice_info(self, voice: Voice) -> dict[str, object]:
        # no file paths in it: the same voice describes itself the same on every machine
        return {"engine": self.name, **self.cache_identity(voice)}
