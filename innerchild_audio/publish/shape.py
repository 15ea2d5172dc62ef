"""An episode's shape for the page: its chapters as spans of time and where the voice speaks.

Speech comes from the WebVTT transcript, whose cues are the render's speech events.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Final

from innerchild_audio.publish.episodes import Episode

_CUE_RE: Final = re.compile(
    r"^\s*(?:(\d+):)?(\d{1,2}):(\d{2})\.(\d{3})\s+-->\s+(?:(\d+):)?(\d{1,2}):(\d{2})\.(\d{3})")
# Pauses shorter than this are drawn as speech: between sentences they are under a pixel.
MIN_GAP_S: Final = 1.0
GAP_SHARE: Final = 1 / 300


@dataclass(frozen=True)
class Span:
    start_s: float
    end_s: float
    title: str = ""

    @property
    def length_s(self) -> float:
        return self.end_s - self.start_s


@dataclass(frozen=True)
class Shape:
    duration_s: float
    chapters: tuple[Span, ...]  # each until the next begins, the last until the end
    speech: tuple[Span, ...]  # merged across short pauses
    speech_s: float  # speech time before merging

    def percent(self, seconds: float) -> float:
        return max(0.0, min(100.0, 100 * seconds / self.duration_s))


def _seconds(hours: str | None, minutes: str, secs: str, millis: str) -> float:
    return int(hours or 0) * 3600 + int(minutes) * 60 + int(secs) + int(millis) / 1000


def speech_spans(vtt: Path) -> list[Span]:
    """Every cue's time span in a WebVTT file, in order; an unreadable file gives none."""
    try:
        text = vtt.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError):
        return []
    spans = []
    for line in text.splitlines():
        match = _CUE_RE.match(line)
        if match:
            g = match.groups()
            start, end = _seconds(*g[:4]), _seconds(*g[4:])
            if end > start:
                spans.append(Span(start, end))
    return sorted(spans, key=lambda s: s.start_s)


def _merged(spans: list[Span], gap_s: float) -> tuple[Span, ...]:
    out: list[Span] = []
    for span in spans:
        if out and span.start_s - out[-1].end_s < gap_s:
            out[-1] = Span(out[-1].start_s, max(out[-1].end_s, span.end_s))
        else:
            out.append(span)
    return tuple(out)


def episode_shape(episode: Episode) -> Shape:
    duration = episode.duration_s
    marks = sorted(episode.chapters, key=lambda c: c.start_s)
    chapters = tuple(
        Span(mark.start_s, marks[index + 1].start_s if index + 1 < len(marks) else duration,
             mark.title)
        for index, mark in enumerate(marks) if mark.start_s < duration
    )
    spans = [Span(max(0.0, s.start_s), min(duration, s.end_s))
             for s in (speech_spans(episode.vtt) if episode.vtt else [])
             if s.start_s < duration]
    speech_s = sum(s.length_s for s in _merged(spans, 0.0))
    gap = max(MIN_GAP_S, duration * GAP_SHARE)
    return Shape(duration, chapters, _merged(spans, gap), speech_s)
