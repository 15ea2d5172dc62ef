"""Planning: from a script to a timeline, in two steps.

`lay_out` turns steps into items in playing order (sentences to speak,
silences, bells, breaths...). Speech durations are known only after TTS, so
`build_timeline` then fixes every start time from the real (or estimated)
speech durations and fits elastic pauses to the target length.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Final, Literal

from innerchild_audio.errors import Problem, ScriptError
from innerchild_audio.fitting import Elastic, fit_pauses, reachable_range
from innerchild_audio.model import (
    Background,
    BackgroundChange,
    Bell,
    Breathe,
    Chapter,
    Pause,
    Say,
    Script,
    Sound,
    Source,
    Voice,
)
from innerchild_audio.script.loader import MAX_PAUSE_MS, MAX_SESSION_MS
from innerchild_audio.script.text import Gap, Words, pieces
from innerchild_audio.sentences import split_sentences
from innerchild_audio.timeline import (
    BELL_RING_MS,
    BedSpan,
    BellEvent,
    BreathEvent,
    ChapterMark,
    Event,
    SilenceEvent,
    SoundEvent,
    SpeechEvent,
    SpeechRequest,
    Timeline,
    ToneEvent,
)
from innerchild_audio.units import format_duration

WORDS_PER_MINUTE_AT_RATE_1: Final = 160  # for estimates before synthesis (speech/pacing.py)
VOICE_AT_LIMIT: Final = 1.3  # how much faster than the asked pace a voice at its limit runs
_PHRASE_MARK: Final = re.compile(r"[,;:](?=\s+\S)|—|–|--|\s-\s")
MIN_SPEECH_ESTIMATE_MS: Final = 400
CUE_TAIL_MS: Final = 250  # a breathing phase lasts at least its spoken cue plus this
BREATH_CUES: Final = {"in": "Breathe in.", "hold": "Hold.", "out": "Breathe out.",
                      "hold_out": "Hold."}


def estimate_speech_ms(text: str, rate: float, phrase_pause_ms: int = 0) -> int:
    """A sentence at the pace its rate asks for, or longer where its phrase pauses add up.

    As the offline voices pace it: the words at their limit run about VOICE_AT_LIMIT
    times that pace, and the pauses fill the rest (speech/pacing.py).
    """
    words = len(text.split())
    phrases = len(_PHRASE_MARK.findall(text)) if phrase_pause_ms else 0
    pace_ms = words * 60_000 / (WORDS_PER_MINUTE_AT_RATE_1 * rate)
    return max(MIN_SPEECH_ESTIMATE_MS, round(pace_ms),
               round(pace_ms / VOICE_AT_LIMIT + phrases * phrase_pause_ms))


# --- layout items -------------------------------------------------------------

@dataclass(frozen=True)
class SpeakItem:
    request: SpeechRequest
    source: Source


@dataclass(frozen=True)
class SilenceItem:
    duration_ms: int
    reason: Literal["pause", "sentence", "paragraph", "markup", "lead_in", "tail", "spacing"]
    source: Source


@dataclass(frozen=True)
class ElasticItem:
    pause: Pause


@dataclass(frozen=True)
class BellItem:
    bell: Bell
    duration_ms: int


@dataclass(frozen=True)
class BreathItem:
    phase: Literal["in", "hold", "out", "hold_out"]
    duration_ms: int
    cycle: int
    cue: Literal["voice", "tone", "none"]
    cue_request: SpeechRequest | None
    source: Source


@dataclass(frozen=True)
class SoundItem:
    sound: Sound
    duration_ms: int


@dataclass(frozen=True)
class ChapterItem:
    title: str


@dataclass(frozen=True)
class BedItem:
    background: Background | None


Item = (SpeakItem | SilenceItem | ElasticItem | BellItem | BreathItem | SoundItem | ChapterItem
        | BedItem)


@dataclass
class Layout:
    script: Script
    items: list[Item] = field(default_factory=list)

    def requests(self) -> list[SpeechRequest]:
        """Distinct sentences to synthesize, in first-use order."""
        found: dict[SpeechRequest, None] = {}
        for item in self.items:
            if isinstance(item, SpeakItem):
                found[item.request] = None
            elif isinstance(item, BreathItem) and item.cue_request is not None:
                found[item.cue_request] = None
        return list(found)


def _audio_duration_ms(path: Path) -> int:
    from innerchild_audio.audio_io import sound_duration_ms

    # counted past the one-hour limit at most: a longer file is refused, never decoded whole
    return sound_duration_ms(path, cap_ms=MAX_PAUSE_MS)


def lay_out(script: Script, *, warnings: bool = True,
            duration_of: Callable[[Path], int] = _audio_duration_ms) -> Layout:
    """Items in playing order; the content warning is spoken first when `warnings`.

    The bed plays `lead_in` before the first sound and `tail` after the last; a
    sentence pause separates speech from a bell, breath or sound on either side.
    """
    layout = Layout(script)
    items = layout.items
    steps = list(script.steps)
    # Chapters that open the script stay at 0:00, ahead of the lead-in and the warning.
    while steps and isinstance(first := steps[0], Chapter):
        items.append(ChapterItem(first.title))
        steps.pop(0)
    start = Source(script.path, 1, 1)
    if script.lead_in_ms:
        items.append(SilenceItem(script.lead_in_ms, "lead_in", start))
    if warnings and script.content_warning.strip():
        _speak(items, script.content_warning, script.voice, start)
        items.append(SilenceItem(script.voice.paragraph_pause_ms, "paragraph", start))
    explained = False
    for step in steps:
        if isinstance(step, Say):
            _space(items, speech=True, pause_ms=step.voice.sentence_pause_ms, source=step.source)
            _speak(items, step.text, step.voice, step.source)
        elif isinstance(step, Pause):
            items.append(ElasticItem(step) if step.is_elastic
                         else SilenceItem(step.min_ms, "pause", step.source))
        elif isinstance(step, Breathe):
            if step.cues == "tone" and step.explain and not explained:
                explained = True  # the first tone-paced breathing says what the tones mean
                _space(items, speech=True, pause_ms=step.voice.sentence_pause_ms,
                       source=step.source)
                _speak(items, step.explain, step.voice, step.source)
            _space(items, speech=step.cues == "voice", pause_ms=step.voice.sentence_pause_ms,
                   source=step.source)
            _breathe(items, step)
        elif isinstance(step, Bell):
            _space(items, speech=False, pause_ms=script.voice.sentence_pause_ms,
                   source=step.source)
            ring = BELL_RING_MS if step.sound is None else duration_of(step.sound)
            items.append(BellItem(step, (step.strikes - 1) * step.gap_ms + ring))
        elif isinstance(step, Sound):
            ms = duration_of(step.file)
            if ms > MAX_PAUSE_MS:
                raise ScriptError([Problem(step.source.file, step.source.line,
                                           step.source.column,
                                           f"sound {step.file.name} runs {format_duration(ms)};"
                                           " a single sound may last at most 1h")])
            _space(items, speech=False, pause_ms=script.voice.sentence_pause_ms,
                   source=step.source)
            items.append(SoundItem(step, ms))
        elif isinstance(step, Chapter):
            items.append(ChapterItem(step.title))
        elif isinstance(step, BackgroundChange):
            items.append(BedItem(step.background))
    if script.tail_ms:
        items.append(SilenceItem(script.tail_ms, "tail", Source(script.path, 1, 1)))
    return layout


def _space(items: list[Item], *, speech: bool, pause_ms: int, source: Source) -> None:
    """A sentence pause after speech, and before speech that follows a bell, breath or sound.

    `speech`: what comes next speaks (a `say`, or breathing with spoken cues).
    """
    last = next((i for i in reversed(items) if not isinstance(i, (ChapterItem, BedItem))), None)
    if isinstance(last, SpeakItem) or (speech and isinstance(last, (BellItem, SoundItem,
                                                                      BreathItem))):
        items.append(SilenceItem(pause_ms, "sentence" if speech and isinstance(last, SpeakItem)
                                 else "spacing", source))


def _speak(items: list[Item], text: str, voice: Voice, source: Source) -> None:
    """Sentences of one `say`, with sentence, paragraph and markup pauses between."""
    pending: SilenceItem | None = None
    started = False
    for piece in pieces(text):
        if isinstance(piece, Gap):
            if piece.reason == "paragraph":
                pending = SilenceItem(voice.paragraph_pause_ms, "paragraph", source)
            elif pending is not None and pending.reason == "markup":
                pending = SilenceItem(pending.duration_ms + piece.duration_ms, "markup", source)
            else:
                pending = SilenceItem(piece.duration_ms, "markup", source)
            continue
        assert isinstance(piece, Words)
        for sentence in split_sentences(piece.text):
            if started:
                items.append(pending or SilenceItem(voice.sentence_pause_ms, "sentence", source))
            elif pending is not None:  # markup before the first words
                items.append(pending)
            pending = None
            items.append(SpeakItem(SpeechRequest(sentence, voice), source))
            started = True
    if pending is not None and pending.reason == "markup":
        items.append(pending)  # a trailing [pause] is honoured


def _breathe(items: list[Item], step: Breathe) -> None:
    phases = (("in", step.in_ms), ("hold", step.hold_ms), ("out", step.out_ms),
              ("hold_out", step.hold_out_ms))
    for cycle in range(1, step.cycles + 1):
        for phase, ms in phases:
            if ms <= 0:
                continue
            cue = (SpeechRequest(BREATH_CUES[phase], step.voice)
                   if step.cues == "voice" else None)
            items.append(BreathItem(phase, ms, cycle, step.cues, cue, step.source))  # type: ignore


# --- timeline -------------------------------------------------------------------

def _fixed_ms(item: Item, speech_ms: Callable[[SpeechRequest], int]) -> int:
    if isinstance(item, SpeakItem):
        return speech_ms(item.request)
    if isinstance(item, SilenceItem):
        return item.duration_ms
    if isinstance(item, (BellItem, SoundItem)):
        return item.duration_ms
    if isinstance(item, BreathItem):
        if item.cue_request is not None:
            return max(item.duration_ms, speech_ms(item.cue_request) + CUE_TAIL_MS)
        return item.duration_ms
    return 0  # chapters, bed changes; elastic pauses are fitted separately


def build_timeline(layout: Layout, speech_ms: Mapping[SpeechRequest, int] | None = None,
                   target_ms: int | None = None) -> Timeline:
    """Every event with its start time; elastic pauses fitted to `target_ms`.

    `speech_ms` holds the real clip durations; None estimates them from word count.
    Raises LengthOutOfReach (a UsageError) when the target cannot be met.
    """
    def duration(request: SpeechRequest) -> int:
        if speech_ms is None:
            return estimate_speech_ms(request.text, request.voice.rate,
                                      request.voice.phrase_pause_ms)
        return speech_ms[request]

    script = layout.script
    fixed = sum(_fixed_ms(item, duration) for item in layout.items)
    elastic = [Elastic(i.pause.min_ms, i.pause.max_ms, i.pause.default_ms)
               for i in layout.items if isinstance(i, ElasticItem)]
    low, high = reachable_range(fixed, elastic)
    if low > MAX_SESSION_MS:
        raise ScriptError([Problem(script.path, 1, 1,
                                   f"the session runs at least {format_duration(low)}; "
                                   "a session may last at most 3h")])
    fitted = iter(fit_pauses(fixed, elastic, target_ms, name=script.path.name))

    events: list[Event] = []
    chapters: list[ChapterMark] = []
    beds: list[BedSpan] = []
    bed: tuple[int, Background] | None = (0, script.background) if script.background else None
    now = 0
    for item in layout.items:
        if isinstance(item, ChapterItem):
            chapters.append(ChapterMark(now, item.title))
        elif isinstance(item, BedItem):
            if bed is not None and now > bed[0]:
                beds.append(BedSpan(bed[0], now, bed[1]))
            bed = (now, item.background) if item.background is not None else None
        else:
            made, ms = _timed_events(item, now, duration, fitted)
            events += made
            now += ms
    if bed is not None and now > bed[0]:
        beds.append(BedSpan(bed[0], now, bed[1]))
    if now > MAX_SESSION_MS:  # elastic defaults can add up past the limit
        raise ScriptError([Problem(script.path, 1, 1,
                                   f"the session runs {format_duration(now)}; a session may "
                                   "last at most 3h: give a shorter length or pauses")])
    return Timeline(events=tuple(events), chapters=tuple(_dedupe(chapters)), beds=tuple(beds),
                    total_ms=now, min_total_ms=low, max_total_ms=high, target_ms=target_ms)


def _timed_events(item: Item, now: int, duration: Callable[[SpeechRequest], int],
                  fitted: Iterator[int]) -> tuple[list[Event], int]:
    """The events an item that takes time makes at `now`, and how long it takes."""
    if isinstance(item, SpeakItem):
        ms = duration(item.request)
        return [SpeechEvent(now, ms, item.request, item.source)], ms
    if isinstance(item, SilenceItem):
        return [SilenceEvent(now, item.duration_ms, item.reason, item.source)], item.duration_ms
    if isinstance(item, ElasticItem):
        ms = next(fitted)
        return [SilenceEvent(now, ms, "elastic", item.pause.source)], ms
    if isinstance(item, BellItem):
        b = item.bell
        return [BellEvent(now, item.duration_ms, b.strikes, b.gap_ms, b.sound, b.source)], (
            item.duration_ms)
    if isinstance(item, SoundItem):
        s = item.sound
        return [SoundEvent(now, item.duration_ms, s.file, s.gain_db, s.source)], item.duration_ms
    assert isinstance(item, BreathItem)
    ms = _fixed_ms(item, duration)
    made: list[Event] = [BreathEvent(now, ms, item.phase, item.cycle, item.source)]
    if item.cue_request is not None:
        made.append(SpeechEvent(now, duration(item.cue_request), item.cue_request, item.source,
                                cue=True))
    elif item.cue == "tone" and item.phase in ("in", "out"):
        made.append(ToneEvent(now, ms, item.phase == "in", item.source))
    return made, ms


def _dedupe(chapters: list[ChapterMark]) -> list[ChapterMark]:
    """Two chapters at the same instant: the later title wins (the first is empty)."""
    result: list[ChapterMark] = []
    for mark in chapters:
        if result and result[-1].start_ms == mark.start_ms:
            result[-1] = mark
        else:
            result.append(mark)
    return result


def plan_script(script: Script, *, target_ms: int | None = None,
                warnings: bool = True) -> Timeline:
    """The estimated timeline of a script, without synthesizing speech."""
    return build_timeline(lay_out(script, warnings=warnings), None,
                          target_ms if target_ms is not None else script.length_ms)
