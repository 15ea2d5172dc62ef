"""What the offline engines share: loaded voices pooled across worker threads.

A worker borrows a loaded voice and gives it back, so each worker loads the model
at most once and later calls load nothing. Texts run longest first on at most
`jobs` workers, so no worker is left with a long sentence at the end.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Hashable, Sequence
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import Any

from innerchild_audio.errors import SpeechError
from innerchild_audio.model import Voice
from innerchild_audio.speech.base import BatchEngineBase, Clip, OnClip
from innerchild_audio.speech.pool import run_all


def cpu_count() -> int:
    """Cores this process may use."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # not on Linux
        return max(1, os.cpu_count() or 1)


@dataclass
class PooledEngine(BatchEngineBase):
    """An offline engine: subclasses say how to find, load and speak with a voice."""

    voices_dir: Path | None = None
    threads: int | None = None  # per worker; None: the cores shared out among the jobs
    model_calls: int = 0  # sentences synthesized (loads are `voices_loaded`), for tests
    voices_loaded: int = 0
    phrase_takes: int = 0  # calls on the model: a sentence paced in phrases takes several
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)
    _idle: dict[Hashable, list[object]] = field(default_factory=dict, repr=False)

    def _find(self, model: str) -> Any:
        raise NotImplementedError

    def _load(self, found: Any, threads: int | None) -> object:
        raise NotImplementedError

    def _speak(self, loaded: Any, text: str, voice: Voice) -> Clip:
        raise NotImplementedError

    def _pool_key(self, found: Any, threads: int | None) -> Hashable:
        """Loaded voices are shared while this stays the same."""
        return str(found.model), threads

    def _threads_for(self, workers: int) -> int | None:
        """ONNX threads per worker: the cores shared out (None: onnxruntime's own choice)."""
        if self.threads:
            return self.threads
        return None if workers == 1 else max(1, cpu_count() // workers)

    def synthesize_batch(
        self, texts: Sequence[str], voice: Voice, *, jobs: int | None, on_clip: OnClip
    ) -> None:
        """Synthesize `texts` on `jobs` workers (default: the cores), calling `on_clip`."""
        if voice.rate <= 0:
            raise SpeechError(f"rate must be positive, got {voice.rate}")
        if not texts:
            return
        found = self._find(voice.model)
        workers = max(1, min(jobs or cpu_count(), len(texts)))
        threads = self._threads_for(workers)

        def job(text: str) -> None:
            loaded = self._borrow(found, threads)
            try:
                clip = self._speak(loaded, text, voice)
            finally:
                self._give_back(found, threads, loaded)
            on_clip(text, clip)

        ordered = sorted(texts, key=len, reverse=True)
        run_all([partial(job, t) for t in ordered], workers)

    def warm_up(self, voice: Voice, *, jobs: int | None = None) -> None:
        """Load the voice for `jobs` workers now (default: the cores), not on first use."""
        found = self._find(voice.model)
        workers = max(1, jobs or cpu_count())
        threads = self._threads_for(workers)
        loaded = [self._borrow(found, threads) for _ in range(workers)]
        for each in loaded:
            self._give_back(found, threads, each)

    def _borrow(self, found: Any, threads: int | None) -> Any:
        with self._lock:
            idle = self._idle.setdefault(self._pool_key(found, threads), [])
            if idle:
                return idle.pop()
            self.voices_loaded += 1
        return self._load(found, threads)

    def _give_back(self, found: Any, threads: int | None, loaded: object) -> None:
        with self._lock:
            self._idle.setdefault(self._pool_key(found, threads), []).append(loaded)

    def _count(self) -> None:
        with self._lock:
            self.model_calls += 1

    def _took(self) -> None:
        with self._lock:
            self.phrase_takes += 1
