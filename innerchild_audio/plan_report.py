"""The plan printout: a timeline grouped back into the steps an author wrote."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from innerchild_audio.timeline import (
    BellEvent,
    BreathEvent,
    Event,
    SilenceEvent,
    SoundEvent,
    SpeechEvent,
    Timeline,
    ToneEvent,
)
from innerchild_audio.units import format_duration


@dataclass(frozen=True)
class Row:
    kind: str  # say | pause | elastic pause | bell | breathe | sound
    start_ms: int
    duration_ms: int
    line: int
    file: Path
    detail: str


def _kind(event: Event) -> str:
    if isinstance(event, SpeechEvent):
        return "say"
    if isinstance(event, SilenceEvent):
        return "elastic pause" if event.reason == "elastic" else "pause"
    if isinstance(event, BellEvent):
        return "bell"
    if isinstance(event, (BreathEvent, ToneEvent)):
        return "breathe"
    if isinstance(event, SoundEvent):
        return "sound"
    return "event"  # pragma: no cover


def rows(timeline: Timeline) -> list[Row]:
    """One row per step: consecutive events from the same source line are one step."""
    result: list[Row] = []
    texts: list[str] = []
    for event in timeline.events:
        if isinstance(event, (ToneEvent,)) or (isinstance(event, SpeechEvent) and event.cue):
            continue  # drawn as part of their breathing phase
        kind = _kind(event)
        src = event.source
        last = result[-1] if result else None
        same = (last is not None and last.line == src.line and last.file == src.file
                and (last.kind == kind or {last.kind, kind} <= {"say", "pause"}))
        end = event.start_ms + event.duration_ms
        if same and last is not None:
            merged_kind = "say" if "say" in (last.kind, kind) else kind
            result[-1] = Row(merged_kind, last.start_ms, end - last.start_ms, last.line,
                             last.file, last.detail)
        else:
            texts = []
            result.append(Row(kind, event.start_ms, event.duration_ms, src.line, src.file,
                              _detail(event)))
        if isinstance(event, SpeechEvent):
            texts.append(event.request.text)
            row = result[-1]
            result[-1] = Row(row.kind, row.start_ms, row.duration_ms, row.line, row.file,
                             _say_detail(texts))
    return result


def _say_detail(texts: list[str]) -> str:
    first = texts[0] if len(texts[0]) <= 48 else texts[0][:47] + "…"
    more = f" (+{len(texts) - 1} sentences)" if len(texts) > 1 else ""
    return f'"{first}"{more}'


def _detail(event: Event) -> str:
    if isinstance(event, BellEvent):
        return f"{event.strikes} strike{'s' if event.strikes > 1 else ''}"
    if isinstance(event, BreathEvent):
        return "paced breathing"
    if isinstance(event, SoundEvent):
        return event.file.name
    if isinstance(event, SilenceEvent):
        return {"elastic": "fitted to the length", "lead_in": "lead-in (bed before the first "
                "sound)", "tail": "tail (bed after the last sound)",
                "spacing": "sentence pause"}.get(event.reason, "silence")
    return ""


def clock(ms: int) -> str:
    seconds = ms // 1000
    return f"{seconds // 60}:{seconds % 60:02d}"


def speech_ms(timeline: Timeline) -> int:
    return sum(e.duration_ms for e in timeline.speech)


def format_plan(title: str, path: Path, timeline: Timeline, *, estimated: bool = True) -> str:
    span = (f"reachable {format_duration(timeline.min_total_ms)} to "
            f"{format_duration(timeline.max_total_ms)}")
    target = (f"target {format_duration(timeline.target_ms)} · "
              if timeline.target_ms is not None else "")
    lines = [f"{title}  ({path})", f"{target}{span}"
             + (" · speech estimated from word count" if estimated else ""), "",
             f"  {'start':>7}  {'length':>8}  step"]
    chapters = list(timeline.chapters)
    for row in rows(timeline):
        while chapters and chapters[0].start_ms <= row.start_ms:
            mark = chapters.pop(0)
            lines.append(f"  {clock(mark.start_ms):>7}  {'':>8}  ── {mark.title}")
        lines.append(f"  {clock(row.start_ms):>7}  {format_duration(row.duration_ms):>8}  "
                     f"{row.kind:<13} {row.detail}  (line {row.line})")
    for mark in chapters:
        lines.append(f"  {clock(mark.start_ms):>7}  {'':>8}  ── {mark.title}")
    talk = speech_ms(timeline)
    share = 100 * talk / timeline.total_ms if timeline.total_ms else 0
    lines += ["", f"total {format_duration(timeline.total_ms)} "
                  f"(speech {format_duration(talk)}, {share:.0f}%)"]
    return "\n".join(lines)


def plan_json(title: str, path: Path, timeline: Timeline) -> dict[str, Any]:
    return {
        "file": str(path),
        "title": title,
        "total_ms": timeline.total_ms,
        "target_ms": timeline.target_ms,
        "min_total_ms": timeline.min_total_ms,
        "max_total_ms": timeline.max_total_ms,
        "speech_ms": speech_ms(timeline),
        "words": sum(len(e.request.text.split()) for e in timeline.speech),
        "chapters": [{"start_ms": c.start_ms, "title": c.title} for c in timeline.chapters],
        "steps": [{"kind": r.kind, "start_ms": r.start_ms, "duration_ms": r.duration_ms,
                   "file": str(r.file), "line": r.line, "detail": r.detail}
                  for r in rows(timeline)],
    }
