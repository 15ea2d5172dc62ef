"""WebVTT and SRT transcripts, timed from the timeline's speech events.

WebVTT: one cue per spoken sentence, wrapped to lines of at most 65 characters.
SRT: at most two lines of 32 characters per cue; a longer sentence becomes
several cues sharing its time in proportion to their length in characters.
"""

from __future__ import annotations

import textwrap
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Final

from innerchild_audio.timeline import SpeechEvent, Timeline

VTT_LINE_CHARS: Final = 65
SRT_LINE_CHARS: Final = 32
SRT_LINES_PER_CUE: Final = 2


@dataclass(frozen=True)
class Cue:
    start_ms: int
    end_ms: int
    lines: tuple[str, ...]


def _wrap(text: str, width: int) -> list[str]:
    return textwrap.wrap(" ".join(text.split()), width=width, break_long_words=True,
                         break_on_hyphens=False)


def _spoken(timeline: Timeline) -> Iterable[SpeechEvent]:
    return sorted(timeline.speech, key=lambda e: (e.start_ms, e.duration_ms))


def vtt_cues(timeline: Timeline) -> list[Cue]:
    cues = []
    for event in _spoken(timeline):
        lines = _wrap(event.request.text, VTT_LINE_CHARS)
        if lines:
            cues.append(Cue(event.start_ms, event.start_ms + event.duration_ms, tuple(lines)))
    return cues


def split_cue(start_ms: int, end_ms: int, lines: list[str], per_cue: int) -> list[Cue]:
    """Groups of `per_cue` lines, each timed in proportion to its share of the characters."""
    groups = [lines[i : i + per_cue] for i in range(0, len(lines), per_cue)]
    weights = [sum(len(line) for line in group) for group in groups]
    total = sum(weights) or 1
    cues, done = [], 0
    cue_start = start_ms
    for group, weight in zip(groups, weights, strict=True):
        done += weight
        cue_end = start_ms + round((end_ms - start_ms) * done / total)
        cues.append(Cue(cue_start, cue_end, tuple(group)))
        cue_start = cue_end
    return cues


def srt_cues(timeline: Timeline) -> list[Cue]:
    cues = []
    for event in _spoken(timeline):
        lines = _wrap(event.request.text, SRT_LINE_CHARS)
        if lines:
            end_ms = event.start_ms + event.duration_ms
            cues.extend(split_cue(event.start_ms, end_ms, lines, SRT_LINES_PER_CUE))
    return cues


def _clock(ms: int, separator: str) -> str:
    hours, rest = divmod(ms, 3_600_000)
    minutes, rest = divmod(rest, 60_000)
    seconds, millis = divmod(rest, 1000)
    return f"{hours:02d}:{minutes:02d}:{seconds:02d}{separator}{millis:03d}"


def _vtt_escape(line: str) -> str:
    # Cue text may not hold a raw "&", "<" or "-->"; lengths are counted before escaping.
    return line.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def render_vtt(cues: Iterable[Cue]) -> str:
    parts = ["WEBVTT\n"]
    for index, cue in enumerate(cues, start=1):
        timing = f"{_clock(cue.start_ms, '.')} --> {_clock(cue.end_ms, '.')}"
        text = "\n".join(_vtt_escape(line) for line in cue.lines)
        parts.append(f"{index}\n{timing}\n{text}\n")
    return "\n".join(parts)


def render_srt(cues: Iterable[Cue]) -> str:
    parts = []
    for index, cue in enumerate(cues, start=1):
        timing = f"{_clock(cue.start_ms, ',')} --> {_clock(cue.end_ms, ',')}"
        parts.append(f"{index}\n{timing}\n" + "\n".join(cue.lines) + "\n")
    return "\n".join(parts)


def webvtt(timeline: Timeline) -> str:
    return render_vtt(vtt_cues(timeline))


def srt(timeline: Timeline) -> str:
    return render_srt(srt_cues(timeline))
