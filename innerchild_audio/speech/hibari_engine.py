"""The offline hibari voice: bundled `heart` (American English, female, 24 kHz).

hibari's other voices download on first use; here they are refused unless their
model file is already in the voices folder or hibari's own cache. Clips are
resampled once, here, to the session rate. Parallel work is as with Piper: one
model per worker thread, the cores shared out among them.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from functools import partial
from importlib.metadata import version
from pathlib import Path
from typing import Final

import numpy as np

from innerchild_audio.digests import file_sha256
from innerchild_audio.errors import SpeechError
from innerchild_audio.model import Voice
from innerchild_audio.speech.base import BatchEngineBase, Clip
from innerchild_audio.speech.pacing import Pace, speak_sentence
from innerchild_audio.speech.paths import resolve_voices_dir
from innerchild_audio.speech.piper_engine import cpu_count
from innerchild_audio.speech.pool import run_all

HIBARI_VERSION: Final = version("hibari-tts")
BUNDLED_VOICE: Final = "heart"
MODEL_RATE: Final = 24000
SESSION_RATE: Final = 44100  # the MP3's rate: clips arrive ready to mix
SEED: Final = 0  # hibari adds noise; a fixed seed makes a sentence the same every time
# heart runs ~240 words a minute (first to last sound) at speed 1.0. Slowed to 1.3x
# (speed 0.77) its words stay whole; the rest of the calm is silence (see `pacing`).
PACE: Final = Pace(stretch_at_rate_1=1.15, max_stretch=1.3)

OnClip = Callable[[str, Clip], None]


@dataclass(frozen=True)
class HibariVoice:
    name: str
    model: Path
    bundled: bool
    language: str
    sex: str


def registry() -> dict[str, dict[str, object]]:
    from hibari.voices import VOICES

    return dict(VOICES)


def find_voice(model: str, voices_dir: Path | None = None) -> HibariVoice:
    """The model file of a hibari voice, without downloading anything."""
    from hibari.voices import ASSETS, cache_dir

    name = model.strip() or BUNDLED_VOICE
    voices = registry()
    if name not in voices:
        raise SpeechError(f"no hibari voice {name!r}; hibari's voices are "
                          f"{', '.join(voices)} ({BUNDLED_VOICE} is bundled)")
    entry = voices[name]
    if entry.get("bundled"):
        return HibariVoice(name, Path(ASSETS) / str(entry["file"]), True,
                           str(entry["language"]), str(entry["gender"]))
    folder = resolve_voices_dir(voices_dir)
    for path in (folder / str(entry["file"]), Path(cache_dir()) / str(entry["file"])):
        if path.is_file():
            return HibariVoice(name, path, False, str(entry["language"]), str(entry["gender"]))
    raise SpeechError(
        f"hibari voice {name!r} is not on this machine: hibari downloads it on first use, "
        f"which this tool does not do. Put {entry['file']} into {folder} (or hibari's cache "
        f"{cache_dir()}), or use the bundled voice: hibari:{BUNDLED_VOICE}"
    )


def load_voice(found: HibariVoice, threads: int | None):
    from hibari import Hibari

    try:
        return Hibari(voice=found.name, model=str(found.model), threads=threads or 1)
    except Exception as error:  # onnxruntime raises its own types for bad models
        raise SpeechError(f"cannot load hibari voice {found.model}: {error}") from error


def to_session_rate(samples: np.ndarray) -> np.ndarray:
    from scipy.signal import resample_poly

    return resample_poly(samples, 147, 80).astype(np.float32)  # 24000 * 147 / 80 = 44100


@dataclass
class HibariEngine(BatchEngineBase):
    name: str = "hibari"
    voices_dir: Path | None = None
    threads: int | None = None  # per worker; None: the cores shared out among the jobs
    model_calls: int = 0
    voices_loaded: int = 0
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)
    _idle: dict[tuple[str, int | None], list[object]] = field(default_factory=dict, repr=False)

    def cache_identity(self, voice: Voice) -> dict[str, object]:
        found = find_voice(voice.model, self.voices_dir)
        return {
            "model": found.name,
            "model_sha256": file_sha256(found.model),
            "rate": round(float(voice.rate), 6),
            "phrase_pause_ms": voice.phrase_pause_ms,
            "seed": SEED,
            "sample_rate": SESSION_RATE,
            **PACE.identity(),
            "hibari": HIBARI_VERSION,
        }

    def synthesize_batch(
        self, texts: Sequence[str], voice: Voice, *, jobs: int | None, on_clip: OnClip
    ) -> None:
        if voice.rate <= 0:
            raise SpeechError(f"rate must be positive, got {voice.rate}")
        if not texts:
            return
        found = find_voice(voice.model, self.voices_dir)
        workers = max(1, min(jobs or cpu_count(), len(texts)))
        threads = self.threads or max(1, cpu_count() // workers)

        def job(text: str) -> None:
            model = self._borrow(found, threads)
            try:
                clip = self._speak(model, text, voice)
            finally:
                self._give_back(found, threads, model)
            on_clip(text, clip)

        ordered = sorted(texts, key=len, reverse=True)  # longest first, as with Piper
        run_all([partial(job, t) for t in ordered], workers)

    def _borrow(self, found: HibariVoice, threads: int | None):
        key = (str(found.model), threads)
        with self._lock:
            idle = self._idle.setdefault(key, [])
            if idle:
                return idle.pop()
            self.model_calls += 1
            self.voices_loaded += 1
        return load_voice(found, threads)

    def _give_back(self, found: HibariVoice, threads: int | None, model: object) -> None:
        with self._lock:
            self._idle.setdefault((str(found.model), threads), []).append(model)

    def _speak(self, model, text: str, voice: Voice) -> Clip:
        with self._lock:
            self.model_calls += 1

        def phrase(words: str, stretch: float) -> np.ndarray:
            try:
                return np.asarray(model(words, speed=1.0 / stretch, seed=SEED), np.float32)
            except Exception as error:  # G2P or onnxruntime failures
                raise SpeechError(f"hibari could not speak {words[:60]!r}: {error}") from error

        samples = speak_sentence(text, voice, PACE, phrase, MODEL_RATE)
        if samples.size:
            samples = to_session_rate(samples)
        return Clip(samples=np.clip(samples, -1.0, 1.0), sample_rate=SESSION_RATE)
