#!/usr/bin/env python3
"""Pace of the library as each offline voice speaks it, from the real clips.

    python scripts/pace_report.py [--library meditations] [--voice piper:joe --voice hibari:heart]

Per session, at its own length: lead-in and tail (s), the shortest gap between
speech and the breath cue after it (s), words a minute inside each sentence of
three or more words (min, median, max), effective words a minute (speech and the
pauses between its sentences), and the share of the runtime that is speech.
Aims: every such sentence within 90 to 170 wpm, medians 115 to 145, lead-in at
least 1.5 s, gaps before breath cues at least 0.8 s. Speech is synthesized (or
taken from the cache) and laid out exactly as a render does; nothing is mixed.
"""

from __future__ import annotations

import argparse
import statistics
import sys
from dataclasses import replace
from pathlib import Path

from innerchild_audio.fitting import LengthOutOfReach
from innerchild_audio.inputs import prepare
from innerchild_audio.library import find_scripts
from innerchild_audio.options import RenderOptions, RunSettings
from innerchild_audio.plan import build_timeline
from innerchild_audio.render import synthesize
from innerchild_audio.speech.voices import offline_voice
from innerchild_audio.timeline import (
    BreathEvent,
    SilenceEvent,
    Timeline,
)

REPO = Path(__file__).resolve().parent.parent
SPOKEN_GAPS = ("sentence", "paragraph", "markup")


def sentence_paces(timeline: Timeline) -> dict[str, float]:
    """Words a minute inside each spoken sentence of three or more words."""
    return {e.request.text: len(e.request.text.split()) * 60_000 / e.duration_ms
            for e in timeline.speech if not e.cue and len(e.request.text.split()) >= 3}


def figures(timeline: Timeline) -> dict[str, float]:
    events = timeline.events
    audible = [e for e in events if not isinstance(e, (SilenceEvent, BreathEvent))]
    lead_in = min(e.start_ms for e in audible) / 1000
    tail = (timeline.total_ms - max(e.start_ms + e.duration_ms for e in audible)) / 1000
    gaps = []
    for event in events:
        if isinstance(event, BreathEvent):
            before = [s for s in timeline.speech if s.start_ms < event.start_ms]
            if before:
                last = max(before, key=lambda s: s.start_ms + s.duration_ms)
                gaps.append((event.start_ms - last.start_ms - last.duration_ms) / 1000)
    paces = list(sentence_paces(timeline).values())
    speech_ms = sum(e.duration_ms for e in timeline.speech)
    between_ms = sum(e.duration_ms for e in events
                     if isinstance(e, SilenceEvent) and e.reason in SPOKEN_GAPS)
    words = sum(len(e.request.text.split()) for e in timeline.speech)
    return {"lead_in": lead_in, "tail": tail, "gap": min(gaps) if gaps else float("nan"),
            "min": min(paces), "median": statistics.median(paces), "max": max(paces),
            "effective": words * 60_000 / (speech_ms + between_ms),
            "share": 100 * speech_ms / timeline.total_ms, "length": timeline.total_ms / 1000}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--library", type=Path, default=REPO / "meditations")
    parser.add_argument("--voice", action="append", dest="voices",
                        help="ENGINE:NAME (repeatable; default piper:joe and hibari:heart)")
    parser.add_argument("--cache-dir", type=Path, default=None)
    parser.add_argument("--outside", action="store_true",
                        help="also list each sentence outside 90 to 170 wpm")
    args = parser.parse_args()
    failures = 0
    for spec in args.voices or ["piper:joe", "hibari:heart"]:
        print(f"\n{spec}")
        print(f"{'session':<32} {'length':>7} {'lead-in':>7} {'tail':>5} {'breath gap':>10} "
              f"{'wpm min':>7} {'median':>6} {'max':>5} {'effective':>9} {'speech':>6}")
        for path in find_scripts(args.library):
            prepared = prepare(path, RenderOptions())
            # every voice of the script as this offline voice speaks it
            script = _as_voice(prepared.script, spec)
            prepared = replace(prepared, script=script)
            layout, spoken = synthesize(prepared, RunSettings(cache_dir=args.cache_dir))
            durations = {r: c.duration_ms for r, c in spoken.clips.items()}
            note = ""
            try:
                timeline = build_timeline(layout, durations, prepared.target_ms)
            except LengthOutOfReach as error:  # shown at the nearest length it reaches
                note = f"  <- {error}"
                nearest = min(max(prepared.target_ms or 0, error.min_total_ms),
                              error.max_total_ms)
                timeline = build_timeline(layout, durations, nearest)
            f = figures(timeline)
            ok = (90 <= f["min"] and f["max"] <= 170 and 115 <= f["median"] <= 145
                  and f["lead_in"] >= 1.5 and not f["gap"] < 0.8)
            failures += not ok or bool(note)
            gap = "none" if f["gap"] != f["gap"] else f"{f['gap']:.2f}s"  # NaN: no breath cue
            print(f"{path.stem:<32} {f['length']:>6.0f}s {f['lead_in']:>6.2f}s "
                  f"{f['tail']:>4.1f}s {gap:>10} {f['min']:>7.0f} {f['median']:>6.0f} "
                  f"{f['max']:>5.0f} {f['effective']:>9.0f} {f['share']:>5.0f}%"
                  f"{'' if ok else '  <- outside the aims'}{note}")
            if args.outside:
                for text, wpm in sorted(sentence_paces(timeline).items()):
                    if not 90 <= wpm <= 170:
                        print(f"    {wpm:5.0f} wpm  {text}")
    print(f"\n{'all sessions within the aims' if not failures else f'{failures} outside'}")
    return 1 if failures else 0


def _as_voice(script, spec: str):
    """The script with every voice set to `auto` falling back to `spec`, forced offline."""
    from innerchild_audio.model import Breathe, Say

    def voice(v):
        return offline_voice(replace(v, offline=spec))

    steps = tuple(replace(s, voice=voice(s.voice)) if isinstance(s, (Say, Breathe)) else s
                  for s in script.steps)
    return replace(script, voice=voice(script.voice), steps=steps)


if __name__ == "__main__":
    sys.exit(main())
