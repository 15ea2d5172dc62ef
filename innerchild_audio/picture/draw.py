"""Drawing a session's timeline with matplotlib (Agg, no display needed).

The session is cut into rows of equal length, stacked like lines of text, so
the picture stays readable at phone width: a header with the title, the rows
(their layers are drawn in `layers`), and a legend.

Every speech span is one patch whose SVG id is `speech-N-P` (N: its index in
`timeline.speech`, P: its piece, when it runs across rows), and each row's
background is `row-R`, so tests and tools can read positions from the SVG.
"""

from __future__ import annotations

import io
import logging
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Final

from innerchild_audio.atomic import atomic_write_bytes
from innerchild_audio.errors import UsageError
from innerchild_audio.picture.layers import (
    COLORS,
    LEVEL_FLOOR_DB,
    ROW_TOP,
    LevelCurve,
    Rows,
    draw_bed_level,
    draw_chapters,
    draw_cues,
    draw_level,
    draw_speech,
)
from innerchild_audio.timeline import Timeline
from innerchild_audio.units import format_duration

if TYPE_CHECKING:
    from matplotlib.figure import Figure

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
FORMATS: Final = (".png", ".svg")


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

    height_px, rows, row_ms = picture_size(timeline.total_ms, width_px)
    font = width_px * FONT_PX_PER_WIDTH * 72 / DPI  # in points
    fig = plt.figure(figsize=(width_px / DPI, height_px / DPI), dpi=DPI)
    try:
        header = HEADER_PX_PER_WIDTH * width_px / height_px
        legend = LEGEND_PX_PER_WIDTH * width_px / height_px
        _draw_title(fig, header, font, title, _subtitle(timeline, estimated, note))
        drawn = _add_rows(fig, header, legend, rows, row_ms, timeline.total_ms, font)
        draw_cues(drawn, timeline)
        draw_speech(drawn, timeline)
        draw_bed_level(drawn, timeline)
        if level is not None:
            draw_level(drawn, level)
        draw_chapters(drawn, timeline)
        _draw_legend(fig, font, with_level=level is not None)
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


def _subtitle(timeline: Timeline, estimated: bool, note: str) -> str:
    """The line under the title: length, target, plan or render, and the note."""
    target = (f" · target {format_duration(timeline.target_ms)}"
              if timeline.target_ms is not None else "")
    kind = "estimated speech (plan)" if estimated else "rendered"
    return f"{format_duration(timeline.total_ms)}{target} · {kind}" + (
        f" · {note}" if note else "")


def _draw_title(fig: Figure, header: float, font: float, title: str, subtitle: str) -> None:
    fig.text(0.02, 1 - header * 0.18, title, fontsize=font * 1.25, weight="bold", va="top")
    fig.text(0.02, 1 - header * 0.58, subtitle, fontsize=font * 0.85, va="top",
             color="#444444")


def _add_rows(fig: Figure, header: float, legend: float, rows: int, row_ms: int,
              total_ms: int, font: float) -> Rows:
    """One axes per row, stacked under the header: background `row-R`, clock ticks."""
    from matplotlib.patches import Rectangle

    row_h = (1 - header - legend) / rows
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
        ticks = list(range(start, start + row_ms + 1, max(row_ms // 4, 1)))
        ax.set_xticks(ticks)
        ax.set_xticklabels([_clock(t) for t in ticks], fontsize=font * 0.7)
        ax.tick_params(length=font * 0.25, pad=1)
        axes.append(ax)
    renderer = fig.canvas.get_renderer()  # type: ignore[attr-defined]  # Agg's canvas
    return Rows(axes, row_ms, total_ms, font, renderer)


def _draw_legend(fig: Figure, font: float, *, with_level: bool) -> None:
    from matplotlib.artist import Artist
    from matplotlib.lines import Line2D
    from matplotlib.patches import Patch

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
    if with_level:
        handles.append(Line2D([], [], color=COLORS["level"], label="level (dBFS)"))
    fig.legend(handles=handles, loc="lower center", ncol=3, fontsize=font * 0.72,
               frameon=False, bbox_to_anchor=(0.5, 0.005), handlelength=1.2,
               columnspacing=1.0)


def _metadata(suffix: str, title: str) -> dict[str, str | None]:
    if suffix == ".svg":
        return {"Title": title, "Date": None}  # no date: the same session draws the same file
    return {"Title": title}


def _clock(ms: int) -> str:
    minutes, seconds = divmod(round(ms / 1000), 60)
    return f"{minutes}:{seconds:02d}"
