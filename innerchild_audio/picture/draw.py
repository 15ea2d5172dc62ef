"""Drawing a session's timeline with matplotlib (Agg, no display needed).

The session is cut into rows of equal length, stacked like lines of text, so
the picture stays readable at phone width. Each row has four lanes, top to
bottom: speech (labelled with the first words of each `say`), pauses, bells
and sounds, breathing phases, and the level lane: the bed's level relative
to the voice (fades and ducking shown) and, after a render, the decoded
session's level. Chapters are lines across the row with their title.

Every speech span is one patch whose SVG id is `speech-N-P` (N: its index in
`timeline.speech`, P: its piece, when it runs across rows), and each row's
background is `row-R`, so tests and tools can read positions from the SVG.
"""

from __future__ import annotations

import io
import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Final

import numpy as np

from innerchild_audio.atomic import atomic_write_bytes
from innerchild_audio.errors import UsageError
from innerchild_audio.timeline import (
    BellEvent,
    BreathEvent,
    SilenceEvent,
    SoundEvent,
    SpeechEvent,
    Timeline,
)
from innerchild_audio.units import format_duration

log = logging.getLogger(__name__)

DEFAULT_WIDTH_PX: Final = 1080  # a phone screen's width in device pixels
MIN_WIDTH_PX: Final = 320
MAX_WIDTH_PX: Final = 8000
DPI: Final = 100
ROW_HEIGHT_PX_PER_WIDTH: Final = 0.3  # each row's height as a share of the width
HEADER_PX_PER_WIDTH: Final = 0.13
LEGEND_PX_PER_WIDTH: Final = 0.16
FONT_PX_PER_WIDTH: Final = 1 / 40  # about 27 px at 1080: still legible shrunk to a phone
MAX_ROWS: Final = 5
ROW_CHOICES_MS: Final = (30_000, 60_000, 120_000, 180_000, 300_000, 600_000, 900_000,
                         1_200_000, 1_800_000)
LABEL_WORDS: Final = 3
LEVEL_FLOOR_DB: Final = -40.0  # the level lane spans this far below its top
LEVEL_RATE_HZ: Final = 20  # points per second of the level curves
FORMATS: Final = (".png", ".svg")

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
class Picture:
    path: Path
    width_px: int
    height_px: int
    rows: int
    row_ms: int
    timeline: Timeline  # what was drawn

    def summary(self) -> str:
        return f"picture: {self.path}  ({self.width_px}x{self.height_px} px, {self.rows} rows)"


def row_length_ms(total_ms: int) -> int:
    """The shortest row length from ROW_CHOICES_MS that fits the session in MAX_ROWS."""
    for choice in ROW_CHOICES_MS:
        if total_ms <= choice * MAX_ROWS:
            return choice
    return -(-total_ms // MAX_ROWS)


def picture_size(total_ms: int, width_px: int = DEFAULT_WIDTH_PX) -> tuple[int, int, int]:
    """(height in px, rows, row length in ms) of a picture `width_px` wide."""
    row_ms = row_length_ms(max(total_ms, 1))
    rows = max(1, -(-max(total_ms, 1) // row_ms))
    height = round(width_px * (HEADER_PX_PER_WIDTH + LEGEND_PX_PER_WIDTH
                               + rows * ROW_HEIGHT_PX_PER_WIDTH))
    return height, rows, row_ms


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


def _first_words(text: str) -> str:
    words = text.split()
    if len(words) <= LABEL_WORDS:
        return " ".join(words)
    return " ".join(words[:LABEL_WORDS]).rstrip(",;:—-") + "…"


def _to_lane(db: np.ndarray, top_db: float) -> np.ndarray:
    """dB values to heights in the level lane: top_db at its top, the floor at its bottom."""
    share = (np.clip(db, top_db + LEVEL_FLOOR_DB, top_db) - (top_db + LEVEL_FLOOR_DB))
    return LEVEL[0] + share / -LEVEL_FLOOR_DB * (LEVEL[1] - LEVEL[0])


def _pieces(start: int, stop: int, row_ms: int) -> list[tuple[int, int, int]]:
    """(row, start, stop) pieces of a span, cut at row boundaries."""
    pieces = []
    while start < stop:
        row = start // row_ms
        end = min(stop, (row + 1) * row_ms)
        pieces.append((row, start, end))
        start = end
    return pieces


def draw_timeline(timeline: Timeline, title: str, out: Path, *,
                  width_px: int = DEFAULT_WIDTH_PX, estimated: bool = False,
                  level: LevelCurve | None = None, note: str = "") -> Picture:
    """Draw `timeline` into `out` (.png or .svg), `width_px` wide; returns its size.

    `estimated` says the speech durations are estimates (a plan, not a render);
    `level` adds the decoded session's level; `note` is a line under the title.
    """
    out = Path(out)
    if out.suffix.lower() not in FORMATS:
        raise UsageError(f"{out}: a picture is .png or .svg")
    if not MIN_WIDTH_PX <= width_px <= MAX_WIDTH_PX:
        raise UsageError(f"--width must be {MIN_WIDTH_PX} to {MAX_WIDTH_PX} px, got {width_px}")

    import matplotlib

    matplotlib.use("Agg")  # files only: never a window, works without a display
    from matplotlib import pyplot as plt
    from matplotlib.artist import Artist
    from matplotlib.patches import Patch, Rectangle

    total = timeline.total_ms
    height_px, rows, row_ms = picture_size(total, width_px)
    font = width_px * FONT_PX_PER_WIDTH * 72 / DPI  # in points
    fig = plt.figure(figsize=(width_px / DPI, height_px / DPI), dpi=DPI)
    try:
        header = HEADER_PX_PER_WIDTH * width_px / height_px
        legend = LEGEND_PX_PER_WIDTH * width_px / height_px
        row_h = (1 - header - legend) / rows
        target = (f" · target {format_duration(timeline.target_ms)}"
                  if timeline.target_ms is not None else "")
        kind = "estimated speech (plan)" if estimated else "rendered"
        fig.text(0.02, 1 - header * 0.18, title, fontsize=font * 1.25, weight="bold",
                 va="top")
        fig.text(0.02, 1 - header * 0.58,
                 f"{format_duration(total)}{target} · {kind}" + (f" · {note}" if note else ""),
                 fontsize=font * 0.85, va="top", color="#444444")

        axes = []
        for r in range(rows):
            ax = fig.add_axes((0.06, 1 - header - (r + 1) * row_h + row_h * 0.2, 0.92,
                               row_h * 0.78))
            start = r * row_ms
            ax.set_xlim(start, start + row_ms)
            ax.set_ylim(0, ROW_TOP)
            ax.set_yticks([])
            for side in ("left", "right", "top"):
                ax.spines[side].set_visible(False)
            ax.add_patch(Rectangle((start, 0), row_ms, ROW_TOP, facecolor=COLORS["row"],
                                   edgecolor="none", gid=f"row-{r}", zorder=0))
            step = max(row_ms // 4, 1)
            ticks = list(range(start, start + row_ms + 1, step))
            ax.set_xticks(ticks)
            ax.set_xticklabels([_clock(t) for t in ticks], fontsize=font * 0.7)
            ax.tick_params(length=font * 0.25, pad=1)
            axes.append(ax)

        def span(row: int, a: int, b: int, lane: tuple[float, float], **style) -> Rectangle:
            patch = Rectangle((a, lane[0]), b - a, lane[1] - lane[0], **style)
            axes[row].add_patch(patch)
            return patch

        # pauses, bells, sounds, breathing
        for event in timeline.events:
            end = event.start_ms + event.duration_ms
            for row, a, b in _pieces(event.start_ms, min(end, total), row_ms):
                if isinstance(event, SilenceEvent) and event.reason == "elastic":
                    span(row, a, b, CUES, facecolor=COLORS["elastic"],
                         edgecolor=COLORS["elastic_edge"], hatch="//", linewidth=0.5)
                elif isinstance(event, SilenceEvent) and event.reason in ("pause", "markup"):
                    span(row, a, b, CUES, facecolor=COLORS["fixed"], edgecolor="none")
                elif isinstance(event, SoundEvent):
                    span(row, a, b, CUES, facecolor=COLORS["sound"], edgecolor="none")
                elif isinstance(event, BreathEvent):
                    span(row, a, b, BREATH, facecolor=COLORS[event.phase],
                         edgecolor="white", linewidth=0.5)
                elif isinstance(event, BellEvent):
                    span(row, a, b, CUES, facecolor=COLORS["bell"], edgecolor="none",
                         alpha=0.25)
            if isinstance(event, BellEvent):
                for k in range(event.strikes):
                    at = event.start_ms + k * event.gap_ms
                    if at < total:
                        axes[at // row_ms].plot([at, at], CUES, color=COLORS["bell"],
                                                linewidth=font * 0.18, solid_capstyle="butt")

        # speech, and the first words of each `say`
        renderer = fig.canvas.get_renderer()  # type: ignore[attr-defined]  # Agg's canvas
        placed: list[list] = [[] for _ in range(rows)]
        previous: SpeechEvent | None = None
        for index, event in enumerate(timeline.speech):
            end = min(event.start_ms + event.duration_ms, total)
            color = COLORS["cue"] if event.cue else COLORS["speech"]
            for part, (row, a, b) in enumerate(_pieces(event.start_ms, end, row_ms)):
                span(row, a, b, SPEECH, facecolor=color, edgecolor="none",
                     gid=f"speech-{index}-{part}")
            starts_say = not event.cue and (previous is None or previous.cue
                                            or previous.source != event.source)
            previous = event
            if starts_say and event.start_ms < total:
                _label(axes[event.start_ms // row_ms], placed[event.start_ms // row_ms],
                       renderer, event.start_ms, _first_words(event.request.text), font * 0.8)

        # the level lane: the bed (relative to the voice) and the decoded level
        times = np.arange(0, total + 1, 1000 // LEVEL_RATE_HZ, dtype=np.float64)
        bed = bed_level_db(timeline, times)
        if not np.isnan(bed).all():
            heights = _to_lane(np.nan_to_num(bed, nan=-200.0), 0.0)
            for r, ax in enumerate(axes):
                inside = (times >= r * row_ms) & (times <= (r + 1) * row_ms)
                ax.fill_between(times[inside], LEVEL[0], heights[inside],
                                facecolor=COLORS["bed"], edgecolor=COLORS["bed_edge"],
                                linewidth=0.6)
        if level is not None and len(level.times_ms):
            heights = _to_lane(level.level_db, 0.0)
            for r, ax in enumerate(axes):
                inside = (level.times_ms >= r * row_ms) & (level.times_ms <= (r + 1) * row_ms)
                ax.plot(level.times_ms[inside], heights[inside], color=COLORS["level"],
                        linewidth=max(font * 0.06, 0.6))

        # chapters: a line and the title where each starts; a row that opens inside a
        # chapter names it, lighter, at its left
        marks = sorted((m for m in timeline.chapters if m.start_ms < total or total == 0),
                       key=lambda m: m.start_ms)
        titles: list[list] = [[] for _ in range(rows)]
        for mark in marks:
            row = min(mark.start_ms // row_ms, rows - 1)
            ax = axes[row]
            ax.plot([mark.start_ms, mark.start_ms], [0, CHAPTER_Y + 0.3],
                    color=COLORS["chapter"], linewidth=max(font * 0.1, 1.0))
            text = ax.text(mark.start_ms + row_ms * 0.004, CHAPTER_Y, mark.title,
                           fontsize=font * 0.85, color=COLORS["chapter"], weight="bold",
                           va="center", clip_on=True)
            box = text.get_window_extent(renderer)
            if box.x1 > ax.get_window_extent(renderer).x1:  # too near the row's end
                text.set_horizontalalignment("right")
                text.set_x(mark.start_ms - row_ms * 0.004)
                box = text.get_window_extent(renderer)
            titles[row].append(box)
        for row in range(1, rows):
            start = row * row_ms
            current = [m for m in marks if m.start_ms < start]
            if not current:
                continue
            text = axes[row].text(start + row_ms * 0.004, CHAPTER_Y, current[-1].title,
                                  fontsize=font * 0.85, color=COLORS["chapter"], alpha=0.55,
                                  va="center", clip_on=True)
            box = text.get_window_extent(renderer)
            if any(box.overlaps(other) for other in titles[row]):
                text.remove()

        handles: list[Artist] = [
            Patch(facecolor=COLORS["speech"], label="speech"),
            Patch(facecolor=COLORS["fixed"], label="pause"),
            Patch(facecolor=COLORS["elastic"], edgecolor=COLORS["elastic_edge"], hatch="//",
                  label="elastic pause"),
            Patch(facecolor=COLORS["bell"], label="bell"),
            Patch(facecolor=COLORS["sound"], label="sound"),
            Patch(facecolor=COLORS["in"], label="breathe in"),
            Patch(facecolor=COLORS["hold"], label="hold"),
            Patch(facecolor=COLORS["out"], label="breathe out"),
            Patch(facecolor=COLORS["bed"], edgecolor=COLORS["bed_edge"],
                  label=f"bed (0 to {LEVEL_FLOOR_DB:.0f} dB re voice)"),
        ]
        if level is not None:
            from matplotlib.lines import Line2D

            handles.append(Line2D([], [], color=COLORS["level"], label="level (dBFS)"))
        fig.legend(handles=handles, loc="lower center", ncol=3, fontsize=font * 0.72,
                   frameon=False, bbox_to_anchor=(0.5, 0.005), handlelength=1.2,
                   columnspacing=1.0)

        buffer = io.BytesIO()
        with plt.rc_context({"svg.hashsalt": "innerchild-audio"}):  # the same file each time
            fig.savefig(buffer, format=out.suffix.lower()[1:], dpi=DPI,
                        metadata=_metadata(out.suffix.lower(), title))
    finally:
        plt.close(fig)
    out.parent.mkdir(parents=True, exist_ok=True)
    atomic_write_bytes(out, buffer.getvalue())
    log.info("drew %s (%dx%d px)", out, width_px, height_px)
    return Picture(out, width_px, height_px, rows, row_ms, timeline)


def _metadata(suffix: str, title: str) -> dict[str, str | None]:
    if suffix == ".svg":
        return {"Title": title, "Date": None}  # no date: the same session draws the same file
    return {"Title": title}


def _label(ax, placed: list, renderer, x: float, text: str, size: float) -> None:
    """Put a label at x on the first tier where it overlaps no earlier label; else none."""
    for y in LABELS_Y:
        label = ax.text(x, y, text, fontsize=size, va="bottom", color=COLORS["speech"],
                        clip_on=True)
        box = label.get_window_extent(renderer)
        if box.x1 > ax.get_window_extent(renderer).x1:  # cut off at the row's end: none
            label.remove()
            return
        if not any(box.overlaps(other) for other in placed):
            placed.append(box)
            return
        label.remove()


def _clock(ms: int) -> str:
    minutes, seconds = divmod(round(ms / 1000), 60)
    return f"{minutes}:{seconds:02d}"
