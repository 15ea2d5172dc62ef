"""The offline hibari voice: bundled `heart` (American English, female, 24 kHz).

hibari's other voices download on first use; here they are refused unless their
model file is already in the voices folder or hibari's own cache. Clips are
resampled once, here, to the session rate. Parallel work is as with Piper: one
model per worker thread, the cores shared out among them.
"""

from __future__ import annotations

from dataclasses import dataclass
from importlib.metadata import version
from pathlib import Path
from typing import Final

import numpy as np

from innerchild_audio.digests import file_sha256
from innerchild_audio.errors import SpeechError
from innerchild_audio.model import Voice
from innerchild_audio.speech.base import Clip
from innerchild_audio.speech.pacing import Pace, speak_sentence
from innerchild_audio.speech.paths import resolve_voices_dir
from innerchild_audio.speech.pooled import PooledEngine, cpu_count

HIBARI_VERSION: Final = version("hibari-tts")
BUNDLED_VOICE: Final = "heart"
MODEL_RATE: Final = 24000
SESSION_RATE: Final = 44100  # the MP3's rate: clips arrive ready to mix
SEED: Final = 0  # hibari adds noise; a fixed seed makes a sentence the same every time
# heart runs ~240 words a minute (first to last sound) at speed 1.0. Slowed to 1.3x
# (speed 0.77) its words stay whole; the rest of the calm is silence (see `pacing`).
PACE: Final = Pace(stretch_at_rate_1=1.15, max_stretch=1.3)


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
class HibariEngine(PooledEngine):
    name: str = "hibari"

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

    def _find(self, model: str) -> HibariVoice:
        return find_voice(model, self.voices_dir)

    def _load(self, found: HibariVoice, threads: int | None) -> object:
        return load_voice(found, threads)

    def _threads_for(self, workers: int) -> int:
        return self.threads or max(1, cpu_count() // workers)

    def _speak(self, model, text: str, voice: Voice) -> Clip:
        self._count()

        def phrase(words: str, stretch: float) -> np.ndarray:
            self._took()
            try:
                return np.asarray(model(words, speed=1.0 / stretch, seed=SEED), np.float32)
            except Exception as error:  # G2P or onnxruntime failures
                raise SpeechError(f"hibari could not speak {words[:60]!r}: {error}") from error

        samples = speak_sentence(text, voice, PACE, phrase, MODEL_RATE)
        if samples.size:
            samples = to_session_rate(samples)
        return Clip(samples=np.clip(samples, -1.0, 1.0), sample_rate=SESSION_RATE)
