"""Figures for the meditation library: repetition across sessions, and pacing.

    python scripts/library_report.py            # planner estimates, no speech synthesis
    python scripts/library_report.py --render   # also render offline and measure the MP3s

Planned per session (the planner's speech estimate, at the script's own length):
- shared: share of spoken words in sentences that another session also speaks
  (breath cues and the spoken content warning included);
- frame: share of spoken words that come from the opening and closing parts
  (files named parts/opening*.yaml and parts/closing*.yaml), shown for 10-minute sessions;
- speech share of the runtime; effective words per minute (speech plus the
  pauses between its sentences).
Aims: shared <= 20% overall and <= 30% per session; frame <= 18%; 100 to 130
effective wpm; speech <= 60%.

Rendered (--render): decoded duration, speech share, words a minute while the
voice speaks, effective words a minute (sentence, paragraph and markup gaps).
"""

from __future__ import annotations

import argparse
import re
import tempfile
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path

from innerchild_audio.library import find_scripts
from innerchild_audio.plan import plan_script
from innerchild_audio.script import load_script
from innerchild_audio.timeline import SilenceEvent, SpeechEvent, Timeline

LIBRARY = Path(__file__).resolve().parent.parent / "meditations"
SPOKEN_GAPS = ("sentence", "paragraph", "markup")
FRAME_PARTS = ("opening", "closing")  # part file name prefixes
TEN_MINUTES_MS = 600_000


def sentence_key(text: str) -> str:
    """A sentence as a listener hears it: case and punctuation do not matter."""
    return " ".join(re.sub(r"[^\w' ]", " ", text.lower()).split())


def words(event: SpeechEvent) -> int:
    return len(event.request.text.split())


def is_frame(event: SpeechEvent) -> bool:
    path = event.source.file
    return path.parent.name == "parts" and path.name.startswith(FRAME_PARTS)


@dataclass(frozen=True)
class SessionFigures:
    name: str
    total_ms: int
    min_ms: int
    max_ms: int
    words: int
    shared_words: int
    frame_words: int
    speech_ms: int
    between_ms: int  # sentence pauses only, as tests/test_library.py counts them

    @property
    def shared(self) -> float:
        return self.shared_words / self.words

    @property
    def frame(self) -> float:
        return self.frame_words / self.words

    @property
    def speech_share(self) -> float:
        return self.speech_ms / self.total_ms

    @property
    def effective_wpm(self) -> float:
        return self.words * 60_000 / (self.speech_ms + self.between_ms)


def planned(library: Path = LIBRARY) -> dict[str, Timeline]:
    """Each session's estimated timeline at its own length, by file stem."""
    return {path.stem: plan_script(load_script(path)) for path in find_scripts(library)}


def figures(timelines: dict[str, Timeline]) -> list[SessionFigures]:
    owners: dict[str, set[str]] = defaultdict(set)
    for name, timeline in timelines.items():
        for event in timeline.speech:
            owners[sentence_key(event.request.text)].add(name)
    result = []
    for name, timeline in timelines.items():
        speech = timeline.speech
        result.append(SessionFigures(
            name=name,
            total_ms=timeline.total_ms,
            min_ms=timeline.min_total_ms,
            max_ms=timeline.max_total_ms,
            words=sum(words(e) for e in speech),
            shared_words=sum(words(e) for e in speech
                             if len(owners[sentence_key(e.request.text)]) > 1),
            frame_words=sum(words(e) for e in speech if is_frame(e)),
            speech_ms=sum(e.duration_ms for e in speech),
            between_ms=sum(e.duration_ms for e in timeline.events
                           if isinstance(e, SilenceEvent) and e.reason == "sentence"),
        ))
    return result


def clock(ms: int) -> str:
    return f"{ms // 60_000}:{ms // 1000 % 60:02d}"


def overall_shared(rows: list[SessionFigures]) -> float:
    return sum(r.shared_words for r in rows) / sum(r.words for r in rows)


def print_planned(rows: list[SessionFigures]) -> None:
    print(f"{'session (planned)':<34} {'length':>7} {'words':>6} {'shared':>7} {'frame':>6} "
          f"{'speech':>7} {'effective':>9} {'reach':>12}")
    for r in rows:
        frame = f"{100 * r.frame:>5.1f}%" if r.total_ms == TEN_MINUTES_MS else f"{'-':>6}"
        print(f"{r.name:<34} {r.total_ms / 1000:>6.0f}s {r.words:>6} {100 * r.shared:>6.1f}% "
              f"{frame} {100 * r.speech_share:>6.0f}% {r.effective_wpm:>9.0f} "
              f"{clock(r.min_ms):>5} to {clock(r.max_ms)}")
    ten = [r for r in rows if r.total_ms == TEN_MINUTES_MS]
    print(f"{len(rows)} sessions; shared sentences overall: {100 * overall_shared(rows):.1f}% "
          f"of spoken words, at most {100 * max(r.shared for r in rows):.1f}% in one session")
    if ten:
        print(f"opening and closing: at most {100 * max(r.frame for r in ten):.1f}% of the words "
              f"of a 10-minute session ({len(ten)} sessions)")
    print(f"effective wpm {min(r.effective_wpm for r in rows):.0f} to "
          f"{max(r.effective_wpm for r in rows):.0f}; speech at most "
          f"{100 * max(r.speech_share for r in rows):.0f}% of a session")


def print_rendered(out: Path, engine: str) -> None:
    from innerchild_audio.audio_io import decode_mp3
    from innerchild_audio.options import RenderOptions, RunSettings
    from innerchild_audio.render import render_script

    print(f"\n{'session (rendered)':<34} {'length':>8} {'speech':>7} {'words':>6} {'voiced':>7} "
          f"{'effective':>9}")
    for path in find_scripts(LIBRARY):
        result = render_script(path, RenderOptions(engine=engine), RunSettings(out_dir=out))
        timeline = result.timeline
        seconds = len(decode_mp3(result.mp3_path)) / 44100
        speech_ms = sum(e.duration_ms for e in timeline.speech)
        gaps_ms = sum(e.duration_ms for e in timeline.events
                      if isinstance(e, SilenceEvent) and e.reason in SPOKEN_GAPS)
        count = sum(words(e) for e in timeline.speech)
        print(f"{path.stem:<34} {seconds:>7.1f}s {100 * speech_ms / timeline.total_ms:>6.0f}% "
              f"{count:>6} {count / (speech_ms / 60_000):>7.0f} "
              f"{count / ((speech_ms + gaps_ms) / 60_000):>9.0f}")
    print(f"renders in {out}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--render", action="store_true", help="also render and measure")
    parser.add_argument("--out", type=Path, default=None, help="keep the renders here")
    parser.add_argument("--engine", default="piper")
    args = parser.parse_args()
    print_planned(figures(planned()))
    if args.render:
        print_rendered(args.out or Path(tempfile.mkdtemp(prefix="library-report-")), args.engine)


if __name__ == "__main__":
    main()
