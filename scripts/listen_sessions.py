#!/usr/bin/env python3
"""What a recognizer hears of rendered sessions: the finished MP3s, bed and all.

    pip install -e '.[whisper]'
    innerchild build meditations -o output/library --engine piper   # or hibari
    python scripts/listen_sessions.py output/library [--recognizer whisper]

For each MP3 with its WebVTT transcript beside it: the audio is cut into windows
of whole cues (up to 28 s), each window is heard, and its words are compared in
order with the cues' text. Prints, per session, the share of the script's words
heard and whether the opening safety sentence (the first that says you may
open your eyes and stop) was heard whole; the aims are 98% and every session.
Nothing is rendered or downloaded here.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from listening import is_safety, listener, missed, words

from innerchild_audio.audio_io import decode_mp3
from innerchild_audio.picture import read_vtt
from innerchild_audio.picture.session import Cue

WINDOW_S = 28.0
MARGIN_S = 0.25


def windows(all_cues: list[Cue]) -> list[list[Cue]]:
    grouped: list[list[Cue]] = []
    for cue in all_cues:
        if grouped and (cue.end_ms - grouped[-1][0].start_ms) / 1000 <= WINDOW_S:
            grouped[-1].append(cue)
        else:
            grouped.append([cue])
    return grouped


def listen(mp3: Path, heard_by) -> tuple[int, int, bool | None, list[str]]:
    audio = decode_mp3(mp3)
    mono = audio if audio.ndim == 1 else audio.mean(axis=1)
    rate = 44_100
    miss = total = 0
    safety: bool | None = None
    misheard: list[str] = []
    all_cues = read_vtt(mp3.with_suffix(".vtt"))
    safety_cue = next((c for c in all_cues if is_safety(c.text)), None)
    for group in windows(all_cues):
        a = max(0, int((group[0].start_ms / 1000 - MARGIN_S) * rate))
        b = int((group[-1].end_ms / 1000 + MARGIN_S) * rate)
        reference = " ".join(c.text for c in group)
        heard = heard_by.hear(mono[a:b], rate)
        m, n = missed(reference, heard)
        miss, total = miss + m, total + n
        if m:
            misheard.append(f"{reference!r} heard as {heard.strip()!r}")
        if safety_cue in group:
            safety = _heard_whole(safety_cue.text, heard)
    return miss, total, safety, misheard


def _heard_whole(sentence: str, heard: str) -> bool:
    """Every word of `sentence`, in order and together, is in `heard`."""
    said, got = words(sentence), words(heard)
    return any(got[i:i + len(said)] == said for i in range(len(got) - len(said) + 1))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("folder", type=Path, help="rendered MP3s with their .vtt beside them")
    parser.add_argument("--recognizer", choices=["pocketsphinx", "whisper"], default="whisper")
    parser.add_argument("--show", action="store_true", help="print each window misheard")
    args = parser.parse_args()
    heard_by = listener(args.recognizer)
    mp3s = sorted(p for p in args.folder.glob("*.mp3") if p.with_suffix(".vtt").exists())
    if not mp3s:
        print(f"{args.folder}: no MP3 with a .vtt transcript beside it", file=sys.stderr)
        return 2
    print(f"recognizer: {heard_by.name}")
    print(f"{'session':<34} {'words':>6} {'heard':>7}  safety sentence")
    all_miss = all_total = 0
    shortfalls = 0
    for mp3 in mp3s:
        miss, total, safety, misheard = listen(mp3, heard_by)
        all_miss, all_total = all_miss + miss, all_total + total
        share = 100 * (1 - miss / max(1, total))
        safety_text = {True: "heard whole", False: "NOT heard whole", None: "not in session"}
        shortfalls += share < 98 or safety is False
        print(f"{mp3.stem:<34} {total:>6} {share:>6.1f}%  {safety_text[safety]}")
        if args.show:
            for line in misheard:
                print(f"    {line}")
    print(f"\nall: {all_total} words, {100 * (1 - all_miss / max(1, all_total)):.1f}% heard; "
          f"{'every session within the aims' if not shortfalls else f'{shortfalls} outside'}")
    return 1 if shortfalls else 0


if __name__ == "__main__":
    sys.exit(main())
