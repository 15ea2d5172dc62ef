"""WebVTT and SRT transcripts, timed from the timeline's speech events.

WebVTT: one cue per spoken sentence, wrapped to lines of at most 65 characters.
SRT: at most two lines of 32 characters per cue; a longer sentence becomes
as few cues as hold it, evenly filled, sharing its time in proportion to their
length in characters.
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


def _timed(start_ms: int, end_ms: int, groups: list[list[str]]) -> list[Cue]:
    """Cues over [start_ms, end_ms), each timed in proportion to its share of the characters."""
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


def _words(text: str, width: int) -> list[str]:
    """Words, with any longer than a line cut into line-sized pieces."""
    return [word[i : i + width] for word in text.split() for i in range(0, len(word), width)]


def _split_evenly(words: list[str], parts: int) -> list[list[str]]:
    """`parts` runs of consecutive words with about equal numbers of characters."""
    total = sum(len(w) + 1 for w in words)
    groups: list[list[str]] = [[]]
    done = 0
    for index, word in enumerate(words):
        left = len(words) - index  # words still to place, this one included
        need = parts - len(groups)  # groups still to open after the current one
        share = total * len(groups) / parts
        if groups[-1] and need > 0 and (left <= need or done + (len(word) + 1) / 2 > share):
            groups.append([])
        groups[-1].append(word)
        done += len(word) + 1
    return groups


def _lines(words: list[str], width: int, max_lines: int) -> list[str] | None:
    """The words on at most `max_lines` lines of `width`, as even as can be; None: too long."""
    joined = " ".join(words)
    if len(joined) <= width or max_lines == 1:
        return [joined] if len(joined) <= width else None
    best: list[str] | None = None
    for cut in range(1, len(words)):
        first = " ".join(words[:cut])
        rest = _lines(words[cut:], width, max_lines - 1)
        if len(first) <= width and rest is not None:
            candidate = [first, *rest]
            if best is None or max(map(len, candidate)) < max(map(len, best)):
                best = candidate
    return best


def srt_groups(text: str, width: int = SRT_LINE_CHARS,
               max_lines: int = SRT_LINES_PER_CUE) -> list[list[str]]:
    """The lines of each cue a sentence becomes: as few cues as fit, evenly filled."""
    words = _words(text, width)
    if not words:
        return []
    parts = -(-len(_wrap(" ".join(words), width)) // max_lines)
    while True:
        groups = [_lines(g, width, max_lines) for g in _split_evenly(words, parts)]
        if all(g is not None for g in groups):
            return groups  # type: ignore[return-value]
        parts += 1  # at one word per cue every cue fits, so this ends


def srt_cues(timeline: Timeline) -> list[Cue]:
    cues = []
    for event in _spoken(timeline):
        groups = srt_groups(event.request.text)
        if groups:
            end_ms = event.start_ms + event.duration_ms
            cues.extend(_timed(event.start_ms, end_ms, groups))
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
