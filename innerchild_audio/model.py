"""The typed model of a meditation script, as the loader returns it.

Units live in names: `_ms` is milliseconds, `_db` decibels. Includes and
repeats are already expanded: `Script.steps` is flat and in playing order.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Final, Literal

GENERATED_SOUNDS: Final = ("brown-noise", "pink-noise", "white-noise", "drone")
ENGINES: Final = ("auto", "gtts", "piper", "hibari")
OFFLINE_ENGINES: Final = ("piper", "hibari")
CUE_KINDS: Final = ("voice", "tone", "none")


@dataclass(frozen=True)
class Source:
    """Where a node stands in its file (1-based line and column)."""

    file: Path
    line: int
    column: int

    def __str__(self) -> str:
        return f"{self.file}:{self.line}:{self.column}"


@dataclass(frozen=True)
class Voice:
    engine: str = "auto"  # auto | gtts | piper | hibari
    lang: str = "en"  # gTTS language code
    tld: str = "co.uk"  # gTTS accent (Google domain)
    model: str = "joe"  # offline voice: a bundled name (joe, heart) or a model file
    rate: float = 0.9  # tempo factor, 1.0 = the engine's natural speed
    sentence_pause_ms: int = 1200
    paragraph_pause_ms: int = 3000
    phrase_pause_ms: int = 350  # at , ; : and dashes inside a sentence; 0: none
    # written word or phrase -> spoken respelling (speech only), in the order applied
    pronounce: tuple[tuple[str, str], ...] = ()
    offline: str = ""  # "engine:model" that `auto` uses offline; "": the default offline voice


@dataclass(frozen=True)
class Background:
    sound: str  # one of GENERATED_SOUNDS, or a file path (absolute once loaded)
    volume_db: float = -20.0  # level of the bed relative to the voice
    duck_db: float = 6.0  # extra attenuation while the voice speaks
    fade_in_ms: int = 5000
    fade_out_ms: int = 8000

    @property
    def is_generated(self) -> bool:
        return self.sound in GENERATED_SOUNDS


@dataclass(frozen=True)
class Say:
    text: str  # variables substituted; `[pause 3s]` markup and blank lines kept
    voice: Voice
    source: Source


@dataclass(frozen=True)
class Pause:
    """Silence. Fixed when min == max; elastic otherwise (see `fitting`)."""

    min_ms: int
    max_ms: int
    default_ms: int
    source: Source

    @property
    def is_elastic(self) -> bool:
        return self.max_ms > self.min_ms


@dataclass(frozen=True)
class Breathe:
    in_ms: int
    hold_ms: int
    out_ms: int
    hold_out_ms: int
    cycles: int
    cues: Literal["voice", "tone", "none"]
    voice: Voice  # the script voice, for spoken cues
    source: Source
    explain: str = ""  # with tone cues: spoken before the first such step of a session


@dataclass(frozen=True)
class Bell:
    strikes: int
    gap_ms: int
    sound: Path | None  # None: the synthesized singing bowl
    source: Source


@dataclass(frozen=True)
class Sound:
    file: Path
    gain_db: float
    source: Source


@dataclass(frozen=True)
class Chapter:
    title: str
    source: Source


@dataclass(frozen=True)
class BackgroundChange:
    background: Background | None  # None: the bed stops (with a fade)
    source: Source


Step = Say | Pause | Breathe | Bell | Sound | Chapter | BackgroundChange


@dataclass(frozen=True)
class Script:
    path: Path
    title: str
    slug: str
    steps: tuple[Step, ...]
    description: str = ""
    author: str = ""
    language: str = "en"
    content_warning: str = ""
    tags: tuple[str, ...] = ()
    cover: Path | None = None
    episode: int | None = None
    season: int | None = None
    explicit: bool = False
    length_ms: int | None = None
    lead_in_ms: int = 2000  # bed before the first sound
    tail_ms: int = 3000  # bed after the last sound
    voice: Voice = field(default_factory=Voice)
    background: Background | None = None
    vars: dict[str, str] = field(default_factory=dict)
    files: tuple[Path, ...] = ()  # the script and every part it includes
    assets: tuple[Path, ...] = ()  # sound files and cover it refers to
