#!/usr/bin/env python3
"""How much of the library a speech recognizer hears, at the old pacing and the new.

    pip install pocketsphinx   # ships its US English model; runs offline
    python scripts/listen_report.py [--every 3]

For each voice: the library's distinct sentences of three or more words (every
Nth), synthesized, decoded by PocketSphinx, and compared word by word with the
script. Prints the share of the script's words the recognizer missed or misheard,
and what it heard for the opening safety sentence. "old" is joe as it was paced
before: the whole sentence stretched 1.4 / rate, no phrase pauses or word gaps.
PocketSphinx's own error rate on clean speech is high (about a fifth of the
words), so read the figures side by side, not as absolute intelligibility.
"""

from __future__ import annotations

import argparse
import difflib
import re
from dataclasses import replace
from math import gcd
from pathlib import Path

import numpy as np
from scipy.signal import resample_poly

from innerchild_audio.library import find_scripts
from innerchild_audio.plan import lay_out
from innerchild_audio.script import load_script

REPO = Path(__file__).resolve().parent.parent
SAFETY = "If anything feels like too much, come back to the room around you."


def sentences(library: Path, every: int) -> list[tuple[str, float]]:
    found: dict[str, float] = {}
    for path in find_scripts(library):
        for request in lay_out(load_script(path)).requests():
            if len(request.text.split()) >= 3:
                found.setdefault(request.text, request.voice.rate)
    chosen = list(found.items())[::every]
    if SAFETY in found and SAFETY not in dict(chosen):
        chosen.append((SAFETY, found[SAFETY]))
    return chosen


def words(text: str) -> list[str]:
    return re.findall(r"[a-z']+", text.lower())


def missed(reference: str, heard: str) -> tuple[int, int]:
    ref, hyp = words(reference), words(heard)
    matcher = difflib.SequenceMatcher(a=ref, b=hyp, autojunk=False)
    return len(ref) - sum(b.size for b in matcher.get_matching_blocks()), len(ref)


class Listener:
    def __init__(self) -> None:
        from pocketsphinx import Decoder

        self.decoder = Decoder(logfn="/dev/null")

    def hear(self, samples: np.ndarray, rate: int) -> str:
        g = gcd(rate, 16000)
        audio = resample_poly(np.asarray(samples, np.float64), 16000 // g, rate // g)
        pad = np.zeros(4000)
        pcm = (np.clip(np.concatenate([pad, audio, pad]), -1, 1) * 32767).astype("<i2")
        self.decoder.start_utt()
        self.decoder.process_raw(pcm.tobytes(), full_utt=True)
        self.decoder.end_utt()
        hyp = self.decoder.hyp()
        return hyp.hypstr if hyp else ""


def old_joe():
    from piper import SynthesisConfig

    from innerchild_audio.speech.piper_engine import find_voice, load_voice

    voice = load_voice(find_voice("joe"), 1)

    def speak(text: str, rate: float) -> tuple[np.ndarray, int]:
        config = SynthesisConfig(length_scale=voice.config.length_scale * 1.4 / rate)
        chunks = list(voice.synthesize(text, config))
        return np.concatenate([c.audio_float_array for c in chunks]), voice.config.sample_rate

    return speak


def new_voice(engine_name: str):
    from innerchild_audio.model import Voice
    from innerchild_audio.speech.hibari_engine import HibariEngine
    from innerchild_audio.speech.piper_engine import PiperEngine

    engine = PiperEngine(threads=1) if engine_name == "piper" else HibariEngine(threads=1)
    base = Voice(engine=engine_name, model="joe" if engine_name == "piper" else "heart")

    def speak(text: str, rate: float) -> tuple[np.ndarray, int]:
        clip = engine.synthesize(text, replace(base, rate=rate))
        return clip.samples, clip.sample_rate

    return speak


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--library", type=Path, default=REPO / "meditations")
    parser.add_argument("--every", type=int, default=3, help="every Nth sentence (default 3)")
    args = parser.parse_args()
    chosen = sentences(args.library, args.every)
    listener = Listener()
    print(f"{len(chosen)} sentences, {sum(len(words(t)) for t, _ in chosen)} words")
    for label, speak in (("joe, old pacing", old_joe()), ("joe, new pacing", new_voice("piper")),
                         ("heart, new pacing", new_voice("hibari"))):
        miss = total = 0
        safety = ""
        for text, rate in chosen:
            heard = listener.hear(*speak(text, rate))
            m, n = missed(text, heard)
            miss, total = miss + m, total + n
            if text == SAFETY:
                safety = heard
        print(f"{label:<18} missed or misheard {100 * miss / total:4.1f}% of the words; "
              f"safety sentence heard as: {safety!r}")


if __name__ == "__main__":
    main()
