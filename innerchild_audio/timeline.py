"""The timeline: every event of a session with its start time.

The planner (`plan.py`) builds it; speech synthesis, the mixer, chapters,
transcripts and the plan printout all read it, so they cannot disagree.
Events may overlap (a breathing cue is spoken over its phase); the mixer
simply adds them up.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Final, Literal

from innerchild_audio.model import Background, Source, Voice

BELL_RING_MS: Final = 7000  # ring-out of the synthesized bowl after the last strike
TONE_LEVEL_DB: Final = -24.0  # breathing tone cues, relative to full scale


@dataclass(frozen=True)
class SpeechRequest:
    """One sentence to synthesize; hashable, so equal sentences share a clip."""

    text: str
    voice: Voice


@dataclass(frozen=True)
class SpeechEvent:
    start_ms: int
    duration_ms: int
    request: SpeechRequest
    source: Source
    cue: bool = False  # a spoken breathing cue ("breathe in")


@dataclass(frozen=True)
class SilenceEvent:
    start_ms: int
    duration_ms: int
    reason: Literal["pause", "elastic", "sentence", "paragraph", "markup", "lead_in", "tail",
                    "spacing"]
    source: Source


@dataclass(frozen=True)
class BellEvent:
    start_ms: int
    duration_ms: int  # strikes, gaps and the ring-out
    strikes: int
    gap_ms: int
    sound: Path | None  # None: synthesize the singing bowl
    source: Source


@dataclass(frozen=True)
class BreathEvent:
    """One phase of a breathing cycle; cues for it are separate events at its start."""

    start_ms: int
    duration_ms: int
    phase: Literal["in", "hold", "out", "hold_out"]
    cycle: int  # 1-based
    source: Source


@dataclass(frozen=True)
class ToneEvent:
    """A soft breathing tone: rising for an in-breath, falling for an out-breath."""

    start_ms: int
    duration_ms: int
    rising: bool
    source: Source


@dataclass(frozen=True)
class SoundEvent:
    start_ms: int
    duration_ms: int
    file: Path
    gain_db: float
    source: Source


Event = SpeechEvent | SilenceEvent | BellEvent | BreathEvent | ToneEvent | SoundEvent


@dataclass(frozen=True)
class ChapterMark:
    start_ms: int
    title: str


@dataclass(frozen=True)
class BedSpan:
    """The bed plays over [start_ms, end_ms): fades in at the start, out at the end.

    Adjacent spans (a mid-session change) crossfade over the later span's fade-in.
    """

    start_ms: int
    end_ms: int
    background: Background


@dataclass(frozen=True)
class Timeline:
    events: tuple[Event, ...]  # sorted by start_ms
    chapters: tuple[ChapterMark, ...]
    beds: tuple[BedSpan, ...]
    total_ms: int
    min_total_ms: int  # the reachable range of lengths for this script
    max_total_ms: int
    target_ms: int | None = None

    @property
    def speech(self) -> tuple[SpeechEvent, ...]:
        return tuple(e for e in self.events if isinstance(e, SpeechEvent))

    def requests(self) -> list[SpeechRequest]:
        """Distinct speech requests, in first-use order."""
        return list(dict.fromkeys(e.request for e in self.speech))
