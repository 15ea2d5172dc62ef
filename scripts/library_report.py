"""Render every session of the library offline and print its pacing figures.

    python scripts/library_report.py [--out DIR] [--engine piper]

Per session: decoded duration, speech share of the runtime, words, words per
minute while the voice speaks, and effective words per minute (speech plus the
pauses between its sentences). Aims: 100 to 130 effective wpm, speech <= 60%.
"""

from __future__ import annotations

import argparse
import tempfile
from pathlib import Path

from innerchild_audio.audio_io import decode_mp3
from innerchild_audio.library import find_scripts
from innerchild_audio.options import RenderOptions, RunSettings
from innerchild_audio.render import render_script
from innerchild_audio.timeline import SilenceEvent

LIBRARY = Path(__file__).resolve().parent.parent / "meditations"
SPOKEN_GAPS = ("sentence", "paragraph", "markup")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=None, help="keep the renders here")
    parser.add_argument("--engine", default="piper")
    args = parser.parse_args()
    out = args.out or Path(tempfile.mkdtemp(prefix="library-report-"))
    print(f"{'session':<32} {'length':>8} {'speech':>7} {'words':>6} {'voiced':>7} "
          f"{'effective':>9}")
    for path in find_scripts(LIBRARY):
        result = render_script(path, RenderOptions(engine=args.engine), RunSettings(out_dir=out))
        timeline = result.timeline
        seconds = len(decode_mp3(result.mp3_path)) / 44100
        speech_ms = sum(e.duration_ms for e in timeline.speech)
        gaps_ms = sum(e.duration_ms for e in timeline.events
                      if isinstance(e, SilenceEvent) and e.reason in SPOKEN_GAPS)
        words = sum(len(e.request.text.split()) for e in timeline.speech)
        print(f"{path.stem:<32} {seconds:>7.1f}s {100 * speech_ms / timeline.total_ms:>6.0f}% "
              f"{words:>6} {words / (speech_ms / 60_000):>7.0f} "
              f"{words / ((speech_ms + gaps_ms) / 60_000):>9.0f}")
    print(f"renders in {out}")


if __name__ == "__main__":
    main()
