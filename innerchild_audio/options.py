"""What a render produces (`RenderOptions`) and how this run works (`RunSettings`).

Both travel from the CLI (or a Python caller) down through build and render;
no function below them takes the same settings as loose keywords.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Final

from innerchild_audio.errors import UsageError
from innerchild_audio.export.mp3 import check_bitrate, default_bitrate_kbps

if TYPE_CHECKING:
    from pydub import AudioSegment

    from innerchild_audio.model import Script

DEFAULT_OUT_DIR: Final = Path("output")
DEFAULT_LIBRARY: Final = Path("meditations")


@dataclass(frozen=True)
class ProgressEvent:
    """One step of a run, for whoever draws progress (the CLI, or a caller's logger).

    `done`/`total` count the items of `stage` (sentences for speech) when known;
    `eta_s` is the time the stage still needs, when it can be guessed.
    """

    slug: str
    stage: str
    message: str
    done: int = 0
    total: int = 0
    eta_s: float | None = None


ProgressCallback = Callable[[ProgressEvent], None]


@dataclass(frozen=True)
class RenderOptions:
    """Everything besides the script's files that decides what a render produces."""

    engine: str | None = None  # None: each voice's own engine (auto|gtts|piper)
    length_ms: int | None = None  # None: the script's `length:`
    vars: Mapping[str, str] = field(default_factory=dict)
    # a generated sound's name, a sound file, a pydub AudioSegment, "none", or None: the script's
    background: str | AudioSegment | None = None
    stereo: bool = False
    bitrate_kbps: int | None = None  # None: 96 mono, 128 stereo
    warnings: bool = True

    def __post_init__(self) -> None:
        if self.bitrate_kbps is not None:
            try:
                check_bitrate(self.bitrate_kbps)
            except ValueError as error:
                raise UsageError(str(error), option="bitrate") from None
        if self.length_ms is not None and self.length_ms <= 0:
            raise UsageError(f"must be longer than 0s, got {self.length_ms} ms", option="length")

    @property
    def channels(self) -> int:
        return 2 if self.stereo else 1

    @property
    def bitrate(self) -> int:
        return self.bitrate_kbps or default_bitrate_kbps(self.channels)

    def target_ms(self, script: Script) -> int | None:
        """The length to fit: these options' own, else the script's `length:`, else none."""
        return self.length_ms if self.length_ms is not None else script.length_ms


@dataclass(frozen=True)
class RunSettings:
    """How this run works; changes nothing in what it produces."""

    out_dir: Path = DEFAULT_OUT_DIR  # where sessions land
    jobs: int | None = None  # parallel speech workers; None: the CPU cores
    cache_dir: Path | None = None  # None: $INNERCHILD_CACHE_DIR, else the user cache folder
    voices_dir: Path | None = None  # None: $INNERCHILD_VOICES_DIR, else the user data folder
    progress: ProgressCallback | None = None

    def __post_init__(self) -> None:
        for name in ("out_dir", "cache_dir", "voices_dir"):  # a str is a path too
            value = getattr(self, name)
            if value is not None and not isinstance(value, Path):
                object.__setattr__(self, name, Path(value))
        if self.jobs is not None and self.jobs < 1:
            raise UsageError(f"must be at least 1, got {self.jobs}", option="jobs")

    def report(self, slug: str, stage: str, message: str, **counts: int | float | None) -> None:
        if self.progress is not None:
            self.progress(ProgressEvent(slug, stage, message, **counts))  # type: ignore[arg-type]


__all__ = ["DEFAULT_LIBRARY", "DEFAULT_OUT_DIR", "ProgressCallback", "ProgressEvent",
           "RenderOptions", "RunSettings"]
