"""The layers drawn in each row of a session's picture, one function per layer.

Each row has four lanes, top to bottom: speech (labelled with the first words
of each `say`), pauses, bells and sounds, breathing phases, and the level
lane: the bed's level relative to the voice (fades and ducking shown) and,
after a render, the decoded session's level. Chapters are lines across the
row with their title. matplotlib is imported only when drawing.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Final

import numpy as np

from innerchild_audio.timeline import (
    BellEvent,
    BreathEvent,
    Event,
    SilenceEvent,
    SoundEvent,
    SpeechEvent,
    Timeline,
)

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.backend_bases import RendererBase
    from matplotlib.patches import Rectangle
    from matplotlib.transforms import Bbox

LABEL_WORDS: Final = 3
LEVEL_FLOOR_DB: Final = -40.0  # the level lane spans this far below its top
LEVEL_RATE_HZ: Final = 20  # points per second of the level curves

# lanes: (bottom, top) in the row's data coordinates
LEVEL: Final = (0.0, 1.5)
BREATH: Final = (1.65, 2.3)
CUES: Final = (2.45, 3.1)
SPEECH: Final = (3.25, 4.1)
LABELS_Y: Final = (4.2, 4.85)  # two tiers of labels
CHAPTER_Y: Final = 5.7
ROW_TOP: Final = 6.15

COLORS: Final = {
    "speech": "#3b6fb6", "cue": "#8fb1df", "fixed": "#8c8c8c", "elastic": "#b9dcb0",
    "elastic_edge": "#4f8a43", "bell": "#d9a400", "sound": "#9a5cc6",
    "in": "#2a9d8f", "hold": "#b8d8d3", "out": "#e07a3f", "hold_out": "#f1c9ad",
    "bed": "#c9b48a", "bed_edge": "#7d6a45", "level": "#333333", "chapter": "#c0392b",
    "row": "#f6f6f3",
}


@dataclass(frozen=True)
class LevelCurve:
    """The decoded session's level over time (dBFS), for the level lane."""

    times_ms: np.ndarray
    level_db: np.ndarray


@dataclass(frozen=True)
class Rows:
    """The picture's rows: one axes per `row_ms` of the session, in order."""

    axes: list[Axes]
    row_ms: int
    total_ms: int
    font: float  # the base font size in points
    renderer: RendererBase  # measures text, to keep labels from overlapping

    def span(self, row: int, a: int, b: int, lane: tuple[float, float],
             **style: Any) -> Rectangle:
        from matplotlib.patches import Rectangle

        patch = Rectangle((a, lane[0]), b - a, lane[1] - lane[0], **style)
        self.axes[row].add_patch(patch)
        return patch

    def row_of(self, ms: int) -> Axes:
        return self.axes[ms // self.row_ms]

    def within(self, times_ms: np.ndarray) -> list[tuple[Axes, np.ndarray]]:
        """Each row's axes with the mask of the times it shows (its both ends included)."""
        return [(ax, (times_ms >= r * self.row_ms) & (times_ms <= (r + 1) * self.row_ms))
                for r, ax in enumerate(self.axes)]


def bed_level_db(timeline: Timeline, times_ms: np.ndarray) -> np.ndarray:
    """The bed's level relative to the voice at each time (NaN where no bed plays).

    Fades are drawn as straight amplitude ramps; ducking follows the same
    envelope the mixer uses (`DuckEnvelope`).
    """
    from innerchild_audio.mix.bed import DuckEnvelope  # scipy loads only when drawing

    level = np.full(len(times_ms), np.nan)
    if not timeline.beds or len(times_ms) == 0:
        return level
    rate = 1000  # one envelope frame per millisecond
    duck = DuckEnvelope.from_speech(timeline.speech, rate)
    frames = np.clip(times_ms.astype(np.int64), 0, max(timeline.total_ms - 1, 0))
    activity = duck.activity(0, timeline.total_ms + 1)
    active = (np.asarray(activity)[frames] if isinstance(activity, np.ndarray)
              else np.full(len(frames), float(activity)))
    power = np.zeros(len(times_ms))
    for span in timeline.beds:
        bed = span.background
        inside = (times_ms >= span.start_ms) & (times_ms < span.end_ms)
        if not inside.any():
            continue
        t = times_ms[inside]
        fade_in = max(bed.fade_in_ms, 1)
        fade_out = max(bed.fade_out_ms, 1)
        weight = np.minimum(np.minimum((t - span.start_ms) / fade_in, 1.0),
                            np.minimum((span.end_ms - t) / fade_out, 1.0))
        gain_db = bed.volume_db - bed.duck_db * active[inside]
        power[inside] += (np.clip(weight, 0.0, 1.0) ** 2) * 10.0 ** (gain_db / 10.0)
    playing = power > 0
    level[playing] = 10.0 * np.log10(power[playing])
    return level


def draw_cues(rows: Rows, timeline: Timeline) -> None:
    """Pauses, bells and sounds in the cue lane; breathing phases in the breath lane."""
    for event in timeline.events:
        drawn = _cue_style(event)
        if drawn is not None:
            lane, style = drawn
            end = min(event.start_ms + event.duration_ms, rows.total_ms)
            for row, a, b in _pieces(event.start_ms, end, rows.row_ms):
                rows.span(row, a, b, lane, **style)
        if isinstance(event, BellEvent):
            _draw_strikes(rows, event)


def _cue_style(event: Event) -> tuple[tuple[float, float], dict[str, Any]] | None:
    """The lane and patch style of a cue event; None for events this layer leaves out."""
    if isinstance(event, SilenceEvent) and event.reason == "elastic":
        return CUES, {"facecolor": COLORS["elastic"], "edgecolor": COLORS["elastic_edge"],
                      "hatch": "//", "linewidth": 0.5}
    if isinstance(event, SilenceEvent) and event.reason in ("pause", "markup"):
        return CUES, {"facecolor": COLORS["fixed"], "edgecolor": "none"}
    if isinstance(event, SoundEvent):
        return CUES, {"facecolor": COLORS["sound"], "edgecolor": "none"}
    if isinstance(event, BreathEvent):
        return BREATH, {"facecolor": COLORS[event.phase], "edgecolor": "white",
                        "linewidth": 0.5}
    if isinstance(event, BellEvent):
        return CUES, {"facecolor": COLORS["bell"], "edgecolor": "none", "alpha": 0.25}
    return None


def _draw_strikes(rows: Rows, bell: BellEvent) -> None:
    """A bar where each strike of the bell sounds."""
    for k in range(bell.strikes):
        at = bell.start_ms + k * bell.gap_ms
        if at < rows.total_ms:
            rows.row_of(at).plot([at, at], CUES, color=COLORS["bell"],
                                 linewidth=rows.font * 0.18, solid_capstyle="butt")


def draw_speech(rows: Rows, timeline: Timeline) -> None:
    """Speech spans (`speech-N-P` in an SVG), and the first words of each `say`."""
    placed: list[list[Bbox]] = [[] for _ in rows.axes]
    previous: SpeechEvent | None = None
    for index, event in enumerate(timeline.speech):
        end = min(event.start_ms + event.duration_ms, rows.total_ms)
        color = COLORS["cue"] if event.cue else COLORS["speech"]
        for part, (row, a, b) in enumerate(_pieces(event.start_ms, end, rows.row_ms)):
            rows.span(row, a, b, SPEECH, facecolor=color, edgecolor="none",
                      gid=f"speech-{index}-{part}")
        starts_say = not event.cue and (previous is None or previous.cue
                                        or previous.source != event.source)
        previous = event
        if starts_say and event.start_ms < rows.total_ms:
            _label(rows, placed[event.start_ms // rows.row_ms], event.start_ms,
                   _first_words(event.request.text))


def _label(rows: Rows, placed: list[Bbox], x: int, text: str) -> None:
    """Put a label at x on the first tier where it overlaps no earlier label; else none."""
    ax = rows.row_of(x)
    for y in LABELS_Y:
        label = ax.text(x, y, text, fontsize=rows.font * 0.8, va="bottom",
                        color=COLORS["speech"], clip_on=True)
        box = label.get_window_extent(rows.renderer)
        if box.x1 > ax.get_window_extent(rows.renderer).x1:  # cut off at the row's end: none
            label.remove()
            return
        if not any(box.overlaps(other) for other in placed):
            placed.append(box)
            return
        label.remove()


def _first_words(text: str) -> str:
    words = text.split()
    if len(words) <= LABEL_WORDS:
        return " ".join(words)
    return " ".join(words[:LABEL_WORDS]).rstrip(",;:—-") + "…"


def draw_bed_level(rows: Rows, timeline: Timeline) -> None:
    """The bed's level relative to the voice, filled in the level lane."""
    times = np.arange(0, rows.total_ms + 1, 1000 // LEVEL_RATE_HZ, dtype=np.float64)
    bed = bed_level_db(timeline, times)
    if np.isnan(bed).all():
        return
    heights = _to_lane(np.nan_to_num(bed, nan=-200.0), 0.0)
    for ax, inside in rows.within(times):
        ax.fill_between(times[inside], LEVEL[0], heights[inside], facecolor=COLORS["bed"],
                        edgecolor=COLORS["bed_edge"], linewidth=0.6)


def draw_level(rows: Rows, level: LevelCurve) -> None:
    """The decoded session's level, a line over the level lane."""
    if not len(level.times_ms):
        return
    heights = _to_lane(level.level_db, 0.0)
    for ax, inside in rows.within(level.times_ms):
        ax.plot(level.times_ms[inside], heights[inside], color=COLORS["level"],
                linewidth=max(rows.font * 0.06, 0.6))


def _to_lane(db: np.ndarray, top_db: float) -> np.ndarray:
    """dB values to heights in the level lane: top_db at its top, the floor at its bottom."""
    share = (np.clip(db, top_db + LEVEL_FLOOR_DB, top_db) - (top_db + LEVEL_FLOOR_DB))
    return LEVEL[0] + share / -LEVEL_FLOOR_DB * (LEVEL[1] - LEVEL[0])


def draw_chapters(rows: Rows, timeline: Timeline) -> None:
    """A line and the title where each chapter starts; a row that opens inside a
    chapter names it, lighter, at its left (unless that would overlap a title)."""
    total = rows.total_ms
    marks = sorted((m for m in timeline.chapters if m.start_ms < total or total == 0),
                   key=lambda m: m.start_ms)
    titles: list[list[Bbox]] = [[] for _ in rows.axes]
    for mark in marks:
        row = min(mark.start_ms // rows.row_ms, len(rows.axes) - 1)
        titles[row].append(_chapter_start(rows, rows.axes[row], mark.start_ms, mark.title))
    for row in range(1, len(rows.axes)):
        start = row * rows.row_ms
        current = [m for m in marks if m.start_ms < start]
        if current:
            _chapter_carried(rows, rows.axes[row], start, current[-1].title, titles[row])


def _chapter_start(rows: Rows, ax: Axes, at: int, title: str) -> Bbox:
    """The line and bold title of a chapter starting at `at`; returns the title's box."""
    nudge = rows.row_ms * 0.004
    ax.plot([at, at], [0, CHAPTER_Y + 0.3], color=COLORS["chapter"],
            linewidth=max(rows.font * 0.1, 1.0))
    text = ax.text(at + nudge, CHAPTER_Y, title, fontsize=rows.font * 0.85,
                   color=COLORS["chapter"], weight="bold", va="center", clip_on=True)
    box = text.get_window_extent(rows.renderer)
    if box.x1 > ax.get_window_extent(rows.renderer).x1:  # too near the row's end
        text.set_horizontalalignment("right")
        text.set_x(at - nudge)
        box = text.get_window_extent(rows.renderer)
    return box


def _chapter_carried(rows: Rows, ax: Axes, start: int, title: str,
                     titles: list[Bbox]) -> None:
    """The current chapter's title, lighter, at the left of a row opening inside it."""
    text = ax.text(start + rows.row_ms * 0.004, CHAPTER_Y, title, fontsize=rows.font * 0.85,
                   color=COLORS["chapter"], alpha=0.55, va="center", clip_on=True)
    box = text.get_window_extent(rows.renderer)
    if any(box.overlaps(other) for other in titles):
        text.remove()


def _pieces(start: int, stop: int, row_ms: int) -> list[tuple[int, int, int]]:
    """(row, start, stop) pieces of a span, cut at row boundaries."""
    pieces = []
    while start < stop:
        row = start // row_ms
        end = min(stop, (row + 1) * row_ms)
        pieces.append((row, start, end))
        start = end
    return pieces
